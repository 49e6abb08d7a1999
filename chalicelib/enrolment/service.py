"""Enrolment use cases: submit one application or an agency's upload, read a state."""
from __future__ import annotations

import hashlib
import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from chalicelib.core.errors import Conflict, InvalidInput
from chalicelib.enrolment.documents import document_facts
from chalicelib.enrolment.intake import RowError, parse_form, read_csv
from chalicelib.audit.chain import Action, Actor, Subject
from chalicelib.audit.service import AuditTrail, Record
from chalicelib.enrolment.model import Application, ApplicationForm, Program, State
from chalicelib.enrolment.repository import ApplicationRepository
from chalicelib.enrolment.workflow import EnrolmentWorkflow
from chalicelib.identity.nik import mask_nik
from chalicelib.identity.protection import PersonalDataVault


UPLOAD_WORKERS = 8
REAPPLICABLE_STATES = frozenset({State.REJECTED, State.FAILED})
"""A corrected application may follow one that was turned down; one that is open, active or
with operators (manual review, overdue) blocks the NIK."""


WORK_LIST_PURPOSE = "Art. 9 and Art. 20: operator's work list of applications"


def _purpose(form: ApplicationForm) -> str:
    if form.program is Program.RESIDENT_PAYMENT:
        return "Art. 18: payment card for a resident, NIK to be verified (Art. 19)"
    return f"Art. 17: registration for {form.program.value}, verification (Art. 19) and issuance (Art. 20)"


def new_application_id() -> str:
    """128 random bits: the id is the applicant's only key to their status."""
    return "app_" + secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Submitted:
    application: Application
    created: bool


class EnrolmentService:
    def __init__(self, repository: ApplicationRepository, vault: PersonalDataVault,
                 workflow: EnrolmentWorkflow, clock: Callable[[], datetime], audit: AuditTrail,
                 new_id: Callable[[], str] = new_application_id) -> None:
        self._repository = repository
        self._audit = audit
        self._vault = vault
        self._workflow = workflow
        self._clock = clock
        self._new_id = new_id

    def submit(self, form: ApplicationForm, actor: Actor) -> Submitted:
        """Store the application and start its workflow, once per NIK.

        The same form sent again (a retry, a re-uploaded file) returns the
        first application; a different form for the same NIK is a conflict.
        A stored application is a change of the person's data: it is recorded.
        """
        submitted, nik_index = self._submit(form)
        if submitted.created:
            self._audit.record(actor, Action.PERSONAL_DATA_CHANGED, Subject.person(nik_index),
                               _purpose(form), detail=submitted.application.application_id)
        return submitted

    def _submit(self, form: ApplicationForm, batch_id: str | None = None) -> tuple[Submitted, str]:
        nik_index = self._vault.index(form.nik)
        request_hash = hashlib.sha256(json.dumps(form.canonical(), sort_keys=True).encode()).hexdigest()
        now = self._clock().isoformat(timespec="milliseconds")
        application = Application(
            application_id=self._new_id(), state=State.SUBMITTED, program=form.program,
            school_level=form.school_level, village_code=form.village_code,
            documents=document_facts(form), nik_masked=mask_nik(form.nik),
            submitted_at=now, state_since=now, batch_id=batch_id,
        )
        sealed = self._vault.seal(form.personal_data())
        created = self._repository.create(application, nik_index, request_hash, sealed, application.documents)
        if not created:
            guard = self._repository.guard(nik_index)
            if guard is None:
                raise Conflict("SUBMISSION_IN_FLIGHT", "this NIK is being registered right now; retry")
            existing = self._repository.get(guard["application_id"])
            if guard["request_hash"] == request_hash:
                application = existing
            elif existing.state in REAPPLICABLE_STATES and self._repository.create(
                    application, nik_index, request_hash, sealed, application.documents,
                    replacing=existing.application_id):
                created = True
            else:
                raise Conflict("NIK_ALREADY_REGISTERED",
                               f"this NIK already has an application ({existing.state.value}) with different data",
                               state=existing.state.value)
        if application.state is State.SUBMITTED:
            self._workflow.start(application.application_id)
        return Submitted(application, created), nik_index

    def submit_upload(self, raw_csv: bytes, actor: Actor) -> dict[str, Any]:
        """An agency's CSV: every row gets a result; bad rows are reported, not stored.

        Rows are checked in file order (a NIK repeated in the file is named on
        its second row), then the good ones are stored a few at a time: each
        costs a handful of AWS calls, and one by one a full file would outlast
        API Gateway's 29 s.
        """
        batch_id = "batch_" + hashlib.sha256(raw_csv).hexdigest()[:20]
        today = self._clock().date()
        results: dict[int, dict[str, Any]] = {}
        forms: dict[int, ApplicationForm] = {}
        seen: dict[str, int] = {}
        for row, raw in read_csv(raw_csv):
            try:
                if "__error__" in raw:
                    raise InvalidInput(raw["__error__"], "the row has more cells than the header")
                form = parse_form(raw, today=today)
                if form.nik in seen:
                    raise InvalidInput("DUPLICATE_NIK_IN_UPLOAD",
                                       f"the same NIK is already on row {seen[form.nik]}", field="nik")
            except InvalidInput as error:
                results[row] = RowError(row, error.code, error.message, error.details.get("field")).to_dict()
                continue
            seen[form.nik] = row
            forms[row] = form

        changes: list[Record] = []

        def store(row: int) -> dict[str, Any]:
            try:
                submitted, nik_index = self._submit(forms[row], batch_id=batch_id)
            except (InvalidInput, Conflict) as error:
                return RowError(row, error.code, error.message, error.details.get("field")).to_dict()
            if submitted.created:
                changes.append(Record(actor, Action.PERSONAL_DATA_CHANGED, Subject.person(nik_index),
                                      _purpose(forms[row]), detail=submitted.application.application_id))
            return {"row": row, "applicationId": submitted.application.application_id,
                    "state": submitted.application.state.value, "created": submitted.created}

        try:
            with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS) as pool:
                results.update(zip(forms, pool.map(store, forms)))
        finally:
            self._audit.record_many(changes)
        ordered = [results[row] for row in sorted(results)]
        accepted = sum(1 for result in ordered if "applicationId" in result)
        return {"batchId": batch_id, "rows": len(ordered), "accepted": accepted,
                "rejected": len(ordered) - accepted, "results": ordered}

    def status(self, application_id: str) -> Application:
        return self._repository.get(application_id)

    def work_list(self, state: State, limit: int, cursor: str | None,
                  actor: Actor) -> tuple[list[Application], str | None]:
        """The operator's list by state; each application shown is a read of a person's data, recorded."""
        found, next_cursor = self._repository.list_by_state(state, limit, cursor)
        self._audit.record_many(Record(actor, Action.PERSONAL_DATA_READ, Subject.application(a.application_id),
                                       WORK_LIST_PURPOSE) for a in found)
        return found, next_cursor
