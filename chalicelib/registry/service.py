"""Registry use cases: an agency head's programs, officers and reports; Diskominfotik's overview.

Every use case takes the caller's agency from their token and reaches only
that agency's programs (Art. 8). A program of another agency is answered as
one that does not exist (404), never as a refusal (403): the answer must not
tell one agency which programs another runs.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.registry.model import ImplementationReport, Officer, Program, apply_changes
from chalicelib.registry.repository import (
    ProgramRepository,
    officer_item,
    report_from_item,
    report_item,
)

SMALL_CELL = 10
"""A count of people below this is shown as suppressed: small cells can single someone out."""


def suppressed(count: int) -> int | None:
    return count if count >= SMALL_CELL else None


class RegistryService:
    def __init__(self, repository: ProgramRepository, clock: Callable[[], datetime]) -> None:
        self._repository = repository
        self._clock = clock

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")

    def create(self, program: Program) -> tuple[Program, bool]:
        """Register a program once per agency and code: a retry gets the first one back, a different body a 409."""
        now = self._now()
        program = replace(program, created_at=now, updated_at=now)
        if self._repository.create(program, program.content_hash()):
            return program, True
        stored = self._repository.get(program.agency, program.code)
        if stored is None:
            raise Conflict("PROGRAM_IN_FLIGHT", "this program is being registered right now; retry")
        existing, content_hash = stored
        if content_hash != program.content_hash():
            raise Conflict("PROGRAM_CODE_EXISTS", "your agency already has a program with this code and other data;"
                           " change it with PATCH")
        return existing, False

    def get(self, agency: str, code: str) -> Program:
        stored = self._repository.get(agency, code)
        if stored is None:
            raise NotFound("PROGRAM_NOT_FOUND", "your agency has no program with this code")
        return stored[0]

    def update(self, agency: str, code: str, changes: Any) -> Program:
        program = self.get(agency, code)
        changed = replace(apply_changes(program, changes), updated_at=self._now())
        if changed.content() == program.content():
            return program
        if not self._repository.replace(changed, program.updated_at):
            raise Conflict("PROGRAM_CHANGED_MEANWHILE", "the program was changed by someone else; read it and retry")
        return changed

    def programs_of(self, agency: str) -> list[Program]:
        return sorted(self._repository.of_agency(agency), key=lambda p: p.code)

    def appoint_officer(self, agency: str, code: str, officer: Officer, appointed_by: str) -> tuple[Officer, bool]:
        program = self.get(agency, code)
        existing = self._repository.put_child(program, f"OFFICER#{officer.nip}",
                                              officer_item(officer, appointed_by, self._now()))
        if existing is None:
            return officer, True
        stored = Officer(existing["nip"], existing["name"], existing["position"])
        if stored != officer:
            raise Conflict("OFFICER_EXISTS", "this officer is already appointed with other details")
        return stored, False

    def officers(self, agency: str, code: str) -> list[Officer]:
        program = self.get(agency, code)
        return [Officer(i["nip"], i["name"], i["position"]) for i in self._repository.children(program, "OFFICER#")]

    def file_report(self, agency: str, code: str, report: ImplementationReport,
                    filed_by: str) -> tuple[ImplementationReport, bool]:
        """One report per program and quarter; the same report sent again is the first one."""
        program = self.get(agency, code)
        report = replace(report, filed_by=filed_by, filed_at=self._now())
        existing = self._repository.put_child(program, f"REPORT#{report.period}", report_item(report))
        if existing is None:
            return report, True
        stored = report_from_item(existing)
        if stored.content() != report.content():
            raise Conflict("REPORT_EXISTS", f"a report for {report.period} is already filed with other figures")
        return stored, False

    def reports(self, agency: str, code: str) -> list[ImplementationReport]:
        program = self.get(agency, code)
        return [report_from_item(item) for item in self._repository.children(program, "REPORT#")]

    def overview(self) -> dict[str, Any]:
        """Diskominfotik's view across agencies (Art. 10): programs and budgets by agency, kind and status.

        No person appears: a program is the finest grain, and reported
        recipient counts under :data:`SMALL_CELL` are suppressed.
        """
        cells: dict[tuple[str, str, str], dict[str, int]] = {}
        programs = []
        for program in sorted(self._repository.all_programs(), key=lambda p: p.ref):
            cell = cells.setdefault((program.agency, program.benefit_kind.value, program.status.value),
                                    {"programs": 0, "budgetRupiah": 0})
            cell["programs"] += 1
            cell["budgetRupiah"] += program.budget_rupiah
            latest = max(self._repository.children(program, "REPORT#"), key=lambda i: i["period"], default=None)
            programs.append({"program": program.ref, "agency": program.agency,
                             "benefitKind": program.benefit_kind.value, "status": program.status.value,
                             "budgetRupiah": program.budget_rupiah,
                             "latestReport": None if latest is None else {
                                 "period": latest["period"],
                                 "recipientsServed": suppressed(int(latest["recipients_served"])),
                                 "budgetRealisedRupiah": int(latest["budget_realised_rupiah"])}})
        return {"cells": [{"agency": a, "benefitKind": k, "status": s, **v} for (a, k, s), v in sorted(cells.items())],
                "programs": programs, "smallCellThreshold": SMALL_CELL}
