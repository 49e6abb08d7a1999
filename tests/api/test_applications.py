"""Submitting one application and reading its state back, through the HTTP API.

Every refusal is a 4xx whose body carries a machine-readable ``code``; nothing
a caller sends may produce a 500.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

APPLICATIONS = "/enrolment/applications"
PUBLIC_VIEW_KEYS = {"applicationId", "state", "stateSince"}
"""Everything an anonymous holder of the id may see (``Application.public_view``)."""
UNGUESSABLE_ID = re.compile(r"^app_[A-Za-z0-9_-]{22,}$")
"""``app_`` and at least 128 random bits in URL-safe base64."""


def refused(answer, status: int = 400) -> str:
    """The refusal's machine-readable code, after checking it is the expected kind of refusal."""
    assert answer.status == status, answer
    assert isinstance(answer.body, dict) and isinstance(answer.body.get("code"), str), answer
    assert answer.body["code"] and answer.body.get("message"), answer
    return answer.body["code"]


def submitted_count(api) -> int:
    return len(api.all_in_state("SUBMITTED"))


# --- accepted applications --------------------------------------------------------------------------------


@pytest.mark.regulation("Art. 18")
def test_a_resident_from_outside_jakarta_gets_a_payment_card_application_without_registering(api, residents):
    # Given a KTP holder issued and living outside Jakarta, with no KK, address or bank account on the form
    person = residents.from_outside_jakarta()

    # When they ask for the payment card
    answer = api.submit(residents.payment_card_form(person))

    # Then an application is opened for them, and only its state is shown
    assert answer.status == 201, answer
    assert set(answer.body) == PUBLIC_VIEW_KEYS
    assert answer.body["state"] == "SUBMITTED"
    assert UNGUESSABLE_ID.match(answer.body["applicationId"])


@pytest.mark.regulation("Art. 17")
def test_a_pupil_registering_with_the_documents_of_art_17_is_accepted(api, residents):
    # Given a Jakarta pupil with KTP data, KK, Jakarta address, bank account and proof of beneficiary status
    form = residents.pupil_form(residents.jakartan("SMA"))

    # When the registration is submitted
    answer = api.submit(form)

    # Then it is accepted and waits for verification
    assert answer.status == 201, answer
    assert answer.body["state"] == "SUBMITTED"


def test_application_ids_are_random_and_reveal_nothing_about_the_applicant(api, residents):
    # Given two residents
    first, second = residents.jakartan(), residents.jakartan()

    # When both apply
    ids = [api.submit(residents.payment_card_form(p)).body["applicationId"] for p in (first, second)]

    # Then each gets its own unguessable id, which does not contain their NIK
    assert ids[0] != ids[1]
    for application_id, person in zip(ids, (first, second)):
        assert UNGUESSABLE_ID.match(application_id)
        assert person.nik not in application_id


# --- idempotency ------------------------------------------------------------------------------------------


def test_sending_the_same_application_again_returns_the_first_one_and_stores_nothing_new(api, residents):
    # Given an application that was accepted
    form = residents.a_payment_card_form()
    first = api.submit(form)
    assert first.status == 201
    before = submitted_count(api)

    # When the app retries it, e.g. after a dropped connection
    again = api.submit(form)

    # Then the caller gets the same application back, and no second one exists
    assert again.status == 200, again
    assert again.body == first.body
    assert submitted_count(api) == before


def test_a_retry_differing_only_in_spacing_and_letter_case_finds_the_same_application(api, residents):
    # Given an accepted application
    form = residents.a_payment_card_form()
    first = api.submit(form)

    # When the same person sends it again with sloppier typing
    sloppy = {**form, "full_name": "  " + form["full_name"].replace(" ", "   ") + " ",
              "sex": form["sex"].lower(), "program": form["program"].lower()}
    again = api.submit(sloppy)

    # Then it is recognised as the same application
    assert again.status == 200, again
    assert again.body["applicationId"] == first.body["applicationId"]


@pytest.mark.regulation("Art. 17")
def test_the_same_nik_with_different_data_is_refused_as_already_registered(api, residents):
    # Given a resident who already applied for the payment card
    person = residents.jakartan("SMA")
    first = api.submit(residents.payment_card_form(person))
    before = submitted_count(api)

    # When someone submits another application under the same NIK
    other = api.submit(residents.pupil_form(person))

    # Then it is refused with a code the app can explain, and nothing new is stored
    assert refused(other, 409) == "NIK_ALREADY_REGISTERED"
    assert submitted_count(api) == before
    assert api.get(f"{APPLICATIONS}/{first.body['applicationId']}").body == first.body


