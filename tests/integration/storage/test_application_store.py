"""The application store (``ApplicationRepository``) on the local cloud's DynamoDB.

The table is created from :data:`infra.resources.TABLES`, as the deployment
creates it. Each story checks what the table holds afterwards, not which calls
were made.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.enrolment.model import Application, Program, State
from chalicelib.enrolment.repository import ApplicationRepository, TransitionRefused

SUBMITTED_AT = "2026-12-03T08:00:00.000+00:00"


def moment(minute: int, second: int = 0) -> str:
    return f"2026-12-03T09:{minute:02d}:{second:02d}.000+00:00"


def an_application(number: int, submitted_at: str = SUBMITTED_AT) -> Application:
    """A pupil's KJP Plus application, as the enrolment service builds it before storing it."""
    return Application(
        application_id=f"app_store{number:06d}", state=State.SUBMITTED, program=Program.KJP_PLUS,
        school_level="SMP", village_code="3174011001",
        documents={"kk_province": "31", "village_province": "31", "has_bank_account": True,
                   "has_beneficiary_proof": True, "needs_registration_documents": True},
        nik_masked="3174********0001", submitted_at=submitted_at, state_since=submitted_at,
    )


def store(repository: ApplicationRepository, application: Application, nik_index: str | None = None) -> bool:
    number = application.application_id.removeprefix("app_store")
    return repository.create(application, nik_index or f"index-{number}", f"hash-{number}",
                             f"sealed-{number}", application.documents)


def table_contents(table: Any) -> list[dict[str, Any]]:
    items = [item for page in _scan_pages(table) for item in page]
    return sorted(items, key=lambda item: (item["pk"], item["sk"]))


def _scan_pages(table: Any):
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        yield page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def repository(enrolment_table: Any) -> ApplicationRepository:
    return ApplicationRepository(enrolment_table)


# --- creating an application and its NIK guard -------------------------------------------------

def test_a_new_application_is_stored_with_its_nik_guard_and_its_first_history_item(repository):
    # Given a new application
    application = an_application(1)

    # When it is stored for a NIK's index
    created = repository.create(application, "index-of-the-nik", "hash-of-the-form", "sealed-blob",
                                application.documents)

    # Then it is created and reads back as it was stored
    assert created is True
    stored = repository.get(application.application_id)
    assert stored == Application(**{**vars(application), "sealed_personal_data": "sealed-blob"})
    # And the NIK's guard points at it, with the hash of the form that made it
    guard = repository.guard("index-of-the-nik")
    assert guard["application_id"] == application.application_id
    assert guard["request_hash"] == "hash-of-the-form"
    # And its history starts with the submission
    assert [(item["to_state"], item.get("from_states")) for item in repository.history(application.application_id)] \
        == [("SUBMITTED", None)]


def test_a_second_application_for_the_same_nik_is_refused_and_leaves_nothing(repository, enrolment_table):
    # Given an application stored for a NIK
    store(repository, an_application(1), nik_index="index-of-the-nik")
    before = table_contents(enrolment_table)

    # When another application is stored for the same NIK
    created = store(repository, an_application(2), nik_index="index-of-the-nik")

    # Then it is refused, the guard still points at the first, and nothing of the second was written
    assert created is False
    assert repository.guard("index-of-the-nik")["application_id"] == "app_store000001"
    with pytest.raises(NotFound):
        repository.get("app_store000002")
    assert repository.history("app_store000002") == []
    assert table_contents(enrolment_table) == before


def test_a_nik_without_an_application_has_no_guard(repository):
    assert repository.guard("index-of-a-nik-never-seen") is None


def test_reading_an_application_that_does_not_exist_is_not_found(repository):
    with pytest.raises(NotFound) as missing:
        repository.get("app_store999999")
    assert missing.value.code == "APPLICATION_NOT_FOUND"


# --- transitions -------------------------------------------------------------------------------

