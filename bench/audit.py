"""What the audit trail costs on our local AWS, through :class:`chalicelib.audit.service.AuditTrail`.

* **Item writes per entry**, counted where our code calls DynamoDB (as
  :mod:`bench.calls` counts them): a single record writes the chain's head and
  the entry (2); a batch writes one head per 99 entries of a chain (about 1.01).
  Deterministic for a given code base.
* **Batch rate**: entries per second of one ``record_many`` of a bulk upload's
  entries (one per row, each about another resident), chained in memory and
  written 99 to a transaction.
* **Single rate** and **verification rate**, for scale.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from bench.calls import CallCounts, item_writes

OFFICER = ("officer-bench", "AGENCY_HEAD", "DINAS_PENDIDIKAN")
PURPOSE = "Art. 8: the education agency submits KJP Plus recipients"


@dataclass(frozen=True)
class AuditCost:
    single_entries: int
    single_writes: int
    single_seconds: float
    batch_entries: int
    batch_writes: int
    batch_seconds: float
    verified_entries: int
    verify_seconds: float
    intact: bool


def measure_audit(endpoint: str, region: str, singles: int, batch: int,
                  progress: Callable[[str], None]) -> AuditCost:
    import boto3

    from chalicelib.audit.chain import Action, Actor, Subject
    from chalicelib.audit.repository import AuditRepository
    from chalicelib.audit.service import AuditTrail, Record
    from infra.deploy import ensure_table
    from infra.resources import TABLES

    counts = CallCounts()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        counts.add(model.service_model.service_name, model.name, item_writes(model.name, params))

    session = boto3.session.Session(region_name=region, aws_access_key_id="bench", aws_secret_access_key="bench")
    table_name = f"bench-audit-{uuid.uuid4().hex[:8]}"
    ensure_table(session.client("dynamodb", endpoint_url=endpoint), table_name, TABLES["AUDIT_TABLE"])
    session.events.register("before-parameter-build.dynamodb", count)
    table = session.resource("dynamodb", endpoint_url=endpoint).Table(table_name)
    trail = AuditTrail(AuditRepository(table), lambda: datetime.now(timezone.utc))
    actor = Actor(*OFFICER)

    def resident(n: int) -> Any:
        return Subject.person(f"{n:064x}")

    progress(f"audit: {singles} single records")
    started = time.perf_counter()
    for n in range(singles):
        trail.record(actor, Action.PERSONAL_DATA_READ, resident(n), PURPOSE, request_id=f"req-{n}")
    single_seconds = time.perf_counter() - started
    single_writes = counts.total_writes

    progress(f"audit: one batch of {batch} entries")
    records = [Record(actor, Action.PERSONAL_DATA_CHANGED, resident(singles + n), PURPOSE, request_id="upload-bench")
               for n in range(batch)]
    started = time.perf_counter()
    trail.record_many(records)
    batch_seconds = time.perf_counter() - started
    batch_writes = counts.total_writes - single_writes

    progress(f"audit: verifying {singles + batch} entries")
    started = time.perf_counter()
    report = trail.verify()
    verify_seconds = time.perf_counter() - started
    return AuditCost(singles, single_writes, single_seconds, batch, batch_writes, batch_seconds,
                     report.entries_checked, verify_seconds, report.intact)
