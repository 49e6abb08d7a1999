"""Recipients of a program and the agency's bulk upload of them: the pure parts, no AWS.

An agency sends its recipients as one CSV (up to :data:`MAX_UPLOAD_ROWS` rows).
The file is stored as it came, in sealed chunks of :data:`CHUNK_ROWS` rows,
and processed one chunk at a time: every row is either stored as a recipient
(accepted), refused for what it holds (rejected: an invalid NIK, a missing
name, ...) or held back by duplicate detection (flagged). Each refused or
flagged row is reported with its row number and a code the clerk can act on.

Duplicate detection (issue: the same NIK twice in a program, in two programs
that exclude each other, one KK drawing more than the program allows) is
:func:`screen`: given what the program already holds, it decides each row.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, Iterable

from chalicelib.core.errors import InvalidInput
from chalicelib.enrolment.intake import cell_values, check_household, check_person, read_csv
from chalicelib.enrolment.model import SCHOOL_LEVELS

RECIPIENT_COLUMNS = ("nik", "full_name", "sex", "birth_date", "kk_number", "village_code", "school_level",
                     "eligibility_evidence")
RECIPIENT_REQUIRED = ("nik", "full_name", "sex", "birth_date", "eligibility_evidence")
MAX_UPLOAD_ROWS = 50_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""API Gateway's payload limit; a file of 50,000 rows is about 6 MB."""
CHUNK_ROWS = 1_000
"""Rows per stored chunk and per processing step: a sealed chunk stays far below DynamoDB's 400 KB item."""
SCHOOL_LEVEL_CHOICES = frozenset().union(*SCHOOL_LEVELS.values())


class Flag(str, Enum):
    """Why duplicate detection held a valid row back (it is reported to the agency, not stored)."""

    DUPLICATE_IN_PROGRAM = "DUPLICATE_IN_PROGRAM"
    EXCLUDED_PROGRAM_OVERLAP = "EXCLUDED_PROGRAM_OVERLAP"
    KK_LIMIT_EXCEEDED = "KK_LIMIT_EXCEEDED"


@dataclass(frozen=True)
class RecipientRow:
    row: int
    nik: str
    full_name: str
    sex: str
    birth_date: date
    kk_number: str | None
    village_code: str | None
    school_level: str | None
    eligibility_evidence: str

    def personal_data(self) -> dict[str, Any]:
        """What is sealed: everything that identifies the person."""
        return {"nik": self.nik, "full_name": self.full_name, "sex": self.sex,
                "birth_date": self.birth_date.isoformat(), "kk_number": self.kk_number}


@dataclass(frozen=True)
class Problem:
    row: int
    code: str
    flagged: bool = False
    """True: held back by duplicate detection; False: refused for its content."""


def upload_id(program_ref: str, content: bytes) -> str:
    """The same file for the same program is the same upload, whoever sends it and however often."""
    digest = hashlib.sha256(program_ref.encode() + b"\n" + content).hexdigest()
    return "upl_" + digest[:32]


def read_upload(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows (number, cells) as the enrolment intake reads a CSV, with the registry's limits."""
    return list(read_csv(content, RECIPIENT_COLUMNS, RECIPIENT_REQUIRED, MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS))


def chunks(rows: list[Any], size: int = CHUNK_ROWS) -> list[list[Any]]:
    return [rows[start:start + size] for start in range(0, len(rows), size)]


def parse_row(row: int, raw: dict[str, str], *, today: date) -> RecipientRow:
    """One CSV row as a recipient; :class:`InvalidInput` with the first problem found."""
    if "__error__" in raw:
        raise InvalidInput(raw["__error__"], "the row has more cells than the header")
    values = cell_values(raw, RECIPIENT_COLUMNS)
    for name in RECIPIENT_REQUIRED:
        if values[name] is None:
            raise InvalidInput("MISSING_FIELD", f"{name} is required", field=name)
    nik, sex, birth_date = check_person(values, today=today)
    check_household(values)
    level = values["school_level"]
    if level is not None and (not level.isascii() or level.upper() not in SCHOOL_LEVEL_CHOICES):
        raise InvalidInput("INVALID_SCHOOL_LEVEL", "school_level is one of " + ", ".join(sorted(SCHOOL_LEVEL_CHOICES)),
                           field="school_level")
    return RecipientRow(row=row, nik=nik.value, full_name=" ".join(values["full_name"].split()), sex=sex,
                        birth_date=birth_date, kk_number=values["kk_number"], village_code=values["village_code"],
                        school_level=level.upper() if level else None,
                        eligibility_evidence=values["eligibility_evidence"])


@dataclass
class Holdings:
    """What the program (and the programs it excludes) already hold, for the rows of one chunk.

    ``enrolled`` maps a NIK index to the (upload, row) that stored it in this
    program, so a chunk processed again after a crash recognises its own rows.
    """

    enrolled: dict[str, tuple[str, int]] = field(default_factory=dict)
    in_excluded: set[str] = field(default_factory=set)
    kk_members: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    row: int
    nik_index: str
    kk_index: str | None


def screen(candidates: Iterable[Candidate], holdings: Holdings, upload: str,
           max_per_kk: int | None) -> tuple[list[Candidate], list[Problem]]:
    """Which valid rows are stored and which are flagged, in file order.

    A NIK the program holds from another upload or an earlier row is a
    duplicate; one that a program this one excludes holds is an overlap; a row
    that would put more members of one KK in the program than it allows goes
    over the KK limit. ``holdings`` is updated with what is accepted, so the
    next chunk sees it.
    """
    accepted: list[Candidate] = []
    problems: list[Problem] = []
    for candidate in candidates:
        stored = holdings.enrolled.get(candidate.nik_index)
        if stored is not None and stored != (upload, candidate.row):
            problems.append(Problem(candidate.row, Flag.DUPLICATE_IN_PROGRAM.value, flagged=True))
            continue
        if stored is None and candidate.nik_index in holdings.in_excluded:
            problems.append(Problem(candidate.row, Flag.EXCLUDED_PROGRAM_OVERLAP.value, flagged=True))
            continue
        if candidate.kk_index is not None and max_per_kk is not None:
            members = holdings.kk_members.setdefault(candidate.kk_index, set())
            if candidate.nik_index not in members and len(members) >= max_per_kk:
                problems.append(Problem(candidate.row, Flag.KK_LIMIT_EXCEEDED.value, flagged=True))
                continue
            members.add(candidate.nik_index)
        elif candidate.kk_index is not None:
            holdings.kk_members.setdefault(candidate.kk_index, set()).add(candidate.nik_index)
        holdings.enrolled[candidate.nik_index] = (upload, candidate.row)
        accepted.append(candidate)
    return accepted, problems