def test_a_transition_moves_the_state_and_appends_a_history_item(repository):
    # Given a submitted application
    store(repository, an_application(1))

    # When it is verified
    repository.transition("app_store000001", [State.SUBMITTED], State.VERIFIED, moment(5),
                          changes={"verified_at": moment(5)})

    # Then it is in its new state since then, with the change recorded
    stored = repository.get("app_store000001")
    assert (stored.state, stored.state_since, stored.verified_at) == (State.VERIFIED, moment(5), moment(5))
    # And its history has the transition after the submission
    history = repository.history("app_store000001")
    assert [(item["to_state"], item.get("from_states"), item["at"]) for item in history] == [
        ("SUBMITTED", None, SUBMITTED_AT), ("VERIFIED", ["SUBMITTED"], moment(5))]
    # And the state index lists it under its new state only
    assert [a.application_id for a in repository.list_by_state(State.VERIFIED, 10, None)[0]] == ["app_store000001"]
    assert repository.list_by_state(State.SUBMITTED, 10, None) == ([], None)


def test_an_outcome_removes_the_parked_task_token_and_records_its_detail(repository):
    # Given an application waiting for the bank, with the workflow's task token parked on it
    store(repository, an_application(1))
    repository.transition("app_store000001", [State.SUBMITTED], State.VERIFIED, moment(1))
    repository.transition("app_store000001", [State.VERIFIED], State.AWAITING_ISSUANCE, moment(2),
                          changes={"task_token": "token-of-the-waiting-task"})
    assert repository.get("app_store000001").task_token == "token-of-the-waiting-task"

    # When its card is issued
    repository.transition("app_store000001", [State.AWAITING_ISSUANCE], State.CARD_ACTIVE, moment(3),
                          changes={"issued_at": moment(3), "card_number_masked": "6011********1234",
                                   "reasons": []},
                          remove=["task_token"], detail={"stage": "ISSUANCE", "reasons": []})

    # Then the card is recorded and the token is gone
    stored = repository.get("app_store000001")
    assert (stored.state, stored.card_number_masked, stored.task_token) == (State.CARD_ACTIVE, "6011********1234", None)
    # And the last history item carries the outcome's detail
    last = repository.history("app_store000001")[-1]
    assert (last["to_state"], last["from_states"], last["detail"]) == (
        "CARD_ACTIVE", ["AWAITING_ISSUANCE"], {"stage": "ISSUANCE", "reasons": []})


def test_a_transition_from_a_state_the_application_is_not_in_is_refused_and_writes_nothing(
        repository, enrolment_table):
    # Given a submitted application
    store(repository, an_application(1))
    before = table_contents(enrolment_table)

    # When it is asked to leave a state it is not in
    with pytest.raises(TransitionRefused) as refused:
        repository.transition("app_store000001", [State.VERIFIED, State.AWAITING_ISSUANCE],
                              State.AWAITING_ISSUANCE, moment(5), changes={"task_token": "t"})

    # Then the transition is refused with its stable code
    assert refused.value.code == "STATE_CHANGED"
    # And neither the application nor its history changed
    assert table_contents(enrolment_table) == before


def test_a_transition_of_an_application_that_does_not_exist_is_refused_and_creates_nothing(
        repository, enrolment_table):
    # Given an empty table
    # When an unknown application is moved on
    with pytest.raises(TransitionRefused):
        repository.transition("app_store999999", [State.SUBMITTED], State.VERIFIED, moment(5))

    # Then no application and no history item was made up
    assert table_contents(enrolment_table) == []


def test_the_same_transition_attempted_twice_is_refused_the_second_time(repository, enrolment_table):
    # Given an application already moved from SUBMITTED to VERIFIED
    store(repository, an_application(1))
    repository.transition("app_store000001", [State.SUBMITTED], State.VERIFIED, moment(5))
    before = table_contents(enrolment_table)

    # When a late duplicate tries the same move
    with pytest.raises(TransitionRefused):
        repository.transition("app_store000001", [State.SUBMITTED], State.VERIFIED, moment(6))

    # Then nothing changes: one VERIFIED history item, not two
    assert table_contents(enrolment_table) == before


# --- marks set once ----------------------------------------------------------------------------