# --- refusals: the body ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body, code", [
    (b"", "BODY_MISSING"),
    (b"{", "BODY_NOT_JSON"),
    (b"nik=3174011506900001&full_name=Budi", "BODY_NOT_JSON"),
    (b"{'nik': '3174011506900001'}", "BODY_NOT_JSON"),
    (b"\xff\xfe{\x00}", "BODY_NOT_JSON"),
    (b"[]", "BODY_NOT_OBJECT"),
    (b'"an application"', "BODY_NOT_OBJECT"),
    (b"42", "BODY_NOT_OBJECT"),
    (b"null", "BODY_NOT_OBJECT"),
])
def test_a_body_that_is_not_a_json_object_is_refused_with_its_reason(api, body, code):
    # When the body is missing, is not JSON, or is JSON but not an object
    answer = api.post_raw(APPLICATIONS, body)

    # Then the caller learns which
    assert refused(answer) == code


def test_a_deeply_nested_body_is_refused_rather_than_crashing_the_parser(api):
    # Given a body nested deeper than any JSON parser recurses
    body = "[" * 5_000 + "]" * 5_000

    # When it is submitted
    answer = api.post_raw(APPLICATIONS, body)

    # Then it is refused as not acceptable JSON
    assert refused(answer) == "BODY_NOT_JSON"


def test_a_field_name_with_an_unpaired_surrogate_escape_is_refused_cleanly(api):
    # When a body names a field with an escape no UTF-8 text can hold
    answer = api.post_raw(APPLICATIONS, b'{"\\ud800": "x"}')

    # Then it is an unknown field, not a server error
    assert refused(answer) == "UNKNOWN_FIELD"


def test_an_application_body_far_larger_than_any_form_is_refused_as_too_large(api, residents):
    # Given an otherwise valid application padded to a megabyte (a real one is well under 2 KB)
    form = {**residents.a_payment_card_form(), "beneficiary_proof": "x" * (1024 * 1024)}

    # When it is submitted
    answer = api.submit(form)

    # Then it is refused for its size
    refused(answer, 413)


