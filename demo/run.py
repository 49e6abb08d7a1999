"""``make demo``: a realistic agency upload through the local cloud, end to end.

Starts the embedded local cloud, seeds the emulated Dukcapil with the
synthetic population, lets the emulated bank answer after realistic delays
(one second stands for one day; the Art. 20 timeout is scaled the same way by
definition substitution), uploads the CSV over HTTP as the education
agency's head, waits until every application has reached a final state, as
the operator watches it, and prints what an operator would want to know. Each
caller holds a bearer token of its role from the local cloud's user pool.
Exits non-zero if any row is unaccounted for.
"""
from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

from chalicelib.access.roles import Role
from chalicelib.enrolment.intake import MAX_BATCH_ROWS
from chalicelib.enrolment.model import FINAL_STATES, OPEN_STATES
from demo.batch import COLUMNS, build_batch, write_csv
from demo.client import ApiClient
from demo.registry import run_registry

SECONDS_PER_DAY = 4.0
"""A simulated day lasts long enough that the local cloud's own queueing (one process runs every workflow
task on a laptop) stays a small part of it; at 2 s the queue alone pushed cards past the 7-day deadline."""
UPLOAD_PART_ROWS = 200
"""An agency tool sends a big file in parts; the API takes at most MAX_BATCH_ROWS per call."""
assert UPLOAD_PART_ROWS <= MAX_BATCH_ROWS
REGISTRY_OUTAGE = (30.0, 12.0)
"""(start, length) in seconds: long enough that some verifications exhaust their retries."""
BANK_BEHAVIOUR = {"rejectRate": 0.03, "duplicateRate": 0.05, "silentRate": 0.01}
"""Delays are the emulated bank's own: 90 % within 1-5 days, 7 % 5-7, 3 % beyond the deadline."""
UPLOADING_AGENCY = "DISDIK"
"""The education agency: most of the batch is KJP Plus and KJMU (Art. 17(1))."""


def registry_outage(registry: Any, seconds: float) -> None:
    registry.set_behaviour(mode="down")
    time.sleep(seconds)
    registry.set_behaviour(mode="up")


def csv_parts(rows: list[dict[str, str]], size: int) -> list[bytes]:
    parts = []
    for start in range(0, len(rows), size):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[start:start + size])
        parts.append(buffer.getvalue().encode())
    return parts


