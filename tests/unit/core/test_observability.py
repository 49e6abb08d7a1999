"""No NIK in clear in a log line, wherever it hides."""
import io
import json
import logging

from aws_lambda_powertools import Logger

from chalicelib.core.observability import MaskingFormatter, mask_digits


def test_sixteen_digit_runs_are_masked_and_shorter_numbers_are_not():
    assert mask_digits("nik=3174015003140001 phone=081234567890") == "nik=3174********0001 phone=081234567890"
    assert mask_digits("12345678901234567") == "12345678901234567"


def test_a_nik_in_a_message_or_an_extra_field_never_reaches_the_log_in_clear():
    stream = io.StringIO()
    log = Logger(service="test-mask", logger_formatter=MaskingFormatter(), stream=stream, level=logging.INFO)
    log.info("verifying 3174015003140001", extra={"applicant": {"nik": "3174015003140001"}})
    line = stream.getvalue()
    assert "3174015003140001" not in line
    assert json.loads(line)["applicant"]["nik"] == "3174********0001"
