"""The enrolment ASL, checked statically: what cfn-lint and moto's parser do not catch."""
import json

import pytest

import chalicelib.audit.repository as audit_repository
import chalicelib.enrolment.callbacks as callbacks
import chalicelib.enrolment.repository as repository
import chalicelib.partners.bank as bank
import chalicelib.partners.population_registry as population_registry
from infra.diagram import enrolment_diagram, transitions
from infra.resources import (
    ENROLMENT_ASL,
    PRODUCTION_TIMINGS,
    ROOT,
    WORKFLOW_FUNCTIONS,
    placeholders,
    render_definition,
)

TEXT = ENROLMENT_ASL.read_text()
DEFINITION = json.loads(TEXT)
STATES = DEFINITION["States"]
BUILT_IN_ERRORS = {"States.ALL", "States.Timeout", "Lambda.ServiceException",
                   "Lambda.TooManyRequestsException", "Lambda.SdkClientException"}


def test_every_transition_points_to_a_state_that_exists():
    for source, target, _ in transitions(DEFINITION):
        assert target == "[*]" or target in STATES, f"{source} -> {target}"


def test_every_state_can_be_reached_from_the_start():
    reachable, frontier = set(), [DEFINITION["StartAt"]]
    edges = list(transitions(DEFINITION))
    while frontier:
        state = frontier.pop()
        if state in reachable or state == "[*]":
            continue
        reachable.add(state)
        frontier.extend(target for source, target, _ in edges if source == state)
    assert reachable == set(STATES)


def test_every_task_retries_transient_faults_and_catches_everything_else():
    for name, state in STATES.items():
        if state["Type"] != "Task":
            continue
        assert state.get("Retry"), f"{name} has no Retry"
        caught = {error for catcher in state.get("Catch", []) for error in catcher["ErrorEquals"]}
        assert "States.ALL" in caught, f"{name} lets an error escape unrecorded"


def test_every_path_ends_in_a_recorded_outcome_or_a_named_failure():
    """No state is a dead end: each either continues, ends after recording, or fails by name."""
    for name, state in STATES.items():
        if state["Type"] == "Fail":
            assert state["Error"] and state["Cause"]
        elif state.get("End"):
            assert "${RecordOutcomeFunctionArn}" in json.dumps(state), f"{name} ends without recording"


@pytest.mark.regulation("Art. 20")
def test_the_issuance_wait_is_a_callback_bounded_by_the_substituted_deadline():
    task = STATES["Ask the bank to issue the card"]
    assert task["Resource"].endswith(".waitForTaskToken")
    assert task["TimeoutSeconds"] == "${IssuanceTimeoutSeconds}"
    assert task["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert PRODUCTION_TIMINGS["IssuanceTimeoutSeconds"] == 604_800
    timeout_catch = next(c for c in task["Catch"] if "States.Timeout" in c["ErrorEquals"])
    assert timeout_catch["Next"] == "Record the overdue issuance"


def test_every_placeholder_is_substituted_and_numbers_stay_numbers():
    substitutions = {**PRODUCTION_TIMINGS, **{name: f"arn:aws:lambda:ap-southeast-3:1:function:{fn}"
                                               for name, fn in WORKFLOW_FUNCTIONS.items()}}
    assert placeholders(TEXT) == set(substitutions)
    rendered = json.loads(render_definition(TEXT, substitutions))
    task = rendered["States"]["Ask the bank to issue the card"]
    assert task["TimeoutSeconds"] == 604_800
    assert task["Parameters"]["FunctionName"].endswith("enrolment_request_issuance")
    with pytest.raises(KeyError):
        render_definition(TEXT, PRODUCTION_TIMINGS)


def test_error_names_the_workflow_matches_on_exist_in_the_code():
    """The names in ErrorEquals are an API: renaming an exception must fail here."""
    raised_by_code = {
        population_registry.PopulationRegistryUnavailable.__name__,
        bank.BankUnavailable.__name__,
        repository.StoreUnavailable.__name__,
        audit_repository.AuditUnavailable.__name__,
        callbacks.BANK_REJECTED,
    }
    named = {error for state in STATES.values()
             for rule in state.get("Retry", []) + state.get("Catch", []) for error in rule["ErrorEquals"]}
    assert named - BUILT_IN_ERRORS == raised_by_code


def test_the_readme_diagram_is_the_one_drawn_from_the_definition():
    readme = (ROOT / "README.md").read_text()
    assert f"```mermaid\n{enrolment_diagram()}\n```" in readme
