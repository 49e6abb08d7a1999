"""The program registry over HTTP (Art. 6-8, 10): each agency head reaches their own agency's programs only."""
from __future__ import annotations

import json

import pytest

from chalicelib.access.roles import Role
from tests import identities
from tests.identities import EDUCATION_AGENCY, SOCIAL_AGENCY

KJP_PLUS = {
    "code": "KJP-PLUS-2026", "name": "Kartu Jakarta Pintar Plus 2026", "benefitKind": "CASH_AID",
    "legalBasis": "Pergub DKI Jakarta 110/2021", "periodStart": "2026-01-01", "periodEnd": "2026-12-31",
    "budgetRupiah": 4_200_000_000_000, "status": "ACTIVE", "maxRecipientsPerKk": 3, "excludes": ["KJMU-2026"],
}


def as_head(agency: str) -> dict[str, str]:
    return identities.bearer(Role.AGENCY_HEAD, agency)


def send(api, method: str, path: str, document=None, agency: str = EDUCATION_AGENCY, headers=None):
    body = b"" if document is None else json.dumps(document).encode()
    return api.request(method, path, body, {"Content-Type": "application/json", **(headers or as_head(agency))},
                       as_role=None)


@pytest.fixture(scope="module")
def kjp_plus(api):
    answer = send(api, "POST", "/registry/programs", KJP_PLUS)
    assert answer.status == 201, answer
    return answer.body


def test_the_education_agency_registers_kjp_plus_and_reads_it_back(api, kjp_plus):
    assert kjp_plus["program"] == "DISDIK:KJP-PLUS-2026"
    assert kjp_plus["agency"] == EDUCATION_AGENCY and kjp_plus["budgetRupiah"] == 4_200_000_000_000
    assert kjp_plus["excludes"] == ["DISDIK:KJMU-2026"]

    read = send(api, "GET", "/registry/programs/KJP-PLUS-2026")
    listed = send(api, "GET", "/registry/programs")

    assert read.status == 200 and read.body == kjp_plus
    assert [p["code"] for p in listed.body["programs"]] == ["KJP-PLUS-2026"]


def test_registering_the_same_program_again_is_a_retry_and_other_data_under_its_code_a_conflict(api, kjp_plus):
    again = send(api, "POST", "/registry/programs", KJP_PLUS)
    changed = send(api, "POST", "/registry/programs", {**KJP_PLUS, "budgetRupiah": 1})

    assert again.status == 200 and again.body == kjp_plus
    assert changed.status == 409 and changed.body["code"] == "PROGRAM_CODE_EXISTS"


@pytest.mark.regulation("Art. 8")
def test_the_social_agency_head_can_neither_see_nor_touch_disdiks_kjp_plus(api, kjp_plus):
    # When the head of the social agency reads, lists, changes, staffs and reports on KJP Plus
    answers = [
        send(api, "GET", "/registry/programs/KJP-PLUS-2026", agency=SOCIAL_AGENCY),
        send(api, "PATCH", "/registry/programs/KJP-PLUS-2026", {"budgetRupiah": 1}, agency=SOCIAL_AGENCY),
        send(api, "GET", "/registry/programs/KJP-PLUS-2026/officers", agency=SOCIAL_AGENCY),
        send(api, "POST", "/registry/programs/KJP-PLUS-2026/officers",
             {"nip": "198001012005011001", "name": "Siti Rahma", "position": "Kepala Seksi"}, agency=SOCIAL_AGENCY),
        send(api, "POST", "/registry/programs/KJP-PLUS-2026/reports",
             {"period": "2026-Q1", "recipientsServed": 1, "budgetRealisedRupiah": 1, "summary": "x"},
             agency=SOCIAL_AGENCY),
        send(api, "GET", "/registry/programs/KJP-PLUS-2026/reports", agency=SOCIAL_AGENCY),
    ]
    listed = send(api, "GET", "/registry/programs", agency=SOCIAL_AGENCY)

    # Then every answer is the one for a program that does not exist, and the list does not show it
    assert [(a.status, a.body["code"]) for a in answers] == [(404, "PROGRAM_NOT_FOUND")] * len(answers)
    assert "KJP-PLUS-2026" not in json.dumps(listed.body)
    # And KJP Plus is as the education agency left it
    assert send(api, "GET", "/registry/programs/KJP-PLUS-2026").body["budgetRupiah"] == KJP_PLUS["budgetRupiah"]


