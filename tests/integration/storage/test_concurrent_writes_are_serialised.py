"""Concurrent writes over HTTP to the local AWS behave as on DynamoDB: no double spend, no lost update.

The local AWS runs as its own process (``python -m localcloud.aws``), exactly
as the local cloud starts it, and 50 callers hit it at once through one boto3
client. Real DynamoDB never lets two conflicting writes both pass their
conditions; stock moto's threaded server did (12 debits through on a balance
of 10). These stories hold the local cloud to the real service's guarantee.
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from infra.deploy import ensure_table
from infra.resources import APP_NAME, TABLES

CALLERS = 50
OPENING_BALANCE = 10
EARLIER_ENTRIES = 500
ACCOUNT = {"pk": {"S": "ACCOUNT#alice"}, "sk": {"S": "BALANCE"}}

pytestmark = pytest.mark.e2e


@pytest.fixture
def ledger(remote_dynamodb: Any) -> str:
    """A fresh table with the enrolment table's key schema: Alice's balance of 10 and 500 earlier entries.

    The earlier entries matter: stock moto copies the whole table at the start
    of a transaction and puts the copy back when it is cancelled, and on a table
    this size that copy is slow enough for other callers' commits to land in
    between and be lost.
    """
    name = f"{APP_NAME}-test-ledger-{uuid.uuid4().hex[:8]}"
    ensure_table(remote_dynamodb, name, TABLES["ENROLMENT_TABLE"])
    earlier = [{"PutRequest": {"Item": {"pk": {"S": f"HISTORY#{n:04d}"}, "sk": {"S": "ENTRY"},
                                        "amount": {"N": "1"}}}} for n in range(EARLIER_ENTRIES)]
    for start in range(0, len(earlier), 25):
        remote_dynamodb.batch_write_item(RequestItems={name: earlier[start:start + 25]})
    remote_dynamodb.put_item(TableName=name, Item={**ACCOUNT, "balance": {"N": str(OPENING_BALANCE)},
                                                   "hits": {"N": "0"}})
    return name


def all_at_once(call: Callable[[int], None]) -> Counter:
    """Run ``call(0..49)`` on 50 threads released together; count each outcome by error code."""
    start = threading.Barrier(CALLERS)

    def attempt(caller: int) -> str:
        start.wait()
        try:
            call(caller)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "TransactionCanceledException":
                reasons = [reason["Code"] for reason in error.response["CancellationReasons"]]
                return f"{code}{reasons}"
            return code
        return "passed"

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return Counter(pool.map(attempt, range(CALLERS)))


def account(dynamodb: Any, table: str) -> dict[str, int]:
    item = dynamodb.get_item(TableName=table, Key=ACCOUNT, ConsistentRead=True)["Item"]
    return {"balance": int(item["balance"]["N"]), "hits": int(item["hits"]["N"])}


def journal(dynamodb: Any, table: str) -> list[str]:
    items = dynamodb.scan(TableName=table, ConsistentRead=True, FilterExpression="begins_with(pk, :j)",
                          ExpressionAttributeValues={":j": {"S": "JOURNAL#"}})["Items"]
    return sorted(item["pk"]["S"] for item in items)


def debit_one(dynamodb: Any, table: str) -> dict[str, Any]:
    return {"TableName": table, "Key": ACCOUNT,
            "UpdateExpression": "SET balance = balance - :one", "ConditionExpression": "balance >= :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}}}


def test_fifty_concurrent_conditional_debits_of_a_balance_of_ten_let_exactly_ten_through(remote_dynamodb, ledger):
    # Given Alice's balance of 10
    # When 50 callers each debit 1 at the same moment, on condition that the balance covers it
    outcomes = all_at_once(lambda caller: remote_dynamodb.update_item(**debit_one(remote_dynamodb, ledger)))

    # Then exactly 10 pass, the other 40 are refused, and the balance is spent to 0, not below
    assert outcomes == {"passed": 10, "ConditionalCheckFailedException": 40}
    assert account(remote_dynamodb, ledger)["balance"] == 0


def test_fifty_concurrent_transactional_debits_with_their_journal_entries_let_exactly_ten_through(
        remote_dynamodb, ledger):
    # Given Alice's balance of 10
    # When 50 callers each debit 1 and write their own journal entry in one transaction
    def debit_with_journal_entry(caller: int) -> None:
        remote_dynamodb.transact_write_items(TransactItems=[
            {"Update": debit_one(remote_dynamodb, ledger)},
            {"Put": {"TableName": ledger, "Item": {"pk": {"S": f"JOURNAL#{caller:02d}"}, "sk": {"S": "ENTRY"},
                                                   "amount": {"N": "-1"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])

    outcomes = all_at_once(debit_with_journal_entry)

    # Then exactly 10 transactions commit and 40 are cancelled on the balance
    assert outcomes == {"passed": 10, "TransactionCanceledException['ConditionalCheckFailed', 'None']": 40}
    # And the ledger balances: 10 entries of -1 and a balance of 0
    assert account(remote_dynamodb, ledger)["balance"] == 0
    assert len(journal(remote_dynamodb, ledger)) == 10


def test_fifty_concurrent_retries_of_one_transfer_debit_once(remote_dynamodb, ledger):
    # Given Alice's balance of 10
    # When 50 callers send the same transfer at once: a debit of 1 and the transfer's one journal entry
    def same_transfer(caller: int) -> None:
        remote_dynamodb.transact_write_items(TransactItems=[
            {"Update": debit_one(remote_dynamodb, ledger)},
            {"Put": {"TableName": ledger, "Item": {"pk": {"S": "JOURNAL#transfer-1"}, "sk": {"S": "ENTRY"},
                                                   "amount": {"N": "-1"}, "caller": {"N": str(caller)}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])

    outcomes = all_at_once(same_transfer)

    # Then one commits and 49 are cancelled on the journal entry, their debits undone
    assert outcomes == {"passed": 1, "TransactionCanceledException['None', 'ConditionalCheckFailed']": 49}
    assert account(remote_dynamodb, ledger)["balance"] == 9
    assert journal(remote_dynamodb, ledger) == ["JOURNAL#transfer-1"]


def test_fifty_concurrent_increments_are_all_counted(remote_dynamodb, ledger):
    # Given a counter at 0
    # When 50 callers add 1 to it at the same moment, unconditionally
    outcomes = all_at_once(lambda caller: remote_dynamodb.update_item(
        TableName=ledger, Key=ACCOUNT, UpdateExpression="ADD hits :one",
        ExpressionAttributeValues={":one": {"N": "1"}}))

    # Then every one is counted: no update is lost
    assert outcomes == {"passed": CALLERS}
    assert account(remote_dynamodb, ledger)["hits"] == CALLERS
