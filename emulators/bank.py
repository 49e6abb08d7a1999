"""Emulated partner bank (Bank DKI) for the card-issuance leg (Art. 11, Art. 20).

It accepts SNAP-signed issuance requests and, days later in emulated time, calls our
callback URL with the outcome, signed the same SNAP way.  Days are scaled by
``time_scale_s_per_day``, so the 7-day deadline can be exercised in seconds.  All random
draws (outcome, delay, references, card numbers) happen in request order from one seeded
generator, so the same requests give the same story.

A transport retry (automatic on 5xx / connection errors, or ``replay``) resends the same
body with the same X-EXTERNAL-ID, re-signed with a fresh X-TIMESTAMP; a ``duplicate``
outcome sends the result twice under two different X-EXTERNAL-IDs.
"""
from __future__ import annotations

import logging
import random
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import urllib3

from chalicelib.partners import snap
from emulators.dukcapil import JsonHttpService, mask_nik, read_json

log = logging.getLogger(__name__)

ISSUANCE_PATH = "/snap/v1.0/card-issuance"
APPLICANT_FIELDS = ("name", "nik", "birthDate", "bankAccount", "program")
OUTCOMES = ("issue", "reject", "silent", "duplicate")
CARD_BIN = "604850"
REJECT_REASONS = ("Nama tidak sesuai dengan pemilik rekening", "Rekening tidak ditemukan",
                  "Rekening tidak aktif", "Data KYC tidak lengkap")


def _jakarta_now() -> datetime:
    return datetime.now(snap.JAKARTA)


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


@dataclass
class _Issuance:
    reference_no: str
    bank_reference: str
    applicant: dict
    outcome: str
    delay_days: float
    card_last4: str
    reject_reason: str
    external_ids: list[str]
    result: dict | None = None
    last_external_id: str | None = None


