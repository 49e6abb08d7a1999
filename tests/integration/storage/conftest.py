"""Fixtures for the storage tests: moto in-process, and the local AWS as its own process.

In-process tests run on the DynamoDB the local cloud serves: moto with
:mod:`localcloud.dynamodb_guarantees` installed. ``install()`` patches moto's
classes for the whole process, so the fixture puts the originals back after
each test: a test elsewhere that uses plain moto sees plain moto, whatever the
order the tests run in.

Tables and keys are made by :mod:`infra.deploy` from :data:`infra.resources.TABLES`,
the one source of key schemas.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from infra.deploy import ensure_key, ensure_table, table_name
from infra.resources import APP_NAME, TABLES
from localcloud.cloud import JAKARTA_REGION
from tests.integration.conftest import PROJECT_ROOT

STAGE = "test"


@pytest.fixture(scope="session")
def boto3_session() -> Any:
    """One session for every in-process test: it loads each service's model once, not once a test."""
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name=JAKARTA_REGION)


@pytest.fixture
def local_aws(aws_environment: None, dynamodb_guarantees_installed: dict[str, Any],
              boto3_session: Any) -> Iterator[Any]:
    """A boto3 session on moto in this process, DynamoDB as the local cloud serves it."""
    with mock_aws():
        yield boto3_session


@pytest.fixture
def enrolment_table(local_aws: Any) -> Any:
    name = table_name(STAGE, "ENROLMENT_TABLE")
    ensure_table(local_aws.client("dynamodb"), name, TABLES["ENROLMENT_TABLE"])
    return local_aws.resource("dynamodb").Table(name)


@pytest.fixture
def personal_data_keys(local_aws: Any) -> tuple[str, str]:
    """The data key and the NIK index key, as the deployment makes them."""
    kms = local_aws.client("kms")
    data_key = ensure_key(kms, f"alias/{APP_NAME}-{STAGE}-pii")
    index_key = ensure_key(kms, f"alias/{APP_NAME}-{STAGE}-nik-index",
                           KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    return data_key, index_key


@pytest.fixture
def every_item(local_aws: Any) -> Callable[[], dict[str, list[dict[str, Any]]]]:
    """Every item of every table, as DynamoDB sends it on the wire."""
    dynamodb = local_aws.client("dynamodb")

    def scan_all() -> dict[str, list[dict[str, Any]]]:
        tables: dict[str, list[dict[str, Any]]] = {}
        for page in dynamodb.get_paginator("list_tables").paginate():
            for name in page["TableNames"]:
                tables[name] = [item for scanned in dynamodb.get_paginator("scan").paginate(TableName=name)
                                for item in scanned["Items"]]
        return tables

    return scan_all


# --- the local AWS as its own process, reached over HTTP ---------------------------------------



@pytest.fixture(scope="module")
def remote_dynamodb(local_aws_endpoint: str) -> Any:
    """A DynamoDB client of the local AWS, with room for 50 callers at once and no hidden retries."""
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name=JAKARTA_REGION)
    return session.client("dynamodb", endpoint_url=local_aws_endpoint,
                          config=Config(max_pool_connections=64,
                                        retries={"mode": "standard", "total_max_attempts": 1}))


# --- the enrolment API, deployed on moto in this process ----------------------------------------

PARTNER_SETTINGS = {
    "POPULATION_REGISTRY_URL": "http://127.0.0.1:9/registry",
    "BANK_DKI_URL": "http://127.0.0.1:9/bank",
    "BANK_DKI_PARTNER_ID": "BANKDKI",
    "JAKONE_PARTNER_ID": "JAKONE",
    "BANK_DKI_CLIENT_SECRET": "client-secret-of-the-test",
    "BANK_DKI_ACCESS_TOKEN": "access-token-of-the-test",
}
"""Settings the functions require; nothing here calls a partner."""


@pytest.fixture
def enrolment_api(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Chalice app in Chalice's test client, over a stage deployed by :func:`infra.deploy.deploy`.

    Step Functions executions are recorded but not run (moto's default), so a
    submission stops at the stored application and its started workflow. The
    stage trusts the test run's user pool: callers send ``tests.identities.bearer(role)``.
    """
    from chalice.test import Client

    from chalicelib import wiring
    from infra.deploy import Clients, Stage, deploy
    from infra.resources import PRODUCTION_TIMINGS
    from localcloud.gateway import answer_like_api_gateway
    from tests.identities import access_settings

    settings = deploy(Clients.from_session(local_aws), Stage(STAGE, dict(PRODUCTION_TIMINGS)))
    for name, value in {**settings, **PARTNER_SETTINGS, **access_settings()}.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    answer_like_api_gateway()
    import app

    try:
        with Client(app.app, stage_name="dev", project_dir=str(PROJECT_ROOT)) as client:
            yield client
    finally:
        wiring.reset()
