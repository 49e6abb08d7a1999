"""Logger and metrics, set up once for every function.

Every log line goes through :class:`MaskingFormatter`, which masks any run of
16 digits (a NIK or a KK number) in the serialised line: a NIK that slips into
a message or an extra field still never reaches the logs in clear.
"""
from __future__ import annotations

import re
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "jakarta-one"
NAMESPACE = "JakartaOne"
_SIXTEEN_DIGITS = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")


def mask_digits(text: str) -> str:
    return _SIXTEEN_DIGITS.sub(r"\1********\2", text)


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict) -> str:  # type: ignore[override]
        return mask_digits(super().serialize(log))


@lru_cache(maxsize=1)
def logger() -> Logger:
    return Logger(service=SERVICE, logger_formatter=MaskingFormatter(), utc=True)


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    return Metrics(namespace=NAMESPACE, service=SERVICE)
