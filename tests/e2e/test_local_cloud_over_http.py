"""`make run`'s local cloud, started as a user starts it and driven over HTTP only.

Callers hold bearer tokens minted as a user mints them, by ``python -m
localcloud.tokens`` (``make token``) with the key this run of the cloud wrote.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chalicelib.enrolment.model import FINAL_STATES, OPEN_STATES
from demo.client import ApiClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def local_cloud(tmp_path_factory):
    directory = tmp_path_factory.mktemp("localcloud")
    state_file = directory / "localcloud.json"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "--api-port", "0", "--aws-port", "0", "--applicants", "60",
         "--seconds-per-day", "0.5", "--state-file", str(state_file),
         "--signing-key-file", str(directory / "signing-key.pem")],
        cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in process.stdout:
            if line.startswith("Ready."):
                break
        else:
            pytest.fail(f"the local cloud exited with {process.wait()} before it was ready")
        yield json.loads(state_file.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)


def token(local_cloud: dict, *arguments: str) -> str:
    """What ``make token`` prints, for the cloud that wrote ``signingKeyFile``."""
    minted = subprocess.run([sys.executable, "-m", "localcloud.tokens", "--key-file", local_cloud["signingKeyFile"],
                             *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return minted.stdout.strip()


def test_the_signing_key_is_readable_by_its_owner_only(local_cloud):
    mode = stat.S_IMODE(Path(local_cloud["signingKeyFile"]).stat().st_mode)
    assert mode == 0o600


def test_an_agency_upload_is_carried_to_a_final_state_for_every_row(local_cloud):
    anyone = ApiClient(local_cloud["urls"]["api"])
    agency = anyone.as_caller(token(local_cloud, "--role", "AGENCY_HEAD", "--agency", "DISDIK"))
    api = anyone.as_caller(token(local_cloud, "--role", "OPERATOR"))
    batch = Path(PROJECT_ROOT, local_cloud["batch"]).read_bytes()

    status, refused = anyone.upload(batch)
    assert (status, refused["code"]) == (401, "UNAUTHENTICATED")
    status, refused = api.upload(batch)
    assert (status, refused["code"]) == (403, "ROLE_NOT_ALLOWED")

    status, upload = agency.upload(batch)
    assert status == 200
    assert upload["rows"] == 60
    accepted = [result["applicationId"] for result in upload["results"] if "applicationId" in result]
    assert len(accepted) == upload["accepted"] and upload["accepted"] + upload["rejected"] == 60

    deadline = time.monotonic() + 120
    while any(True for state in OPEN_STATES for _ in api.applications_in(state.value)):
        assert time.monotonic() < deadline, "applications still open after two minutes"
        time.sleep(1)

    finals = {state.value: {a["applicationId"] for a in api.applications_in(state.value)} for state in FINAL_STATES}
    placed = [application_id for ids in finals.values() for application_id in ids]
    assert sorted(placed) == sorted(accepted)
    assert finals["CARD_ACTIVE"]

    status, view = api.status(accepted[0])
    assert status == 200
    assert set(view) == {"applicationId", "state", "stateSince"}

    status, again = agency.upload(batch)
    assert status == 200 and again["batchId"] == upload["batchId"]
    assert not any(result.get("created") for result in again["results"])


def test_the_emulated_partners_report_what_they_did(local_cloud):
    bank = ApiClient(local_cloud["urls"]["bank"])
    registry = ApiClient(local_cloud["urls"]["population_registry"])

    assert bank.request("GET", "/_emulator/stats")[0] == 200
    status, stats = registry.request("GET", "/_emulator/stats")
    assert status == 200 and stats["residents"] > 0
