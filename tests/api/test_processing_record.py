"""The PDP processing record of enrolment: who changed or read whose data, and why."""
from __future__ import annotations

import pytest

from chalicelib import wiring
from chalicelib.access.roles import Role
from chalicelib.audit.chain import Subject


def entries_about(subject: Subject) -> list:
    return wiring.audit_trail().history_of(subject)


@pytest.mark.regulation("Art. 17")
def test_a_stored_application_is_recorded_as_a_change_by_whoever_sent_it(api, residents):
    form = residents.a_payment_card_form()

    first = api.submit(form, as_role=Role.OPERATOR)
    again = api.submit(form, as_role=Role.OPERATOR)

    assert (first.status, again.status) == (201, 200)
    person = Subject.person(wiring.vault().index(form["nik"]))
    (entry,) = entries_about(person)
    assert entry.action == "PERSONAL_DATA_CHANGED"
    assert entry.actor.role == "OPERATOR" and entry.actor.subject.startswith("test-operator")
    assert entry.purpose.startswith("Art. 18")
    assert entry.detail == first.body["applicationId"]


@pytest.mark.regulation("Art. 9")
def test_each_application_an_operator_is_shown_is_recorded_as_a_read(api, residents):
    application_id = api.submit(residents.a_payment_card_form()).body["applicationId"]

    shown = api.operator_list("state=SUBMITTED&limit=500", as_role=Role.OPERATOR)

    assert application_id in [a["applicationId"] for a in shown.body["applications"]]
    reads = [e for e in entries_about(Subject.application(application_id)) if e.action == "PERSONAL_DATA_READ"]
    assert len(reads) == 1 and reads[0].actor.role == "OPERATOR"


def test_an_agency_upload_records_one_change_per_stored_row_and_the_chain_holds(api, residents):
    people = [residents.jakartan(band="SMA") for _ in range(3)]
    header = "nik,full_name,sex,birth_date,kk_number,village_code,program,school_level,bank_account,beneficiary_proof"
    rows = [",".join(residents.pupil_form(person).values()) for person in people]
    upload = api.upload("\n".join([header, *rows]) + "\n")

    assert upload.status == 200 and upload.body["accepted"] == 3
    for person in people:
        (entry,) = entries_about(Subject.person(wiring.vault().index(person.nik)))
        assert entry.actor.role == "AGENCY_HEAD" and entry.actor.agency
    report = wiring.audit_trail().verify()
    assert report.intact and report.entries_checked >= 3
