"""An agency's bulk upload of a program's recipients: received by the API, processed by the workflow.

:meth:`RecipientUploads.receive` (the API) checks the file as a whole (a
readable CSV with the right header, at most 50,000 rows), stores its rows in
sealed chunks and an upload record (``RECEIVED``), and starts the upload
workflow, whose one task, :meth:`RecipientUploads.process_next_chunk`, it
calls until the upload is ``COMPLETED``. The upload's id is a hash of the
program and the file: sending the same file again answers with the same
upload and writes nothing.

Processing is resumable: the record says which chunk is due; a chunk's
writes are whole items keyed by what they are (a recipient by program and
NIK index), and its counts are added under a condition on the chunk number,
so a chunk processed twice (a retried task) stores and counts its rows once.
Its audit entries are written before its recipients: a retried chunk may
record its rows again, never not at all.
"""
from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any, Callable

from botocore.exceptions import ClientError

from chalicelib.audit.chain import Action, Actor, Subject
from chalicelib.audit.service import AuditTrail, Record
from chalicelib.core.errors import Conflict, DependencyUnavailable, InvalidInput, NotFound
from chalicelib.identity.protection import PersonalDataVault
from chalicelib.registry.model import Program, ProgramStatus
from chalicelib.registry.recipients import (
    Candidate,
    Holdings,
    Problem,
    RecipientRow,
    chunks,
    parse_row,
    read_upload,
    screen,
    upload_id as upload_id_of,
)
from chalicelib.registry.service import RegistryService
from chalicelib.registry.upload_store import UploadStore, chunk_key, kk_key, problems_key, recipient_key

PROBLEMS_PAGE = 100
CHUNKS_PER_STEP = 1
"""Stored chunks one workflow step processes. More per step would pay the audit chains' head updates less
often, but on the local cloud steps of 5,000 rows did not carry a 50,000-row file through; one chunk per step does."""
PROBLEM_ITEMS_READ = 20
"""Chunks' problem items read for one page: a short page with a nextToken when they hold few."""
UPLOAD_PURPOSE = "Art. 8: recipient data submitted by the program's agency"


class UploadState(str, Enum):
    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class UploadWorkflow:
    """Starts the recipient-upload state machine, one execution per upload (named by its id)."""

    def __init__(self, stepfunctions: Any, state_machine_arn: str) -> None:
        self._sfn = stepfunctions
        self._arn = state_machine_arn

    def start(self, agency: str, code: str, upload_id: str) -> None:
        try:
            self._sfn.start_execution(stateMachineArn=self._arn, name=upload_id,
                                      input=json.dumps({"agency": agency, "code": code, "uploadId": upload_id}))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return
            raise DependencyUnavailable("WORKFLOW_UNAVAILABLE",
                                        "the upload workflow could not be started; retry") from error


def _counts(item: dict[str, Any]) -> dict[str, int]:
    return {name: int(item.get(name, 0)) for name in ("processed", "accepted", "rejected", "flagged")}


