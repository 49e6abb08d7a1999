"""Fixtures for the audit trail on DynamoDB: moto in this process, or the local AWS as its own process.

In-process tests run on DynamoDB as the local cloud serves it: moto with
:mod:`localcloud.dynamodb_guarantees` installed (a transaction's rollback
copies only what it touches, so a 5,000-entry batch does not copy the table 50
times). ``install()`` patches moto's classes for the whole process, so the
fixture puts the originals back after each test.

The audit table is made by :func:`infra.deploy.ensure_table` from
:data:`infra.resources.TABLES`, the one source of key schemas.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.audit.repository import AuditRepository
from chalicelib.audit.service import AuditTrail
from infra.deploy import ensure_table, table_name
from infra.resources import TABLES
from localcloud.cloud import JAKARTA_REGION



class Clock:
    """A clock that moves one second every time it is read: entries get distinct, known times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def local_aws(aws_environment: None, dynamodb_guarantees_installed: dict[str, Any]) -> Iterator[Any]:
    """A boto3 session on moto in this process, with the local cloud's DynamoDB guarantees for this test only."""
    with mock_aws():
        yield local_credentials_session()


@pytest.fixture
def audit_table(local_aws: Any) -> Any:
    name = table_name("test", "AUDIT_TABLE")
    ensure_table(local_aws.client("dynamodb"), name, TABLES["AUDIT_TABLE"])
    return local_aws.resource("dynamodb").Table(name)


@pytest.fixture
def sleeps() -> list[float]:
    """Every backoff a writer took, in order; nothing actually waits."""
    return []


@pytest.fixture
def trail(audit_table: Any, sleeps: list[float]) -> AuditTrail:
    return AuditTrail(AuditRepository(audit_table, sleep=sleeps.append), Clock())


@pytest.fixture
def raw_items(local_aws: Any, audit_table: Any) -> Callable[[], list[dict[str, Any]]]:
    """Every item of the audit table as DynamoDB sends it on the wire."""
    client = local_aws.client("dynamodb")

    def scan() -> list[dict[str, Any]]:
        return [item for page in client.get_paginator("scan").paginate(TableName=audit_table.name)
                for item in page["Items"]]

    return scan


# --- the local AWS as its own process, reached over HTTP ---------------------------------------




def local_credentials_session() -> Any:
    """A boto3 session with the local cloud's fake credentials (moto in this process, or the local AWS by endpoint)."""
    return boto3.session.Session(region_name=JAKARTA_REGION, aws_access_key_id="local",
                                 aws_secret_access_key="local")


@pytest.fixture
def remote_audit_table(local_aws_endpoint: str) -> str:
    """A fresh audit table on the local AWS; its name."""
    name = f"jakarta-one-test-audit-{uuid.uuid4().hex[:8]}"
    dynamodb = local_credentials_session().client("dynamodb", endpoint_url=local_aws_endpoint)
    ensure_table(dynamodb, name, TABLES["AUDIT_TABLE"])
    return name


@pytest.fixture(scope="module")
def new_remote_resource(local_aws_endpoint: str) -> Callable[[], Any]:
    """A new DynamoDB resource on the local AWS at each call: one per writer, as each Lambda container has its own."""
    return lambda: local_credentials_session().resource("dynamodb", endpoint_url=local_aws_endpoint)
