"""The enrolment workflow's task handlers (one Lambda function each).

Each takes the small JSON the state machine passes, reads the application,
does one thing and returns what the next Choice needs. Any of them may run
twice (a Lambda retry after a timeout), so each is written to be repeated:
a transition already made is not an error.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable

from chalicelib.audit.chain import Action, Actor, Subject
from chalicelib.audit.service import AuditTrail
from chalicelib.core.observability import logger
from chalicelib.enrolment.documents import missing_documents
from chalicelib.enrolment.model import FINAL_STATES, OPEN_STATES, State
from chalicelib.enrolment.repository import ApplicationRepository, TransitionRefused
from chalicelib.identity.protection import PersonalDataVault

WORKFLOW_ACTOR = Actor("enrolment-workflow", "SYSTEM")
VERIFICATION_PURPOSE = "Art. 19(2): NIK, name and birth date checked with Dukcapil"
ISSUANCE_PURPOSE = "Art. 20: data given to the appointed bank to issue the card"
OUTCOMES = {State.CARD_ACTIVE, State.REJECTED, State.MANUAL_REVIEW, State.ISSUANCE_OVERDUE, State.FAILED}


class EnrolmentTasks:
    def __init__(self, repository: ApplicationRepository, vault: PersonalDataVault, registry: Any,
                 bank: Any, clock: Callable[[], datetime], issuance_deadline: timedelta,
                 audit: AuditTrail) -> None:
        self._repository = repository
        self._audit = audit
        self._vault = vault
        self._registry = registry
        self._bank = bank
        self._clock = clock
        self._deadline = issuance_deadline

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")

    def _unseal(self, application: Any, purpose: str) -> dict[str, Any]:
        """Every use of the sealed personal data is recorded before the data is read."""
        self._audit.record(WORKFLOW_ACTOR, Action.PERSONAL_DATA_READ, Subject.application(application.application_id),
                           purpose)
        return self._vault.unseal(application.sealed_personal_data)

    def check_documents(self, event: dict[str, Any]) -> dict[str, Any]:
        application = self._repository.get(event["applicationId"])
        reasons = missing_documents(application.documents)
        return {"complete": not reasons, "reasons": reasons}

    def verify_nik(self, event: dict[str, Any]) -> dict[str, Any]:
        """Art. 19(2): ask Dukcapil whether NIK, name and birth date belong together."""
        application = self._repository.get(event["applicationId"])
        if application.state is not State.SUBMITTED:
            return {"match": application.verified_at is not None}
        person = self._unseal(application, VERIFICATION_PURPOSE)
        match = self._registry.verify(person["nik"], person["full_name"],
                                      date.fromisoformat(person["birth_date"]))
        if match:
            now = self._clock()
            try:
                self._repository.transition(
                    application.application_id, [State.SUBMITTED], State.VERIFIED, self._now(),
                    changes={"verified_at": now.isoformat(timespec="milliseconds"),
                             "issuance_deadline": (now + self._deadline).isoformat(timespec="milliseconds")})
            except TransitionRefused:
                pass
        return {"match": match}

    def request_issuance(self, event: dict[str, Any]) -> dict[str, Any]:
        """Art. 20: hand the verified data to the bank and park the task token until it calls back."""
        application_id = event["applicationId"]
        application = self._repository.get(application_id)
        self._repository.transition(application_id, [State.VERIFIED, State.AWAITING_ISSUANCE],
                                    State.AWAITING_ISSUANCE, self._now(),
                                    changes={"task_token": event["taskToken"]})
        person = self._unseal(application, ISSUANCE_PURPOSE)
        applicant = {"name": person["full_name"], "nik": person["nik"], "birthDate": person["birth_date"],
                     "bankAccount": person["bank_account"], "program": application.program.value}
        attempt = self._clock().strftime("%H%M%S%f")
        reply = self._bank.request_issuance(application_id, applicant, external_id=f"{application_id}-{attempt}")
        logger().info("issuance requested", extra={"application_id": application_id})
        return {"bankReference": reply.get("referenceNo")}

    def record_outcome(self, event: dict[str, Any]) -> dict[str, Any]:
        """Write the application's final state; repeating the same outcome changes nothing."""
        application_id = event["applicationId"]
        outcome = State(event["outcome"])
        if outcome not in OUTCOMES:
            raise ValueError(f"{outcome.value} is not an outcome")
        if event.get("fault"):
            fault = event["fault"]
            logger().error("workflow fault recorded", extra={
                "application_id": application_id, "outcome": outcome.value,
                "error": str(fault.get("Error")), "cause": str(fault.get("Cause"))[:2000]})
        changes: dict[str, Any] = {"stage": event.get("stage", "WORKFLOW"),
                                   "reasons": _reasons(event)}
        issuance = event.get("issuance")
        if outcome is State.CARD_ACTIVE and issuance:
            changes.update({"issued_at": issuance["receivedAt"], "bank_issued_at": issuance.get("issuedAt"),
                            "card_number_masked": issuance["cardNumberMasked"],
                            "bank_reference": issuance.get("bankReference"),
                            "issued_within_deadline": issuance.get("withinDeadline")})
        try:
            self._repository.transition(application_id, OPEN_STATES, outcome, self._now(),
                                        changes=changes, remove=["task_token"],
                                        detail={"stage": changes["stage"], "reasons": changes["reasons"]})
        except TransitionRefused:
            current = self._repository.get(application_id)
            if current.state is not outcome or current.state not in FINAL_STATES:
                raise
        return {"applicationId": application_id, "state": outcome.value, "reasons": changes["reasons"]}


def _reasons(event: dict[str, Any]) -> list[str]:
    if event.get("reasons"):
        return [str(reason) for reason in event["reasons"]]
    if event.get("bankRejection"):
        return [str(event["bankRejection"].get("Cause") or "BANK_REJECTED")]
    if event.get("fault"):
        return [str(event["fault"].get("Error") or "WORKFLOW_FAULT")]
    return []
