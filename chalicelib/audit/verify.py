"""``python -m chalicelib.audit.verify``: check every audit chain, print a report, exit 0 if intact.

The table is ``--table`` or ``AUDIT_TABLE``; the endpoint, region and
credentials are boto3's own (``AWS_ENDPOINT_URL`` for the local cloud). Exit
status: 0 every chain intact, 1 a chain is broken (the report says where and
why), 2 the check could not run (no table given, the table or store
unreachable).

The report ends with each chain's head (last sequence number and hash). Filed
somewhere the table's writers cannot change, those heads let a later run show
that a chain was not rewritten from some entry on.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.audit.service import AuditReport
from chalicelib.core.errors import DomainError

INTACT, BROKEN, NOT_CHECKED = 0, 1, 2


def render(table: str, report: AuditReport) -> str:
    lines = [f"audit trail {table}: {len(report.chains)} chains, {report.entries_checked} entries checked"]
    for check in report.chains:
        head = f"head {check.head.sequence} {check.head.hash}" if check.head else "no head"
        state = "intact" if check.broken is None else f"BROKEN at sequence {check.broken.sequence}: " \
                                                      f"{check.broken.reason.value}: {check.broken.explanation}"
        lines.append(f"  chain {check.shard:02d}: {check.checked:>9} entries  {state}  ({head})")
    if report.intact:
        lines.append("result: INTACT")
    else:
        lines.append(f"result: BROKEN ({len(report.breaks)} of {len(report.chains)} chains)")
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.audit.verify",
                                     description="verify the hash chains of the audit trail")
    parser.add_argument("--table", default=os.environ.get("AUDIT_TABLE"),
                        help="the audit table (default: $AUDIT_TABLE)")
    arguments = parser.parse_args(argv)
    if not arguments.table:
        err.write("no audit table: pass --table or set AUDIT_TABLE\n")
        return NOT_CHECKED

    from chalicelib import wiring

    try:
        report = wiring.audit_trail_for(arguments.table).verify()
    except (ClientError, BotoCoreError, DomainError) as error:
        err.write(f"the audit trail {arguments.table} could not be checked: {error}\n")
        return NOT_CHECKED
    out.write(render(arguments.table, report) + "\n")
    return INTACT if report.intact else BROKEN


if __name__ == "__main__":
    sys.exit(main())
