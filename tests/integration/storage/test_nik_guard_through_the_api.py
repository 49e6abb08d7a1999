"""The NIK guard as a caller of the API meets it: one application per NIK.

The store refuses a second application for a NIK inside the transaction that
would create it; these stories check what the caller is told and what is kept.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.access.roles import Role
from tests.identities import bearer

PUPIL = {"nik": "3174015003140001", "full_name": "Putri Ayu Lestari", "sex": "P", "birth_date": "2014-03-10",
         "kk_number": "3174010101200003", "village_code": "3174011001", "program": "KJP_PLUS",
         "school_level": "SMP", "bank_account": "1234567890", "beneficiary_proof": "NISN:0141234567"}


def submit(api: Any, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = api.http.post("/enrolment/applications",
                           headers={"Content-Type": "application/json", **bearer(Role.OPERATOR)},
                           body=json.dumps(form))
    return answer.status_code, json.loads(answer.body)


def stored_applications(every_item: Any) -> list[dict[str, Any]]:
    return [item for items in every_item().values() for item in items if item.get("sk") == {"S": "APPLICATION"}]


def test_the_same_form_sent_again_gets_the_first_application_back(enrolment_api, every_item):
    # Given a pupil's application accepted
    status, first = submit(enrolment_api, PUPIL)
    assert status == 201

    # When the clerk's screen sends the same form again
    status, again = submit(enrolment_api, PUPIL)

    # Then the answer is the first application, and only one is stored
    assert status == 200
    assert again["applicationId"] == first["applicationId"]
    assert len(stored_applications(every_item)) == 1


def test_a_different_form_for_a_registered_nik_is_a_conflict_and_changes_nothing(enrolment_api, every_item):
    # Given a pupil's application accepted
    status, first = submit(enrolment_api, PUPIL)
    assert status == 201
    before = stored_applications(every_item)

    # When another form with the same NIK but other data is sent
    status, body = submit(enrolment_api, {**PUPIL, "school_level": "SMA"})

    # Then the caller is told it conflicts with the registered NIK
    assert (status, body.get("code")) == (409, "NIK_ALREADY_REGISTERED")
    # And the stored application is untouched
    assert stored_applications(every_item) == before
