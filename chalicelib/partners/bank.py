"""Card-issuing bank adapter (Art. 11, Art. 20): hands a verified applicant to the bank over SNAP.

The bank answers "in progress" and reports the outcome later through a signed callback.
A repeat with the same ``partnerReferenceNo`` is answered idempotently by the bank, so the
workflow may retry ``BankUnavailable`` freely; ``IssuanceRefused`` is final.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Callable
from urllib.parse import urlsplit

import urllib3

from chalicelib.partners import snap

ISSUANCE_PATH = "/snap/v1.0/card-issuance"
APPLICANT_FIELDS = ("name", "nik", "birthDate", "bankAccount", "program")
_LONG_NUMBER = re.compile(r"\d{12,}")


class BankUnavailable(Exception):
    """Transient: 5xx, 429, timeout, connection failure or an unreadable answer. Safe to retry."""


class IssuanceRefused(Exception):
    """The bank answered 4xx to our request; ``code`` is its SNAP responseCode when it sent one."""

    def __init__(self, status: int, code: str | None, message: str):
        self.status, self.code = status, code
        super().__init__(f"HTTP {status} {code or '-'}: {_LONG_NUMBER.sub('<number>', message)}")


def _jakarta_now() -> datetime:
    return datetime.now(snap.JAKARTA)


class SnapCardIssuingBank:
    def __init__(self, base_url: str, partner_id: str, client_secret: str, access_token: str,
                 channel_id: str = "95221", timeout_s: float = 5, http: urllib3.PoolManager | None = None,
                 clock: Callable[[], datetime] = _jakarta_now):
        self._url = base_url.rstrip("/") + ISSUANCE_PATH
        self._path = urlsplit(self._url).path
        self._partner_id, self._secret, self._token, self._channel = partner_id, client_secret, access_token, channel_id
        self._timeout = urllib3.Timeout(total=timeout_s)
        self._http = http or urllib3.PoolManager()
        self._clock = clock

    def request_issuance(self, reference_no: str, applicant: dict, external_id: str) -> dict:
        missing = [f for f in APPLICANT_FIELDS if not applicant.get(f)]
        if missing:
            raise ValueError(f"applicant lacks {', '.join(missing)}")
        applicant = {k: v.isoformat() if isinstance(v, date) else v for k, v in applicant.items()}
        raw = snap.minify({"partnerReferenceNo": reference_no, "applicant": applicant})
        headers = snap.signed_headers(
            client_secret=self._secret, access_token=self._token, partner_id=self._partner_id,
            channel_id=self._channel, external_id=external_id, method="POST", path=self._path, raw_body=raw,
            timestamp=snap.format_timestamp(self._clock()))
        try:
            resp = self._http.request("POST", self._url, body=raw, headers=headers, timeout=self._timeout,
                                      retries=False, redirect=False)
        except urllib3.exceptions.HTTPError as e:
            raise BankUnavailable(type(e).__name__) from e
        if resp.status >= 500 or resp.status == 429:
            raise BankUnavailable(f"HTTP {resp.status}")
        answer = _json_or_none(resp.data)
        if resp.status >= 300:
            answer = answer if isinstance(answer, dict) else {}
            raise IssuanceRefused(resp.status, answer.get("responseCode"), str(answer.get("responseMessage", "")))
        if not isinstance(answer, dict):
            raise BankUnavailable("unreadable answer")
        return answer


def _json_or_none(data: bytes):
    try:
        return json.loads(data)
    except ValueError:
        return None
