"""Bank Indonesia SNAP conventions for the bank link (Art. 11): symmetric signature, headers, response codes.

The signature is HMAC-SHA512 over ``METHOD:path:accessToken:sha256hex(minified body):timestamp``
and must be verified against the raw body exactly as received, never a re-serialised copy.

SNAP defines no card-issuance service, so the two service codes below are chosen by this
project.  Note that SNAP itself uses 73 for "Access Token (B2B)"; the codes only have to be
unambiguous between us and the bank for this endpoint pair.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping

JAKARTA = timezone(timedelta(hours=7), "WIB")
SERVICE_CARD_ISSUANCE = "72"
SERVICE_CARD_ISSUANCE_NOTIFY = "73"
DEFAULT_TOLERANCE = timedelta(minutes=5)

CASES: dict[str, tuple[int, str, str]] = {
    "SUCCESS": (200, "00", "Successful"),
    "IN_PROGRESS": (202, "00", "Request In Progress"),
    "BAD_REQUEST": (400, "00", "Bad Request"),
    "INVALID_FIELD_FORMAT": (400, "01", "Invalid Field Format"),
    "INVALID_TIMESTAMP": (400, "01", "Invalid Field Format"),
    "MISSING_MANDATORY_FIELD": (400, "02", "Invalid Mandatory Field"),
    "UNAUTHORIZED": (401, "00", "Unauthorized"),
    "INVALID_TOKEN": (401, "01", "Invalid Token (B2B)"),
    "DUPLICATE_EXTERNAL_ID": (409, "00", "Conflict"),
    "DUPLICATE_REFERENCE": (409, "01", "Duplicate partnerReferenceNo"),
    "TOO_MANY_REQUESTS": (429, "00", "Too Many Requests"),
    "GENERAL_ERROR": (500, "00", "General Error"),
    "UNAVAILABLE": (503, "00", "Service Unavailable"),
}
"""Symbolic case -> (HTTP status, SNAP case code, SNAP response message)."""

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


class SnapError(Exception):
    """A SNAP-level refusal; ``code`` is a key of ``CASES`` so callers can answer in SNAP form."""

    def __init__(self, code: str, field: str | None = None, detail: str | None = None):
        self.code, self.field, self.detail = code, field, detail
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return CASES[self.code][0]

    @property
    def message(self) -> str:
        text = CASES[self.code][2] + (f" {self.field}" if self.field else "")
        return f"{text}. {self.detail}" if self.detail else text

    def response(self, service_code: str) -> dict:
        return snap_response(self.code, service_code, self.message)


def response_code(http_status: int, service_code: str, case_code: str) -> str:
    if not (100 <= http_status <= 599 and re.fullmatch(r"\d\d", service_code) and re.fullmatch(r"\d\d", case_code)):
        raise ValueError(f"not a SNAP code: {http_status}/{service_code}/{case_code}")
    return f"{http_status}{service_code}{case_code}"


def snap_response(case: str, service_code: str, message: str | None = None, **extra) -> dict:
    status, case_code, default_message = CASES[case]
    return {"responseCode": response_code(status, service_code, case_code),
            "responseMessage": message or default_message, **extra}


def minify(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def string_to_sign(method: str, path: str, access_token: str, raw_body: bytes, timestamp: str) -> str:
    return f"{method.upper()}:{path}:{access_token}:{body_digest(raw_body)}:{timestamp}"


def sign(client_secret: str, method: str, path: str, access_token: str, raw_body: bytes, timestamp: str) -> str:
    message = string_to_sign(method, path, access_token, raw_body, timestamp).encode()
    return base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha512).digest()).decode()


def verify(client_secret: str, method: str, path: str, access_token: str, raw_body: bytes, timestamp: str,
           signature: str) -> bool:
    expected = sign(client_secret, method, path, access_token, raw_body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())


def format_timestamp(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: the wall clock it refers to is unknown")
    return dt.astimezone(JAKARTA).isoformat(timespec="seconds")


def parse_timestamp(text: str) -> datetime:
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        raise SnapError("INVALID_TIMESTAMP", "X-TIMESTAMP", "expected yyyy-MM-ddTHH:mm:ss+hh:mm")
    try:
        return datetime.fromisoformat(text)
    except ValueError as e:
        raise SnapError("INVALID_TIMESTAMP", "X-TIMESTAMP", "not a calendar time") from e


def is_fresh(ts: datetime, now: datetime, tolerance: timedelta = DEFAULT_TOLERANCE) -> bool:
    return abs(now - ts) <= tolerance


@dataclass(frozen=True)
class SnapHeaders:
    timestamp: str
    partner_id: str
    external_id: str
    channel_id: str
    signature: str
    access_token: str

    _NAMES = (("timestamp", "X-TIMESTAMP"), ("partner_id", "X-PARTNER-ID"), ("external_id", "X-EXTERNAL-ID"),
              ("channel_id", "CHANNEL-ID"), ("signature", "X-SIGNATURE"))

    @classmethod
    def from_mapping(cls, headers: Mapping[str, str]) -> "SnapHeaders":
        lowered = {k.lower(): v.strip() for k, v in headers.items()}
        values = {}
        for attr, name in (*cls._NAMES, ("access_token", "Authorization")):
            if not lowered.get(name.lower()):
                raise SnapError("MISSING_MANDATORY_FIELD", name)
            values[attr] = lowered[name.lower()]
        scheme, _, token = values["access_token"].partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SnapError("INVALID_TOKEN", detail="expected 'Bearer <token>'")
        values["access_token"] = token.strip()
        return cls(**values)

    def to_mapping(self) -> dict[str, str]:
        out = {name: getattr(self, attr) for attr, name in self._NAMES}
        out["Authorization"] = f"Bearer {self.access_token}"
        return out


def signed_headers(*, client_secret: str, access_token: str, partner_id: str, channel_id: str, external_id: str,
                   method: str, path: str, raw_body: bytes, timestamp: str) -> dict[str, str]:
    signature = sign(client_secret, method, path, access_token, raw_body, timestamp)
    headers = SnapHeaders(timestamp, partner_id, external_id, channel_id, signature, access_token).to_mapping()
    return {"Content-Type": "application/json", **headers}


def authenticate(headers: Mapping[str, str], *, method: str, path: str, raw_body: bytes, client_secret: str,
                 access_token: str, now: datetime, tolerance: timedelta = DEFAULT_TOLERANCE) -> SnapHeaders:
    """Check an inbound request's token, timestamp window and signature; replays are the caller's (stateful) job."""
    parsed = SnapHeaders.from_mapping(headers)
    if not hmac.compare_digest(parsed.access_token.encode(), access_token.encode()):
        raise SnapError("INVALID_TOKEN")
    if not is_fresh(parse_timestamp(parsed.timestamp), now, tolerance):
        raise SnapError("UNAUTHORIZED", detail="X-TIMESTAMP outside the accepted window")
    if not verify(client_secret, method, path, parsed.access_token, raw_body, parsed.timestamp, parsed.signature):
        raise SnapError("UNAUTHORIZED", detail="Invalid signature")
    return parsed
