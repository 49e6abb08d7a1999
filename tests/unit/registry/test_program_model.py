"""Programs as an agency head sends them: checked before anything is stored, moved forward only."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import Conflict, InvalidInput
from chalicelib.registry.model import BenefitKind, ProgramStatus, apply_changes, parse_officer, parse_program, parse_report

A_PROGRAM = {"code": "KJP-PLUS-2026", "name": "KJP Plus", "benefitKind": "CASH_AID", "legalBasis": "Pergub 110/2021",
             "periodStart": "2026-01-01", "periodEnd": "2026-12-31", "budgetRupiah": 1_000_000}


def test_a_program_belongs_to_the_callers_agency_and_starts_as_a_draft():
    program = parse_program({**A_PROGRAM, "excludes": ["KJMU-2026", "DINSOS:PANGAN-2026"]}, "DISDIK")

    assert program.ref == "DISDIK:KJP-PLUS-2026" and program.status is ProgramStatus.DRAFT
    assert program.benefit_kind is BenefitKind.CASH_AID
    assert program.excludes == ("DINSOS:PANGAN-2026", "DISDIK:KJMU-2026")


@pytest.mark.parametrize("change,code", [
    ({"code": "kjp plus"}, "INVALID_PROGRAM_CODE"), ({"benefitKind": "LOAN"}, "INVALID_CHOICE"),
    ({"budgetRupiah": True}, "INVALID_NUMBER"), ({"budgetRupiah": "100"}, "INVALID_NUMBER"),
    ({"budgetRupiah": 10 ** 16}, "INVALID_NUMBER"), ({"periodStart": "2026-13-01"}, "INVALID_DATE"),
    ({"periodEnd": "2025-12-31"}, "INVALID_PERIOD"), ({"agency": "DINSOS"}, "UNKNOWN_FIELD"),
    ({"status": "CLOSED"}, "INVALID_CHOICE"), ({"name": "a\nb"}, "INVALID_TEXT"),
    ({"excludes": ["KJP-PLUS-2026"]}, "INVALID_EXCLUSIONS"), ({"maxRecipientsPerKk": 0}, "INVALID_NUMBER"),
])
def test_a_bad_program_is_refused_with_a_code(change, code):
    with pytest.raises(InvalidInput) as refused:
        parse_program({**A_PROGRAM, **change}, "DISDIK")
    assert refused.value.code == code


def test_a_program_moves_forward_only():
    draft = parse_program(A_PROGRAM, "DISDIK")
    closed = apply_changes(apply_changes(draft, {"status": "ACTIVE"}), {"status": "CLOSED"})

    assert closed.status is ProgramStatus.CLOSED
    with pytest.raises(Conflict):
        apply_changes(closed, {"name": "Reopened"})
    with pytest.raises(Conflict):
        apply_changes(apply_changes(draft, {"status": "ACTIVE"}), {"status": "DRAFT"})


def test_officers_and_reports_are_checked():
    assert parse_officer({"nip": "198001012005011001", "name": "Siti", "position": "Kasi"}).nip.startswith("1980")
    with pytest.raises(InvalidInput):
        parse_officer({"nip": "3174010101010001", "name": "Siti", "position": "Kasi"})
    with pytest.raises(InvalidInput):
        parse_report({"period": "2026-03", "recipientsServed": 1, "budgetRealisedRupiah": 1, "summary": "x"})
