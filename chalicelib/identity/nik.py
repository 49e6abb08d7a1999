"""NIK (Nomor Induk Kependudukan) and KK (Kartu Keluarga) numbers as domain types.

A NIK is ``PPRRDD DDMMYY SSSS``: the 6-digit district code where it was issued,
the birth date (women add 40 to the day) and a serial 0001-9999. Both numbers are
personal data (UU 27/2022), so ``str()``/``repr()`` only ever show the masked form
and error messages never echo the input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .areas import area_codes

NIK_PATTERN = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_WOMEN_DAY_OFFSET = 40

_SEX_ALIASES = {"M": "M", "L": "M", "F": "F", "P": "F"}


def _mask(digits: str) -> str:
    return digits[:4] + "*" * 8 + digits[-4:]


def mask_nik(text: str) -> str:
    """Mask every standalone 16-digit run in ``text`` (for log filters)."""
    return NIK_PATTERN.sub(lambda m: _mask(m.group(0)), text)


def _sixteen_digits(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    value = text.strip()
    return value if _SIXTEEN_DIGITS.fullmatch(value) else None


def century_year(yy: int, today: date) -> int:
    """Expand a NIK's two-digit year.

    ``yy <= today.year % 100`` means 20yy, anything larger 19yy: a NIK cannot
    encode a birth in the future, so the most recent matching century wins. This
    misreads people aged 100 or more, which the NIK format cannot express anyway.
    """
    return 2000 + yy if yy <= today.year % 100 else 1900 + yy


class InvalidNik(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidKk(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, repr=False)
class Nik:
    """A structurally valid NIK; build it with ``Nik.parse``."""

    value: str
    birth_date: date
    district_known: bool

    @classmethod
    def parse(cls, text: str, *, today: date) -> "Nik":
        value = _sixteen_digits(text)
        if value is None:
            raise InvalidNik("NIK_FORMAT", "NIK must be exactly 16 digits")
        areas = area_codes()
        if not areas.is_known_province(value[:2]):
            raise InvalidNik("NIK_UNKNOWN_PROVINCE", "NIK province code is not a known province")
        birth_date = _birth_date(value, today)
        if value[12:] == "0000":
            raise InvalidNik("NIK_BAD_SERIAL", "NIK serial must be 0001-9999")
        return cls(value, birth_date, areas.is_known_district(value[:6]))

    @property
    def area_code(self) -> str:
        return self.value[:6]

    @property
    def province_code(self) -> str:
        return self.value[:2]

    @property
    def sex(self) -> str:
        return "F" if int(self.value[6:8]) > _WOMEN_DAY_OFFSET else "M"

    @property
    def serial(self) -> int:
        return int(self.value[12:])

    def masked(self) -> str:
        return _mask(self.value)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"Nik({self.masked()!r})"

    def check_matches(self, sex: str, birth_date: date) -> None:
        """Raise if the form's sex (M/F or KTP's L/P) or birth date contradicts the NIK."""
        normalised = _SEX_ALIASES.get(sex.strip().upper()) if isinstance(sex, str) else None
        if normalised is None:
            raise ValueError("sex must be one of M, F, L, P")
        if normalised != self.sex:
            raise InvalidNik("NIK_SEX_MISMATCH", "sex does not match the sex encoded in the NIK")
        if birth_date != self.birth_date:
            raise InvalidNik(
                "NIK_BIRTH_DATE_MISMATCH", "birth date does not match the date encoded in the NIK"
            )


def _birth_date(value: str, today: date) -> date:
    day, month, yy = int(value[6:8]), int(value[8:10]), int(value[10:12])
    if day > _WOMEN_DAY_OFFSET:
        day -= _WOMEN_DAY_OFFSET
    try:
        born = date(century_year(yy, today), month, day)
    except ValueError:
        raise InvalidNik("NIK_BAD_BIRTH_DATE", "NIK encodes an impossible birth date") from None
    if born > today:
        raise InvalidNik("NIK_BAD_BIRTH_DATE", "NIK encodes a birth date in the future")
    return born


@dataclass(frozen=True, repr=False)
class KkNumber:
    """A family card number: 6-digit area code, issuance date, serial."""

    value: str

    @classmethod
    def parse(cls, text: str) -> "KkNumber":
        value = _sixteen_digits(text)
        if value is None:
            raise InvalidKk("KK_FORMAT", "KK number must be exactly 16 digits")
        return cls(value)

    @property
    def area_code(self) -> str:
        return self.value[:6]

    @property
    def province_code(self) -> str:
        return self.value[:2]

    def masked(self) -> str:
        return _mask(self.value)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"KkNumber({self.masked()!r})"
