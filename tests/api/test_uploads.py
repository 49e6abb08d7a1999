"""An agency's CSV upload (Art. 17(1): education-aid recipients come in bulk), through the HTTP API.

Every row gets a result numbered as the agency's spreadsheet shows it (the
header is row 1); bad rows are reported with a code and stored nowhere; the same
file sent twice is one batch.
"""
from __future__ import annotations

import csv
import io
import json

import pytest

from chalicelib.enrolment.intake import CSV_COLUMNS, MAX_BATCH_BYTES, MAX_BATCH_ROWS

UPLOADS = "/enrolment/uploads"


def as_csv(rows: list[dict[str, str]], columns=CSV_COLUMNS, line_end: str = "\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator=line_end)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def refused(answer, status: int = 400) -> str:
    assert answer.status == status, answer
    assert isinstance(answer.body, dict) and answer.body.get("code"), answer
    return answer.body["code"]


def submitted_ids(api) -> set[str]:
    return {a["applicationId"] for a in api.all_in_state("SUBMITTED")}


@pytest.mark.regulation("Art. 17")
def test_every_row_gets_a_result_numbered_like_the_spreadsheet(api, residents):
    # Given an agency file with two good pupils, a mistyped NIK, a repeated pupil and a row with a stray cell
    first, second = residents.jakartan("SD"), residents.jakartan("SMP")
    good_first = residents.pupil_form(first, "SD")
    mistyped = {**residents.pupil_form(residents.jakartan("SMP"), "SMP")}
    mistyped["nik"] = mistyped["nik"][:15]
    repeated = {**good_first, "bank_account": "9876543210"}
    good_second = residents.pupil_form(second, "SMP")
    body = as_csv([good_first, mistyped, repeated, good_second])
    body += ",".join(residents.pupil_form(residents.jakartan("SD"), "SD").values()).encode() + b",EXTRA\n"

    # When the agency uploads it
    answer = api.upload(body)

    # Then rows 2 to 6 each have a result
    assert answer.status == 200, answer
    result = answer.body
    assert [r["row"] for r in result["results"]] == [2, 3, 4, 5, 6]
    assert (result["rows"], result["accepted"], result["rejected"]) == (5, 2, 3)
    by_row = {r["row"]: r for r in result["results"]}
    # the good rows are applications now
    for row in (2, 5):
        assert by_row[row]["state"] == "SUBMITTED" and by_row[row]["created"] is True
        assert api.get(f"/enrolment/applications/{by_row[row]['applicationId']}").status == 200
    # the bad ones say why, and where
    assert (by_row[3]["code"], by_row[3]["field"]) == ("NIK_FORMAT", "nik")
    assert (by_row[4]["code"], by_row[4]["field"]) == ("DUPLICATE_NIK_IN_UPLOAD", "nik")
    assert "row 2" in by_row[4]["message"]
    assert by_row[6]["code"] == "CSV_ROW_TOO_LONG"
    for row in (3, 4, 6):
        assert "applicationId" not in by_row[row] and by_row[row]["message"]
    # and no NIK is echoed in clear
    assert first.nik not in json.dumps(answer.body) and second.nik not in json.dumps(answer.body)


@pytest.mark.regulation("Art. 17")
def test_uploading_the_same_file_again_is_the_same_batch_and_adds_no_application(api, residents):
    # Given a file that was uploaded once
    body = as_csv([residents.pupil_form(residents.jakartan("SMA")) for _ in range(3)])
    first = api.upload(body)
    assert first.status == 200 and first.body["accepted"] == 3, first
    before = submitted_ids(api)

    # When the clerk uploads it again
    again = api.upload(body)

    # Then it is recognised as the same batch, each row pointing at the application it made the first time
    assert again.status == 200, again
    assert again.body["batchId"] == first.body["batchId"]
    assert [(r["row"], r["applicationId"]) for r in again.body["results"]] == \
           [(r["row"], r["applicationId"]) for r in first.body["results"]]
    assert all(r["created"] is False for r in again.body["results"])
    # and nothing new was stored
    assert submitted_ids(api) == before


def test_a_spreadsheet_export_with_bom_crlf_and_capitalised_header_is_read(api, residents):
    # Given what a spreadsheet saves as "CSV UTF-8": a byte-order mark, CRLF line ends, a header in capitals
    rows = [residents.payment_card_form(residents.jakartan()) for _ in range(2)]
    body = "\ufeff".encode() + as_csv(rows, line_end="\r\n").replace(b"nik,full_name", b"NIK,Full_Name", 1)

    # When it is uploaded
    answer = api.upload(body, content_type="text/csv; charset=utf-8")

    # Then both rows are accepted, still numbered from 2
    assert answer.status == 200, answer
    assert [(r["row"], "applicationId" in r) for r in answer.body["results"]] == [(2, True), (3, True)]


def test_a_row_for_a_nik_registered_with_other_data_is_reported_and_the_rest_go_through(api, residents):
    # Given a resident who already applied through the app
    person = residents.jakartan("SMA")
    assert api.submit(residents.payment_card_form(person)).status == 201
    # and an agency file that lists them for KJP Plus next to a new pupil
    body = as_csv([residents.pupil_form(person), residents.pupil_form(residents.jakartan("SMA"))])

    # When the file is uploaded
    answer = api.upload(body)

    # Then the known NIK's row is reported as a conflict and the other row is accepted
    assert answer.status == 200, answer
    rows = answer.body["results"]
    assert rows[0]["row"] == 2 and rows[0]["code"] == "NIK_ALREADY_REGISTERED"
    assert rows[1]["row"] == 3 and "applicationId" in rows[1]


@pytest.mark.parametrize("header", [
    "nik,full_name,sex,birth_date",
    "NIK;full_name;sex;birth_date;program",
    "nik,full_name,sex,birth_date,program,favourite_colour",
    "id,name,gender,dob,programme",
])
def test_a_file_with_the_wrong_header_is_refused_with_the_expected_columns(api, header):
    # When the header lacks a required column, or has one the API does not know
    answer = api.upload(header + "\n3174011506900001,Budi,L,1990-06-15,RESIDENT_PAYMENT\n")

    # Then the whole file is refused, saying which columns are expected
    assert refused(answer) == "CSV_HEADER"
    assert answer.body["details"]["expected"] == list(CSV_COLUMNS)


def test_a_file_with_only_a_header_is_refused_as_empty(api):
    # When a file has the header and blank lines, but no row
    answer = api.upload(",".join(CSV_COLUMNS) + "\n\n\n")

    # Then it is refused as empty
    assert refused(answer) == "CSV_EMPTY"


def test_an_empty_file_is_refused(api):
    # When zero bytes are uploaded
    answer = api.upload(b"")

    # Then there is neither a header nor a row to read
    assert refused(answer) in ("CSV_EMPTY", "CSV_HEADER")


def test_a_file_with_more_rows_than_one_call_processes_is_refused_whole(api, residents):
    # Given a file of one row more than the limit, every row a valid application
    rows = [residents.payment_card_form(residents.jakartan()) for _ in range(MAX_BATCH_ROWS + 1)]
    before = submitted_ids(api)

    # When it is uploaded
    answer = api.upload(as_csv(rows))

    # Then it is refused for its size and none of its rows is stored
    assert refused(answer, 413) == "BATCH_TOO_LARGE"
    assert submitted_ids(api) == before


def test_a_file_of_exactly_the_row_limit_is_processed(api):
    # Given a file of exactly the limit, rows that all fail the NIK check (so the test stays fast)
    row = "3174011506900000,Budi Santoso,L,1990-06-15,,,RESIDENT_PAYMENT,,,\n"
    body = ",".join(CSV_COLUMNS) + "\n" + row * MAX_BATCH_ROWS

    # When it is uploaded
    answer = api.upload(body)

    # Then every row has a result
    assert answer.status == 200, answer
    assert answer.body["rows"] == MAX_BATCH_ROWS
    assert {r["code"] for r in answer.body["results"]} == {"NIK_BAD_SERIAL"}


def test_a_file_over_the_byte_limit_is_refused_as_too_large(api):
    # When a file one byte over the limit is uploaded
    header = ",".join(CSV_COLUMNS) + "\n"
    body = header + "x" * (MAX_BATCH_BYTES + 1 - len(header))
    assert len(body.encode()) == MAX_BATCH_BYTES + 1
    answer = api.upload(body)

    # Then it is refused for its size
    assert refused(answer, 413) == "BATCH_TOO_LARGE"


def test_a_cell_larger_than_the_csv_reader_accepts_is_refused_not_a_server_error(api, residents):
    # Given a file under the byte limit whose one cell is 200 KB (say, a pasted document)
    form = residents.pupil_form(residents.jakartan("SMA"))
    form["beneficiary_proof"] = "NISN:" + "1" * 200_000
    body = as_csv([form])
    assert len(body) < MAX_BATCH_BYTES

    # When it is uploaded
    answer = api.upload(body)

    # Then the caller gets a reason, not a server error
    assert answer.status in (200, 400, 413), answer
    assert answer.body.get("code") or answer.body.get("results"), answer


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_file_that_is_not_utf8_is_refused(api, encoding):
    # Given a file saved in a legacy encoding, with an accented name
    text = ",".join(CSV_COLUMNS) + "\n3174011506900001,Budi Santosó,L,1990-06-15,,,RESIDENT_PAYMENT,,,\n"

    # When it is uploaded
    answer = api.upload(text.encode(encoding))

    # Then it is refused as not UTF-8
    assert refused(answer) == "CSV_NOT_UTF8"


def test_an_upload_sent_as_json_is_refused_by_media_type(api):
    # When the upload route is sent JSON instead of CSV
    answer = api.upload(b'{"nik": "3174011506900001"}', content_type="application/json")

    # Then the media type is refused
    assert answer.status == 415, answer
    assert answer.body["code"] == "UNSUPPORTED_MEDIA_TYPE"
