"""Ledger-shaped DynamoDB workloads: what a money movement costs, and whether it stays correct.

Two questions, asked of any AWS endpoint:

* **Does a transaction cost what it touches?** One client posts transfers one
  after another (a conditional debit and a conditional credit in one
  ``TransactWriteItems``) on the same few accounts of a small and of a large
  table. Real DynamoDB does not care how big the table is; the local cloud
  must not either, or a ledger of realistic size crawls.
* **Are conditional debits serialised?** Many clients debit one wallet at the
  same instant; exactly as many may pass as the balance covers, every passed
  debit leaves its posting, and the balance ends at zero.
"""
from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

ACCOUNTS_IN_PLAY = 100
"""Transfers move between these accounts in every table, so only the table's size differs."""
OPENING_BALANCE = 1_000_000_000
TRANSFER = 1_000
FILL_BATCH = 25
"""BatchWriteItem's limit."""
Progress = Callable[[str], None]


def create_ledger_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
    )


def account_key(number: int) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{number:08d}"}, "sk": {"S": "BALANCE"}}


def account_item(number: int) -> dict[str, Any]:
    return {**account_key(number), "balance": {"N": str(OPENING_BALANCE)}, "currency": {"S": "IDR"},
            "program": {"S": ("KJP_PLUS", "KJMU", "PANGAN_BERSUBSIDI")[number % 3]},
            "version": {"N": "0"}, "updated_at": {"S": "2026-01-01T00:00:00.000+07:00"}}


def fill(dynamodb: Any, table: str, count: int, threads: int = 4) -> None:
    """``count`` accounts, written with BatchWriteItem from a few threads (the fast way in)."""
    def write(start: int) -> None:
        requests = [{"PutRequest": {"Item": account_item(n)}} for n in range(start, min(count, start + FILL_BATCH))]
        pending = {table: requests}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(0, count, FILL_BATCH)))


def transfer(dynamodb: Any, table: str, sequence: int) -> None:
    """Debit one account and credit the next, each conditional, as one transaction."""
    source = sequence % ACCOUNTS_IN_PLAY
    target = (sequence + 1) % ACCOUNTS_IN_PLAY
    values = {":amount": {"N": str(TRANSFER)}, ":one": {"N": "1"},
              ":now": {"S": time.strftime("%Y-%m-%dT%H:%M:%S+07:00")}}
    change = "SET balance = balance {sign} :amount, version = version + :one, updated_at = :now"
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": account_key(source), "UpdateExpression": change.format(sign="-"),
                    "ConditionExpression": "balance >= :amount", "ExpressionAttributeValues": values}},
        {"Update": {"TableName": table, "Key": account_key(target), "UpdateExpression": change.format(sign="+"),
                    "ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeValues": values}},
    ])


@dataclass(frozen=True)
class RateSettings:
    budget_s: float = 6.0
    min_turns: int = 15
    warm_up: int = 10


def transaction_rates(dynamodb: Any, tables: dict[str, str], settings: RateSettings,
                      progress: Progress) -> dict[str, float]:
    """Transactions per second on each table: the inverse of its median transaction time.

    The tables take turns transaction by transaction, so whatever else the
    machine is doing weighs on each alike, and the median leaves out the odd
    stall. Runs for ``budget_s`` and at least ``min_turns`` turns.
    """
    sequence = 0
    for table in tables.values():
        for _ in range(settings.warm_up):
            transfer(dynamodb, table, sequence)
            sequence += 1
    timings: dict[str, list[float]] = {label: [] for label in tables}
    turns, started = 0, time.perf_counter()
    while turns < settings.min_turns or time.perf_counter() - started < settings.budget_s:
        for label, table in tables.items():
            began = time.perf_counter()
            transfer(dynamodb, table, sequence)
            timings[label].append(time.perf_counter() - began)
            sequence += 1
        turns += 1
    rates = {label: 1 / statistics.median(values) for label, values in timings.items()}
    for label, values in timings.items():
        progress(f"    {label}: {len(values)} transactions, median {statistics.median(values) * 1000:.1f} ms"
                 f" ({rates[label]:.1f} tx/s)")
    return rates


@dataclass(frozen=True)
class DebitRound:
    passed: int
    refused: int
    server_errors: int
    final_balance: int
    postings: int
    opening: int = 10

    @property
    def correct(self) -> bool:
        return self.passed == self.opening == self.postings and self.final_balance == 0 \
            and self.server_errors == 0

    @property
    def lost_updates(self) -> int:
        """Debits that passed but are missing from the balance."""
        return max(0, self.passed - (self.opening - self.final_balance))

    @property
    def orphan_postings(self) -> int:
        """Postings left behind by debits that were cancelled."""
        return max(0, self.postings - self.passed)

    @property
    def deviation(self) -> int:
        return (abs(self.passed - self.opening) + abs(self.final_balance)
                + abs(self.postings - self.passed) + self.server_errors)


def concurrent_debits(dynamodb: Any, table: str, wallet: str, clients: int = 50,
                      opening: int = 10) -> DebitRound:
    """``clients`` threads each debit 1 from a wallet holding ``opening``, all released at once.

    A debit is the ledger's shape: the balance update, conditional on the
    balance covering it, and the posting, in one transaction.
    """
    dynamodb.put_item(TableName=table, Item={"pk": {"S": wallet}, "sk": {"S": "BALANCE"},
                                             "balance": {"N": str(opening)}})
    start = threading.Barrier(clients)
    outcomes: list[str] = []
    lock = threading.Lock()

    def debit(number: int) -> None:
        start.wait()
        try:
            dynamodb.transact_write_items(TransactItems=[
                {"Update": {"TableName": table, "Key": {"pk": {"S": wallet}, "sk": {"S": "BALANCE"}},
                            "UpdateExpression": "SET balance = balance - :one",
                            "ConditionExpression": "balance >= :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Put": {"TableName": table,
                         "Item": {"pk": {"S": wallet}, "sk": {"S": f"POSTING#{number:03d}"},
                                  "amount": {"N": "-1"}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
            outcome = "passed"
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            outcome = "refused" if code == "TransactionCanceledException" else f"error:{status}:{code}"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=debit, args=(n,)) for n in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    balance = dynamodb.get_item(TableName=table, Key={"pk": {"S": wallet}, "sk": {"S": "BALANCE"}},
                                ConsistentRead=True)["Item"]["balance"]["N"]
    postings = dynamodb.query(TableName=table, Select="COUNT", ConsistentRead=True,
                              KeyConditionExpression="pk = :w AND begins_with(sk, :p)",
                              ExpressionAttributeValues={":w": {"S": wallet}, ":p": {"S": "POSTING#"}})["Count"]
    return DebitRound(passed=outcomes.count("passed"), refused=outcomes.count("refused"),
                      server_errors=sum(1 for o in outcomes if o.startswith("error:")),
                      final_balance=int(balance), postings=postings, opening=opening)


def worst(rounds: list[DebitRound]) -> DebitRound:
    """The round that let the most debits through; among equals, the one furthest from correct."""
    return max(rounds, key=lambda r: (r.passed, r.deviation))
