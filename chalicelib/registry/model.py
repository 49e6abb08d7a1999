"""Programs of the SMPT (Art. 6), their officers and implementation reports: pure, no AWS.

A program belongs to one agency and is addressed by its agency and the code
the agency gives it (``DISDIK`` / ``KJP-PLUS-2026``). The pair is the key, so
an agency head's request names a program of their own agency or none at all:
another agency's program cannot even be addressed. Its reference across the
city is ``AGENCY:CODE`` (``DISDIK:KJP-PLUS-2026``), which is how one program
names another it excludes.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from enum import Enum
from typing import Any

from chalicelib.access.roles import AGENCY_CODE
from chalicelib.core.errors import Conflict, InvalidInput

PROGRAM_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
PROGRAM_REF = re.compile(r"^([A-Z][A-Z0-9]{1,15}):([A-Z0-9][A-Z0-9-]{1,39})$")
PERIOD = re.compile(r"^[0-9]{4}-Q[1-4]$")
NIP = re.compile(r"^[0-9]{18}$")
"""A civil servant's employee number (NIP PNS): 18 digits."""
MAX_BUDGET_RUPIAH = 10 ** 15
"""Far above the city's whole budget (about Rp 80 trillion); a bigger figure is a typing error."""
MAX_TEXT = 200
MAX_SUMMARY = 2000
MAX_EXCLUSIONS = 20
MAX_PER_KK = 20


class BenefitKind(str, Enum):
    """What the program gives (DESIGN §1): cash aid on the card, a BUMD/BLUD service subsidy, a fee waiver."""

    CASH_AID = "CASH_AID"
    SERVICE_SUBSIDY = "SERVICE_SUBSIDY"
    FEE_WAIVER = "FEE_WAIVER"


class ProgramStatus(str, Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


ALLOWED_MOVES: dict[ProgramStatus, frozenset[ProgramStatus]] = {
    ProgramStatus.DRAFT: frozenset({ProgramStatus.DRAFT, ProgramStatus.ACTIVE, ProgramStatus.CLOSED}),
    ProgramStatus.ACTIVE: frozenset({ProgramStatus.ACTIVE, ProgramStatus.CLOSED}),
    ProgramStatus.CLOSED: frozenset({ProgramStatus.CLOSED}),
}
"""A program goes forward only: a closed program is a record, not something to reopen."""

_EDITABLE = {"name": "name", "legalBasis": "legal_basis", "periodStart": "period_start",
             "periodEnd": "period_end", "budgetRupiah": "budget_rupiah", "status": "status",
             "maxRecipientsPerKk": "max_recipients_per_kk", "excludes": "excludes"}
_CREATE_FIELDS = {"code", "benefitKind", *_EDITABLE}


def program_ref(agency: str, code: str) -> str:
    return f"{agency}:{code}"


@dataclass(frozen=True)
class Program:
    agency: str
    code: str
    name: str
    benefit_kind: BenefitKind
    legal_basis: str
    period_start: date
    period_end: date
    budget_rupiah: int
    status: ProgramStatus = ProgramStatus.DRAFT
    max_recipients_per_kk: int | None = None
    """How many members of one family card (KK) may receive it; ``None``: no limit."""
    excludes: tuple[str, ...] = ()
    """References (``AGENCY:CODE``) of programs a recipient of this one may not also receive."""
    created_at: str = ""
    updated_at: str = ""

    @property
    def ref(self) -> str:
        return program_ref(self.agency, self.code)

    def content(self) -> dict[str, Any]:
        """What the agency decided, without bookkeeping: compared to tell a retry from a change."""
        return {"code": self.code, "name": self.name, "benefitKind": self.benefit_kind.value,
                "legalBasis": self.legal_basis, "periodStart": self.period_start.isoformat(),
                "periodEnd": self.period_end.isoformat(), "budgetRupiah": self.budget_rupiah,
                "status": self.status.value, "maxRecipientsPerKk": self.max_recipients_per_kk,
                "excludes": sorted(self.excludes)}

    def content_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True).encode()).hexdigest()

    def view(self) -> dict[str, Any]:
        return {"program": self.ref, "agency": self.agency, **self.content(),
                "createdAt": self.created_at, "updatedAt": self.updated_at}


