"""A realistic agency upload: mostly good rows plus the mistakes agencies really make.

``build_batch`` returns the CSV rows, the residents to seed into the emulated
population registry and, per row, the outcome the pipeline should reach.
"""
from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from demo.population import PopulationFactory, Resident

COLUMNS = (
    "nik", "full_name", "sex", "birth_date", "kk_number", "village_code",
    "program", "school_level", "bank_account", "beneficiary_proof",
)
PROGRAM_MIX = (
    ("KJP_PLUS", 60), ("KJMU", 8), ("TRANSJAKARTA_FREE", 12),
    ("PANGAN_BERSUBSIDI", 10), ("RUSUNAWA", 5), ("RESIDENT_PAYMENT", 5),
)
KJP_LEVELS = (("SD", 40), ("SMP", 25), ("SMA", 15), ("SMK", 20))
OPEN_TO_ALL = "RESIDENT_PAYMENT"
JAKARTA_ONLY = tuple(p for p, _ in PROGRAM_MIX if p != OPEN_TO_ALL)
BAD_KINDS = (
    "malformed_nik", "women_day_not_plus_40", "kk_not_jakarta", "no_bank_account",
    "unknown_to_registry", "duplicate_nik", "name_mismatch",
)
BAD_SHARE = 0.10
OUTSIDE_JAKARTA_SHARE = 0.4
_PROOF_ISSUERS = {
    "TRANSJAKARTA_FREE": "SK-DISHUB",
    "PANGAN_BERSUBSIDI": "SK-DINSOS",
    "RUSUNAWA": "SK-DPRKP",
}
_VOWEL_SWAPS = {"a": "e", "e": "a", "i": "y", "y": "i", "u": "o", "o": "u"}


@dataclass
class BatchPlan:
    """``expected`` is keyed by 1-based data row (the header is not counted)."""

    rows: list[dict[str, str]]
    population: list[Resident]
    expected: dict[int, str]


def build_batch(n: int = 1200, seed: int = 145, today: date | None = None) -> BatchPlan:
    """Deterministic for a given ``seed`` and ``today`` (default: the current date)."""
    today = today or date.today()
    factory = PopulationFactory(seed, today)
    rng = random.Random(f"batch:{seed}")
    bad = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(round(n * BAD_SHARE))]
    duplicates = bad.count("duplicate_nik")
    kinds = ["ok"] * (n - len(bad)) + [k for k in bad if k != "duplicate_nik"]
    rng.shuffle(kinds)

    entries: list[tuple[dict[str, str], str]] = []
    population: list[Resident] = []
    for kind in kinds:
        row, person = _fresh_row(kind, factory, rng, today)
        if kind != "unknown_to_registry":
            population.append(person)
        entries.append((row, kind))
    for _ in range(duplicates):
        _insert_duplicate(entries, rng, today)

    return BatchPlan(
        rows=[row for row, _ in entries],
        population=population,
        expected={i: kind for i, (_, kind) in enumerate(entries, start=1)},
    )


def _fresh_row(
    kind: str, factory: PopulationFactory, rng: random.Random, today: date
) -> tuple[dict[str, str], Resident]:
    programs = JAKARTA_ONLY if kind == "kk_not_jakarta" else tuple(dict(PROGRAM_MIX))
    program = rng.choices(programs, [dict(PROGRAM_MIX)[p] for p in programs])[0]
    level = _school_level(program, rng)
    in_jakarta = kind != "kk_not_jakarta" and not (
        program == OPEN_TO_ALL and rng.random() < OUTSIDE_JAKARTA_SHARE
    )
    sex = "F" if kind == "women_day_not_plus_40" else None
    person = factory.resident(level or "ADULT", sex=sex, in_jakarta=in_jakarta)
    row = _row(person, program, level, rng, today)

    if kind == "malformed_nik":
        row["nik"] = _mistyped_nik(person.nik, rng)
    elif kind == "women_day_not_plus_40":
        while factory.is_issued(_without_plus_40(person.nik)):
            person = factory.resident(level or "ADULT", sex="F", in_jakarta=in_jakarta)
            row = _row(person, program, level, rng, today)
        row["nik"] = _without_plus_40(person.nik)
        factory.reserve(row["nik"])
    elif kind == "no_bank_account":
        row["bank_account"] = ""
    elif kind == "name_mismatch":
        row["full_name"] = _misspelled(person.full_name, rng)
    return row, person


