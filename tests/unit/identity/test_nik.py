from datetime import date

import pytest
from hypothesis import given, strategies as st

from chalicelib.identity.nik import (
    NIK_PATTERN,
    InvalidKk,
    InvalidNik,
    KkNumber,
    Nik,
    century_year,
    mask_nik,
)

TODAY = date(2026, 3, 1)
MAN = "3174011506900001"
WOMAN = "3174015506900002"

regulation = pytest.mark.regulation("Art. 19")


def parse(text, today=TODAY):
    return Nik.parse(text, today=today)


def error_code(text, today=TODAY):
    with pytest.raises(InvalidNik) as caught:
        parse(text, today)
    return caught.value.code


@regulation
def test_valid_man():
    nik = parse(MAN)
    assert nik.value == MAN
    assert nik.area_code == "317401"
    assert nik.province_code == "31"
    assert nik.sex == "M"
    assert nik.birth_date == date(1990, 6, 15)
    assert nik.serial == 1
    assert nik.district_known


@regulation
def test_valid_woman_day_plus_40():
    nik = parse(WOMAN)
    assert nik.sex == "F"
    assert nik.birth_date == date(1990, 6, 15)


def test_surrounding_whitespace_is_ignored():
    assert parse(f"  {MAN}\n").value == MAN


@regulation
def test_29_february_in_leap_year():
    assert parse("3174012902080001").birth_date == date(2008, 2, 29)
    assert parse("3174016902080001").birth_date == date(2008, 2, 29)
    assert parse("3174016902080001").sex == "F"


@regulation
@pytest.mark.parametrize("text", ["3174012902090001", "3174016902090001"])
def test_29_february_in_non_leap_year(text):
    assert error_code(text) == "NIK_BAD_BIRTH_DATE"


@regulation
@pytest.mark.parametrize("day", ["00", "32", "35", "40", "72", "99"])
def test_impossible_day(day):
    assert error_code(f"317401{day}06900001") == "NIK_BAD_BIRTH_DATE"


@regulation
@pytest.mark.parametrize("day", ["31", "41", "71"])
def test_day_boundaries(day):
    parse(f"317401{day}01900001")


@regulation
@pytest.mark.parametrize("month", ["00", "13"])
def test_impossible_month(month):
    assert error_code(f"31740115{month}900001") == "NIK_BAD_BIRTH_DATE"


@regulation
def test_31st_of_a_30_day_month():
    assert error_code("3174013104900001") == "NIK_BAD_BIRTH_DATE"


@regulation
def test_future_birth_date():
    assert error_code("3174010203260001", today=date(2026, 3, 1)) == "NIK_BAD_BIRTH_DATE"
    assert parse("3174010103260001", today=date(2026, 3, 1)).birth_date == date(2026, 3, 1)


@regulation
def test_two_digit_year_pivot():
    assert parse("3174010101260001").birth_date.year == 2026
    assert parse("3174010101270001").birth_date.year == 1927
    assert parse("3174010101000001").birth_date.year == 2000
    assert parse("3174010101990001").birth_date.year == 1999
    assert century_year(26, date(2026, 1, 1)) == 2026
    assert century_year(27, date(2026, 1, 1)) == 1927


@regulation
def test_unknown_province_is_an_error():
    assert error_code("9974011506900001") == "NIK_UNKNOWN_PROVINCE"


@regulation
def test_unknown_district_is_only_a_warning():
    nik = parse("3174991506900001")
    assert not nik.district_known
    assert nik.province_code == "31"


@regulation
def test_serial_0000():
    assert error_code("3174011506900000") == "NIK_BAD_SERIAL"


@regulation
@pytest.mark.parametrize(
    "text",
    [
        "317401150690000",
        "31740115069000011",
        "31740115O6900001",
        "3174-0115-0690-0001",
        "3174011506900 01",
        "",
        "３１７４０１１５０６９００００１",
        None,
        3174011506900001,
    ],
)
def test_format(text):
    assert error_code(text) == "NIK_FORMAT"


def test_invalid_nik_is_a_value_error_and_never_echoes_input():
    with pytest.raises(ValueError) as caught:
        parse("9974011506900001")
    assert "9974011506900001" not in str(caught.value)
    assert caught.value.message


@regulation
def test_matches_form():
    nik = parse(WOMAN)
    nik.check_matches("F", date(1990, 6, 15))
    nik.check_matches("P", date(1990, 6, 15))


@regulation
@pytest.mark.parametrize("sex", ["M", "L", "l"])
def test_sex_mismatch(sex):
    with pytest.raises(InvalidNik) as caught:
        parse(WOMAN).check_matches(sex, date(1990, 6, 15))
    assert caught.value.code == "NIK_SEX_MISMATCH"


@regulation
def test_birth_date_mismatch():
    with pytest.raises(InvalidNik) as caught:
        parse(MAN).check_matches("M", date(1990, 6, 16))
    assert caught.value.code == "NIK_BIRTH_DATE_MISMATCH"


def test_unrecognised_sex_is_rejected():
    with pytest.raises(ValueError):
        parse(MAN).check_matches("X", date(1990, 6, 15))


def test_str_and_repr_never_leak():
    nik = parse(MAN)
    for shown in (str(nik), repr(nik), f"{nik}", "%s" % nik, repr([nik]), repr({"n": nik})):
        assert MAN not in shown
    assert str(nik) == "3174********0001"
    assert nik.masked() == "3174********0001"


def test_mask_nik():
    assert mask_nik(MAN) == "3174********0001"
    assert mask_nik(f"nik={MAN}, kk=3174012345678901.") == (
        "nik=3174********0001, kk=3174********8901."
    )
    assert mask_nik("31740115069000011") == "31740115069000011"
    assert mask_nik("no numbers") == "no numbers"
    assert NIK_PATTERN.search(f"x{MAN}y")


def test_kk_number():
    kk = KkNumber.parse(" 3174012003150007 ")
    assert kk.area_code == "317401"
    assert kk.province_code == "31"
    assert str(kk) == repr(kk).split("'")[1] == "3174********0007"


@pytest.mark.parametrize("text", ["317401200315000", "31740120031500O7", None])
def test_kk_format(text):
    with pytest.raises(InvalidKk) as caught:
        KkNumber.parse(text)
    assert caught.value.code == "KK_FORMAT"


DISTRICTS = ["317401", "317101", "320101", "110101", "960101"]
OLDEST = date(1900 + TODAY.year % 100 + 1, 1, 1)


@regulation
@given(
    area=st.sampled_from(DISTRICTS),
    sex=st.sampled_from("MF"),
    born=st.dates(min_value=OLDEST, max_value=TODAY),
    serial=st.integers(1, 9999),
)
def test_generated_nik_round_trips(area, sex, born, serial):
    day = born.day + (40 if sex == "F" else 0)
    text = f"{area}{day:02d}{born:%m%y}{serial:04d}"
    nik = parse(text)
    assert (nik.sex, nik.birth_date, nik.serial, nik.area_code) == (sex, born, serial, area)
    assert nik.district_known
    nik.check_matches(sex, born)


@given(st.text(max_size=20))
def test_parse_only_raises_invalid_nik(text):
    try:
        parse(text)
    except InvalidNik as exc:
        assert exc.code.startswith("NIK_")
