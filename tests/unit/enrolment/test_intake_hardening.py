"""Intake against what real files and hostile callers send: each case here once slipped through."""
import pytest

from chalicelib.core.errors import InvalidInput
from chalicelib.enrolment.intake import CSV_COLUMNS, read_csv
from tests.unit.enrolment.test_intake import PUPIL, reason

HEADER = ",".join(CSV_COLUMNS)
ROW = ",".join(PUPIL[column] for column in CSV_COLUMNS)


def refusal(raw: bytes) -> str:
    with pytest.raises(InvalidInput) as raised:
        list(read_csv(raw))
    return raised.value.code


@pytest.mark.parametrize("value", ["１２３４５６７８９０１", "١٢٣٤٥٦٧٨٩٠١"])
def test_a_bank_account_in_other_scripts_digits_is_refused(value):
    assert reason(bank_account=value) == ("INVALID_BANK_ACCOUNT", "bank_account")


@pytest.mark.parametrize("value", ["20140310", "2014-W11-1"])
def test_a_birth_date_is_only_ever_yyyy_mm_dd(value):
    assert reason(birth_date=value) == ("INVALID_BIRTH_DATE", "birth_date")


def test_a_long_s_does_not_become_an_s_in_a_program_code():
    assert reason(program="kjp_plus".replace("s", "ſ")) == ("UNKNOWN_PROGRAM", "program")


@pytest.mark.parametrize("field", ["beneficiary_proof", "full_name"])
def test_a_cell_with_a_line_break_or_nul_is_refused(field):
    assert reason(**{field: "DINSOS/1\nnext"})[0] == "FIELD_HAS_LINE_BREAK"
    assert reason(**{field: "DINSOS\x001"})[0] == "FIELD_HAS_LINE_BREAK"


def test_a_nik_sent_as_a_field_name_is_not_echoed_in_clear():
    with pytest.raises(InvalidInput) as raised:
        from chalicelib.enrolment.intake import parse_form
        from tests.unit.enrolment.test_intake import TODAY
        parse_form({**PUPIL, "3174015003140001": "x"}, today=TODAY)
    assert "3174015003140001" not in str(raised.value.to_body())


def test_rows_keep_their_spreadsheet_numbers_across_blank_and_empty_rows():
    raw = f"{HEADER}\n{ROW}\n\n,,,,,,,,,\n{ROW.replace('3174015003140001', '3174015003140002')}\n".encode()
    assert [number for number, _ in read_csv(raw)] == [2, 5]


def test_a_stray_quote_makes_the_file_unreadable_instead_of_swallowing_rows():
    broken = ROW.replace("NISN:0141234567", '"NISN:014')
    assert refusal(f"{HEADER}\n{broken}\n{ROW}\n{ROW}\n".encode()) == "CSV_MALFORMED"


def test_a_quoted_cell_spanning_lines_is_refused():
    spanning = ROW.replace("NISN:0141234567", '"NISN\n0141234567"')
    assert refusal(f"{HEADER}\n{spanning}\n".encode()) == "CSV_MALFORMED"


def test_a_file_with_classic_mac_line_ends_is_read():
    assert [number for number, _ in read_csv(f"{HEADER}\r{ROW}\r".encode())] == [2]


@pytest.mark.parametrize("raw", [
    f"nik,full_\rname\n{ROW}\n".encode(),
    ("n" * 140_000 + f",{HEADER}\n{ROW}\n").encode(),
])
def test_a_malformed_header_line_is_a_clear_refusal(raw):
    assert refusal(raw) in ("CSV_MALFORMED", "CSV_HEADER")


def test_a_column_named_twice_is_refused():
    assert refusal(f"nik,{HEADER}\n3174015003140009,{ROW}\n".encode()) == "CSV_HEADER"
