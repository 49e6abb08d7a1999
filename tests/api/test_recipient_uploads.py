"""Recipient uploads over HTTP (issue 3): a program's own agency uploads a CSV, processed in the background.

Under ``mock_aws`` Step Functions do not execute, so these tests run the
upload workflow's one task themselves, chunk after chunk, as the state
machine does on the local cloud (tests/e2e runs it there).
"""
from __future__ import annotations

import json

import pytest

from chalicelib import wiring
from chalicelib.access.roles import Role
from tests import identities
from tests.api.conftest import ktp_sex
from tests.identities import EDUCATION_AGENCY, SOCIAL_AGENCY

COLUMNS = "nik,full_name,sex,birth_date,kk_number,village_code,school_level,eligibility_evidence"
PROGRAM = {
    "code": "KJP-PLUS-UPL", "name": "KJP Plus (uploads)", "benefitKind": "CASH_AID",
    "legalBasis": "Pergub DKI Jakarta 110/2021", "periodStart": "2026-01-01", "periodEnd": "2026-12-31",
    "budgetRupiah": 1_000_000_000, "status": "ACTIVE", "maxRecipientsPerKk": 2, "excludes": ["KJMU-UPL"],
}
BASE = "/registry/programs/KJP-PLUS-UPL/recipients/uploads"


def as_head(agency: str = EDUCATION_AGENCY) -> dict[str, str]:
    return identities.bearer(Role.AGENCY_HEAD, agency)


def send(api, method, path, body=b"", agency=EDUCATION_AGENCY, content_type="application/json"):
    return api.request(method, path, body, {"Content-Type": content_type, **as_head(agency)}, as_role=None)


def line(person, kk=None, evidence="NISN:0081234567") -> str:
    return ",".join([person.nik, person.full_name, ktp_sex(person), person.birth_date.isoformat(),
                     kk or person.kk_number, person.village_code, "SMA", evidence])


def run_workflow(agency: str, code: str, upload_id: str) -> None:
    uploads = wiring.recipient_uploads()
    for _ in range(100):
        if uploads.process_next_chunk(agency, code, upload_id)["done"]:
            return
    raise AssertionError("the upload never finished")


@pytest.fixture(scope="module")
def programs(api):
    for document in (PROGRAM, {**PROGRAM, "code": "KJMU-UPL", "excludes": [], "maxRecipientsPerKk": None}):
        answer = send(api, "POST", "/registry/programs", json.dumps(document))
        assert answer.status == 201, answer


def test_an_upload_is_accepted_for_processing_and_the_same_file_again_is_the_same_upload(api, programs, residents):
    people = [residents.jakartan("SMA") for _ in range(3)]
    content = "\n".join([COLUMNS, *(line(p) for p in people)]) + "\n"

    first = send(api, "POST", BASE, content, content_type="text/csv")
    again = send(api, "POST", BASE, content, content_type="text/csv")

    assert first.status == 202, first
    assert first.body["state"] == "RECEIVED" and first.body["rowsTotal"] == 3
    assert first.body["statusUrl"] == f"{BASE}/{first.body['uploadId']}"
    assert first.headers["Location"] == first.body["statusUrl"]
    assert again.status == 200 and again.body["uploadId"] == first.body["uploadId"]


