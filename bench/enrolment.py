"""What one enrolment costs in AWS calls and stored items, and how many the local cloud carries.

Applications go through the whole local cloud exactly as in the demo: POSTed
to the API, verified against the emulated Dukcapil by the workflow, issued by
the emulated bank, whose signed callback resumes the workflow until the card
is active. Our code's AWS calls are counted in both processes (the API's, and
the local AWS where the workflow's functions run; see :mod:`bench.calls`).

The first application of a fresh deployment pays one-off costs (a data key
is generated and unwrapped once per container), so the per-application
figures are taken over the applications after it: the steady state a busy
service lives in.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

from bench.calls import CallCounts, FileCallLog, MemoryCallLog
from bench.servers import PROJECT_ROOT
from localcloud.cloud import wait_for_port
from localcloud.cloud import LocalCloud

Progress = Callable[[str], None]
BANK_DELAY_DAYS = 0.2
"""Short, so the figures measure our processing, not the emulated bank's waiting."""


@dataclass
class CountedLocalCloud(LocalCloud):
    """The local cloud, with its AWS process counting the workflow functions' calls into ``call_log``."""

    call_log: str = ""

    def _start_api(self) -> None:
        """The API as the local cloud serves it, without a log line per request on stderr."""
        from chalice.local import ChaliceRequestHandler

        ChaliceRequestHandler.log_message = lambda *_: None  # type: ignore[method-assign]
        super()._start_api()

    def _start_moto(self) -> None:
        self._moto = subprocess.Popen(
            [sys.executable, "-m", "bench.counting_aws", "--port", str(self.moto_port),
             "--call-log", self.call_log],
            cwd=str(PROJECT_ROOT), stdout=subprocess.DEVNULL, stderr=None,
        )
        wait_for_port(self.moto_port, timeout=60, process=self._moto)


@dataclass(frozen=True)
class EnrolmentCost:
    applications: int
    api: CallCounts
    workflow: CallCounts
    first_application: CallCounts
    items_stored: int
    state_transitions: int


class Observer:
    """Looks at the local cloud with its own AWS clients, which are not counted."""

    def __init__(self, cloud: LocalCloud) -> None:
        import boto3

        session = boto3.session.Session()
        self.sfn = session.client("stepfunctions")
        self.dynamodb = session.client("dynamodb")
        self.machine = cloud.settings["ENROLMENT_STATE_MACHINE_ARN"]
        self.tables = [cloud.settings["ENROLMENT_TABLE"], cloud.settings["IDEMPOTENCY_TABLE"]]

    def execution_arn(self, application_id: str) -> str:
        return self.machine.replace(":stateMachine:", ":execution:") + ":" + application_id

    def wait_for(self, application_ids: list[str], timeout_s: float) -> dict[str, dict[str, Any]]:
        """Each execution's description once it has ended."""
        pending, ended = list(application_ids), {}
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} workflows still running after {timeout_s:g} s")
            still = []
            for application_id in pending:
                description = self.sfn.describe_execution(executionArn=self.execution_arn(application_id))
                if description["status"] == "RUNNING":
                    still.append(application_id)
                else:
                    ended[application_id] = description
            pending = still
            if pending:
                time.sleep(0.1)
        return ended

    def wait_until_idle(self, timeout_s: float) -> list[dict[str, Any]]:
        """Every execution, once none is running (one listing per look, to load the server little)."""
        deadline = time.monotonic() + timeout_s
        while True:
            running = self._executions("RUNNING")
            if not running:
                return self._executions()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(running)} workflows still running after {timeout_s:g} s")
            time.sleep(0.25)

    def _executions(self, status: str | None = None) -> list[dict[str, Any]]:
        kwargs = {"stateMachineArn": self.machine, **({"statusFilter": status} if status else {})}
        pages = self.sfn.get_paginator("list_executions").paginate(**kwargs)
        return [execution for page in pages for execution in page["executions"]]

    def items_stored(self) -> int:
        total = 0
        for table in self.tables:
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
                total += page["Count"]
        return total

    def state_transitions(self, application_id: str) -> int:
        """States entered by one execution: what Standard workflows are billed on."""
        pages = self.sfn.get_paginator("get_execution_history").paginate(
            executionArn=self.execution_arn(application_id))
        return sum(1 for page in pages for event in page["events"] if event["type"].endswith("StateEntered"))


