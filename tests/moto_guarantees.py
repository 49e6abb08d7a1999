"""In-process moto with the local cloud's DynamoDB guarantees, undone with the caller's monkeypatch."""
from __future__ import annotations

from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

from localcloud import dynamodb_guarantees


def install_for(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Serialised DynamoDB and cheap rollback until ``monkeypatch`` is undone; gives moto's methods as they were.

    Real DynamoDB needs neither; in-process moto needs the lock as soon as code under test writes from
    several threads (an upload stores rows concurrently)."""
    before = {"call_action": DynamoHandler.call_action,
              "transact_write_items": DynamoDBBackend.transact_write_items}
    monkeypatch.setattr(dynamodb_guarantees, "_installed", False)
    monkeypatch.setattr(DynamoHandler, "call_action", before["call_action"])
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", before["transact_write_items"])
    dynamodb_guarantees.install()
    return before