class BankEmulator(JsonHttpService):
    def __init__(self, partner_id: str, client_secret: str, access_token: str, callback_url: str,
                 time_scale_s_per_day: float = 1.0, seed: int = 0, *, bank_partner_id: str = "BANKDKI",
                 channel_id: str = "95221", callback_attempts: int = 4, callback_backoff_s: float = 0.05,
                 clock: Callable[[], datetime] = _jakarta_now, http: urllib3.PoolManager | None = None):
        """``partner_id`` is the id the bank gave us (expected on requests); ``bank_partner_id`` signs callbacks."""
        self.partner_id, self.bank_partner_id = partner_id, bank_partner_id
        self._secret, self._token, self._channel = client_secret, access_token, channel_id
        self.callback_url = callback_url
        parts = urlsplit(callback_url)
        self._callback_path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.time_scale_s_per_day = time_scale_s_per_day
        self._attempts, self._backoff_s = callback_attempts, callback_backoff_s
        self._clock = clock
        self._http = http or urllib3.PoolManager()
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._mode, self._rates = "up", {"reject": 0.0, "duplicate": 0.0, "silent": 0.0}
        self._delay_days: list[float] | None = None
        self._delay_range: tuple[float, float] | None = None
        self._overrides: dict[str, dict] = {}
        self._external_ids: dict[tuple, tuple[str, tuple[int, dict]]] = {}
        self._issuances: dict[str, _Issuance] = {}
        self._timers: set[threading.Timer] = set()
        self._pending = 0
        self._callbacks: list[dict] = []
        self._stats = dict.fromkeys(("requests", "accepted", "repeats", "conflicts", "refused", "unavailable",
                                     "callbacksSent", "callbacksDelivered", "callbacksFailed"), 0)
        self._outcomes = dict.fromkeys(OUTCOMES, 0)

    # -- Python control API -------------------------------------------------------------------

    def set_behaviour(self, mode: str | None = None, reject_rate: float | None = None,
                      duplicate_rate: float | None = None, silent_rate: float | None = None,
                      delay_days: float | list[float] | None = None,
                      delay_days_range: tuple[float, float] | None = None,
                      overrides: dict[str, dict] | None = None) -> dict:
        """Change only what is given; ``overrides`` replaces the whole override table ({} clears it)."""
        if mode is not None and mode not in ("up", "down"):
            raise ValueError("mode must be 'up' or 'down'")
        rates = {k: v for k, v in (("reject", reject_rate), ("duplicate", duplicate_rate),
                                   ("silent", silent_rate)) if v is not None}
        if any(not isinstance(v, (int, float)) or not 0 <= v <= 1 for v in rates.values()):
            raise ValueError("rates are numbers in [0, 1]")
        if delay_days is not None:
            delay_days = [delay_days] if isinstance(delay_days, (int, float)) else list(delay_days)
            _check_days(*delay_days)
            if not delay_days:
                raise ValueError("delayDays must not be empty")
        if delay_days_range is not None:
            lo, hi = delay_days_range
            _check_days(lo, hi)
            if lo > hi:
                raise ValueError("delayDaysRange must be [low, high]")
        for o in (overrides or {}).values():
            if not isinstance(o, dict) or o.get("outcome", "issue") not in OUTCOMES:
                raise ValueError(f"override outcomes must be one of {OUTCOMES}")
            if "delayDays" in o:
                _check_days(o["delayDays"])
        with self._lock:
            if sum({**self._rates, **rates}.values()) > 1:
                raise ValueError("rejectRate + duplicateRate + silentRate must not exceed 1")
            self._mode = mode or self._mode
            self._rates.update(rates)
            if delay_days is not None:
                self._delay_days, self._delay_range = delay_days, None
            if delay_days_range is not None:
                self._delay_days, self._delay_range = None, (float(lo), float(hi))
            if overrides is not None:
                self._overrides = {str(k): dict(v) for k, v in overrides.items()}
            return self.behaviour()

    def behaviour(self) -> dict:
        with self._lock:
            return {"mode": self._mode, "rejectRate": self._rates["reject"],
                    "duplicateRate": self._rates["duplicate"], "silentRate": self._rates["silent"],
                    "delayDays": self._delay_days, "delayDaysRange": self._delay_range,
                    "overrides": {mask_nik(k) if re.fullmatch(r"\d{16}", k) else k: v
                                  for k, v in self._overrides.items()}}

    def stats(self) -> dict:
        with self._lock:
            return {**self._stats, "outcomes": dict(self._outcomes), "pending": self._pending}

    def callbacks(self, reference_no: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self._callbacks if reference_no in (None, c["partnerReferenceNo"])]

    def wait_idle(self, timeout: float) -> bool:
        """Block until every scheduled callback has been delivered or given up on."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def replay(self, reference_no: str) -> dict:
        """Resend the last callback for a reference with its X-EXTERNAL-ID: one attempt, synchronous."""
        with self._lock:
            issuance = self._issuances.get(reference_no)
            if issuance is None or issuance.last_external_id is None:
                raise KeyError(reference_no)
            external_id = issuance.last_external_id
        return self._send(issuance, external_id, attempts=1, replay=True)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._pending -= len(self._timers)
            self._timers.clear()
            self._idle.notify_all()
        super().stop()

    # -- HTTP ---------------------------------------------------------------------------------

    def handle(self, method, path, headers, raw):
        parts = urlsplit(path)
        if (method, parts.path) == ("POST", ISSUANCE_PATH):
            return self._issuance_request(parts.path, headers, raw)
        if (method, parts.path) == ("POST", "/_emulator/behaviour"):
            b = read_json(raw)
            try:
                return 200, self.set_behaviour(b.get("mode"), b.get("rejectRate"), b.get("duplicateRate"),
                                               b.get("silentRate"), b.get("delayDays"), b.get("delayDaysRange"),
                                               b.get("overrides"))
            except (AttributeError, TypeError, ValueError) as e:
                return 400, {"error": str(e) or type(e).__name__}
        if method == "POST" and parts.path.startswith("/_emulator/replay/"):
            try:
                return 200, self.replay(unquote(parts.path.removeprefix("/_emulator/replay/")))
            except KeyError:
                return 404, {"error": "no callback sent yet for that partnerReferenceNo"}
        if (method, parts.path) == ("GET", "/_emulator/stats"):
            return 200, self.stats()
        if (method, parts.path) == ("GET", "/_emulator/callbacks"):
            return 200, self.callbacks(parse_qs(parts.query).get("partnerReferenceNo", [None])[0])
        return 404, {"error": "no such endpoint"}

    def _issuance_request(self, path: str, headers, raw: bytes) -> tuple[int, dict]:
        service = snap.SERVICE_CARD_ISSUANCE
        with self._lock:
            self._stats["requests"] += 1
            if self._mode == "down":
                self._stats["unavailable"] += 1
                return 503, snap.snap_response("UNAVAILABLE", service)
        try:
            h = snap.authenticate(headers, method="POST", path=path, raw_body=raw, client_secret=self._secret,
                                  access_token=self._token, now=self._clock())
            if h.partner_id != self.partner_id:
                raise snap.SnapError("UNAUTHORIZED", detail="Unknown X-PARTNER-ID")
            reference_no, applicant = _parse_issuance(read_json(raw))
        except snap.SnapError as e:
            with self._lock:
                self._stats["refused"] += 1
            return e.http_status, e.response(service)
        day = snap.parse_timestamp(h.timestamp).astimezone(snap.JAKARTA).date()
        key, digest = (h.partner_id, day, h.external_id), snap.body_digest(raw)
        with self._lock:
            seen = self._external_ids.get(key)
            if seen and seen[0] != digest:
                self._stats["conflicts"] += 1
                return 409, snap.snap_response("DUPLICATE_EXTERNAL_ID", service,
                                               "Conflict. X-EXTERNAL-ID already used today")
            if seen:
                self._stats["repeats"] += 1
                return seen[1]
            existing = self._issuances.get(reference_no)
            if existing and existing.applicant != applicant:
                self._stats["conflicts"] += 1
                return 409, snap.snap_response("DUPLICATE_REFERENCE", service)
            if existing:
                self._stats["repeats"] += 1
                answer = 200, snap.snap_response("SUCCESS", service, partnerReferenceNo=reference_no,
                                                 referenceNo=existing.bank_reference)
            else:
                issuance = self._accept(reference_no, applicant)
                answer = 202, snap.snap_response("IN_PROGRESS", service, partnerReferenceNo=reference_no,
                                                 referenceNo=issuance.bank_reference)
            self._external_ids[key] = (digest, answer)
            return answer

    # -- issuance and callbacks ---------------------------------------------------------------

    def _accept(self, reference_no: str, applicant: dict) -> _Issuance:
        rng = self._rng
        u, delay_u, shape_u = rng.random(), rng.random(), rng.random()
        body = f"{CARD_BIN}{rng.randrange(10**9):09d}"
        issuance = _Issuance(
            reference_no=reference_no, bank_reference=f"DKI{rng.randrange(10**12):012d}", applicant=applicant,
            outcome=self._draw_outcome(u), delay_days=self._draw_delay(delay_u, shape_u),
            card_last4=(body + _luhn_digit(body))[-4:], reject_reason=rng.choice(REJECT_REASONS),
            external_ids=[f"{rng.getrandbits(64):020d}" for _ in range(2)])
        override = self._overrides.get(reference_no) or self._overrides.get(applicant["nik"]) or {}
        issuance.outcome = override.get("outcome", issuance.outcome)
        issuance.delay_days = float(override.get("delayDays", issuance.delay_days))
        self._issuances[reference_no] = issuance
        self._stats["accepted"] += 1
        self._outcomes[issuance.outcome] += 1
        log.info("accepted %s nik=%s outcome=%s in %.2f days", reference_no, mask_nik(applicant["nik"]),
                 issuance.outcome, issuance.delay_days)
        if issuance.outcome != "silent" and not self._stopping.is_set():
            timer = threading.Timer(issuance.delay_days * self.time_scale_s_per_day,
                                    lambda: self._deliver_result(issuance, timer))
            timer.daemon = True
            self._timers.add(timer)
            self._pending += 1
            timer.start()
        return issuance

    def _draw_outcome(self, u: float) -> str:
        for outcome in ("silent", "reject", "duplicate"):
            if u < self._rates[outcome]:
                return outcome
            u -= self._rates[outcome]
        return "issue"

    def _draw_delay(self, u: float, shape: float) -> float:
        """Default: 90% within 1-5 days, 7% 5-7 days, 3% beyond the 7-day deadline (7-14)."""
        if self._delay_days:
            return float(self._delay_days[int(u * len(self._delay_days))])
        if self._delay_range:
            lo, hi = self._delay_range
            return lo + u * (hi - lo)
        lo, hi = (1, 5) if shape < 0.90 else (5, 7) if shape < 0.97 else (7, 14)
        return lo + u * (hi - lo)

    def _deliver_result(self, issuance: _Issuance, timer: threading.Timer) -> None:
        with self._lock:
            self._timers.discard(timer)
        try:
            result = {"partnerReferenceNo": issuance.reference_no, "originalReferenceNo": issuance.bank_reference}
            now = snap.format_timestamp(self._clock())
            if issuance.outcome == "reject":
                result.update(issuanceStatus="REJECTED", rejectReason=issuance.reject_reason, rejectedAt=now)
            else:
                result.update(issuanceStatus="ISSUED", cardNumberMasked=f"{CARD_BIN[:4]} {CARD_BIN[4:]}** **** "
                                                                        f"{issuance.card_last4}", issuedAt=now)
            issuance.result = result
            for external_id in issuance.external_ids[:2 if issuance.outcome == "duplicate" else 1]:
                if self._stopping.is_set():
                    break
                with self._lock:
                    issuance.last_external_id = external_id
                self._send(issuance, external_id, self._attempts)
        finally:
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def _send(self, issuance: _Issuance, external_id: str, attempts: int, replay: bool = False) -> dict:
        raw = snap.minify(issuance.result)
        record: dict = {}
        for attempt in range(1, attempts + 1):
            headers = snap.signed_headers(
                client_secret=self._secret, access_token=self._token, partner_id=self.bank_partner_id,
                channel_id=self._channel, external_id=external_id, method="POST", path=self._callback_path,
                raw_body=raw, timestamp=snap.format_timestamp(self._clock()))
            status = answer = error = None
            try:
                resp = self._http.request("POST", self.callback_url, body=raw, headers=headers, retries=False,
                                          redirect=False, timeout=urllib3.Timeout(total=5))
                status, answer = resp.status, read_json(resp.data)
                if answer is None:
                    answer = resp.data.decode(errors="replace")[:500]
            except urllib3.exceptions.HTTPError as e:
                error = type(e).__name__
            record = {"partnerReferenceNo": issuance.reference_no, "externalId": external_id, "attempt": attempt,
                      "replay": replay, "issuanceStatus": issuance.result["issuanceStatus"],
                      "rejectReason": issuance.result.get("rejectReason"),
                      "status": status, "body": answer, "error": error}
            final = (status is not None and status < 500) or attempt == attempts
            with self._lock:
                self._callbacks.append(record)
                self._stats["callbacksSent"] += 1
                if final:
                    self._stats["callbacksDelivered" if status and 200 <= status < 300 else "callbacksFailed"] += 1
            if final or self._stopping.wait(self._backoff_s * 2 ** (attempt - 1)):
                break
        return record


def _check_days(*days) -> None:
    if any(not isinstance(d, (int, float)) or d < 0 for d in days):
        raise ValueError("delays are non-negative numbers of days")


def _parse_issuance(body) -> tuple[str, dict]:
    if not isinstance(body, dict):
        raise snap.SnapError("BAD_REQUEST", detail="body must be a JSON object")
    reference_no, applicant = body.get("partnerReferenceNo"), body.get("applicant")
    if not reference_no:
        raise snap.SnapError("MISSING_MANDATORY_FIELD", "partnerReferenceNo")
    if not isinstance(reference_no, str) or len(reference_no) > 64:
        raise snap.SnapError("INVALID_FIELD_FORMAT", "partnerReferenceNo")
    if not isinstance(applicant, dict):
        raise snap.SnapError("MISSING_MANDATORY_FIELD", "applicant")
    for name in APPLICANT_FIELDS:
        if not applicant.get(name):
            raise snap.SnapError("MISSING_MANDATORY_FIELD", f"applicant.{name}")
    if not isinstance(applicant["nik"], str) or not re.fullmatch(r"\d{16}", applicant["nik"]):
        raise snap.SnapError("INVALID_FIELD_FORMAT", "applicant.nik")
    try:
        date.fromisoformat(applicant["birthDate"])
    except (TypeError, ValueError):
        raise snap.SnapError("INVALID_FIELD_FORMAT", "applicant.birthDate") from None
    return reference_no, applicant