def _insert_duplicate(entries: list[tuple[dict[str, str], str]], rng: random.Random, today: date) -> None:
    """Repeat an earlier good Jakarta row's person under another programme or account."""
    sources = [
        i for i, (row, kind) in enumerate(entries) if kind == "ok" and row["kk_number"][:2] == "31"
    ]
    source = rng.choice(sources)
    row = dict(entries[source][0])
    if rng.random() < 0.5:
        row["program"] = "PANGAN_BERSUBSIDI" if row["program"] == "TRANSJAKARTA_FREE" else "TRANSJAKARTA_FREE"
        row["school_level"] = ""
        row["beneficiary_proof"] = _proof(row["program"], date.fromisoformat(row["birth_date"]), rng, today)
    else:
        row["bank_account"] = str(rng.randint(10**10, 10**11 - 1))
    entries.insert(rng.randint(source + 1, len(entries)), (row, "duplicate_nik"))


def _school_level(program: str, rng: random.Random) -> str:
    if program == "KJP_PLUS":
        levels, weights = zip(*KJP_LEVELS)
        return rng.choices(levels, weights)[0]
    return "PT" if program == "KJMU" else ""


def _row(person: Resident, program: str, level: str, rng: random.Random, today: date) -> dict[str, str]:
    return {
        "nik": person.nik,
        "full_name": person.full_name,
        "sex": "P" if person.sex == "F" else "L",
        "birth_date": person.birth_date.isoformat(),
        "kk_number": person.kk_number,
        "village_code": "" if program == OPEN_TO_ALL and not person.in_jakarta else person.village_code,
        "program": program,
        "school_level": level,
        "bank_account": person.bank_account or "",
        "beneficiary_proof": _proof(program, person.birth_date, rng, today),
    }


def _proof(program: str, born: date, rng: random.Random, today: date) -> str:
    if program == "KJP_PLUS":
        return f"NISN:{born.year % 1000:03d}{rng.randrange(10**7):07d}"
    if program == "KJMU":
        last_intake = today.year if today.month >= 8 else today.year - 1
        entry = min(last_intake, born.year + 18 + rng.randint(0, 1))
        return f"NIM:{entry % 100:02d}{rng.randrange(10**8):08d}"
    if program in _PROOF_ISSUERS:
        return f"{_PROOF_ISSUERS[program]}/{today.year}/{rng.randint(1, 9999):04d}"
    return ""


def _without_plus_40(nik: str) -> str:
    return f"{nik[:6]}{int(nik[6:8]) - 40:02d}{nik[8:]}"


def _mistyped_nik(nik: str, rng: random.Random) -> str:
    zeros = [i for i, c in enumerate(nik) if c == "0"]
    if zeros and rng.random() < 0.5:
        i = rng.choice(zeros)
        return nik[:i] + "O" + nik[i + 1:]
    i = rng.randrange(len(nik))
    return nik[:i] + nik[i + 1:]


def _misspelled(name: str, rng: random.Random) -> str:
    """One typing slip inside one word (never its first letter): swap, drop, double or vowel swap."""
    words = name.split()
    while True:
        w = rng.randrange(len(words))
        word = words[w]
        i = rng.randrange(1, len(word) - 1)
        slip = rng.randrange(4)
        if slip == 0:
            changed = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        elif slip == 1:
            changed = word[:i] + word[i + 1:]
        elif slip == 2:
            changed = word[:i] + word[i] + word[i:]
        else:
            changed = word[:i] + _VOWEL_SWAPS.get(word[i], word[i]) + word[i + 1:]
        if changed.lower() != word.lower():
            return " ".join(words[:w] + [changed] + words[w + 1:])


def write_csv(rows: list[dict[str, str]], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=145)
    parser.add_argument("--out", default=Path(__file__).resolve().parents[1] / "build" / "demo-batch.csv")
    args = parser.parse_args()
    plan = build_batch(args.n, args.seed)
    path = write_csv(plan.rows, args.out)
    print(f"{len(plan.rows)} rows -> {path}")
    for kind, count in sorted(Counter(plan.expected.values()).items()):
        print(f"{kind:24} {count}")


if __name__ == "__main__":
    main()
