"""Seeded synthetic residents for demos and the emulated population registry.

NIK and KK numbers follow the real structure over real area codes; names are
random combinations of common name parts and streets are invented, so no record
describes a real person. Not deployed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

from chalicelib.identity.areas import JAKARTA, area_codes

AGE_BANDS = {
    "SD": (6, 12),
    "SMP": (12, 15),
    "SMA": (15, 18),
    "SMK": (15, 18),
    "PT": (18, 24),
    "ADULT": (18, 80),
}
# Birth dates stay this far inside a band so a plan built today still fits its
# band when validated a few weeks later.
_BAND_MARGIN = timedelta(days=31)
_MIGRANT_RATE = 0.1

_GIVEN_M = (
    "Adi", "Budi", "Rizky", "Wahyu", "Hadi", "Agus", "Eko", "Dimas", "Fajar", "Bayu",
    "Arif", "Yoga", "Andi", "Rudi", "Dani", "Gilang", "Ilham", "Reza", "Teguh", "Bima",
)
_GIVEN_F = (
    "Sari", "Putri", "Dewi", "Siti", "Ayu", "Indah", "Ratna", "Wulan", "Fitri", "Nurul",
    "Rina", "Intan", "Maya", "Citra", "Mega", "Anisa", "Dian", "Tika", "Laras", "Nadia",
)
_MIDDLE_M = ("Nur", "Dwi", "Tri", "Eka", "Muhammad", "Putra")
_MIDDLE_F = ("Nur", "Dwi", "Tri", "Eka", "Sri", "Ika")
_FAMILY_M = (
    "Pratama", "Saputra", "Wijaya", "Hidayat", "Kurniawan", "Setiawan", "Nugroho", "Santoso",
    "Gunawan", "Firmansyah", "Ramadhan", "Prasetyo", "Hakim", "Permana", "Syahputra",
)
_FAMILY_F = (
    "Lestari", "Rahmawati", "Wulandari", "Puspita", "Anggraini", "Kusumawati", "Safitri",
    "Handayani", "Maharani", "Permatasari", "Utami", "Rahayu", "Pertiwi", "Oktaviani",
)
_STREET_WORDS = (
    "Kenanga", "Melati", "Cempaka", "Flamboyan", "Dahlia", "Anggrek", "Kamboja", "Teratai",
    "Delima", "Manggis", "Rambutan", "Sawo", "Beringin", "Waru", "Cendana", "Kemuning",
)
_STREET_SUFFIXES = ("", " Raya", " II", " III", " Dalam", " Timur", " Barat", " Indah", " Permai")
_REGENCY_PREFIXES = ("Kabupaten Administrasi ", "Kota Administrasi ", "Kabupaten ", "Kota ")


@dataclass(frozen=True)
class Resident:
    nik: str
    full_name: str
    sex: str
    birth_date: date
    birth_place: str
    kk_number: str
    village_code: str
    district_code: str
    address: str
    bank_account: Optional[str]

    @property
    def in_jakarta(self) -> bool:
        return self.district_code[:2] == JAKARTA


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _encode_date(day: date, *, add: int = 0) -> str:
    return f"{day.day + add:02d}{day:%m%y}"


class PopulationFactory:
    """Draws residents one at a time; NIK and KK serials never repeat within a factory."""

    def __init__(self, seed: int, today: date) -> None:
        self.today = today
        self._rng = random.Random(seed)
        self._areas = area_codes()
        self._jakarta = [c for c, _, _ in self._areas.jakarta_districts() if self._areas.villages_of(c)]
        self._elsewhere = [
            c for p in self._areas.province_codes() if p != JAKARTA for c in self._areas.districts_in(p)
        ]
        self._serials: dict[str, int] = {}

    def resident(
        self,
        band: str = "ADULT",
        *,
        sex: Optional[str] = None,
        in_jakarta: bool = True,
        bank_account: bool = True,
    ) -> Resident:
        rng = self._rng
        sex = sex or rng.choice("MF")
        born = self._birth_date(band)
        district = rng.choice(self._jakarta if in_jakarta else self._elsewhere)
        nik_area = district
        if band in ("PT", "ADULT") and rng.random() < _MIGRANT_RATE:
            nik_area = rng.choice(self._elsewhere if in_jakarta else self._jakarta)
        nik = self._issue(nik_area + _encode_date(born, add=40 if sex == "F" else 0))
        return Resident(
            nik=nik,
            full_name=self._name(sex),
            sex=sex,
            birth_date=born,
            birth_place=self._birth_place(nik_area),
            kk_number=self._issue(district + _encode_date(self._kk_issued(born))),
            village_code=self._village(district),
            district_code=district,
            address=self._address(),
            bank_account=self._bank_account() if bank_account else None,
        )

    def is_issued(self, number: str) -> bool:
        return int(number[12:]) <= self._serials.get(number[:12], 0)

    def reserve(self, number: str) -> None:
        """Keep a number that exists only as a typo from being issued later."""
        prefix = number[:12]
        self._serials[prefix] = max(self._serials.get(prefix, 0), int(number[12:]))

    def _issue(self, prefix: str) -> str:
        serial = self._serials.get(prefix, 0) + 1
        if serial > 9999:
            raise RuntimeError("serials exhausted for one area and date")
        self._serials[prefix] = serial
        return f"{prefix}{serial:04d}"

    def _birth_date(self, band: str) -> date:
        youngest, oldest = AGE_BANDS[band]
        latest = _years_before(self.today, youngest) - _BAND_MARGIN
        earliest = _years_before(self.today, oldest) + _BAND_MARGIN
        return earliest + timedelta(days=self._rng.randrange((latest - earliest).days + 1))

    def _kk_issued(self, born: date) -> date:
        earliest = max(born, _years_before(self.today, 20))
        return earliest + timedelta(days=self._rng.randrange((self.today - earliest).days + 1))

    def _name(self, sex: str) -> str:
        rng = self._rng
        given = rng.choice(_GIVEN_F if sex == "F" else _GIVEN_M)
        family = rng.choice(_FAMILY_F if sex == "F" else _FAMILY_M)
        shape = rng.random()
        if shape < 0.1:
            return given
        if shape < 0.7:
            return f"{given} {family}"
        middle = rng.choice(_MIDDLE_F if sex == "F" else _MIDDLE_M)
        return f"{middle} {given} {family}"

    def _birth_place(self, area: str) -> str:
        if area[:2] == JAKARTA:
            return "Jakarta"
        name = self._areas.regency_name(area[:4]) or "Jakarta"
        for prefix in _REGENCY_PREFIXES:
            if name.startswith(prefix):
                return name[len(prefix):]
        return name

    def _village(self, district: str) -> str:
        villages = self._areas.villages_of(district)
        if villages:
            return self._rng.choice(villages)[0]
        # Outside Jakarta the data has no villages: a desa-style code (2xxx) that
        # is structurally plausible but unchecked.
        return f"{district}{2001 + self._rng.randrange(15)}"

    def _address(self) -> str:
        rng = self._rng
        street = rng.choice(_STREET_WORDS) + rng.choice(_STREET_SUFFIXES)
        return (
            f"Jl. {street} No. {rng.randint(1, 150)}, "
            f"RT {rng.randint(1, 15):03d}/RW {rng.randint(1, 12):03d}"
        )

    def _bank_account(self) -> str:
        length = self._rng.choice((11, 12, 13))
        return str(self._rng.randint(1, 9)) + "".join(
            str(self._rng.randrange(10)) for _ in range(length - 1)
        )


_DEFAULT_BANDS = (("SD", 24), ("SMP", 15), ("SMA", 9), ("SMK", 12), ("PT", 8), ("ADULT", 32))


def generate_population(n: int, seed: int, today: date) -> list[Resident]:
    """``n`` residents, mostly Jakarta, with ages spread like the programmes' applicants."""
    factory = PopulationFactory(seed, today)
    rng = random.Random(f"population:{seed}")
    bands, weights = zip(*_DEFAULT_BANDS)
    people = []
    for band in rng.choices(bands, weights, k=n):
        in_jakarta = band != "ADULT" or rng.random() >= 0.05
        people.append(factory.resident(band, in_jakarta=in_jakarta))
    return people
