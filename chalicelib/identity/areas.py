"""Kemendagri area codes, used to check the area part of NIK and KK numbers.

The data ships inside the package (``data/``, ODbL, see ``data/README.md``) so
the deployed function reads it from its own bundle. Callers pass codes without
dots (``"317401"``), the form in which they appear on a NIK.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from typing import Optional

JAKARTA = "31"


def _undot(code: str) -> str:
    return code.replace(".", "")


def _read(name: str) -> list[dict[str, str]]:
    path = resources.files(__package__).joinpath("data", name)
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class AreaCodes:
    """Lookup over provinces, regencies, districts and Jakarta's villages."""

    def __init__(
        self,
        provinces: list[dict[str, str]],
        regencies: list[dict[str, str]],
        districts: list[dict[str, str]],
        villages: list[dict[str, str]],
    ) -> None:
        self._provinces = {r["code"]: r["name"] for r in provinces}
        self._regencies = {_undot(r["code"]): r["name"] for r in regencies}
        self._districts = {_undot(r["code"]): r["name"] for r in districts}
        self._villages = {
            _undot(r["code"]): (r["name"], _undot(r["district_code"])) for r in villages
        }
        self._villages_by_district: dict[str, list[tuple[str, str]]] = {}
        for code, (name, district) in self._villages.items():
            self._villages_by_district.setdefault(district, []).append((code, name))

    @classmethod
    def load(cls) -> "AreaCodes":
        return cls(
            _read("provinces.csv"),
            _read("regencies.csv"),
            _read("districts.csv"),
            _read("villages-31.csv"),
        )

    def province_name(self, code2: str) -> Optional[str]:
        return self._provinces.get(code2)

    def is_known_province(self, code2: str) -> bool:
        return code2 in self._provinces

    def province_codes(self) -> list[str]:
        return list(self._provinces)

    def is_known_district(self, code6: str) -> bool:
        return _undot(code6) in self._districts

    def district_name(self, code6: str) -> Optional[str]:
        return self._districts.get(_undot(code6))

    def regency_name(self, code4: str) -> Optional[str]:
        return self._regencies.get(_undot(code4))

    def districts_in(self, province_code: str) -> list[str]:
        """Undotted district codes of one province, in data-file order."""
        return [c for c in self._districts if c[:2] == province_code]

    def jakarta_districts(self) -> list[tuple[str, str, str]]:
        """(code6, district name, regency name) for every DKI Jakarta district."""
        return [
            (code, self._districts[code], self._regencies.get(code[:4], ""))
            for code in self.districts_in(JAKARTA)
        ]

    def villages_of(self, code6: str) -> list[tuple[str, str]]:
        """(code10, name) of a district's villages; only Jakarta's are in the data."""
        return list(self._villages_by_district.get(_undot(code6), []))

    def village(self, code10: str) -> Optional[tuple[str, str]]:
        """(village name, district code6), or None if not a known village."""
        return self._villages.get(_undot(code10))

    def is_jakarta_village(self, code10: str) -> bool:
        code = _undot(code10)
        return code[:2] == JAKARTA and code in self._villages


@lru_cache(maxsize=1)
def area_codes() -> AreaCodes:
    """The shared instance; the CSVs are parsed on first use only."""
    return AreaCodes.load()