def test_the_social_agency_may_use_the_same_code_for_a_program_of_its_own(api, kjp_plus):
    answer = send(api, "POST", "/registry/programs", {**KJP_PLUS, "excludes": []}, agency=SOCIAL_AGENCY)

    assert answer.status == 201 and answer.body["program"] == "DINSOS:KJP-PLUS-2026"
    assert send(api, "GET", "/registry/programs/KJP-PLUS-2026").body == kjp_plus


def test_the_agency_updates_its_program_forward_only(api):
    created = send(api, "POST", "/registry/programs", {**KJP_PLUS, "code": "KJMU-2026", "status": "DRAFT",
                                                        "excludes": ["KJP-PLUS-2026"]})
    assert created.status == 201

    raised = send(api, "PATCH", "/registry/programs/KJMU-2026", {"budgetRupiah": 900_000_000, "status": "ACTIVE"})
    closed = send(api, "PATCH", "/registry/programs/KJMU-2026", {"status": "CLOSED"})
    reopened = send(api, "PATCH", "/registry/programs/KJMU-2026", {"status": "ACTIVE"})

    assert raised.status == 200 and (raised.body["budgetRupiah"], raised.body["status"]) == (900_000_000, "ACTIVE")
    assert closed.status == 200 and closed.body["status"] == "CLOSED"
    assert reopened.status == 409 and reopened.body["code"] == "PROGRAM_CLOSED"


@pytest.mark.parametrize("change,code", [
    ({"budgetRupiah": 1.5}, "INVALID_NUMBER"), ({"budgetRupiah": -1}, "INVALID_NUMBER"),
    ({"periodEnd": "2025-01-01"}, "INVALID_PERIOD"), ({"agency": "DINSOS"}, "UNKNOWN_FIELD"),
    ({"excludes": ["KJP-PLUS-2026"]}, "INVALID_EXCLUSIONS"), ({}, "NOTHING_TO_CHANGE"),
])
def test_a_bad_change_is_refused_with_its_reason(api, kjp_plus, change, code):
    answer = send(api, "PATCH", "/registry/programs/KJP-PLUS-2026", change)
    assert (answer.status, answer.body["code"]) == (400, code)


def test_officers_and_quarterly_reports_are_filed_once(api, kjp_plus):
    officer = {"nip": "198001012005011001", "name": "Siti Rahma", "position": "Kepala Seksi Bantuan Pendidikan"}
    report = {"period": "2026-Q1", "recipientsServed": 7, "budgetRealisedRupiah": 12_600_000,
              "summary": "Penyaluran tahap pertama"}
    base = "/registry/programs/KJP-PLUS-2026"

    assert send(api, "POST", base + "/officers", officer).status == 201
    assert send(api, "POST", base + "/officers", officer).status == 200
    assert send(api, "POST", base + "/officers", {**officer, "position": "Lain"}).status == 409
    assert send(api, "POST", base + "/reports", report).status == 201
    assert send(api, "POST", base + "/reports", report).status == 200
    assert send(api, "POST", base + "/reports", {**report, "recipientsServed": 8}).body["code"] == "REPORT_EXISTS"

    assert send(api, "GET", base + "/officers").body["officers"] == [officer]
    (filed,) = send(api, "GET", base + "/reports").body["reports"]
    assert filed["recipientsServed"] == 7 and filed["filedBy"].startswith("test-agency-head")


@pytest.mark.regulation("Art. 10")
def test_diskominfotik_reads_aggregates_only_with_small_counts_suppressed(api, kjp_plus):
    send(api, "POST", "/registry/programs/KJP-PLUS-2026/reports",
         {"period": "2026-Q1", "recipientsServed": 7, "budgetRealisedRupiah": 12_600_000, "summary": "Tahap 1"})

    overview = api.get("/analytics/programs", as_role=Role.DISKOMINFOTIK_ADMIN)
    as_agency = api.request("GET", "/analytics/programs", headers=as_head(EDUCATION_AGENCY), as_role=None)
    admin_reads_program = api.request("GET", "/registry/programs/KJP-PLUS-2026", as_role=Role.DISKOMINFOTIK_ADMIN)

    assert overview.status == 200
    kjp = next(p for p in overview.body["programs"] if p["program"] == "DISDIK:KJP-PLUS-2026")
    assert kjp["latestReport"]["recipientsServed"] is None  # 7 people: below the threshold of 10
    assert any(c["agency"] == "DISDIK" and c["programs"] >= 1 for c in overview.body["cells"])
    assert (as_agency.status, admin_reads_program.status) == (403, 403)