class RecipientUploads:
    def __init__(self, registry: RegistryService, store: UploadStore, vault: PersonalDataVault,
                 workflow: UploadWorkflow | None, audit: AuditTrail, clock: Callable[[], datetime]) -> None:
        self._registry = registry
        self._store = store
        self._vault = vault
        self._workflow = workflow
        self._audit = audit
        self._clock = clock

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")

    # ------------------------------------------------------------ the API's part
    def receive(self, agency: str, code: str, content: bytes, actor: Actor) -> tuple[dict[str, Any], bool]:
        """Store the file and start its processing; ``(status, created)``. The same file again: the first upload."""
        program = self._registry.get(agency, code)
        upload_id = upload_id_of(program.ref, content)
        existing = self._store.get_upload(agency, code, upload_id)
        if existing is not None:
            return self.view(existing), False
        if program.status is ProgramStatus.CLOSED:
            raise Conflict("PROGRAM_CLOSED", "a closed program takes no more recipients")
        rows = read_upload(content)
        parts = chunks(rows)
        self._store.put_many([{**chunk_key(upload_id, number), "sealed_rows": self._vault.seal({"rows": part})}
                              for number, part in enumerate(parts)])
        now = self._now()
        record = {"upload_id": upload_id, "program": program.ref, "state": UploadState.RECEIVED.value,
                  "rows_total": len(rows), "chunks_total": len(parts), "chunks_done": 0,
                  "processed": 0, "accepted": 0, "rejected": 0, "flagged": 0,
                  "uploaded_by": actor.subject, "uploaded_role": actor.role, "received_at": now, "updated_at": now}
        created = self._store.create_upload(agency, code, upload_id, record)
        if self._workflow is not None:
            self._workflow.start(agency, code, upload_id)
        stored = self._store.get_upload(agency, code, upload_id) if not created else record
        return self.view(stored or record), created

    def status(self, agency: str, code: str, upload_id: str, next_token: str | None) -> dict[str, Any]:
        self._registry.get(agency, code)
        item = self._store.get_upload(agency, code, upload_id) if upload_id.startswith("upl_") else None
        if item is None:
            raise NotFound("UPLOAD_NOT_FOUND", "this program has no upload with this id")
        chunk, offset = _parse_token(next_token, int(item["chunks_total"]))
        problems: list[dict[str, Any]] = []
        token = None
        items = self._store.problems(upload_id, chunk, PROBLEM_ITEMS_READ)
        for problem_item in items:
            number = int(problem_item["sk"].split("#")[1])
            start = offset if number == chunk else 0
            listed = problem_item["problems"][start:]
            room = PROBLEMS_PAGE - len(problems)
            problems.extend({"row": int(row), "code": problem_code} for row, problem_code in listed[:room])
            if len(listed) > room:
                token = f"{number}.{start + room}"
                break
        else:
            if len(items) == PROBLEM_ITEMS_READ:
                last = int(items[-1]["sk"].split("#")[1])
                token = f"{last + 1}.0" if last + 1 < int(item["chunks_total"]) else None
        return {**self.view(item), "problems": problems, "nextToken": token}

    @staticmethod
    def view(item: dict[str, Any]) -> dict[str, Any]:
        agency, _, code = item["program"].partition(":")
        return {"uploadId": item["upload_id"], "program": item["program"], "state": item["state"],
                "rowsTotal": int(item["rows_total"]), "rowsProcessed": int(item.get("processed", 0)),
                "accepted": int(item.get("accepted", 0)), "rejected": int(item.get("rejected", 0)),
                "flagged": int(item.get("flagged", 0)), "receivedAt": item["received_at"],
                "updatedAt": item["updated_at"],
                "statusUrl": f"/registry/programs/{code}/recipients/uploads/{item['upload_id']}"}

    # ------------------------------------------------------------ the workflow's part
    def process_next_chunk(self, agency: str, code: str, upload_id: str) -> dict[str, Any]:
        """Process the chunk the upload is due for; ``done`` once every chunk is counted."""
        item = self._store.get_upload(agency, code, upload_id)
        if item is None:
            raise NotFound("UPLOAD_NOT_FOUND", "no such upload")
        number, total = int(item["chunks_done"]), int(item["chunks_total"])
        if number >= total or item["state"] in (UploadState.COMPLETED.value, UploadState.FAILED.value):
            return {"done": True, "chunk": number}
        program = self._registry.get(agency, code)
        parts = []
        for chunk_number in range(number, min(number + CHUNKS_PER_STEP, total)):
            stored_chunk = self._store.chunk(upload_id, chunk_number)
            if stored_chunk is None:
                raise NotFound("UPLOAD_CHUNK_MISSING", f"chunk {chunk_number} of the upload is missing")
            parts.append((chunk_number, self._vault.unseal(stored_chunk["sealed_rows"])["rows"]))
        actor = Actor(item["uploaded_by"], item.get("uploaded_role", "AGENCY_HEAD"), agency)
        counts = self._process(program, upload_id, parts, actor)
        following = number + len(parts)
        state = UploadState.COMPLETED if following >= total else UploadState.PROCESSING
        self._store.count_chunk(agency, code, upload_id, number, following, counts, state.value, self._now())
        return {"done": following >= total, "chunk": number}

    def record_fault(self, agency: str, code: str, upload_id: str, cause: str) -> dict[str, Any]:
        self._store.mark(agency, code, upload_id, UploadState.FAILED.value, self._now(), cause)
        return {"done": True, "state": UploadState.FAILED.value}

    def _process(self, program: Program, upload_id: str, parts: list[tuple[int, list[Any]]],
                 actor: Actor) -> dict[str, int]:
        """Process the rows of consecutive chunks ``parts`` (number, rows) in file order, with one audit batch."""
        today = self._clock().date()
        problems: list[Problem] = []
        valid: dict[int, RecipientRow] = {}
        rows = [row for _, part in parts for row in part]
        for row, raw in rows:
            try:
                valid[row] = parse_row(row, raw, today=today)
            except InvalidInput as error:
                problems.append(Problem(row, error.code))
        candidates = [Candidate(r.row, self._vault.index(r.nik), self._vault.kk_index(r.kk_number)
                                if r.kk_number else None) for r in valid.values()]
        holdings = self._holdings(program, candidates)
        accepted, flagged = screen(candidates, holdings, upload_id, program.max_recipients_per_kk)
        problems.extend(flagged)

        self._audit.record_many(Record(actor, Action.PERSONAL_DATA_CHANGED, Subject.person(c.nik_index),
                                       UPLOAD_PURPOSE, detail=f"{program.ref} {upload_id}") for c in accepted)
        now = self._now()
        items: list[dict[str, Any]] = []
        for candidate in accepted:
            person = valid[candidate.row]
            items.append({**recipient_key(program.ref, candidate.nik_index), "program": program.ref,
                          "nik_index": candidate.nik_index, "status": "ACTIVE", "upload_id": upload_id,
                          "row": candidate.row, "school_level": person.school_level,
                          "village_code": person.village_code,
                          "sealed_personal_data": self._vault.seal(
                              {**person.personal_data(), "eligibility_evidence": person.eligibility_evidence}),
                          "enrolled_at": now})
        touched_kk = {c.kk_index for c in accepted if c.kk_index is not None}
        items.extend({**kk_key(program.ref, kk), "members": sorted(holdings.kk_members[kk])} for kk in touched_kk)
        problems.sort(key=lambda p: p.row)
        for number, part in parts:
            rows_of_part = {row for row, _ in part}
            items.append({**problems_key(upload_id, number),
                          "problems": [[p.row, p.code] for p in problems if p.row in rows_of_part]})
        self._store.put_many([{k: v for k, v in i.items() if v is not None} for i in items])
        return {"processed": len(rows), "accepted": len(accepted),
                "rejected": sum(1 for p in problems if not p.flagged),
                "flagged": sum(1 for p in problems if p.flagged)}

    def _holdings(self, program: Program, candidates: list[Candidate]) -> Holdings:
        holdings = Holdings()
        keys = [recipient_key(program.ref, c.nik_index) for c in candidates]
        for excluded in program.excludes:
            keys.extend(recipient_key(excluded, c.nik_index) for c in candidates)
        keys.extend(kk_key(program.ref, c.kk_index) for c in candidates if c.kk_index is not None)
        for item in self._store.get_many(keys):
            if item["sk"] == "KK":
                holdings.kk_members[item["pk"].rsplit("#", 1)[1]] = set(item.get("members", []))
            elif item["program"] == program.ref:
                holdings.enrolled[item["nik_index"]] = (item["upload_id"], int(item["row"]))
            else:
                holdings.in_excluded.add(item["nik_index"])
        return holdings


def _parse_token(token: str | None, chunks_total: int) -> tuple[int, int]:
    if not token:
        return 0, 0
    try:
        chunk, offset = (int(part) for part in token.split("."))
        if not (0 <= chunk < max(chunks_total, 1) and 0 <= offset < 100_000):
            raise ValueError
    except ValueError:
        raise InvalidInput("INVALID_NEXT_TOKEN", "nextToken is not one this endpoint gave") from None
    return chunk, offset
