"""No NIK in clear at rest or in the logs, after real submissions through the API.

Applications go in as a clerk's JSON and an agency's CSV, through the Chalice
app, over a stage deployed on moto by the deployment code. Afterwards every
item of every table, every answer and every log line is searched for the
NIKs and KK numbers that were sent, and for any standalone run of 16 digits.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from chalicelib.access.roles import Role
from chalicelib.core.observability import SERVICE, logger
from tests.identities import bearer

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SIXTEEN_DIGITS = re.compile(r"(?<![0-9A-Za-z])[0-9]{16}(?![0-9A-Za-z])")
"""A standalone 16-digit number; runs inside hex digests or base64 blobs are not standalone."""

PUPIL = {"nik": "3174015003140001", "full_name": "Putri Ayu Lestari", "sex": "P", "birth_date": "2014-03-10",
         "kk_number": "3174010101200003", "village_code": "3174011001", "program": "KJP_PLUS",
         "school_level": "SMP", "bank_account": "1234567890", "beneficiary_proof": "NISN:0141234567"}
RESIDENT = {"nik": "3174012505900003", "full_name": "Budi Santoso", "sex": "L", "birth_date": "1990-05-25",
            "program": "RESIDENT_PAYMENT", "bank_account": "3174012505900003"}
STUDENT = {"nik": "3174014108050007", "full_name": "Sari Dewi", "sex": "P", "birth_date": "2005-08-01",
           "kk_number": "3174010101200004", "village_code": "3174011001", "program": "KJMU",
           "school_level": "PT", "bank_account": "9876543210", "beneficiary_proof": "NIM:2023001"}
UPLOAD = (
    "nik,full_name,sex,birth_date,kk_number,village_code,program,school_level,bank_account,beneficiary_proof\n"
    "3174016512100002,Ayu Wulandari,P,2010-12-25,3174010202150005,3174011001,KJP_PLUS,SD,1122334455,NISN:01\n"
    "3174016512100002,Ayu Wulandari,P,2010-12-25,3174010202150005,3174011001,KJP_PLUS,SD,1122334455,NISN:01\n"
    "3174012505900000,Bad Serial,L,1990-05-25,,,RESIDENT_PAYMENT,,,\n"
    "3174010107850011,Agus Salim,L,1985-07-01,3174010303100006,3174011001,TRANSJAKARTA_FREE,,5566778899,KTP\n"
)
NUMBERS_SENT = ["3174015003140001", "3174010101200003", "3174012505900003", "3174014108050007",
                "3174010101200004", "3174016512100002", "3174010202150005", "3174012505900000",
                "3174010107850011", "3174010303100006"]
"""Every NIK and KK number above, including the ones of rows that were refused."""


def numbers_in_clear(text: str) -> list[str]:
    return sorted({number for number in NUMBERS_SENT if number in text} | set(SIXTEEN_DIGITS.findall(text)))


@pytest.fixture
def function_output(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """What the function writes: every stream handler of its logger, and any other logger at INFO."""
    logger()
    buffer = io.StringIO()
    handlers = [handler for handler in logging.getLogger(SERVICE).handlers
                if isinstance(handler, logging.StreamHandler)]
    previous = [handler.setStream(buffer) for handler in handlers]
    caplog.set_level(logging.INFO)
    try:
        yield lambda: buffer.getvalue() + "\n" + caplog.text
    finally:
        for handler, stream in zip(handlers, previous):
            if stream is not None:
                handler.setStream(stream)


def post_json(api: Any, body: dict[str, Any]) -> Any:
    return api.http.post("/enrolment/applications",
                         headers={"Content-Type": "application/json", **bearer(Role.OPERATOR)},
                         body=json.dumps(body))


def test_after_submissions_no_table_item_answer_or_log_line_holds_a_nik_in_clear(
        enrolment_api, every_item, function_output):
    # Given applications sent by a clerk, one of them twice, one again with different data
    answers = [post_json(enrolment_api, applicant) for applicant in (PUPIL, RESIDENT, STUDENT, PUPIL)]
    answers.append(post_json(enrolment_api, {**RESIDENT, "full_name": "Budi Santoso Putra"}))
    # And an agency's upload with a duplicated row and a malformed NIK
    answers.append(enrolment_api.http.post("/enrolment/uploads",
                                           headers={"Content-Type": "text/csv", **bearer(Role.AGENCY_HEAD)},
                                           body=UPLOAD.encode()))
    assert [answer.status_code for answer in answers[:4]] == [201, 201, 201, 200]
    upload = json.loads(answers[5].body)
    assert (upload["accepted"], upload["rejected"]) == (2, 2)

    # When every item of every table is read back
    tables = every_item()
    applications = [item for items in tables.values() for item in items if item.get("sk") == {"S": "APPLICATION"}]
    assert len(applications) == 5

    # Then no item holds a NIK or a KK number in clear, nor any standalone 16-digit number
    for name, items in tables.items():
        for item in items:
            assert numbers_in_clear(json.dumps(item, default=str)) == [], (name, item.get("pk"))
    # And neither does any answer
    for answer in answers:
        assert numbers_in_clear(answer.body.decode()) == []
    # And neither does anything the function logged
    assert numbers_in_clear(function_output()) == []


def test_a_nik_that_slips_into_a_log_line_is_masked_in_everything_the_function_writes():
    # Given the function's code loaded as Lambda loads it: app.py first, the logger on first use
    script = ("import app\n"
              "from chalicelib.core.observability import logger\n"
              "logger().info('checking applicant 3174015003140001', extra={'nik': '3174015003140001'})\n")
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "AWS_DEFAULT_REGION": "ap-southeast-3"}

    # When a log line carries a NIK in its message and in an extra field
    written = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=environment,
                             capture_output=True, text=True, timeout=60)

    # Then the line is written, and only with the NIK masked
    assert written.returncode == 0, written.stderr
    output = written.stdout + written.stderr
    assert "checking applicant 3174********0001" in output
    assert "3174015003140001" not in output
