"""A recipient upload carried to the end by the upload state machine on the local cloud (issue 3).

ROWS is 5,000 (five chunks) here; the issue's 50,000 rows run the same path with
ten times as many chunks.

The file goes in over HTTP; the Standard state machine loops its one task,
chunk after chunk, until every row is accounted for; the same file sent again
is the same upload and stores nothing new.
"""
from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import boto3
import pytest

from chalicelib.access.roles import Role
from demo.client import ApiClient
from demo.population import PopulationFactory

pytestmark = pytest.mark.e2e
ROWS = 5_000
DUPLICATED = 10
INVALID = 5
COLUMNS = "nik,full_name,sex,birth_date,kk_number,village_code,school_level,eligibility_evidence"
PROGRAM = {
    "code": "KJP-PLUS-BULK", "name": "KJP Plus (bulk upload)", "benefitKind": "CASH_AID",
    "legalBasis": "Pergub DKI Jakarta 110/2021", "periodStart": "2026-01-01", "periodEnd": "2026-12-31",
    "budgetRupiah": 4_200_000_000_000, "status": "ACTIVE", "maxRecipientsPerKk": 3,
}


def recipients_file() -> tuple[bytes, list[str]]:
    """ROWS rows: the last ``DUPLICATED`` repeat earlier pupils, ``INVALID`` have a sex that is not L or P."""
    factory = PopulationFactory(seed=145_2017, today=date.today())
    people = [factory.resident("SMA") for _ in range(ROWS - DUPLICATED)]
    lines = [",".join([p.nik, p.full_name, "P" if p.sex == "F" else "L", p.birth_date.isoformat(), p.kk_number,
                       p.village_code, "SMA", f"NISN:{n:010d}"]) for n, p in enumerate(people)]
    for n in range(INVALID):
        lines[100 + n] = lines[100 + n].replace(",L,", ",X,").replace(",P,", ",X,")
    lines.extend(lines[200 + n] for n in range(DUPLICATED))
    return ("\n".join([COLUMNS, *lines]) + "\n").encode(), [p.nik for p in people[:50]]


def item_count(cloud: Any) -> int:
    """Items in the registry table (moto counts them live)."""
    return boto3.client("dynamodb").describe_table(TableName=cloud.settings["REGISTRY_TABLE"])["Table"]["ItemCount"]


def test_an_upload_of_several_chunks_is_processed_to_the_end_and_sending_it_again_stores_nothing(cloud):
    head = ApiClient(cloud.urls["api"], token=cloud.mint(Role.AGENCY_HEAD, agency="DISDIK"))
    status, body = head.request("POST", "/registry/programs", json.dumps(PROGRAM).encode())
    assert status in (200, 201), body
    content, sample_niks = recipients_file()

    status, upload = head.request("POST", "/registry/programs/KJP-PLUS-BULK/recipients/uploads", content,
                                  content_type="text/csv")
    assert status == 202, upload
    assert upload["rowsTotal"] == ROWS

    started = time.monotonic()
    deadline = started + 90
    while True:
        status, progress = head.request("GET", upload["statusUrl"])
        assert status == 200, progress
        if progress["state"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert progress["state"] == "COMPLETED", progress
    assert progress["rowsProcessed"] == ROWS
    assert (progress["accepted"], progress["rejected"], progress["flagged"]) == (
        ROWS - DUPLICATED - INVALID, INVALID, DUPLICATED)
    assert [p["code"] for p in progress["problems"]] == ["INVALID_SEX"] * INVALID + \
        ["DUPLICATE_IN_PROGRAM"] * DUPLICATED
    from chalicelib import wiring

    table = boto3.resource("dynamodb").Table(cloud.settings["REGISTRY_TABLE"])
    for nik in sample_niks[:5]:
        key = {"pk": f"RECIPIENT#DISDIK#KJP-PLUS-BULK#{wiring.vault().index(nik)}", "sk": "RECIPIENT"}
        stored = table.get_item(Key=key)["Item"]
        assert stored["status"] == "ACTIVE" and nik not in json.dumps(stored, default=str)
    before = item_count(cloud)

    again_status, again = head.request("POST", "/registry/programs/KJP-PLUS-BULK/recipients/uploads", content,
                                       content_type="text/csv")
    assert again_status == 200 and again["uploadId"] == upload["uploadId"]
    assert again["state"] == "COMPLETED"
    assert item_count(cloud) == before