def test_a_mark_is_set_only_once(repository, enrolment_table):
    # Given an application awaiting issuance
    store(repository, an_application(1))
    repository.transition("app_store000001", [State.SUBMITTED], State.VERIFIED, moment(1))
    repository.transition("app_store000001", [State.VERIFIED], State.AWAITING_ISSUANCE, moment(2))

    # When the bank's callback is marked, and then marked again with other content
    first = repository.mark_once("app_store000001", "callback", {"reference": "first"}, [State.AWAITING_ISSUANCE])
    second = repository.mark_once("app_store000001", "callback", {"reference": "second"}, [State.AWAITING_ISSUANCE])

    # Then only the first mark is taken, and it is the one kept
    assert (first, second) == (True, False)
    assert enrolment_table.get_item(Key={"pk": "APP#app_store000001", "sk": "APPLICATION"},
                                    ConsistentRead=True)["Item"]["callback"] == {"reference": "first"}


def test_a_cleared_mark_can_be_set_again(repository):
    # Given a marked application
    store(repository, an_application(1))
    assert repository.mark_once("app_store000001", "callback", {"reference": "first"}, [State.SUBMITTED])

    # When the mark is cleared
    repository.clear("app_store000001", "callback")

    # Then it can be set again
    assert repository.mark_once("app_store000001", "callback", {"reference": "again"}, [State.SUBMITTED]) is True


def test_a_mark_is_refused_in_a_state_it_does_not_expect(repository, enrolment_table):
    # Given a submitted application
    store(repository, an_application(1))
    before = table_contents(enrolment_table)

    # When a mark that expects AWAITING_ISSUANCE is set
    marked = repository.mark_once("app_store000001", "callback", {"reference": "early"}, [State.AWAITING_ISSUANCE])

    # Then it is refused and nothing is written
    assert marked is False
    assert table_contents(enrolment_table) == before


def test_a_mark_on_an_application_that_does_not_exist_is_refused_and_creates_nothing(repository, enrolment_table):
    marked = repository.mark_once("app_store999999", "callback", {"reference": "stray"}, list(State))

    assert marked is False
    assert table_contents(enrolment_table) == []


# --- listing by state, across the index's shards -----------------------------------------------

