"""Many writers on one chain at once, over HTTP to the local AWS: the chain never forks.

The local AWS runs as its own process (``python -m localcloud.aws``), as the
local cloud starts it. Twenty requests read the same resident's data at the same
moment, each from its own client as twenty Lambda containers would; all twenty
land in that resident's chain, one after another, and the chain verifies.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from chalicelib.audit.chain import Action, Actor, BreakReason, Subject, shard_of
from chalicelib.audit.repository import SHARDS, AuditRepository, chain_key, entry_key
from chalicelib.audit.service import AuditTrail, Record
from chalicelib.wiring import utc_now

WRITERS = 20
RESIDENT = Subject.person("5e" * 32)
OPERATOR = Actor("operator-0001", "OPERATOR")
PURPOSE = "Art. 9: the operator looks up the card holder to block a lost card"
PROJECT_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.e2e


def test_twenty_writers_on_one_chain_at_once_make_one_unbroken_chain_of_twenty(remote_audit_table,
                                                                                new_remote_resource):
    backoffs: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            backoffs.append(seconds)
        threading.Event().wait(seconds)

    repositories = [AuditRepository(new_remote_resource().Table(remote_audit_table), sleep=sleep)
                    for _ in range(WRITERS)]
    trails = [AuditTrail(repository, utc_now) for repository in repositories]
    start = threading.Barrier(WRITERS)

    def read_the_resident(writer: int) -> Any:
        start.wait()
        return trails[writer].record(OPERATOR, Action.PERSONAL_DATA_READ, RESIDENT, PURPOSE,
                                     request_id=f"req-{writer:02d}")

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        links = list(pool.map(read_the_resident, range(WRITERS)))

    shard = shard_of(RESIDENT, repositories[0].shards)
    assert {link.shard for link in links} == {shard}
    assert sorted(link.sequence for link in links) == list(range(1, WRITERS + 1))
    assert backoffs, "the writers really did collide (some lost the race and tried again)"
    stored = list(repositories[0].links(shard))
    assert sorted(link.entry.request_id for link in stored) == [f"req-{n:02d}" for n in range(WRITERS)]
    report = trails[0].verify()
    assert report.intact, report.breaks
    assert report.entries_checked == WRITERS
    assert report.chains[shard].head.sequence == WRITERS


def run_verify(table: str, endpoint: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update({"AUDIT_TABLE": table, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local",
                        "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "ap-southeast-3",
                        "PYTHONPATH": str(PROJECT_ROOT)})
    return subprocess.run([sys.executable, "-m", "chalicelib.audit.verify"], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_the_verification_command_reads_its_table_and_endpoint_from_the_environment(
        remote_audit_table, new_remote_resource, local_aws_endpoint):
    table = new_remote_resource().Table(remote_audit_table)
    trail = AuditTrail(AuditRepository(table), utc_now)
    links = trail.record_many(Record(OPERATOR, Action.PERSONAL_DATA_READ, Subject.person(f"{n:064x}"), PURPOSE)
                              for n in range(120))

    intact = run_verify(remote_audit_table, local_aws_endpoint)
    assert intact.returncode == 0, intact.stderr
    assert "120 entries checked" in intact.stdout and intact.stdout.rstrip().endswith("result: INTACT")

    victim = links[57]
    table.update_item(Key={"pk": chain_key(victim.shard), "sk": entry_key(victim.sequence)},
                      UpdateExpression="SET purpose = :p", ExpressionAttributeValues={":p": "nothing to see"})
    broken = run_verify(remote_audit_table, local_aws_endpoint)
    assert broken.returncode == 1, broken.stderr
    assert f"chain {victim.shard:02d}:" in broken.stdout
    assert f"BROKEN at sequence {victim.sequence}: {BreakReason.ALTERED.value}" in broken.stdout
    assert f"result: BROKEN (1 of {SHARDS} chains)" in broken.stdout