def good_rows(count: int, seed: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """``count`` rows the pipeline takes to an active card, and the residents Dukcapil must know."""
    from demo.batch import build_batch

    plan = build_batch(n=round(count * 1.3) + 10, seed=seed, today=date.today())
    rows = [row for number, row in enumerate(plan.rows, start=1) if plan.expected[number] == "ok"]
    if len(rows) < count:
        raise RuntimeError(f"the batch for seed {seed} has only {len(rows)} good rows")
    return rows[:count], residents(plan.population)


def residents(population: list[Any]) -> list[dict[str, str]]:
    return [{"nik": r.nik, "fullName": r.full_name, "birthDate": r.birth_date.isoformat()} for r in population]


def submit_all(api: Any, rows: list[dict[str, str]]) -> list[str]:
    ids = []
    for row in rows:
        status, body = api.submit(row)
        if status != 201:
            raise RuntimeError(f"submission answered {status}: {body}")
        ids.append(body["applicationId"])
    return ids


def require_active(ended: dict[str, dict[str, Any]]) -> None:
    for application_id, description in ended.items():
        state = json.loads(description.get("output") or "{}").get("state")
        if description["status"] != "SUCCEEDED" or state != "CARD_ACTIVE":
            raise RuntimeError(f"{application_id} ended {description['status']} in {state}, not CARD_ACTIVE")


def settle(cloud: LocalCloud) -> None:
    """Wait until the bank has had an answer to every callback.

    A callback's last write (its idempotency record) may land after the
    workflow it resumed has ended; counting before it would move that call to
    the next application.
    """
    if not cloud.bank.wait_idle(timeout=10):
        raise TimeoutError("the bank still has callbacks to deliver")


def measure_cost(cloud: LocalCloud, api_log: MemoryCallLog, workflow_log: FileCallLog, applications: int,
                 progress: Progress, seed: int = 2017) -> EnrolmentCost:
    from chalicelib.access.roles import Role
    from demo.client import ApiClient

    api = ApiClient(cloud.urls["api"], token=cloud.mint(Role.OPERATOR))
    observer = Observer(cloud)
    rows, known = good_rows(applications + 1, seed)
    cloud.registry.seed(known)
    cloud.bank.set_behaviour(delay_days=BANK_DELAY_DAYS)

    start = api_log.snapshot() + workflow_log.snapshot()
    first = submit_all(api, rows[:1])
    require_active(observer.wait_for(first, timeout_s=60))
    settle(cloud)
    api_before, workflow_before = api_log.snapshot(), workflow_log.snapshot()
    first_cost = api_before + workflow_before - start
    progress(f"    first application: {first_cost.total_calls} calls; now {applications} more")

    stored_before = observer.items_stored()
    ids = submit_all(api, rows[1:])
    require_active(observer.wait_for(ids, timeout_s=120))
    settle(cloud)
    return EnrolmentCost(
        applications=applications,
        api=api_log.snapshot() - api_before,
        workflow=workflow_log.snapshot() - workflow_before,
        first_application=first_cost,
        items_stored=observer.items_stored() - stored_before,
        state_transitions=observer.state_transitions(ids[0]),
    )


@dataclass(frozen=True)
class Throughput:
    rows: int
    accepted: int
    seconds: float
    outcomes: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds


def measure_throughput(cloud: LocalCloud, rows: int, progress: Progress, seed: int = 145) -> Throughput:
    """An agency upload like the demo's (its mix of good and faulty rows, in parts), timed to the last outcome.

    The bank answers after a short fixed delay, rejects some and sends some
    callbacks twice; Dukcapil stays up. The clock runs from the first part's
    upload to the end of the last workflow.
    """
    from chalicelib.access.roles import Role
    from demo.batch import build_batch
    from demo.client import ApiClient
    from demo.run import UPLOAD_PART_ROWS, UPLOADING_AGENCY, csv_parts

    api = ApiClient(cloud.urls["api"], token=cloud.mint(Role.AGENCY_HEAD, agency=UPLOADING_AGENCY))
    observer = Observer(cloud)
    plan = build_batch(n=rows, seed=seed, today=date.today())
    cloud.registry.seed(residents(plan.population))
    cloud.bank.set_behaviour(delay_days=BANK_DELAY_DAYS, reject_rate=0.03, duplicate_rate=0.05, silent_rate=0.0)
    before = {e["executionArn"] for e in observer.wait_until_idle(timeout_s=30)}

    started = datetime.now(timezone.utc)
    accepted = 0
    for part in csv_parts(plan.rows, UPLOAD_PART_ROWS):
        status, body = api.upload(part)
        if status != 200:
            raise RuntimeError(f"upload answered {status}: {body}")
        accepted += body["accepted"]
    progress(f"    {accepted} of {len(plan.rows)} rows accepted; waiting for their workflows")
    executions = [e for e in observer.wait_until_idle(timeout_s=180) if e["executionArn"] not in before]
    if len(executions) != accepted:
        raise RuntimeError(f"{accepted} applications accepted but {len(executions)} workflows ran")
    finished = max(e["stopDate"] for e in executions)
    outcomes: dict[str, int] = {}
    for execution in executions:
        description = observer.sfn.describe_execution(executionArn=execution["executionArn"])
        state = json.loads(description.get("output") or "{}").get("state") or description["status"]
        outcomes[state] = outcomes.get(state, 0) + 1
    return Throughput(rows=len(plan.rows), accepted=accepted,
                      seconds=(finished - started).total_seconds(), outcomes=outcomes)


def new_call_log(directory: Path) -> FileCallLog:
    return FileCallLog(directory / "workflow-calls.jsonl")