def wait_until_final(api: ApiClient, expected: int, timeout_s: float) -> dict[str, list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout_s
    while True:
        open_count = sum(1 for state in OPEN_STATES for _ in api.applications_in(state.value))
        if open_count == 0 or time.monotonic() > deadline:
            break
        print(f"  … {open_count} of {expected} applications still in progress", flush=True)
        time.sleep(3)
    return {state.value: list(api.applications_in(state.value)) for state in sorted(FINAL_STATES)}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applicants", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=145)
    parser.add_argument("--out", type=Path, default=Path("build/demo-batch.csv"))
    parser.add_argument("--timeout", type=float, default=420)
    args = parser.parse_args(argv)

    from localcloud.cloud import LocalCloud

    started = time.monotonic()
    cloud = LocalCloud(seconds_per_day=SECONDS_PER_DAY, bank_seed=args.seed).start()
    try:
        return run(cloud, args, started)
    finally:
        cloud.stop()


def run(cloud: Any, args: argparse.Namespace, started: float) -> int:
    anyone = ApiClient(cloud.urls["api"])
    agency = anyone.as_caller(cloud.mint(Role.AGENCY_HEAD, agency=UPLOADING_AGENCY))
    operator = anyone.as_caller(cloud.mint(Role.OPERATOR))
    plan = build_batch(n=args.applicants, seed=args.seed, today=date.today())
    write_csv(plan.rows, args.out)
    print(f"Local cloud up: API {cloud.urls['api']}, AWS (moto) {cloud.urls['aws']}")
    print(f"Agency upload written to {args.out}: {len(plan.rows)} rows")

    cloud.registry.seed([{"nik": r.nik, "fullName": r.full_name, "birthDate": r.birth_date.isoformat()}
                         for r in plan.population])
    cloud.registry.set_behaviour(down_for_calls=25)
    outage = threading.Timer(REGISTRY_OUTAGE[0], registry_outage, args=(cloud.registry, REGISTRY_OUTAGE[1]))
    outage.daemon = True
    outage.start()
    cloud.bank.set_behaviour(reject_rate=BANK_BEHAVIOUR["rejectRate"],
                             duplicate_rate=BANK_BEHAVIOUR["duplicateRate"],
                             silent_rate=BANK_BEHAVIOUR["silentRate"])
    print("Dukcapil emulator seeded; it fails its first 25 calls, and goes down for "
          f"{REGISTRY_OUTAGE[1]:g} s after {REGISTRY_OUTAGE[0]:g} s. "
          f"Bank DKI answers after 1-14 days ({cloud.seconds_per_day:g} s a day).")

    upload_rejections: Counter[str] = Counter()
    accepted = 0
    parts = csv_parts(plan.rows, UPLOAD_PART_ROWS)
    for number, part in enumerate(parts, start=1):
        status, body = agency.upload(part)
        if status != 200:
            print(f"upload part {number} answered {status}: {body}")
            return 1
        accepted += body["accepted"]
        upload_rejections.update(result["code"] for result in body["results"] if "code" in result)
        print(f"Upload part {number}/{len(parts)} by the {UPLOADING_AGENCY} agency head: "
              f"{body['accepted']} accepted, {body['rejected']} rejected")
    status, again = agency.upload(parts[0])
    created_again = sum(1 for result in again["results"] if result.get("created"))
    print(f"Re-upload of part 1: {status}, {created_again} new applications (a re-upload is safe)")
    without_token = anyone.upload(parts[0])
    as_resident = anyone.as_caller(cloud.mint(Role.RESIDENT)).upload(parts[0])
    print(f"Part 1 sent without a token: {without_token[0]} {without_token[1].get('code')}; "
          f"with a resident's token: {as_resident[0]} {as_resident[1].get('code')} (Art. 8: agency heads only)")
    if (without_token[0], as_resident[0]) != (401, 403):
        print("an upload by someone other than an agency head was not refused", file=sys.stderr)
        return 1

    finals = wait_until_final(operator, accepted, args.timeout)
    if not run_registry(anyone, cloud):
        print("the program registry did not answer as Art. 8 and Art. 10 require", file=sys.stderr)
        return 1
    print_summary(plan, finals, upload_rejections, cloud.seconds_per_day, time.monotonic() - started)
    in_final = sum(len(apps) for apps in finals.values())
    accounted = in_final + sum(upload_rejections.values())
    print(f"\nRows: {len(plan.rows)}; in a final state: {in_final}; refused at upload: "
          f"{sum(upload_rejections.values())}; accounted for: {accounted}")
    if accounted != len(plan.rows) or in_final != accepted:
        print("NOT every row reached exactly one final state", file=sys.stderr)
        return 1
    return 0


def print_summary(plan: Any, finals: dict[str, list[dict[str, Any]]], upload_rejections: Counter[str],
                  seconds_per_day: float, elapsed: float) -> None:
    print("\n== Final state of every application ==")
    for state, applications in sorted(finals.items(), key=lambda item: -len(item[1])):
        print(f"  {state:<18} {len(applications):>6}")
    print(f"  (rows refused at upload, never stored: {sum(upload_rejections.values())})")

    print("\n== Why ==")
    groups = [("refused at upload", Counter(upload_rejections))]
    for state in ("REJECTED", "MANUAL_REVIEW", "FAILED"):
        groups.append((state, Counter(reason for application in finals.get(state, [])
                                      for reason in application.get("reasons", []))))
    for title, reasons in groups:
        if reasons:
            print(f"  {title}:")
            for reason, count in reasons.most_common():
                print(f"    {reason:<46} {count:>6}")

    overdue = finals.get("ISSUANCE_OVERDUE", [])
    print(f"\n== Overdue: the bank missed the 7-day deadline (Art. 20): {len(overdue)} ==")
    for application in overdue[:15]:
        print(f"  {application['applicationId']}  NIK {application['nik']}  {application['program']:<18}"
              f" verified {application.get('verifiedAt', '?')}")
    if len(overdue) > 15:
        print(f"  … and {len(overdue) - 15} more (GET /operator/applications?state=ISSUANCE_OVERDUE)")

    days = [(_at(a["issuedAt"]) - _at(a["verifiedAt"])).total_seconds() / seconds_per_day
            for a in finals.get("CARD_ACTIVE", []) if a.get("issuedAt") and a.get("verifiedAt")]
    print(f"\n== Verification to issuance (days; a day lasts {seconds_per_day:g} s here) ==")
    if days:
        print(f"  p50 {percentile(days, 0.50):.1f}   p95 {percentile(days, 0.95):.1f}   "
              f"max {max(days):.1f}   mean {statistics.fmean(days):.1f}   cards {len(days)}")
    late = [a for a in finals.get("CARD_ACTIVE", []) if a.get("issuedWithinDeadline") is False]
    print(f"  cards activated although issued after the deadline: {len(late)} "
          "(the bank answered while the wait, which starts just after verification, was still open)")
    print(f"\nDemo took {elapsed:.0f} s")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


if __name__ == "__main__":
    sys.exit(main())
