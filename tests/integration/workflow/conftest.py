"""One local cloud for the workflow tests: moto with Step Functions executing, the API, the partners.

A day lasts half a second, so the Art. 20 deadline (7 days) passes in 4 s; the
state machine is the production definition with its timings substituted.
"""
from __future__ import annotations

import itertools
import os
import time
from datetime import date
from typing import Any, Callable

import boto3
import pytest

from chalicelib import wiring
from chalicelib.access.roles import Role
from chalicelib.core.clients import reset_clients
from chalicelib.enrolment.model import FINAL_STATES
from demo.client import ApiClient
from demo.population import PopulationFactory
from localcloud.cloud import LocalCloud

SECONDS_PER_DAY = 0.5
TODAY = date(2026, 12, 4)


@pytest.fixture(scope="session")
def cloud() -> Any:
    saved = dict(os.environ)
    local = LocalCloud(seconds_per_day=SECONDS_PER_DAY, quiet=True).start()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_clients()
        wiring.reset()


@pytest.fixture(scope="session")
def api(cloud: Any) -> ApiClient:
    """A counter clerk of the operator: registers applicants and reads the work lists."""
    return ApiClient(cloud.urls["api"], token=cloud.mint(Role.OPERATOR))


@pytest.fixture(scope="session")
def people() -> Callable[..., dict[str, str]]:
    """Applications of synthetic residents, each with a NIK no other test uses."""
    factory = PopulationFactory(seed=2017, today=TODAY)
    counter = itertools.count()

    def application(program: str = "TRANSJAKARTA_FREE", **overrides: str) -> dict[str, str]:
        person = factory.resident("ADULT")
        form = {
            "nik": person.nik, "full_name": person.full_name, "sex": "P" if person.sex == "F" else "L",
            "birth_date": person.birth_date.isoformat(), "kk_number": person.kk_number,
            "village_code": person.village_code, "program": program, "school_level": "",
            "bank_account": person.bank_account or "1234567890",
            "beneficiary_proof": f"DINSOS/2026/{next(counter):04d}",
        }
        return {**form, **overrides}

    return application


@pytest.fixture(autouse=True)
def calm_partners(cloud: Any) -> None:
    """Every story starts with both partners up and the bank answering the next day."""
    cloud.registry.set_behaviour(mode="up", latency_ms=0, down_for_calls=0)
    cloud.bank.set_behaviour(mode="up", reject_rate=0, duplicate_rate=0, silent_rate=0, delay_days=1.0,
                             overrides={})


def known_to_dukcapil(cloud: Any, form: dict[str, str]) -> dict[str, str]:
    cloud.registry.seed([{"nik": form["nik"], "fullName": form["full_name"], "birthDate": form["birth_date"]}])
    return form


def submit(api: ApiClient, form: dict[str, str]) -> str:
    status, body = api.submit(form)
    assert status in (200, 201), body
    return body["applicationId"]


def wait_for_final(cloud: Any, application_id: str, timeout_s: float = 40) -> Any:
    """The application once it is in a final state, read as operators see it."""
    repository = wiring.application_repository()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        application = repository.get(application_id)
        if application.state in FINAL_STATES:
            return application
        time.sleep(0.2)
    raise AssertionError(f"{application_id} still {application.state.value} after {timeout_s} s")


def execution_of(cloud: Any, application_id: str) -> dict[str, Any]:
    stepfunctions = boto3.client("stepfunctions")
    arn = cloud.settings["ENROLMENT_STATE_MACHINE_ARN"]
    return stepfunctions.describe_execution(executionArn=arn.replace(":stateMachine:", ":execution:")
                                            + ":" + application_id)


def states_entered(application_id: str, cloud: Any, timeout_s: float = 10) -> list[str]:
    """The names of the states the execution entered, once it has ended."""
    stepfunctions = boto3.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    execution = execution_of(cloud, application_id)
    while execution["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
        execution = execution_of(cloud, application_id)
    events = stepfunctions.get_execution_history(executionArn=execution["executionArn"],
                                                 maxResults=1000)["events"]
    return [event["stateEnteredEventDetails"]["name"] for event in events
            if "stateEnteredEventDetails" in event]
