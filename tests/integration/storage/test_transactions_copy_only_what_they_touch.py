"""A transaction on the local cloud's DynamoDB costs what it touches, not what the table holds.

Stock moto deep-copies every table a transaction names, so that it can roll
back; a ledger of thousands of entries then pays for all of them on every
transfer. With :mod:`localcloud.dynamodb_guarantees` installed only the
written items are copied. The copies are counted, not timed: a spy records
every deep copy of a moto table and every deep copy of an item.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from infra.deploy import ensure_table
from infra.resources import APP_NAME, TABLES
from localcloud.cloud import JAKARTA_REGION

BIG_TABLE_ITEMS = 3_000


@dataclass
class Copies:
    tables: list[str] = field(default_factory=list)
    items: int = 0


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> Copies:
    """Record every deep copy of a moto table and count every deep copy of an item."""
    seen = Copies()
    copy_item = Item.__deepcopy__

    def counted_item_copy(self: Item, memo: dict[int, Any]) -> Item:
        seen.items += 1
        return copy_item(self, memo)

    def recorded_table_copy(self: Table, memo: dict[int, Any]) -> Table:
        seen.tables.append(self.name)
        clone = Table.__new__(Table)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            clone.__dict__[name] = copy.deepcopy(value, memo)
        return clone

    monkeypatch.setattr(Item, "__deepcopy__", counted_item_copy)
    monkeypatch.setattr(Table, "__deepcopy__", recorded_table_copy, raising=False)
    return seen


def ledger(local_aws: Any, name: str, filler_entries: int) -> str:
    """A table with the enrolment table's key schema: one account of 100 and ``filler_entries`` journal items."""
    client = local_aws.client("dynamodb")
    table = f"{APP_NAME}-test-{name}"
    ensure_table(client, table, TABLES["ENROLMENT_TABLE"])
    client.put_item(TableName=table, Item={"pk": {"S": "ACCOUNT#alice"}, "sk": {"S": "BALANCE"},
                                           "balance": {"N": "100"}})
    entries = [{"PutRequest": {"Item": {"pk": {"S": f"JOURNAL#{n:05d}"}, "sk": {"S": "ENTRY"},
                                        "amount": {"N": "1"}, "memo": {"S": "opening entry " * 4}}}}
               for n in range(filler_entries)]
    for start in range(0, len(entries), 25):
        client.batch_write_item(RequestItems={table: entries[start:start + 25]})
    return table


def transfer(table: str, journal_id: str) -> list[dict[str, Any]]:
    """Debit Alice by 1 and write the journal entry that records it, once."""
    return [
        {"Update": {"TableName": table, "Key": {"pk": {"S": "ACCOUNT#alice"}, "sk": {"S": "BALANCE"}},
                    "UpdateExpression": "SET balance = balance - :one", "ConditionExpression": "balance >= :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": table, "Item": {"pk": {"S": f"JOURNAL#{journal_id}"}, "sk": {"S": "ENTRY"},
                                              "amount": {"N": "1"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ]


def copies_made_by(copies: Copies, client: Any, items: list[dict[str, Any]]) -> tuple[list[str], int, str]:
    copies.tables.clear()
    copies.items = 0
    try:
        client.transact_write_items(TransactItems=items)
        outcome = "committed"
    except ClientError as error:
        outcome = error.response["Error"]["Code"]
    return list(copies.tables), copies.items, outcome


def test_a_transaction_on_a_table_of_thousands_of_items_copies_no_table(local_aws, copies):
    # Given a ledger of a few thousand journal entries
    table = ledger(local_aws, "big-ledger", BIG_TABLE_ITEMS)
    client = local_aws.client("dynamodb")

    # When a transfer commits, and the same transfer is sent again and cancelled
    committed = copies_made_by(copies, client, transfer(table, "t-1"))
    cancelled = copies_made_by(copies, client, transfer(table, "t-1"))

    # Then neither copied the table
    assert committed[0] == [] and committed[2] == "committed"
    assert cancelled[0] == [] and cancelled[2] == "TransactionCanceledException"
    # And the cancelled one was rolled back all the same
    balance = client.get_item(TableName=table, Key={"pk": {"S": "ACCOUNT#alice"}, "sk": {"S": "BALANCE"}})
    assert balance["Item"]["balance"] == {"N": "99"}


def test_a_transaction_copies_as_many_items_on_a_big_table_as_on_a_small_one(local_aws, copies):
    # Given a ledger with no journal entries and one with a few thousand
    small = ledger(local_aws, "small-ledger", 0)
    big = ledger(local_aws, "big-ledger", BIG_TABLE_ITEMS)
    client = local_aws.client("dynamodb")

    # When the same transfers run on each: one that commits, one that is cancelled
    on_small = [copies_made_by(copies, client, transfer(small, "t-1")),
                copies_made_by(copies, client, transfer(small, "t-1"))]
    on_big = [copies_made_by(copies, client, transfer(big, "t-1")),
              copies_made_by(copies, client, transfer(big, "t-1"))]

    # Then each copies the same few items on both tables: the table's size does not matter
    assert [items for _, items, _ in on_big] == [items for _, items, _ in on_small]
    assert all(0 < items <= 2 * len(transfer(big, "t-1")) for _, items, _ in on_big)


def test_the_spy_sees_a_table_being_copied(local_aws, copies):
    # Given a ledger and the moto table that holds it
    table = ledger(local_aws, "small-ledger", 3)
    moto_table = dynamodb_backends[DEFAULT_ACCOUNT_ID][JAKARTA_REGION].get_table(table)

    # When the table is deep-copied, as stock moto does for every transaction
    clone = copy.deepcopy(moto_table)

    # Then the spy records it, and the copy holds the same items
    assert copies.tables == [table]
    assert copies.items == 4
    assert len(clone.all_items()) == len(moto_table.all_items()) == 4