@dataclass(frozen=True)
class Officer:
    """A program's person in charge (penanggung jawab), named by their civil-servant number."""

    nip: str
    name: str
    position: str

    def view(self) -> dict[str, Any]:
        return {"nip": self.nip, "name": self.name, "position": self.position}


@dataclass(frozen=True)
class ImplementationReport:
    """What an agency reports for one quarter of a program (Art. 23-26)."""

    period: str
    recipients_served: int
    budget_realised_rupiah: int
    summary: str
    filed_by: str = ""
    filed_at: str = ""

    def content(self) -> dict[str, Any]:
        return {"period": self.period, "recipientsServed": self.recipients_served,
                "budgetRealisedRupiah": self.budget_realised_rupiah, "summary": self.summary}

    def view(self) -> dict[str, Any]:
        return {**self.content(), "filedBy": self.filed_by, "filedAt": self.filed_at}


# ---------------------------------------------------------------- parsing what an agency sends

def _object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInput("BODY_NOT_OBJECT", "the body must be a JSON object")
    return raw


def _unknown(raw: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(str(name)[:40] for name in set(raw) - known)
    if unknown:
        raise InvalidInput("UNKNOWN_FIELD", f"unknown fields: {', '.join(unknown[:5])}", field=unknown[0])


def _text(raw: dict[str, Any], name: str, limit: int = MAX_TEXT) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("MISSING_FIELD", f"{name} is required as text", field=name)
    if len(value) > limit or re.search(r"[\x00-\x1f]", value):
        raise InvalidInput("INVALID_TEXT", f"{name} must be one line of at most {limit} characters", field=name)
    return " ".join(value.split())


def _whole(raw: dict[str, Any], name: str, low: int, high: int, optional: bool = False) -> int | None:
    value = raw.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput("INVALID_NUMBER", f"{name} must be a whole number from {low} to {high}", field=name)
    return value


def _date(raw: dict[str, Any], name: str) -> date:
    value = raw.get(name)
    try:
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("INVALID_DATE", f"{name} must be a date YYYY-MM-DD", field=name) from None


def _enum(kind: type[Enum], raw: dict[str, Any], name: str) -> Any:
    try:
        return kind(raw.get(name))
    except ValueError:
        raise InvalidInput("INVALID_CHOICE", f"{name} must be one of " + ", ".join(m.value for m in kind),
                           field=name) from None


def _excludes(raw: dict[str, Any], agency: str, code: str) -> tuple[str, ...]:
    value = raw.get("excludes", [])
    if not isinstance(value, list) or len(value) > MAX_EXCLUSIONS:
        raise InvalidInput("INVALID_EXCLUSIONS", f"excludes is a list of at most {MAX_EXCLUSIONS} programs",
                           field="excludes")
    refs = set()
    for entry in value:
        if isinstance(entry, str) and PROGRAM_CODE.match(entry):
            entry = program_ref(agency, entry)
        if not isinstance(entry, str) or not PROGRAM_REF.match(entry):
            raise InvalidInput("INVALID_EXCLUSIONS", "each excluded program is CODE (own agency) or AGENCY:CODE",
                               field="excludes")
        refs.add(entry)
    if program_ref(agency, code) in refs:
        raise InvalidInput("INVALID_EXCLUSIONS", "a program cannot exclude itself", field="excludes")
    return tuple(sorted(refs))


def _checked(program: Program) -> Program:
    if program.period_end < program.period_start:
        raise InvalidInput("INVALID_PERIOD", "periodEnd is before periodStart", field="periodEnd")
    return program


def parse_program(raw: Any, agency: str) -> Program:
    """A new program of ``agency`` (the caller's, never the body's) from the JSON an agency head sends."""
    raw = _object(raw)
    _unknown(raw, _CREATE_FIELDS)
    if not AGENCY_CODE.match(agency):
        raise InvalidInput("INVALID_AGENCY", "the caller's agency code is not usable")
    code = raw.get("code")
    if not isinstance(code, str) or not PROGRAM_CODE.match(code):
        raise InvalidInput("INVALID_PROGRAM_CODE", "code is 2-40 capital letters, digits or '-'", field="code")
    status = _enum(ProgramStatus, raw, "status") if "status" in raw else ProgramStatus.DRAFT
    if status is ProgramStatus.CLOSED:
        raise InvalidInput("INVALID_CHOICE", "a new program is DRAFT or ACTIVE", field="status")
    return _checked(Program(
        agency=agency, code=code, name=_text(raw, "name"), benefit_kind=_enum(BenefitKind, raw, "benefitKind"),
        legal_basis=_text(raw, "legalBasis"), period_start=_date(raw, "periodStart"),
        period_end=_date(raw, "periodEnd"), budget_rupiah=_whole(raw, "budgetRupiah", 0, MAX_BUDGET_RUPIAH),
        status=status, max_recipients_per_kk=_whole(raw, "maxRecipientsPerKk", 1, MAX_PER_KK, optional=True),
        excludes=_excludes(raw, agency, code)))


def apply_changes(program: Program, raw: Any) -> Program:
    """``program`` with the fields an update names changed; the code, agency and kind never change."""
    raw = _object(raw)
    _unknown(raw, set(_EDITABLE))
    if not raw:
        raise InvalidInput("NOTHING_TO_CHANGE", "name at least one field to change")
    changes: dict[str, Any] = {}
    for name in raw:
        if name in ("name", "legalBasis"):
            changes[_EDITABLE[name]] = _text(raw, name)
        elif name in ("periodStart", "periodEnd"):
            changes[_EDITABLE[name]] = _date(raw, name)
        elif name == "budgetRupiah":
            changes["budget_rupiah"] = _whole(raw, name, 0, MAX_BUDGET_RUPIAH)
        elif name == "maxRecipientsPerKk":
            changes["max_recipients_per_kk"] = _whole(raw, name, 1, MAX_PER_KK, optional=True)
        elif name == "excludes":
            changes["excludes"] = _excludes(raw, program.agency, program.code)
        elif name == "status":
            changes["status"] = _enum(ProgramStatus, raw, name)
    if program.status is ProgramStatus.CLOSED:
        raise Conflict("PROGRAM_CLOSED", "a closed program is kept as it was closed")
    target = changes.get("status", program.status)
    if target not in ALLOWED_MOVES[program.status]:
        raise Conflict("STATUS_MOVE_REFUSED", f"a program goes from {program.status.value} to "
                       + " or ".join(sorted(s.value for s in ALLOWED_MOVES[program.status])),
                       status=program.status.value)
    return _checked(replace(program, **changes))


def parse_officer(raw: Any) -> Officer:
    raw = _object(raw)
    _unknown(raw, {"nip", "name", "position"})
    nip = raw.get("nip")
    if not isinstance(nip, str) or not NIP.match(nip):
        raise InvalidInput("INVALID_NIP", "nip is the officer's 18-digit civil-servant number", field="nip")
    return Officer(nip=nip, name=_text(raw, "name"), position=_text(raw, "position"))


def parse_report(raw: Any) -> ImplementationReport:
    raw = _object(raw)
    _unknown(raw, {"period", "recipientsServed", "budgetRealisedRupiah", "summary"})
    period = raw.get("period")
    if not isinstance(period, str) or not PERIOD.match(period):
        raise InvalidInput("INVALID_PERIOD", "period is a quarter: YYYY-Q1 to YYYY-Q4", field="period")
    return ImplementationReport(
        period=period, recipients_served=_whole(raw, "recipientsServed", 0, 20_000_000),
        budget_realised_rupiah=_whole(raw, "budgetRealisedRupiah", 0, MAX_BUDGET_RUPIAH),
        summary=_text(raw, "summary", MAX_SUMMARY))


def program_from_item(item: dict[str, Any]) -> Program:
    per_kk = item.get("max_recipients_per_kk")
    return Program(
        agency=item["agency"], code=item["code"], name=item["name"], benefit_kind=BenefitKind(item["benefit_kind"]),
        legal_basis=item["legal_basis"], period_start=date.fromisoformat(item["period_start"]),
        period_end=date.fromisoformat(item["period_end"]), budget_rupiah=int(item["budget_rupiah"]),
        status=ProgramStatus(item["status"]), max_recipients_per_kk=int(per_kk) if per_kk is not None else None,
        excludes=tuple(item.get("excludes") or ()), created_at=item["created_at"], updated_at=item["updated_at"])


def program_to_item(program: Program) -> dict[str, Any]:
    item = {name: value for name, value in asdict(program).items() if value is not None}
    item.update(benefit_kind=program.benefit_kind.value, status=program.status.value,
                period_start=program.period_start.isoformat(), period_end=program.period_end.isoformat(),
                excludes=list(program.excludes))
    return item

