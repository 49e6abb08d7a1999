"""``python -m bench.run``: the local cloud's figures, one ``name: value`` line each on stdout.

What is measured, and why:

* **Transaction rate against table size** (our local AWS: 100 vs 50,000
  items; stock moto: 100 vs 5,000). A ledger posts every money movement as a
  DynamoDB transaction; stock moto copies whole tables to roll one back, so
  its rate falls as the ledger grows. Ours should not: the ratio large/small
  should be about 1.
* **Concurrent conditional debits**: 50 clients debit 1 each from a wallet
  holding 10, several rounds. Exactly 10 may pass and the wallet must end at
  0 with 10 postings. The round that let the most through is reported, with
  totals over all rounds of debits the balance lost and of postings left by
  cancelled debits.
* **AWS calls and item writes per enrolment**, submission to active card,
  counted where our code calls AWS (deterministic for a given code base).
* **Throughput** of a demo-like agency upload through the whole local cloud.
* **Audit trail**: item writes per audit entry, recorded one at a time and in
  a batch, and the rate of a bulk upload's batch of entries
  (:mod:`bench.audit`). A batch must not be a queue of single appends.

Progress goes to stderr. Anything else that writes to stdout (a library's
logger) is sent to stderr too, so stdout carries figures only. Exits 1 if a
measurement failed or our local AWS broke a ledger guarantee.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, TextIO

PARTS = ("ledger", "debits", "enrolment", "throughput", "audit")
OURS_LARGE_TABLE = 50_000
STOCK_LARGE_TABLE = 5_000
SMALL_TABLE = 100
DEBIT_ROUNDS = 10
ENROLMENT_APPLICATIONS = 20
THROUGHPUT_ROWS = 240
AUDIT_SINGLES = 200
AUDIT_BATCH = 5_000


def format_figure(name: str, value: int | float, decimals: int = 2) -> str:
    """One figure as ``name: value``: integers as they are, other numbers with ``decimals`` places."""
    if not name or any(ch.isspace() or ch == ":" for ch in name):
        raise ValueError(f"a figure's name is one word without ':' (got {name!r})")
    if isinstance(value, bool):
        raise TypeError("a figure is a number, not a truth value")
    if isinstance(value, int):
        return f"{name}: {value}"
    if math.isnan(value) or math.isinf(value):
        return f"{name}: {value}"
    return f"{name}: {value:.{decimals}f}"


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


class Figures:
    """Writes each figure as soon as it is known, so a failure later loses nothing."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def __call__(self, name: str, value: int | float, decimals: int = 2) -> None:
        self._out.write(format_figure(name, value, decimals) + "\n")
        self._out.flush()