def test_rows_are_validated_screened_and_counted_with_their_problems_by_row(api, programs, residents):
    # Given a family of three pupils on one KK (the program allows two), a NIK twice, a bad NIK,
    # and a pupil already receiving KJMU, which KJP Plus excludes
    family = [residents.jakartan("SMA") for _ in range(3)]
    kk = family[0].kk_number
    twice = residents.jakartan("SMA")
    in_kjmu = residents.jakartan("SMA")
    kjmu = send(api, "POST", "/registry/programs/KJMU-UPL/recipients/uploads",
                "\n".join([COLUMNS, line(in_kjmu)]), content_type="text/csv")
    run_workflow(EDUCATION_AGENCY, "KJMU-UPL", kjmu.body["uploadId"])

    rows = [line(family[0], kk), line(family[1], kk), line(family[2], kk), line(twice), line(twice),
            "3174019999990001,Nama Palsu,L,2010-01-01,,,,NISN:1", line(in_kjmu)]
    upload = send(api, "POST", BASE, "\n".join([COLUMNS, *rows]), content_type="text/csv")
    assert upload.status == 202, upload

    # When the workflow processes it
    run_workflow(EDUCATION_AGENCY, "KJP-PLUS-UPL", upload.body["uploadId"])
    status = send(api, "GET", f"{BASE}/{upload.body['uploadId']}")

    # Then the status shows what happened to every row
    assert status.status == 200, status
    body = status.body
    assert (body["state"], body["rowsTotal"], body["rowsProcessed"]) == ("COMPLETED", 7, 7)
    assert (body["accepted"], body["rejected"], body["flagged"]) == (3, 1, 3)
    codes = {p["row"]: p["code"] for p in body["problems"]}
    assert codes[4] == "KK_LIMIT_EXCEEDED" and codes[6] == "DUPLICATE_IN_PROGRAM"
    assert codes[8] == "EXCLUDED_PROGRAM_OVERLAP" and codes[7] == "NIK_BAD_BIRTH_DATE"
    assert body["nextToken"] is None

    # And a second file naming a stored pupil again flags it, and stores nothing twice
    second = send(api, "POST", BASE, "\n".join([COLUMNS, line(family[0], kk)]), content_type="text/csv")
    run_workflow(EDUCATION_AGENCY, "KJP-PLUS-UPL", second.body["uploadId"])
    after = send(api, "GET", f"{BASE}/{second.body['uploadId']}").body
    assert (after["accepted"], after["flagged"], after["problems"]) == (
        0, 1, [{"row": 2, "code": "DUPLICATE_IN_PROGRAM"}])


def test_processing_a_chunk_again_counts_it_once(api, programs, residents):
    people = [residents.jakartan("SMA") for _ in range(2)]
    upload = send(api, "POST", BASE, "\n".join([COLUMNS, *(line(p) for p in people)]), content_type="text/csv")
    uploads = wiring.recipient_uploads()
    upload_id = upload.body["uploadId"]

    # When the one chunk is processed, then processed again as a retried task would after a crash
    uploads._process(wiring.registry_service().get(EDUCATION_AGENCY, "KJP-PLUS-UPL"), upload_id,
                     [(0, uploads._vault.unseal(uploads._store.chunk(upload_id, 0)["sealed_rows"])["rows"])],
                     identities_actor())
    run_workflow(EDUCATION_AGENCY, "KJP-PLUS-UPL", upload_id)
    run_workflow(EDUCATION_AGENCY, "KJP-PLUS-UPL", upload_id)

    status = send(api, "GET", f"{BASE}/{upload_id}").body
    assert (status["state"], status["rowsProcessed"], status["accepted"], status["flagged"]) == ("COMPLETED", 2, 2, 0)


def identities_actor():
    from chalicelib.audit.chain import Actor

    return Actor("test-agency-head", "AGENCY_HEAD", EDUCATION_AGENCY)


@pytest.mark.regulation("Art. 8")
def test_another_agency_can_neither_upload_to_nor_read_the_uploads_of_a_program_not_its_own(api, programs, residents):
    content = "\n".join([COLUMNS, line(residents.jakartan("SMA"))])
    mine = send(api, "POST", BASE, content, content_type="text/csv")

    theirs = send(api, "POST", BASE, content, agency=SOCIAL_AGENCY, content_type="text/csv")
    peek = send(api, "GET", f"{BASE}/{mine.body['uploadId']}", agency=SOCIAL_AGENCY)
    operator = api.request("POST", BASE, content, {"Content-Type": "text/csv"}, as_role=Role.OPERATOR)

    assert (theirs.status, theirs.body["code"]) == (404, "PROGRAM_NOT_FOUND")
    assert (peek.status, peek.body["code"]) == (404, "PROGRAM_NOT_FOUND")
    assert operator.status == 403


@pytest.mark.parametrize("content,code", [
    ("nik,full_name\n1,2\n", "CSV_HEADER"),
    (COLUMNS + "\n", "CSV_EMPTY"),
    (COLUMNS + '\n"31740,x\n', "CSV_MALFORMED"),
])
def test_a_file_that_is_not_a_recipient_list_is_refused_whole(api, programs, content, code):
    answer = send(api, "POST", BASE, content, content_type="text/csv")
    assert (answer.status, answer.body["code"]) == (400, code)


def test_an_unknown_upload_or_token_is_answered_clearly(api, programs):
    assert send(api, "GET", f"{BASE}/upl_nothing").body["code"] == "UPLOAD_NOT_FOUND"
