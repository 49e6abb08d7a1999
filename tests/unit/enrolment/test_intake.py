"""Intake: what a clerk's row or an app's JSON becomes, and the clear reasons when it cannot."""
from datetime import date

import pytest

from chalicelib.core.errors import InvalidInput, PayloadTooLarge
from chalicelib.enrolment.intake import MAX_BATCH_ROWS, parse_form, read_csv
from chalicelib.enrolment.model import Program

TODAY = date(2026, 12, 3)
PUPIL = {
    "nik": "3174015003140001", "full_name": "Putri Ayu Lestari", "sex": "P", "birth_date": "2014-03-10",
    "kk_number": "3174010101200003", "village_code": "3174011001", "program": "KJP_PLUS",
    "school_level": "SMP", "bank_account": "1234567890", "beneficiary_proof": "NISN:0141234567",
}


def reason(**changes):
    with pytest.raises(InvalidInput) as raised:
        parse_form({**PUPIL, **changes}, today=TODAY)
    return raised.value.code, raised.value.details.get("field")


def test_a_complete_pupil_row_becomes_a_form():
    form = parse_form(PUPIL, today=TODAY)
    assert form.program is Program.KJP_PLUS
    assert form.sex == "F" and form.birth_date == date(2014, 3, 10)


@pytest.mark.regulation("Art. 19")
def test_a_woman_whose_nik_day_lacks_the_plus_40_is_refused():
    assert reason(nik="3174011003140001") == ("NIK_SEX_MISMATCH", "nik")


@pytest.mark.regulation("Art. 19")
def test_a_birth_date_that_the_nik_does_not_encode_is_refused():
    assert reason(birth_date="2014-03-11") == ("NIK_BIRTH_DATE_MISMATCH", "nik")


@pytest.mark.parametrize("nik, code", [
    ("317401500314000", "NIK_FORMAT"),
    ("31740150O3140001", "NIK_FORMAT"),
    ("9974015003140001", "NIK_UNKNOWN_PROVINCE"),
    ("3174015003140000", "NIK_BAD_SERIAL"),
])
@pytest.mark.regulation("Art. 19")
def test_a_malformed_nik_is_refused_with_its_reason(nik, code):
    assert reason(nik=nik) == (code, "nik")


@pytest.mark.parametrize("changes, expected", [
    ({"program": "KJP"}, ("UNKNOWN_PROGRAM", "program")),
    ({"school_level": "PT"}, ("INVALID_SCHOOL_LEVEL", "school_level")),
    ({"program": "RUSUNAWA"}, ("INVALID_SCHOOL_LEVEL", "school_level")),
    ({"sex": "X"}, ("INVALID_SEX", "sex")),
    ({"birth_date": "10/03/2014"}, ("INVALID_BIRTH_DATE", "birth_date")),
    ({"full_name": "<script>"}, ("INVALID_NAME", "full_name")),
    ({"full_name": " "}, ("MISSING_FIELD", "full_name")),
    ({"kk_number": "31740101"}, ("KK_FORMAT", "kk_number")),
    ({"village_code": "9999999999"}, ("UNKNOWN_VILLAGE", "village_code")),
    ({"bank_account": "12-34"}, ("INVALID_BANK_ACCOUNT", "bank_account")),
    ({"nik": 3174015003140001}, ("FIELD_TYPE", "nik")),
    ({"favourite_colour": "red"}, ("UNKNOWN_FIELD", "favourite_colour")),
])
def test_each_bad_field_gets_its_own_code(changes, expected):
    assert reason(**changes) == expected


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidInput) as raised:
        parse_form(["not", "an", "object"], today=TODAY)
    assert raised.value.code == "BODY_NOT_OBJECT"


def test_csv_rows_are_numbered_as_the_spreadsheet_shows_them():
    raw = ("\ufeffNIK,full_name,sex,birth_date,program\n"
           "3174015003140001,Putri,P,2014-03-10,KJP_PLUS\n"
           "3174015003140002,Sari,P,2014-03-10,KJP_PLUS,extra\n").encode()
    rows = list(read_csv(raw))
    assert [number for number, _ in rows] == [2, 3]
    assert rows[0][1]["nik"] == "3174015003140001"
    assert rows[1][1] == {"__error__": "CSV_ROW_TOO_LONG"}


@pytest.mark.parametrize("raw, code", [
    (b"name,age\nx,1\n", "CSV_HEADER"),
    (b"nik,full_name,sex,birth_date,program,shoe_size\n", "CSV_HEADER"),
    (b"nik,full_name,sex,birth_date,program\n", "CSV_EMPTY"),
    (b"\xff\xfe\x00n", "CSV_NOT_UTF8"),
])
def test_an_unreadable_upload_is_refused_whole(raw, code):
    with pytest.raises(InvalidInput) as raised:
        list(read_csv(raw))
    assert raised.value.code == code


def test_an_upload_over_the_row_limit_is_refused_before_any_work():
    header = "nik,full_name,sex,birth_date,program\n"
    raw = (header + "1,a,L,2000-01-01,KJMU\n" * (MAX_BATCH_ROWS + 1)).encode()
    with pytest.raises(PayloadTooLarge) as raised:
        read_csv(raw)
    assert raised.value.code == "BATCH_TOO_LARGE"