@pytest.fixture
def applications_in_three_states(repository: ApplicationRepository) -> dict[State, set[str]]:
    """30 applications: 20 left SUBMITTED, 5 VERIFIED and 5 REJECTED after verification."""
    by_state: dict[State, set[str]] = {State.SUBMITTED: set(), State.VERIFIED: set(), State.REJECTED: set()}
    for number in range(30):
        store(repository, an_application(number, submitted_at=moment(number // 60, number % 60)))
        application_id = f"app_store{number:06d}"
        if number % 3 == 0:
            repository.transition(application_id, [State.SUBMITTED], State.VERIFIED, moment(40, number))
            if number % 2 == 0:
                repository.transition(application_id, [State.VERIFIED], State.REJECTED, moment(50, number))
                by_state[State.REJECTED].add(application_id)
                continue
            by_state[State.VERIFIED].add(application_id)
            continue
        by_state[State.SUBMITTED].add(application_id)
    return by_state


def walk(repository: ApplicationRepository, state: State, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(100):
        found, cursor = repository.list_by_state(state, limit, cursor)
        pages.append([application.application_id for application in found])
        if cursor is None:
            return pages
    raise AssertionError("the listing never ended")


def test_the_applications_of_one_state_sit_in_several_shards_of_the_index(
        enrolment_table, applications_in_three_states):
    shards = {item["state_shard"] for item in table_contents(enrolment_table)
              if item.get("state") == State.SUBMITTED.value}
    assert len(shards) > 1


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_walking_a_state_page_by_page_lists_each_of_its_applications_exactly_once(
        repository, applications_in_three_states, limit):
    # Given applications in three states, spread over the index's shards
    for state, expected in applications_in_three_states.items():
        # When an operator walks one state's list page by page
        pages = walk(repository, state, limit)

        # Then every application in that state appears exactly once, and no other
        listed = [application_id for page in pages for application_id in page]
        assert len(listed) == len(set(listed)), state
        assert set(listed) == expected, state
        # And every page but the last is full (the last may be empty when the one before ended a shard)
        assert all(len(page) == limit for page in pages[:-1]), state
        assert len(pages[-1]) <= limit, state


def test_a_state_with_no_applications_lists_nothing_and_no_cursor(repository, applications_in_three_states):
    assert repository.list_by_state(State.ISSUANCE_OVERDUE, 10, None) == ([], None)


def test_the_counts_by_state_match_the_applications_stored(repository, applications_in_three_states):
    counts = repository.count_by_state()

    assert counts == {state.value: len(applications_in_three_states.get(state, ())) for state in State}


def cursor_of(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


A_KEY = {"pk": "APP#app_store000001", "sk": "APPLICATION", "state_shard": "SUBMITTED#03",
         "state_since": f"{SUBMITTED_AT}#app_store000001"}
TAMPERED_CURSORS = {
    "not-base64": "%%% not a cursor %%%",
    "base64-of-no-json": base64.urlsafe_b64encode(b"\xff\xfe not json").decode(),
    "json-list": cursor_of([0, None]),
    "no-shard": cursor_of({"k": None}),
    "shard-too-high": cursor_of({"s": 16, "k": None}),
    "shard-negative": cursor_of({"s": -1, "k": None}),
    "shard-not-a-number": cursor_of({"s": "three", "k": None}),
    "shard-infinite": cursor_of({"s": float("inf"), "k": None}),
    "key-missing-an-attribute": cursor_of({"s": 3, "k": {"pk": "APP#x", "sk": "APPLICATION"}}),
    "key-with-an-extra-attribute": cursor_of({"s": 3, "k": {**A_KEY, "nik_index": "x"}}),
    "key-with-a-number": cursor_of({"s": 3, "k": {**A_KEY, "sk": 1}}),
}


@pytest.mark.parametrize("cursor", TAMPERED_CURSORS.values(), ids=TAMPERED_CURSORS.keys())
def test_a_tampered_cursor_is_refused_as_invalid_input(repository, cursor):
    with pytest.raises(InvalidInput) as refused:
        repository.list_by_state(State.SUBMITTED, 5, cursor)

    assert refused.value.code == "INVALID_CURSOR"


def first_cursor_inside_a_shard(repository: ApplicationRepository, state: State) -> str:
    """A cursor that stops inside a shard, so it carries a start key."""
    cursor = None
    for _ in range(100):
        _, cursor = repository.list_by_state(state, 1, cursor)
        assert cursor is not None, "no shard holds two applications of this state"
        if json.loads(base64.urlsafe_b64decode(cursor))["k"] is not None:
            return cursor
    raise AssertionError("no cursor stopped inside a shard")


def test_a_cursor_given_out_for_one_state_is_refused_for_another(repository, applications_in_three_states):
    # Given a cursor given out part-way through the SUBMITTED list
    cursor = first_cursor_inside_a_shard(repository, State.SUBMITTED)

    # When it is presented to walk the VERIFIED list
    # Then it is refused, rather than ending that list early
    with pytest.raises(InvalidInput) as refused:
        repository.list_by_state(State.VERIFIED, 5, cursor)
    assert refused.value.code == "INVALID_CURSOR"


def test_a_cursor_whose_start_key_names_another_shard_than_its_own_is_refused(
        repository, applications_in_three_states):
    # Given a cursor given out part-way through a shard, edited to carry its shard number one further
    document = json.loads(base64.urlsafe_b64decode(first_cursor_inside_a_shard(repository, State.SUBMITTED)))
    edited = cursor_of({"s": (document["s"] + 1) % 16, "k": document["k"]})

    # When it is presented
    # Then it is refused as one this API did not give out
    with pytest.raises(InvalidInput) as refused:
        repository.list_by_state(State.SUBMITTED, 5, edited)
    assert refused.value.code == "INVALID_CURSOR"