def progress(message: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def figures_only_on_stdout() -> TextIO:
    """A private handle on stdout for the figures; file descriptor 1 itself now points at stderr."""
    sys.stdout.flush()
    figures = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return figures


# -- the measurements ------------------------------------------------------------------------------


def ledger_rates(emit: Figures, quick: bool) -> None:
    from bench.ledger import RateSettings, create_ledger_table, fill, transaction_rates
    from bench.servers import local_aws, stock_moto

    runs = (("", local_aws, OURS_LARGE_TABLE, "large_table", RateSettings(budget_s=6.0)),
            ("stock_moto_", stock_moto, STOCK_LARGE_TABLE, f"{STOCK_LARGE_TABLE // 1000}k_table",
             RateSettings(budget_s=10.0)))
    measured: dict[str, dict[str, float]] = {}
    for prefix, server, large, large_label, settings in runs:
        if quick:
            settings = RateSettings(budget_s=settings.budget_s / 3, min_turns=5)
        with server() as aws:
            progress(f"{aws.label}: filling ledger tables of {SMALL_TABLE} and {large} accounts")
            dynamodb = aws.client("dynamodb", max_pool_connections=8)
            tables = {"small": "ledger-small", "large": "ledger-large"}
            for table, count in ((tables["small"], SMALL_TABLE), (tables["large"], large)):
                create_ledger_table(dynamodb, table)
                fill(dynamodb, table, count)
            progress(f"{aws.label}: transfers, one at a time, the tables taking turns")
            rates = transaction_rates(dynamodb, tables, settings, progress)
        measured[prefix] = rates
        emit(f"{prefix}txn_rate_small_table", rates["small"])
        emit(f"{prefix}txn_rate_{large_label}", rates["large"])
        emit(f"{prefix}txn_rate_ratio_{large // 1000}k_vs_{SMALL_TABLE}", ratio(rates["large"], rates["small"]), 3)
    emit(f"txn_rate_ratio_ours_{OURS_LARGE_TABLE // 1000}k_vs_stock_{STOCK_LARGE_TABLE // 1000}k",
         ratio(measured[""]["large"], measured["stock_moto_"]["large"]), 3)
    emit("txn_rate_ratio_ours_vs_stock_small_table",
         ratio(measured[""]["small"], measured["stock_moto_"]["small"]), 3)


def debits(emit: Figures, quick: bool) -> bool:
    from bench.ledger import concurrent_debits, create_ledger_table, fill, worst
    from bench.servers import local_aws, stock_moto

    rounds = 3 if quick else DEBIT_ROUNDS
    ours_correct = True
    for prefix, server in (("", local_aws), ("stock_moto_", stock_moto)):
        with server() as aws:
            progress(f"{aws.label}: {rounds} rounds of 50 concurrent debits of 1 from a wallet of 10")
            dynamodb = aws.client("dynamodb", max_pool_connections=50)
            create_ledger_table(dynamodb, "ledger")
            fill(dynamodb, "ledger", SMALL_TABLE)
            results = []
            for number in range(rounds):
                result = concurrent_debits(dynamodb, "ledger", f"WALLET#{number:03d}")
                results.append(result)
                progress(f"    round {number + 1}: {result.passed} passed, balance {result.final_balance}, "
                         f"{result.postings} postings, {result.server_errors} server errors")
        bad = worst(results)
        emit(f"{prefix}concurrent_conditional_debits_passed", bad.passed)
        emit(f"{prefix}final_balance", bad.final_balance)
        emit(f"{prefix}concurrent_debit_postings", bad.postings)
        emit(f"{prefix}concurrent_debit_lost_updates", sum(r.lost_updates for r in results))
        emit(f"{prefix}concurrent_debit_orphan_postings", sum(r.orphan_postings for r in results))
        emit(f"{prefix}concurrent_debit_server_errors", sum(r.server_errors for r in results))
        emit(f"{prefix}concurrent_debit_rounds", len(results))
        emit(f"{prefix}concurrent_debit_rounds_wrong", sum(1 for r in results if not r.correct))
        if not prefix:
            ours_correct = all(r.correct for r in results)
    return ours_correct


def enrolment(emit: Figures, parts: set[str], quick: bool) -> None:
    from bench.calls import MemoryCallLog, instrument_clients
    from bench.enrolment import CountedLocalCloud, measure_cost, measure_throughput, new_call_log

    applications = 5 if quick else ENROLMENT_APPLICATIONS
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        workflow_log = new_call_log(Path(directory))
        api_log = MemoryCallLog()
        instrument_clients(api_log.record)
        progress("local cloud: starting (local AWS, Dukcapil and bank emulators, API)")
        with CountedLocalCloud(seconds_per_day=0.5, quiet=True, call_log=str(workflow_log.path)) as cloud:
            if "enrolment" in parts:
                progress(f"enrolment: 1 + {applications} applications, submission to active card")
                cost = measure_cost(cloud, api_log, workflow_log, applications, progress)
                n = cost.applications
                total = cost.api + cost.workflow
                emit("enrolment_applications_counted", n)
                emit("enrolment_aws_calls_per_application", total.total_calls / n)
                emit("enrolment_api_aws_calls_per_application", cost.api.total_calls / n)
                emit("enrolment_workflow_aws_calls_per_application", cost.workflow.total_calls / n)
                emit("enrolment_items_written_per_application", total.total_writes / n)
                emit("enrolment_items_stored_per_application", cost.items_stored / n)
                emit("enrolment_state_transitions_per_application", cost.state_transitions)
                emit("enrolment_first_application_aws_calls", cost.first_application.total_calls)
                for operation, calls in sorted(total.calls.items()):
                    emit(f"enrolment_aws_calls_per_application.{operation}", calls / n)
            if "throughput" in parts:
                rows = 60 if quick else THROUGHPUT_ROWS
                progress(f"throughput: a demo-like upload of {rows} rows")
                result = measure_throughput(cloud, rows, progress)
                emit("demo_like_rows", result.rows)
                emit("demo_like_applications", result.accepted)
                emit("demo_like_seconds", result.seconds)
                emit("demo_like_throughput_applications_per_s", result.per_second)
                progress(f"    workflow outcomes: {result.outcomes}")


def audit(emit: Figures, quick: bool) -> bool:
    from bench.audit import measure_audit
    from bench.servers import REGION, local_aws

    singles, batch = (50, 1_000) if quick else (AUDIT_SINGLES, AUDIT_BATCH)
    with local_aws() as aws:
        cost = measure_audit(aws.endpoint, REGION, singles, batch, progress)
    emit("audit_items_written_per_entry", cost.single_writes / cost.single_entries)
    emit("audit_batch_items_written_per_entry", cost.batch_writes / cost.batch_entries, 3)
    emit("audit_single_entries_per_s", ratio(cost.single_entries, cost.single_seconds))
    emit("audit_batch_entries", cost.batch_entries)
    emit("audit_batch_entries_per_s", ratio(cost.batch_entries, cost.batch_seconds))
    emit("audit_verify_entries_per_s", ratio(cost.verified_entries, cost.verify_seconds))
    if not cost.intact or cost.verified_entries != cost.single_entries + cost.batch_entries:
        progress(f"audit: the trail did not verify ({cost.verified_entries} entries checked)")
        return False
    return True


# -- entry point -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run, of {', '.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="shorter windows and fewer rounds (a smoke run)")
    args = parser.parse_args(argv)
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")

    emit = Figures(figures_only_on_stdout())
    started = time.monotonic()
    failed: list[str] = []
    guarantees_held = True

    def attempt(name: str, measurement: Callable[[], object]) -> object:
        try:
            return measurement()
        except Exception:  # noqa: BLE001 - one failed measurement must not hide the others
            traceback.print_exc()
            failed.append(name)
            return None

    if "ledger" in parts:
        attempt("ledger", lambda: ledger_rates(emit, args.quick))
    if "debits" in parts:
        guarantees_held = attempt("debits", lambda: debits(emit, args.quick)) is not False
    if parts & {"enrolment", "throughput"}:
        attempt("enrolment", lambda: enrolment(emit, parts, args.quick))
    if "audit" in parts and attempt("audit", lambda: audit(emit, args.quick)) is False:
        failed.append("audit")

    emit("bench_seconds", time.monotonic() - started, 1)
    if failed:
        progress(f"failed: {', '.join(failed)}")
    if not guarantees_held:
        progress("our local AWS let a concurrent debit through wrongly (see concurrent_debit_rounds_wrong)")
    return 1 if failed or not guarantees_held else 0


if __name__ == "__main__":
    sys.exit(main())