def test_a_beneficiary_proof_longer_than_a_record_can_hold_is_refused_not_a_server_error(api, residents):
    # Given a pupil's registration whose proof of beneficiary status is 300 KB of text
    form = {**residents.pupil_form(residents.jakartan("SMA")), "beneficiary_proof": "NISN:" + "9" * 300_000}

    # When it is submitted
    answer = api.submit(form)

    # Then it is refused with a reason, as a request problem
    assert answer.status in (400, 413), answer
    assert answer.body.get("code"), answer


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/csv"])
def test_a_body_of_another_content_type_is_refused(api, residents, content_type):
    # When a valid application is sent under another content type
    answer = api.post_raw(APPLICATIONS, json.dumps(residents.a_payment_card_form()), content_type)

    # Then the media type is refused before anything is stored
    assert answer.status == 415, answer
    assert answer.body["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("field", ["nik", "full_name", "sex", "birth_date", "program"])
@pytest.mark.parametrize("blank", ["absent", "null", "empty", "spaces"])
def test_each_required_field_missing_or_blank_is_named(api, residents, field, blank):
    # Given a form without one required field (or with it blank)
    form = residents.a_payment_card_form()
    if blank == "absent":
        del form[field]
    else:
        form[field] = {"null": None, "empty": "", "spaces": "   "}[blank]

    # When it is submitted
    answer = api.submit(form)

    # Then the caller learns which field is missing
    assert refused(answer) == "MISSING_FIELD"
    assert answer.body["details"]["field"] == field


# --- refusals: the NIK (Art. 19) -------------------------------------------------------------------------


def _woman_without_plus_40(form, person):
    return {**form, "nik": f"{person.nik[:6]}{int(person.nik[6:8]) - 40:02d}{person.nik[8:]}"}


NIK_MISTAKES = {
    "one digit short": (lambda form, person: {**form, "nik": person.nik[:15]}, "NIK_FORMAT"),
    "one digit too many": (lambda form, person: {**form, "nik": person.nik + "1"}, "NIK_FORMAT"),
    "letter O for zero": (lambda form, person: {**form, "nik": person.nik[:12] + "O" + person.nik[13:]},
                          "NIK_FORMAT"),
    "dotted like a KTP print": (lambda form, person: {**form, "nik": f"{person.nik[:6]}.{person.nik[6:]}"},
                                "NIK_FORMAT"),
    "unknown province code": (lambda form, person: {**form, "nik": "99" + person.nik[2:]},
                              "NIK_UNKNOWN_PROVINCE"),
    "woman's day without the +40": (_woman_without_plus_40, "NIK_SEX_MISMATCH"),
    "day between 32 and 40": (lambda form, person: {**form, "nik": person.nik[:6] + "35" + person.nik[8:]},
                              "NIK_BAD_BIRTH_DATE"),
    "month 13": (lambda form, person: {**form, "nik": person.nik[:8] + "13" + person.nik[10:]},
                 "NIK_BAD_BIRTH_DATE"),
    "serial 0000": (lambda form, person: {**form, "nik": person.nik[:12] + "0000"}, "NIK_BAD_SERIAL"),
    "sex on the form contradicts the NIK": (lambda form, person: {**form, "sex": "L"}, "NIK_SEX_MISMATCH"),
    "birth date on the form contradicts the NIK": (
        lambda form, person: {**form, "birth_date": (person.birth_date - timedelta(days=1)).isoformat()},
        "NIK_BIRTH_DATE_MISMATCH"),
}


@pytest.mark.regulation("Art. 19")
@pytest.mark.parametrize("mistake", list(NIK_MISTAKES))
def test_a_nik_that_cannot_be_genuine_is_refused_with_its_reason(api, residents, mistake):
    # Given a Jakarta woman's application whose NIK (or the data it encodes) has one typical mistake
    person = residents.jakartan(sex="F")
    change, code = NIK_MISTAKES[mistake]
    form = change(residents.payment_card_form(person), person)

    # When it is submitted
    answer = api.submit(form)

    # Then it is refused with the NIK's own reason, pointing at the NIK
    assert refused(answer) == code
    assert answer.body["details"]["field"] == "nik"
    # and the NIK is never echoed back
    assert person.nik not in json.dumps(answer.body)


@pytest.mark.parametrize("changes, code, field", [
    ({"sex": "X"}, "INVALID_SEX", "sex"),
    ({"birth_date": "10/03/2008"}, "INVALID_BIRTH_DATE", "birth_date"),
    ({"full_name": "<script>alert(1)</script>"}, "INVALID_NAME", "full_name"),
    ({"program": "FREE_MONEY"}, "UNKNOWN_PROGRAM", "program"),
    ({"school_level": "SMA"}, "INVALID_SCHOOL_LEVEL", "school_level"),
    ({"kk_number": "3174"}, "KK_FORMAT", "kk_number"),
    ({"village_code": "9999999999"}, "UNKNOWN_VILLAGE", "village_code"),
    ({"bank_account": "12-34"}, "INVALID_BANK_ACCOUNT", "bank_account"),
    ({"nik": 3174011506900001}, "FIELD_TYPE", "nik"),
    ({"full_name": ["Budi"]}, "FIELD_TYPE", "full_name"),
    ({"password": "hunter2"}, "UNKNOWN_FIELD", "password"),
])
def test_each_bad_field_is_refused_with_a_code_and_the_field_it_concerns(api, residents, changes, code, field):
    # When an otherwise valid payment-card form has one bad field
    answer = api.submit({**residents.a_payment_card_form(), **changes})

    # Then the refusal names the problem and the field
    assert refused(answer) == code
    assert answer.body["details"]["field"] == field


# --- reading the state -----------------------------------------------------------------------------------


def test_the_status_shows_the_state_and_nothing_personal(api, residents):
    # Given an application with every personal field filled in
    person = residents.jakartan("SMA")
    form = residents.pupil_form(person)
    application_id = api.submit(form).body["applicationId"]

    # When whoever holds the id reads it
    answer = api.get(f"{APPLICATIONS}/{application_id}")

    # Then they see the documented keys only
    assert answer.status == 200, answer
    assert set(answer.body) == PUBLIC_VIEW_KEYS
    assert answer.body["applicationId"] == application_id
    assert answer.body["state"] == "SUBMITTED"
    # and none of the applicant's data, in any form
    text = json.dumps(answer.body)
    for secret in (person.nik, person.nik[:4] + "********" + person.nik[-4:], person.full_name,
                   person.birth_date.isoformat(), person.kk_number, form["bank_account"],
                   form["beneficiary_proof"], form["village_code"], "KJP_PLUS"):
        assert secret not in text


def test_an_unknown_application_id_is_not_found(api):
    # When someone asks about a well-formed id that was never issued
    answer = api.get(f"{APPLICATIONS}/app_{'A' * 22}")

    # Then it is not found
    assert refused(answer, 404) == "APPLICATION_NOT_FOUND"


@pytest.mark.parametrize("application_id", [
    "not-an-id",
    "app_short",
    "app_" + "a" * 65,
    "APP_" + "a" * 22,
    "app_%00" + "a" * 22,
    "app_" + "a" * 21 + "%2F..",
    "app_" + "%F0%9F%92%A5" * 11,
    "%27%20OR%201%3D1",
])
def test_a_malformed_application_id_is_refused_cleanly(api, application_id):
    # When the id in the path is not one the API could have issued
    answer = api.get(f"{APPLICATIONS}/{application_id}")

    # Then it is refused as not found (or bad), never with a server error
    assert answer.status in (400, 404), answer
    assert isinstance(answer.body, dict) and answer.body.get("code"), answer
