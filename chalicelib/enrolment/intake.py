"""Turning what a clerk or an app sends into an :class:`ApplicationForm`.

Everything here is checked before anything is stored: a row that fails gets a
machine-readable code the clerk can act on, and nothing of it is kept. What
needs documents or the population registry is the workflow's job.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

from chalicelib.core.errors import InvalidInput, PayloadTooLarge
from chalicelib.enrolment.model import SCHOOL_LEVELS, ApplicationForm, Program
from chalicelib.identity.areas import area_codes
from chalicelib.identity.nik import InvalidKk, InvalidNik, KkNumber, Nik, mask_nik

CSV_COLUMNS = ("nik", "full_name", "sex", "birth_date", "kk_number", "village_code",
               "program", "school_level", "bank_account", "beneficiary_proof")
REQUIRED = ("nik", "full_name", "sex", "birth_date", "program")
MAX_BATCH_ROWS = 500
"""One upload is processed within one API call; bigger files are sent in parts."""
MAX_BATCH_BYTES = 512 * 1024
MAX_FIELD_CHARS = 200
"""Longer than any real name, number or proof reference; keeps an application far below DynamoDB's item limit."""

_KTP_SEX = {"L": "M", "P": "F", "M": "M", "F": "F"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z .,'\-]{0,99}$")
_BANK_ACCOUNT = re.compile(r"^[0-9]{10,16}$")
_VILLAGE = re.compile(r"^[0-9]{10}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_LINE_BREAK = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True)
class RowError:
    row: int
    code: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body = {"row": self.row, "code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


def _text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("FIELD_TYPE", f"{name} must be a string", field=name)
    if len(value) > MAX_FIELD_CHARS:
        raise InvalidInput("FIELD_TOO_LONG", f"{name} may have at most {MAX_FIELD_CHARS} characters", field=name)
    if _LINE_BREAK.search(value):
        raise InvalidInput("FIELD_HAS_LINE_BREAK", f"{name} must be one line of text", field=name)
    value = value.strip()
    return value or None


def _ascii_upper(text: str) -> str:
    """Upper case for codes: "ſd" must not become "SD"."""
    return text.upper() if text.isascii() else text


def check_person(values: dict[str, str | None], *, today: date) -> tuple[Nik, str, date]:
    """The NIK, sex (M/F) and birth date of a row, checked against each other, and its name."""
    try:
        nik = Nik.parse(values["nik"], today=today)
    except InvalidNik as error:
        raise InvalidInput(error.code, str(error), field="nik") from None

    sex = _KTP_SEX.get(_ascii_upper(values["sex"]))
    if sex is None:
        raise InvalidInput("INVALID_SEX", "sex must be L or P as on the KTP", field="sex")
    try:
        if not _ISO_DATE.match(values["birth_date"]):
            raise ValueError
        birth_date = date.fromisoformat(values["birth_date"])
    except ValueError:
        raise InvalidInput("INVALID_BIRTH_DATE", "birth_date must be YYYY-MM-DD", field="birth_date") from None
    try:
        nik.check_matches(sex, birth_date)
    except InvalidNik as error:
        raise InvalidInput(error.code, str(error), field="nik") from None

    if not _NAME.match(values["full_name"]):
        raise InvalidInput("INVALID_NAME", "full_name must be 1-100 letters, spaces and . , ' -",
                           field="full_name")
    return nik, sex, birth_date


def check_household(values: dict[str, str | None]) -> None:
    """The KK number and village code of a row, where given."""
    if values.get("kk_number") is not None:
        try:
            KkNumber.parse(values["kk_number"])
        except InvalidKk as error:
            raise InvalidInput(error.code, str(error), field="kk_number") from None
    village = values.get("village_code")
    if village is not None and not (_VILLAGE.match(village) and area_codes().is_known_district(village[:6])):
        raise InvalidInput("UNKNOWN_VILLAGE", "village_code must be a 10-digit Kemendagri village code",
                           field="village_code")


def cell_values(raw: dict[str, Any], columns: tuple[str, ...]) -> dict[str, str | None]:
    """Each column's cell as one stripped line of text, ``None`` when empty."""
    return {name: _text(raw, name) for name in columns}


def parse_form(raw: Any, *, today: date) -> ApplicationForm:
    """Validate one application; raises :class:`InvalidInput` with the first problem found."""
    if not isinstance(raw, dict):
        raise InvalidInput("BODY_NOT_OBJECT", "the application must be a JSON object")
    unknown = sorted(str(name) for name in set(raw) - set(CSV_COLUMNS))
    if unknown:
        shown = [mask_nik(name)[:40] for name in unknown[:5]]
        raise InvalidInput("UNKNOWN_FIELD", f"unknown fields: {', '.join(shown)}", field=shown[0])
    values = {name: _text(raw, name) for name in CSV_COLUMNS}
    for name in REQUIRED:
        if values[name] is None:
            raise InvalidInput("MISSING_FIELD", f"{name} is required", field=name)

    nik, sex, birth_date = check_person(values, today=today)
    try:
        program = Program(_ascii_upper(values["program"]))
    except ValueError:
        raise InvalidInput("UNKNOWN_PROGRAM", "program is not one of "
                           + ", ".join(p.value for p in Program), field="program") from None

    school_level = _ascii_upper(values["school_level"]) if values["school_level"] else None
    allowed_levels = SCHOOL_LEVELS.get(program)
    if allowed_levels is not None and school_level not in allowed_levels:
        raise InvalidInput("INVALID_SCHOOL_LEVEL",
                           f"{program.value} needs school_level one of {', '.join(sorted(allowed_levels))}",
                           field="school_level")
    if allowed_levels is None and school_level is not None:
        raise InvalidInput("INVALID_SCHOOL_LEVEL", f"{program.value} takes no school_level",
                           field="school_level")

    check_household(values)
    village = values["village_code"]
    if values["bank_account"] is not None and not _BANK_ACCOUNT.match(values["bank_account"]):
        raise InvalidInput("INVALID_BANK_ACCOUNT", "bank_account must be 10-16 digits", field="bank_account")

    return ApplicationForm(
        nik=nik.value, full_name=" ".join(values["full_name"].split()), sex=sex,
        birth_date=birth_date, program=program, school_level=school_level,
        kk_number=values["kk_number"], village_code=village,
        bank_account=values["bank_account"], beneficiary_proof=values["beneficiary_proof"],
    )


def read_csv(raw: bytes, columns: tuple[str, ...] = CSV_COLUMNS, required: tuple[str, ...] = REQUIRED,
             max_bytes: int = MAX_BATCH_BYTES, max_rows: int = MAX_BATCH_ROWS) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of an agency upload, numbered as a spreadsheet shows them (header is row 1).

    Read strictly: a stray quote or a line break inside a cell makes the whole
    file unreadable rather than silently merging rows. Empty lines and rows
    with no values (a spreadsheet's trailing ``,,,,``) are not rows.
    """
    if len(raw) > max_bytes:
        raise PayloadTooLarge("BATCH_TOO_LARGE", f"an upload may be at most {max_bytes} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("CSV_NOT_UTF8", "the upload must be UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        _check_header(header, columns, required)
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if any("\n" in cell or "\r" in cell for cell in cells):
                raise csv.Error("a cell holds a line break")
            if len(cells) > len(header):
                rows.append((line, {"__error__": "CSV_ROW_TOO_LONG"}))
            else:
                rows.append((line, dict(zip(header, cells))))
            if len(rows) > max_rows:
                raise PayloadTooLarge("BATCH_TOO_LARGE", f"an upload may have at most {max_rows} rows")
    except csv.Error as error:
        raise InvalidInput("CSV_MALFORMED", f"the file is not readable as CSV at line {reader.line_num}: {error}",
                           row=reader.line_num) from None
    if not rows:
        raise InvalidInput("CSV_EMPTY", "the upload has no rows")
    return iter(rows)


def _check_header(header: list[str], columns: tuple[str, ...], required: tuple[str, ...]) -> None:
    missing = [name for name in required if name not in header]
    if missing:
        raise InvalidInput("CSV_HEADER", f"the header lacks {', '.join(missing)} (columns are separated by commas)",
                           expected=list(columns))
    extra = [mask_nik(name)[:40] for name in header if name not in columns]
    if extra:
        raise InvalidInput("CSV_HEADER", f"unknown columns: {', '.join(extra[:5])}", expected=list(columns))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InvalidInput("CSV_HEADER", f"columns named twice: {', '.join(repeated)}", expected=list(columns))
