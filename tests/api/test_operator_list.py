"""The operator's work list: applications by state, paged with an opaque ``nextToken``."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from chalicelib.enrolment.model import State


def refused(answer, status: int = 400) -> dict:
    assert answer.status == status, answer
    assert isinstance(answer.body, dict) and answer.body.get("code"), answer
    return answer.body


def token(document) -> str:
    return quote(base64.urlsafe_b64encode(json.dumps(document).encode()).decode())


@pytest.mark.parametrize("state", [s.value for s in State])
def test_every_state_can_be_listed(api, state):
    # When the operator asks for the applications in a state
    answer = api.operator_list(f"state={state}")

    # Then they get that state's list (possibly empty)
    assert answer.status == 200, answer
    assert answer.body["state"] == state
    assert isinstance(answer.body["applications"], list)


@pytest.mark.regulation("Art. 20")
def test_the_overdue_issuance_list_is_available_to_the_operator(api):
    # When the operator opens the escalation list for banks that missed the 7-day deadline
    answer = api.operator_list("state=ISSUANCE_OVERDUE&limit=50")

    # Then it answers, as a list like any other
    assert answer.status == 200, answer
    assert answer.body["state"] == "ISSUANCE_OVERDUE"


@pytest.mark.parametrize("query", ["", "state=", "state=submitted", "state=PENDING", "state=SUBMITTED%00",
                                   "limit=10"])
def test_a_missing_or_unknown_state_is_refused_naming_the_parameter(api, query):
    # When the state is missing, blank, in the wrong case or not a state at all
    body = refused(api.operator_list(query))

    # Then the refusal names the parameter
    assert body["code"] == "INVALID_PARAMETER"
    assert body["details"]["field"] == "state"


@pytest.mark.parametrize("limit", ["0", "501", "-1", "abc", "1.5", "1e2", "", "%C2%B2"])
def test_a_limit_outside_1_to_500_or_not_a_whole_number_is_refused(api, limit):
    # When the page size is out of bounds, or not a plain whole number (here: a superscript two)
    answer = api.operator_list(f"state=SUBMITTED&limit={limit}")

    # Then it is refused, naming the parameter
    body = refused(answer)
    assert body["code"] == "INVALID_PARAMETER"
    assert body["details"]["field"] == "limit"


@pytest.mark.parametrize("limit", ["1", "500"])
def test_the_limits_themselves_are_accepted(api, limit):
    # When the page size is exactly 1 or exactly 500, Then the list is served
    assert api.operator_list(f"state=SUBMITTED&limit={limit}").status == 200


@pytest.mark.parametrize("next_token", [
    "garbage",
    "%21%21%21",
    token([]),
    token({"s": 99, "k": None}),
    token({"s": -1, "k": None}),
    token({"s": "zero", "k": None}),
    token({"s": 0, "k": {"pk": "APP#x"}}),
    token({"s": 0, "k": {"pk": 1, "sk": 2, "state_shard": 3, "state_since": 4}}),
    token({"s": 1e999, "k": None}),
    token({"s": [0], "k": None}),
])
def test_a_next_token_the_api_never_gave_out_is_refused(api, next_token):
    # When the operator (or anyone) sends a forged or damaged nextToken
    answer = api.operator_list(f"state=SUBMITTED&nextToken={next_token}")

    # Then it is refused as an invalid cursor
    assert refused(answer)["code"] == "INVALID_CURSOR"


def test_paging_through_a_state_shows_each_application_exactly_once(api, residents):
    # Given more applications than fit on a page
    created = {api.submit(residents.a_payment_card_form()).body["applicationId"] for _ in range(9)}

    # When the operator pages through them two at a time
    seen: list[str] = []
    next_token = None
    for _ in range(100):
        query = "state=SUBMITTED&limit=2" + (f"&nextToken={quote(next_token)}" if next_token else "")
        page = api.operator_list(query)
        assert page.status == 200, page
        assert len(page.body["applications"]) <= 2
        seen.extend(a["applicationId"] for a in page.body["applications"])
        next_token = page.body.get("nextToken")
        if not next_token:
            break

    # Then every application appears, and none twice
    assert len(seen) == len(set(seen))
    assert created <= set(seen)
    assert all(a["state"] == "SUBMITTED" for a in api.all_in_state("SUBMITTED"))


def test_the_operator_sees_the_nik_masked_only(api, residents):
    # Given an application
    person = residents.jakartan()
    application_id = api.submit(residents.payment_card_form(person)).body["applicationId"]

    # When the operator lists the state it is in
    listed = {a["applicationId"]: a for a in api.all_in_state("SUBMITTED")}

    # Then its NIK appears masked, and neither the full NIK nor the name nor the birth date appear
    entry = listed[application_id]
    assert entry["nik"] == person.nik[:4] + "********" + person.nik[-4:]
    text = json.dumps(entry)
    assert person.nik not in text and person.full_name not in text
    assert person.birth_date.isoformat() not in text
