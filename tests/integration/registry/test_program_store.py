"""The program registry on moto, the table built from infra.resources (the one source of key schemas)."""
from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.registry.model import parse_program
from chalicelib.registry.repository import ProgramRepository
from chalicelib.registry.service import RegistryService
from infra.deploy import ensure_table, table_name
from infra.resources import TABLES

A_PROGRAM = {"code": "KJP-PLUS-2026", "name": "KJP Plus", "benefitKind": "CASH_AID", "legalBasis": "Pergub 110/2021",
             "periodStart": "2026-01-01", "periodEnd": "2026-12-31", "budgetRupiah": 1_000_000}


@pytest.fixture
def registry_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in {"AWS_PROFILE", "AWS_SESSION_TOKEN"}:
            monkeypatch.delenv(name)
    with mock_aws():
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                        region_name="ap-southeast-3")
        name = table_name("test", "REGISTRY_TABLE")
        ensure_table(session.client("dynamodb"), name, TABLES["REGISTRY_TABLE"])
        yield session.resource("dynamodb").Table(name)


def a_service(table: Any) -> RegistryService:
    return RegistryService(ProgramRepository(table), lambda: datetime(2026, 1, 5, 8, tzinfo=timezone.utc))


def test_a_program_is_stored_under_its_agency_and_listed_for_that_agency_only(registry_table):
    service = a_service(registry_table)
    service.create(parse_program(A_PROGRAM, "DISDIK"))
    service.create(parse_program({**A_PROGRAM, "code": "PANGAN-2026"}, "DINSOS"))

    assert [p.ref for p in service.programs_of("DISDIK")] == ["DISDIK:KJP-PLUS-2026"]
    assert [p.ref for p in service.programs_of("DINSOS")] == ["DINSOS:PANGAN-2026"]
    with pytest.raises(NotFound):
        service.get("DINSOS", "KJP-PLUS-2026")
    assert {p.ref for p in ProgramRepository(registry_table).all_programs()} == {
        "DISDIK:KJP-PLUS-2026", "DINSOS:PANGAN-2026"}


def test_a_change_based_on_a_stale_read_is_refused_not_lost(registry_table):
    repository = ProgramRepository(registry_table)
    program, _ = a_service(registry_table).create(parse_program(A_PROGRAM, "DISDIK"))

    # Given two heads read the program, and the first writes a change
    assert repository.replace(replace(program, budget_rupiah=2, updated_at="later"), program.updated_at)

    # When the second writes a change based on what they read before
    written = repository.replace(replace(program, budget_rupiah=3, updated_at="later still"), program.updated_at)

    # Then it is refused, and the first change stands
    assert not written
    assert repository.get("DISDIK", "KJP-PLUS-2026")[0].budget_rupiah == 2


def test_officers_and_reports_stay_with_their_program(registry_table):
    from chalicelib.registry.model import parse_officer, parse_report

    service = a_service(registry_table)
    service.create(parse_program(A_PROGRAM, "DISDIK"))
    officer = parse_officer({"nip": "198001012005011001", "name": "Siti", "position": "Kasi"})
    report = parse_report({"period": "2026-Q1", "recipientsServed": 12, "budgetRealisedRupiah": 9, "summary": "x"})

    assert service.appoint_officer("DISDIK", "KJP-PLUS-2026", officer, "head")[1]
    assert service.file_report("DISDIK", "KJP-PLUS-2026", report, "head")[1]
    with pytest.raises(Conflict):
        service.file_report("DISDIK", "KJP-PLUS-2026", replace(report, recipients_served=13), "head")

    assert service.officers("DISDIK", "KJP-PLUS-2026") == [officer]
    overview = service.overview()
    assert overview["programs"][0]["latestReport"]["recipientsServed"] == 12
    assert overview["cells"] == [{"agency": "DISDIK", "benefitKind": "CASH_AID", "status": "DRAFT",
                                  "programs": 1, "budgetRupiah": 1_000_000}]
