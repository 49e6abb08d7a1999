"""A cancelled DynamoDB transaction leaves nothing behind, on the local cloud's DynamoDB.

:mod:`localcloud.dynamodb_guarantees` replaces moto's table-copying rollback
with one that keeps only the before-images of the items a transaction writes.
These stories check that this cheaper rollback still undoes every kind of
write (a Put of a new item, a Put over an existing one, an Update, a Delete),
whatever item of the transaction fails its condition, on a table with a sort
key and on one without.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

from infra.deploy import ensure_table, table_name
from infra.resources import TABLES
from localcloud import dynamodb_guarantees


@dataclass
class Accounts:
    """Balances kept in one of the project's tables, spoken to in DynamoDB's wire format."""

    client: Any
    name: str
    key_names: list[str]

    def key(self, owner: str) -> dict[str, Any]:
        key = {self.key_names[0]: {"S": f"ACCOUNT#{owner}"}}
        if len(self.key_names) > 1:
            key[self.key_names[1]] = {"S": "BALANCE"}
        return key

    def item(self, owner: str, balance: int) -> dict[str, Any]:
        return {**self.key(owner), "owner": {"S": owner}, "balance": {"N": str(balance)}}

    def balance(self, owner: str) -> int | None:
        item = self.client.get_item(TableName=self.name, Key=self.key(owner), ConsistentRead=True).get("Item")
        return None if item is None else int(item["balance"]["N"])

    def snapshot(self) -> list[dict[str, Any]]:
        items = [item for page in self.client.get_paginator("scan").paginate(TableName=self.name)
                 for item in page["Items"]]
        return sorted(items, key=lambda item: item["owner"]["S"])

    # Transaction items, each of which would succeed on its own against the opening balances.

    def put_new(self, owner: str, balance: int) -> dict[str, Any]:
        return {"Put": {"TableName": self.name, "Item": self.item(owner, balance),
                        "ConditionExpression": "attribute_not_exists(#k)",
                        "ExpressionAttributeNames": {"#k": self.key_names[0]}}}

    def put_over(self, owner: str, balance: int) -> dict[str, Any]:
        return {"Put": {"TableName": self.name, "Item": self.item(owner, balance)}}

    def debit(self, owner: str, amount: int) -> dict[str, Any]:
        return {"Update": {"TableName": self.name, "Key": self.key(owner),
                           "UpdateExpression": "SET balance = balance - :amount",
                           "ConditionExpression": "balance >= :amount",
                           "ExpressionAttributeValues": {":amount": {"N": str(amount)}}}}

    def delete(self, owner: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self.name, "Key": self.key(owner)}}

    def require_at_least(self, owner: str, amount: int) -> dict[str, Any]:
        return {"ConditionCheck": {"TableName": self.name, "Key": self.key(owner),
                                   "ConditionExpression": "balance >= :amount",
                                   "ExpressionAttributeValues": {":amount": {"N": str(amount)}}}}

    def delete_if_above(self, owner: str, amount: int) -> dict[str, Any]:
        return {"Delete": {"TableName": self.name, "Key": self.key(owner),
                           "ConditionExpression": "balance > :amount",
                           "ExpressionAttributeValues": {":amount": {"N": str(amount)}}}}


@pytest.fixture(params=["ENROLMENT_TABLE", "IDEMPOTENCY_TABLE"], ids=["with-sort-key", "hash-key-only"])
def accounts(request: pytest.FixtureRequest, local_aws: Any) -> Accounts:
    """Alice holds 10, Bob 5 and Carol 1."""
    definition = TABLES[request.param]
    client = local_aws.client("dynamodb")
    name = table_name("test", request.param)
    ensure_table(client, name, definition)
    store = Accounts(client, name, [key["AttributeName"] for key in definition["KeySchema"]])
    for owner, balance in (("alice", 10), ("bob", 5), ("carol", 1)):
        client.put_item(TableName=name, Item=store.item(owner, balance))
    return store


SUCCEEDING_WRITES: dict[str, Callable[[Accounts], dict[str, Any]]] = {
    "put-of-a-new-item": lambda a: a.put_new("dave", 7),
    "put-over-an-existing-item": lambda a: a.put_over("bob", 99),
    "update-of-an-existing-item": lambda a: a.debit("alice", 3),
    "delete-of-an-existing-item": lambda a: a.delete("bob"),
}

FAILING_CONDITIONS: dict[str, Callable[[Accounts], dict[str, Any]]] = {
    "condition-check": lambda a: a.require_at_least("carol", 100),
    "conditional-update": lambda a: a.debit("carol", 100),
    "conditional-put": lambda a: a.put_new("carol", 0),
    "conditional-delete": lambda a: a.delete_if_above("carol", 100),
}


def cancellation_codes(error: ClientError) -> list[str]:
    return [reason["Code"] for reason in error.response["CancellationReasons"]]


@pytest.mark.parametrize("failing", FAILING_CONDITIONS.values(), ids=FAILING_CONDITIONS.keys())
@pytest.mark.parametrize("write", SUCCEEDING_WRITES.values(), ids=SUCCEEDING_WRITES.keys())
def test_a_transaction_whose_second_condition_fails_rolls_back_the_first_write(accounts, write, failing):
    # Given the opening balances
    before = accounts.snapshot()

    # When a transaction writes one item and then fails the condition of its second
    with pytest.raises(ClientError) as cancelled:
        accounts.client.transact_write_items(TransactItems=[write(accounts), failing(accounts)])

    # Then it is cancelled, blaming the second item only
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert cancellation_codes(cancelled.value) == ["None", "ConditionalCheckFailed"]
    # And the first write is undone: the table is exactly as it was
    assert accounts.snapshot() == before


def test_a_transaction_that_fails_first_does_not_apply_the_writes_after_it(accounts):
    # Given the opening balances
    before = accounts.snapshot()

    # When the first item's condition fails and every later item would succeed
    with pytest.raises(ClientError) as cancelled:
        accounts.client.transact_write_items(TransactItems=[
            accounts.require_at_least("carol", 100), accounts.put_new("dave", 7),
            accounts.debit("alice", 3), accounts.delete("bob"),
        ])

    # Then nothing of it is applied
    assert cancellation_codes(cancelled.value) == ["ConditionalCheckFailed", "None", "None", "None"]
    assert accounts.snapshot() == before


def test_a_transaction_with_several_writes_before_the_failure_undoes_them_all(accounts):
    # Given the opening balances
    before = accounts.snapshot()

    # When a new item, an update and a delete come before a failing condition
    with pytest.raises(ClientError) as cancelled:
        accounts.client.transact_write_items(TransactItems=[
            accounts.put_new("dave", 7), accounts.debit("alice", 3), accounts.delete("bob"),
            accounts.debit("carol", 100),
        ])

    # Then all three are undone
    assert cancellation_codes(cancelled.value) == ["None", "None", "None", "ConditionalCheckFailed"]
    assert accounts.snapshot() == before


def test_a_transaction_refused_as_invalid_midway_undoes_what_it_had_written(accounts):
    # Given the opening balances
    before = accounts.snapshot()

    # When a transaction writes two items and then names one of them a second time
    with pytest.raises(ClientError) as refused:
        accounts.client.transact_write_items(TransactItems=[
            accounts.put_new("dave", 7), accounts.debit("alice", 3), accounts.debit("alice", 1),
        ])

    # Then it is refused as invalid, and what it had written is undone
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert accounts.snapshot() == before


def test_a_transaction_whose_conditions_all_hold_applies_every_write(accounts):
    # When a transaction's every condition holds
    accounts.client.transact_write_items(TransactItems=[
        accounts.put_new("dave", 7), accounts.debit("alice", 3), accounts.delete("bob"),
        accounts.require_at_least("carol", 1),
    ])

    # Then all its writes are there
    assert accounts.balance("dave") == 7
    assert accounts.balance("alice") == 7
    assert accounts.balance("bob") is None
    assert accounts.balance("carol") == 1


def test_installing_the_guarantees_twice_patches_moto_once(dynamodb_guarantees_installed):
    # Given the guarantees installed over moto's own methods
    moto_dispatch = dynamodb_guarantees_installed["call_action"]
    serialised = DynamoHandler.call_action
    assert serialised is not moto_dispatch

    # When they are installed again
    dynamodb_guarantees.install()

    # Then moto's dispatch is wrapped once, not twice, and the cheap rollback is in place
    assert DynamoHandler.call_action is serialised
    assert serialised.__wrapped__ is moto_dispatch
    assert DynamoDBBackend.transact_write_items is dynamodb_guarantees.transact_write_items
