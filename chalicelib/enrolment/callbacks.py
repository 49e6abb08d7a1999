"""The bank's card-issuance callback (Art. 20), received SNAP-style.

A callback is authenticated (token, timestamp window, HMAC over the raw body),
made idempotent on the bank's ``X-EXTERNAL-ID`` (the same id and body get the
same answer; the same id with another body is refused), and then resumes the
waiting workflow exactly once per application: the application is marked
before the task token is used, so a second callback with a fresh id finds the
mark and changes nothing.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.core.errors import DependencyUnavailable, NotFound
from chalicelib.core.idempotency import IdempotencyKeyReused, RequestInProgress
from chalicelib.enrolment.model import State
from chalicelib.enrolment.repository import ApplicationRepository
from chalicelib.enrolment.workflow import EnrolmentWorkflow
from chalicelib.partners.snap import (
    JAKARTA,
    SERVICE_CARD_ISSUANCE_NOTIFY,
    SnapError,
    authenticate,
    snap_response,
)

SERVICE = SERVICE_CARD_ISSUANCE_NOTIFY
MAX_CALLBACK_BYTES = 16 * 1024
"""A notification is a few hundred bytes; anything near this size is not one."""
_MASKED_PAN = re.compile(r"^[0-9]{0,6}\*{2,}[0-9]{4}$")
BANK_REJECTED = "BankRejected"
"""The error the waiting workflow task fails with; the state machine catches it by this name."""


class IssuanceNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    partnerReferenceNo: str = Field(pattern=r"^app_[A-Za-z0-9_-]{10,64}$")
    originalReferenceNo: str = Field(min_length=1, max_length=64)
    issuanceStatus: Literal["ISSUED", "REJECTED"]
    cardNumberMasked: str | None = Field(default=None, pattern=r"^[0-9* ]{12,23}$")
    """Masked as PCI DSS allows at most: the first six and the last four digits in clear."""
    rejectReason: str | None = Field(default=None, min_length=1, max_length=200)
    issuedAt: datetime | None = None

    @model_validator(mode="after")
    def _outcome_is_complete(self) -> "IssuanceNotification":
        if self.issuanceStatus == "ISSUED":
            if not self.cardNumberMasked or not _MASKED_PAN.match(self.cardNumberMasked.replace(" ", "")):
                raise ValueError("an issued card needs cardNumberMasked: at most 6 leading and 4 trailing digits")
        elif not self.rejectReason:
            raise ValueError("a rejection needs rejectReason")
        return self


@dataclass(frozen=True)
class CallbackAnswer:
    status: int
    body: dict[str, Any]


def answer(case: str, code: str, message: str | None = None) -> CallbackAnswer:
    body = snap_response(case, SERVICE, message, code=code)
    status = int(body["responseCode"][:3])
    return CallbackAnswer(status, body)


@dataclass(frozen=True)
class BankPartner:
    partner_id: str
    client_secret: str
    access_token: str


class IssuanceCallbacks:
    def __init__(self, repository: ApplicationRepository, workflow: EnrolmentWorkflow,
                 partner: BankPartner, idempotent: Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]],
                 clock: Callable[[], datetime], tolerance: timedelta) -> None:
        self._repository = repository
        self._workflow = workflow
        self._partner = partner
        self._clock = clock
        self._tolerance = tolerance
        self._process_once = idempotent(self._process)

    def receive(self, method: str, path: str, headers: Mapping[str, str], raw_body: bytes) -> CallbackAnswer:
        try:
            snap = authenticate(headers, method=method, path=path, raw_body=raw_body,
                                client_secret=self._partner.client_secret,
                                access_token=self._partner.access_token,
                                now=self._clock(), tolerance=self._tolerance)
        except SnapError as error:
            return CallbackAnswer(error.http_status, {**error.response(SERVICE), "code": f"SNAP_{error.code}"})
        if snap.partner_id != self._partner.partner_id:
            return answer("UNAUTHORIZED", "UNKNOWN_PARTNER", "Unauthorized. Unknown X-PARTNER-ID")
        if len(raw_body) > MAX_CALLBACK_BYTES:
            return answer("INVALID_FIELD_FORMAT", "CALLBACK_TOO_LARGE", "Invalid Field Format body too large")
        try:
            notification = IssuanceNotification.model_validate_json(raw_body)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "body"
            return answer("INVALID_FIELD_FORMAT", "INVALID_CALLBACK", f"Invalid Field Format {field}")
        day = self._clock().astimezone(JAKARTA).date().isoformat()
        request = {
            "key": f"{snap.partner_id}#{day}#{snap.external_id}",
            "bodyHash": hashlib.sha256(raw_body).hexdigest(),
            "notification": notification.model_dump(mode="json"),
        }
        try:
            return CallbackAnswer(**self._process_once(request=request))
        except IdempotencyKeyReused:
            return answer("DUPLICATE_EXTERNAL_ID", "DUPLICATE_EXTERNAL_ID",
                          "Conflict. X-EXTERNAL-ID already used today with another body")
        except DependencyUnavailable as error:
            return answer("UNAVAILABLE", error.code, "Service Unavailable. Repeat the callback with the same X-EXTERNAL-ID")
        except RequestInProgress:
            return answer("TOO_MANY_REQUESTS", "REQUEST_IN_PROGRESS",
                          "Too Many Requests. The same callback is being processed; repeat it for its result")

    def _process(self, request: dict[str, Any]) -> dict[str, Any]:
        notification = IssuanceNotification.model_validate(request["notification"])
        result = self._apply(notification)
        return {"status": result.status, "body": result.body}

    def _apply(self, notification: IssuanceNotification) -> CallbackAnswer:
        application_id = notification.partnerReferenceNo
        try:
            application = self._repository.get(application_id)
        except NotFound:
            return answer("BAD_REQUEST", "APPLICATION_NOT_FOUND", "Bad Request. Unknown partnerReferenceNo")
        received_at = self._clock().isoformat(timespec="milliseconds")
        outcome = {"status": notification.issuanceStatus, "bankReference": notification.originalReferenceNo,
                   "receivedAt": received_at}

        if application.state is State.ISSUANCE_OVERDUE:
            self._repository.mark_once(application_id, "late_callback", outcome, [State.ISSUANCE_OVERDUE])
            return answer("DUPLICATE_REFERENCE", "ISSUANCE_DEADLINE_PASSED",
                          "Conflict. The 7-day deadline had passed; the application is with operators")
        if application.state is State.MANUAL_REVIEW:
            self._repository.mark_once(application_id, "late_callback", outcome, [State.MANUAL_REVIEW])
            return answer("DUPLICATE_REFERENCE", "NOT_AWAITING_ISSUANCE",
                          "Conflict. The application is with operators (MANUAL_REVIEW); the result is kept for them")
        if application.state is not State.AWAITING_ISSUANCE or not application.task_token:
            if _same_outcome(application, notification):
                return answer("SUCCESS", "ALREADY_RECORDED")
            return answer("DUPLICATE_REFERENCE", "NOT_AWAITING_ISSUANCE",
                          f"Conflict. The application is {application.state.value}")
        if not self._repository.mark_once(application_id, "callback", outcome, [State.AWAITING_ISSUANCE]):
            return answer("DUPLICATE_REFERENCE", "DUPLICATE_CALLBACK",
                          "Conflict. A callback for this application was already received")

        try:
            resumed = self._resume(application.task_token, notification, received_at,
                                   _within(received_at, application.issuance_deadline))
        except DependencyUnavailable:
            self._repository.clear(application_id, "callback")
            raise
        if not resumed:
            return answer("DUPLICATE_REFERENCE", "ISSUANCE_DEADLINE_PASSED",
                          "Conflict. The issuance task had already closed")
        return answer("SUCCESS", "RECORDED")

    def _resume(self, task_token: str, notification: IssuanceNotification, received_at: str,
                within_deadline: bool | None) -> bool:
        if notification.issuanceStatus == "ISSUED":
            return self._workflow.resume(task_token, {
                "withinDeadline": within_deadline,
                "cardNumberMasked": notification.cardNumberMasked,
                "bankReference": notification.originalReferenceNo,
                "issuedAt": notification.issuedAt.isoformat() if notification.issuedAt else None,
                "receivedAt": received_at,
            })
        return self._workflow.fail(task_token, BANK_REJECTED, _reason_code(notification.rejectReason or ""))


def _within(received_at: str, deadline: str | None) -> bool | None:
    """The wait's timeout starts a moment after verification; the Art. 20 deadline is counted from it."""
    if deadline is None:
        return None
    return datetime.fromisoformat(received_at) <= datetime.fromisoformat(deadline)


def _same_outcome(application: Any, notification: IssuanceNotification) -> bool:
    if notification.issuanceStatus == "ISSUED":
        return application.state is State.CARD_ACTIVE and application.bank_reference == notification.originalReferenceNo
    return application.state is State.REJECTED and application.reasons == [_reason_code(notification.rejectReason or "")]


def _reason_code(reason: str) -> str:
    """The bank's free text as a code; digits are dropped, a reason may quote an account or a NIK."""
    words = re.sub(r"[^A-Z]+", "_", reason.upper() if reason.isascii() else "")
    code = words.strip("_")
    return f"BANK_{code[:60]}" if code else "BANK_REJECTED"
