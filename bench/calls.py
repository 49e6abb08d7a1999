"""Counting the AWS calls our code makes, by service and operation.

The count is taken where our code reaches AWS: every boto3 client and resource
of :mod:`chalicelib.core.clients` gets a hook on ``before-parameter-build``,
which botocore fires once per API call (retries of the same call are not
counted again). Calls made by AWS itself on our behalf, such as Step Functions
invoking a Lambda function, do not pass through our clients and are not
counted, just as they are not ours to pay per request in production.

The same hook serves both processes of the local cloud: the API process keeps
its counts in memory, the local AWS process (where the workflow's functions
run) appends one JSON line per call to a file the benchmark reads.
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

Recorder = Callable[[str, str, int], None]
"""``(service, operation, item_writes)``"""

_WRITE_ONE = {"PutItem", "UpdateItem", "DeleteItem"}


def item_writes(operation: str, params: dict[str, Any]) -> int:
    """How many DynamoDB items one call writes (or tries to): what write capacity is billed on.

    A transaction's ``ConditionCheck`` reads and writes nothing; every other
    member writes one item.
    """
    if operation in _WRITE_ONE:
        return 1
    if operation == "TransactWriteItems":
        return sum(1 for member in params.get("TransactItems", ()) if "ConditionCheck" not in member)
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params.get("RequestItems", {}).values())
    return 0


@dataclass
class CallCounts:
    """Calls and item writes, keyed ``service.Operation``."""

    calls: Counter[str] = field(default_factory=Counter)
    writes: Counter[str] = field(default_factory=Counter)

    def add(self, service: str, operation: str, writes: int) -> None:
        key = f"{service}.{operation}"
        self.calls[key] += 1
        if writes:
            self.writes[key] += writes

    def __add__(self, other: "CallCounts") -> "CallCounts":
        return CallCounts(self.calls + other.calls, self.writes + other.writes)

    def __sub__(self, other: "CallCounts") -> "CallCounts":
        return CallCounts(self.calls - other.calls, self.writes - other.writes)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_writes(self) -> int:
        return sum(self.writes.values())


class MemoryCallLog:
    """Counts in this process; :meth:`snapshot` copies them so a later difference is one phase's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = CallCounts()

    def record(self, service: str, operation: str, writes: int) -> None:
        with self._lock:
            self._counts.add(service, operation, writes)

    def snapshot(self) -> CallCounts:
        with self._lock:
            return CallCounts(Counter(self._counts.calls), Counter(self._counts.writes))


class FileCallLog:
    """One JSON line per call, appended to ``path``; read from another process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, service: str, operation: str, writes: int) -> None:
        line = json.dumps({"service": service, "operation": operation, "writes": writes}) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line)

    def snapshot(self) -> CallCounts:
        counts = CallCounts()
        if not self.path.exists():
            return counts
        for line in read_lines(self.path):
            entry = json.loads(line)
            counts.add(entry["service"], entry["operation"], entry["writes"])
        return counts


def read_lines(path: Path) -> Iterable[str]:
    """Complete lines only: a line still being written is left for the next read."""
    text = path.read_text(encoding="utf-8")
    return text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]


def instrument_clients(record: Recorder) -> None:
    """Make every session :mod:`chalicelib.core.clients` builds report its calls to ``record``.

    The session factory is replaced by one that registers the hook before any
    client is created from it; a reset of the clients (a redeploy, a changed
    environment) builds a new, equally instrumented session.
    """
    from chalicelib.core import clients

    build = getattr(clients._session, "__wrapped__", clients._session)

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        operation = model.name
        record(model.service_model.service_name, operation, item_writes(operation, params))

    @lru_cache(maxsize=None)
    def instrumented_session() -> Any:
        session = build()
        session.events.register("before-parameter-build", count)
        return session

    clients.reset_clients()
    clients._session = instrumented_session  # type: ignore[assignment]
