import csv
from collections import Counter
from datetime import date

import pytest

from chalicelib.identity.areas import area_codes
from chalicelib.identity.nik import InvalidNik, KkNumber, Nik
from demo.batch import BAD_KINDS, COLUMNS, JAKARTA_ONLY, build_batch, write_csv
from demo.population import AGE_BANDS, generate_population

TODAY = date(2026, 3, 1)


@pytest.fixture(scope="module")
def plan():
    return build_batch(seed=7, today=TODAY)


def rows_of(plan, kind):
    return [plan.rows[i - 1] for i, k in plan.expected.items() if k == kind]


def registry(plan):
    return {person.nik: person for person in plan.population}


def age(born):
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


def test_size_and_columns(plan):
    assert len(plan.rows) >= 1000
    assert len(plan.expected) == len(plan.rows)
    assert sorted(plan.expected) == list(range(1, len(plan.rows) + 1))
    assert all(tuple(row) == COLUMNS for row in plan.rows)


def test_every_bad_kind_present_and_about_ten_percent(plan):
    counts = Counter(plan.expected.values())
    assert set(counts) == {"ok", *BAD_KINDS}
    bad = len(plan.rows) - counts["ok"]
    assert 0.08 <= bad / len(plan.rows) <= 0.12
    assert max(counts[k] for k in BAD_KINDS) - min(counts[k] for k in BAD_KINDS) <= 1


def test_niks_structurally_valid_except_malformed(plan):
    for i, row in enumerate(plan.rows, start=1):
        if plan.expected[i] == "malformed_nik":
            with pytest.raises(InvalidNik) as caught:
                Nik.parse(row["nik"], today=TODAY)
            assert caught.value.code == "NIK_FORMAT"
        else:
            Nik.parse(row["nik"], today=TODAY)
            KkNumber.parse(row["kk_number"])


def test_ok_rows_agree_with_nik_and_registry(plan):
    people = registry(plan)
    for row in rows_of(plan, "ok"):
        nik = Nik.parse(row["nik"], today=TODAY)
        nik.check_matches(row["sex"], date.fromisoformat(row["birth_date"]))
        person = people[row["nik"]]
        assert (person.full_name, person.kk_number) == (row["full_name"], row["kk_number"])
        assert row["bank_account"].isdigit() and 11 <= len(row["bank_account"]) <= 13
        if row["program"] in JAKARTA_ONLY:
            assert row["kk_number"][:2] == "31"


def test_village_codes_are_real_jakarta_villages(plan):
    areas = area_codes()
    for i, row in enumerate(plan.rows, start=1):
        code = row["village_code"]
        if code.startswith("31"):
            assert areas.is_jakarta_village(code)
            assert areas.village(code)[1] == row["kk_number"][:6]
        elif plan.expected[i] != "kk_not_jakarta":
            assert row["program"] == "RESIDENT_PAYMENT" and code == ""


def test_kk_not_jakarta(plan):
    for row in rows_of(plan, "kk_not_jakarta"):
        assert row["program"] in JAKARTA_ONLY
        assert KkNumber.parse(row["kk_number"]).province_code != "31"
        assert row["village_code"][:6] == row["kk_number"][:6]


def test_women_day_not_plus_40(plan):
    people = registry(plan)
    for row in rows_of(plan, "women_day_not_plus_40"):
        assert row["sex"] == "P"
        with pytest.raises(InvalidNik) as caught:
            Nik.parse(row["nik"], today=TODAY).check_matches("P", date.fromisoformat(row["birth_date"]))
        assert caught.value.code == "NIK_SEX_MISMATCH"
        assert row["nik"] not in people
        true_nik = row["nik"][:6] + f"{int(row['nik'][6:8]) + 40:02d}" + row["nik"][8:]
        assert people[true_nik].sex == "F"


def test_registry_membership(plan):
    people = registry(plan)
    assert len(people) == len(plan.population)
    assert all(row["nik"] not in people for row in rows_of(plan, "unknown_to_registry"))
    for row in rows_of(plan, "name_mismatch"):
        assert people[row["nik"]].full_name != row["full_name"]
    assert all(row["bank_account"] == "" for row in rows_of(plan, "no_bank_account"))


def test_duplicates_repeat_an_earlier_good_row(plan):
    first_seen = {}
    for i, row in enumerate(plan.rows, start=1):
        if plan.expected[i] == "duplicate_nik":
            earlier = plan.rows[first_seen[row["nik"]] - 1]
            assert plan.expected[first_seen[row["nik"]]] == "ok"
            assert earlier != row
        else:
            first_seen.setdefault(row["nik"], i)


def test_programme_mix_and_ages(plan):
    programs = Counter(row["program"] for row in plan.rows)
    assert 0.5 <= programs["KJP_PLUS"] / len(plan.rows) <= 0.7
    for i, row in enumerate(plan.rows, start=1):
        level = row["school_level"]
        if plan.expected[i] == "duplicate_nik":
            continue
        assert (level in {"SD", "SMP", "SMA", "SMK"}) == (row["program"] == "KJP_PLUS")
        assert (level == "PT") == (row["program"] == "KJMU")
        youngest, oldest = AGE_BANDS[level or "ADULT"]
        assert youngest <= age(date.fromisoformat(row["birth_date"])) < oldest
        assert (row["beneficiary_proof"] == "") == (row["program"] == "RESIDENT_PAYMENT")


def test_deterministic_for_a_seed(plan):
    again = build_batch(seed=7, today=TODAY)
    assert again.rows == plan.rows
    assert again.expected == plan.expected
    assert again.population == plan.population
    assert build_batch(seed=8, today=TODAY).rows != plan.rows


def test_write_csv(plan, tmp_path):
    path = write_csv(plan.rows[:5], tmp_path / "out" / "batch.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        read = list(csv.DictReader(fh))
    assert read == plan.rows[:5]


def test_generated_population_round_trips():
    people = generate_population(300, seed=3, today=TODAY)
    assert len({p.nik for p in people}) == 300
    assert len({p.kk_number for p in people}) == 300
    for person in people:
        nik = Nik.parse(person.nik, today=TODAY)
        nik.check_matches(person.sex, person.birth_date)
        assert person.district_code == person.kk_number[:6]
        assert person.address.startswith("Jl. ") and ", RT 0" in person.address
        if person.in_jakarta:
            assert area_codes().is_jakarta_village(person.village_code)
