"""The enrolment state machine as a Mermaid diagram, drawn from the ASL itself.

The README embeds the output; a test fails when the two drift apart.
``python -m infra.diagram`` prints it.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from infra.resources import ENROLMENT_ASL


def transitions(definition: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(from, to, label) for every edge; ``[*]`` is the start and the end."""
    yield "[*]", definition["StartAt"], ""
    for name, state in definition["States"].items():
        for choice in state.get("Choices", []):
            condition = next(key for key in choice if key not in {"Variable", "Next"})
            yield name, choice["Next"], f"{choice['Variable'].removeprefix('$.')} {condition} {json.dumps(choice[condition])}"
        if "Default" in state:
            yield name, state["Default"], "otherwise"
        if "Next" in state:
            yield name, state["Next"], ""
        for catcher in state.get("Catch", []):
            yield name, catcher["Next"], " / ".join(catcher["ErrorEquals"])
        if state.get("End") or state["Type"] in {"Succeed", "Fail"}:
            yield name, "[*]", "fails" if state["Type"] == "Fail" else ""


def _node(name: str) -> str:
    return "[*]" if name == "[*]" else re.sub(r"[^A-Za-z0-9]", "_", name)


def mermaid(definition: dict[str, Any]) -> str:
    lines = ["stateDiagram-v2"]
    for name in definition["States"]:
        lines.append(f'    state "{name}" as {_node(name)}')
    for source, target, label in transitions(definition):
        edge = f"    {_node(source)} --> {_node(target)}"
        lines.append(f"{edge} : {label}" if label else edge)
    return "\n".join(lines)


def enrolment_diagram() -> str:
    return mermaid(json.loads(ENROLMENT_ASL.read_text()))


if __name__ == "__main__":
    print(enrolment_diagram())
