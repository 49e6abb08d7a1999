"""Recipient rows and duplicate detection (issue 3): pure, no AWS."""
from datetime import date

import pytest

from chalicelib.core.errors import InvalidInput
from chalicelib.identity.protection import index_with
from chalicelib.registry.recipients import Candidate, Holdings, chunks, parse_row, screen, upload_id

TODAY = date(2026, 12, 4)
ROW = {"nik": "3174015003140001", "full_name": "Putri Ayu Lestari", "sex": "P", "birth_date": "2014-03-10",
       "kk_number": "3174010101200003", "village_code": "", "school_level": "sd",
       "eligibility_evidence": "NISN:0141234567"}


def test_a_valid_row_becomes_a_recipient():
    recipient = parse_row(2, ROW, today=TODAY)
    assert (recipient.sex, recipient.school_level, recipient.village_code) == ("F", "SD", None)


@pytest.mark.parametrize("change,code", [
    ({"sex": "L"}, "NIK_SEX_MISMATCH"), ({"eligibility_evidence": ""}, "MISSING_FIELD"),
    ({"school_level": "TK"}, "INVALID_SCHOOL_LEVEL"), ({"birth_date": "10-03-2014"}, "INVALID_BIRTH_DATE"),
])
def test_a_bad_row_is_refused_with_its_code(change, code):
    with pytest.raises(InvalidInput) as refused:
        parse_row(2, {**ROW, **change}, today=TODAY)
    assert refused.value.code == code


def test_the_upload_id_depends_on_program_and_content_only():
    assert upload_id("DISDIK:A", b"x") == upload_id("DISDIK:A", b"x") != upload_id("DISDIK:B", b"x")
    assert upload_id("DISDIK:A", b"x") != upload_id("DISDIK:A", b"y")


def test_chunks_keep_every_row_in_order():
    assert chunks(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


def test_screening_flags_duplicates_overlaps_and_kk_limits_in_file_order():
    holdings = Holdings(enrolled={"old": ("upl_other", 9)}, in_excluded={"kjmu"}, kk_members={"kk": {"a"}})
    rows = [Candidate(2, "old", None), Candidate(3, "kjmu", None), Candidate(4, "b", "kk"),
            Candidate(5, "c", "kk"), Candidate(6, "b", None), Candidate(7, "d", None)]

    accepted, problems = screen(rows, holdings, "upl_this", max_per_kk=2)

    assert [c.row for c in accepted] == [4, 7]
    assert [(p.row, p.code) for p in problems] == [
        (2, "DUPLICATE_IN_PROGRAM"), (3, "EXCLUDED_PROGRAM_OVERLAP"), (5, "KK_LIMIT_EXCEEDED"),
        (6, "DUPLICATE_IN_PROGRAM")]


def test_a_chunk_screened_again_recognises_its_own_rows():
    holdings = Holdings(enrolled={"b": ("upl_this", 4)}, kk_members={"kk": {"a", "b"}})
    accepted, problems = screen([Candidate(4, "b", "kk")], holdings, "upl_this", max_per_kk=2)
    assert [c.row for c in accepted] == [4] and problems == []


def test_the_index_is_a_keyed_hash_of_the_labelled_nik():
    one, other = index_with(b"k" * 32, "3174015003140001"), index_with(b"j" * 32, "3174015003140001")
    assert one != other and len(one) == 64 and "3174015003140001" not in one
    assert index_with(b"k" * 32, "3174015003140001", "KK") != one
