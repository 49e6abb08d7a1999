"""The audit chains in DynamoDB: the only audit code that touches boto3.

**Several chains, not one.** One global chain would put every audit write of
the whole system on one partition key and one head item, and every writer in
the city would take its turn on it: a 50,000-row upload, or a rush of operators
reading records, would queue behind a single conditional write. The record is
therefore :data:`SHARDS` chains. An entry goes to the chain of its subject
(:func:`chalicelib.audit.chain.shard_of`), so everything about one person stays
in one order in one chain, and writes spread over that many partition keys.
Each chain verifies on its own. The number of chains may grow, never shrink:
verification walks chains ``0 … SHARDS-1``.

Items (the table :data:`infra.resources.AUDIT_TABLE`, string keys ``pk``/``sk``)::

    CHAIN#07 / HEAD                  sequence, hash: where chain 7 ends
    CHAIN#07 / ENTRY#000000000042    its 42nd entry: previous_hash, hash and the entry's fields

**Appending is one TransactWriteItems**: a put of the head holding the new
last sequence number and hash, on condition that the head still holds the
sequence number *and* hash the new entries were chained on (or, for a chain's
first entry, that there is no head yet), and a put of each new entry on
condition that its key is free. Two writers that read the same head cannot
both pass: the loser's transaction is cancelled whole, and it re-reads the head,
re-chains its entries and tries again, a bounded number of times with jittered
backoff, after which it reports the store as busy and has written nothing. So a
chain never forks and never has a hole, however many write at once.

**A batch** is chained in memory and written :data:`ENTRIES_PER_TRANSACTION`
entries and the head per transaction (DynamoDB takes at most 100 items in one):
about 1.01 item writes per entry instead of 2, and one head update per chunk of
each chain it touches. A batch is atomic per chunk, not as a whole: when a chunk
fails for good, the chunks before it stay recorded, as an audit record is never
taken back.

botocore gives every TransactWriteItems its own ``ClientRequestToken`` and
sends the same one when it retries that call, so a transaction that succeeded
but whose answer was lost on the way is not applied twice.
"""
from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any, Callable, Iterator, Sequence

from botocore.exceptions import ClientError

from chalicelib.audit.chain import (
    FORMAT,
    GENESIS,
    Actor,
    Entry,
    Link,
    Subject,
    Tip,
    Unreadable,
    chain,
)
from chalicelib.core.errors import DependencyUnavailable, StoredDataCorrupt

SHARDS = 64
"""Enough chains that a batch of workflows recording at once rarely meet on one head (16 made
the enrolment demo's workflows wait on each other); verification reads one head per chain."""
ENTRIES_PER_TRANSACTION = 99
"""DynamoDB takes at most 100 items in one transaction: the head and 99 entries."""
MAX_ATTEMPTS = 12
"""Twenty writers released at once on one chain of the local cloud: the unluckiest lost the race 5 to 7 times."""
BACKOFF_BASE_S = 0.01
BACKOFF_CAP_S = 0.5
"""Full jitter: a loser waits a random time up to min(cap, base·2^attempt), so losers do not collide again in step."""
HEAD = "HEAD"
_ENTRY = "ENTRY#"
LAST_SEQUENCE = 10 ** 12 - 1
"""Twelve digits of sequence per chain: a million entries a day for over two thousand years."""
_RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}
_RACE_LOST = {"ConditionalCheckFailed", "TransactionConflict"}
_ENTRY_FIELDS = ("actor_subject", "actor_role", "action", "subject_kind", "subject_reference", "purpose", "at",
                 "previous_hash", "hash")
_OPTIONAL_FIELDS = ("actor_agency", "request_id", "detail")


class AuditUnavailable(DependencyUnavailable):
    """The record could not be written or read now (the store is busy, or a chain too contended)."""


class AuditChainCorrupt(StoredDataCorrupt):
    """A chain's stored head or entries contradict each other: nothing more is appended to it."""


def chain_key(shard: int) -> str:
    return f"CHAIN#{shard:02d}"


def entry_key(sequence: int) -> str:
    return f"{_ENTRY}{sequence:012d}"


class AuditRepository:
    def __init__(self, table: Any, *, shards: int = SHARDS, max_attempts: int = MAX_ATTEMPTS,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.SystemRandom().random) -> None:
        self._table = table
        self._client = table.meta.client
        """The resource's client: it (de)serialises Python values, transactions included."""
        self._name = table.name
        self.shards = shards
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._jitter = jitter

    # -- writing -----------------------------------------------------------------------------------

    def append(self, shard: int, entries: Sequence[Entry]) -> list[Link]:
        """Link ``entries`` onto the end of chain ``shard``, in order; the links as stored."""
        if not 0 <= shard < self.shards:
            raise ValueError(f"there is no chain {shard}")
        stored: list[Link] = []
        known: Tip | None = None
        for start in range(0, len(entries), ENTRIES_PER_TRANSACTION):
            links = self._append_chunk(shard, entries[start:start + ENTRIES_PER_TRANSACTION], known)
            stored.extend(links)
            known = links[-1].tip
        return stored

    def _append_chunk(self, shard: int, entries: Sequence[Entry], known: Tip | None) -> list[Link]:
        """One transaction; ``known`` is the head as this writer last left it (None: read it)."""
        for attempt in range(self._max_attempts):
            tip = known if known is not None else (self.head(shard) or GENESIS)
            links = chain(shard, tip, entries)
            try:
                self._client.transact_write_items(
                    TransactItems=[self._head_put(shard, tip, links[-1].tip)]
                    + [{"Put": {"TableName": self._name, "Item": _item(link),
                                "ConditionExpression": "attribute_not_exists(pk)"}} for link in links])
                return links
            except ClientError as error:
                reasons = _cancellation_reasons(error)
                if reasons is None:
                    raise _translate(error) from error
                if reasons[0] in _RACE_LOST or any(reason == "TransactionConflict" for reason in reasons):
                    known = None
                    if attempt + 1 < self._max_attempts:
                        self._sleep(min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** attempt) * self._jitter())
                    continue
                if "ConditionalCheckFailed" in reasons[1:]:
                    raise AuditChainCorrupt("AUDIT_CHAIN_CORRUPT",
                                            f"audit chain {shard} holds entries beyond its head",
                                            shard=shard) from error
                raise _translate(error) from error
        raise AuditUnavailable("AUDIT_CONTENDED",
                               f"audit chain {shard} stayed contended after {self._max_attempts} attempts; retry",
                               shard=shard)

    def _head_put(self, shard: int, expected: Tip, new: Tip) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._name,
                               "Item": {"pk": chain_key(shard), "sk": HEAD, "sequence": new.sequence,
                                        "hash": new.hash}}
        if expected.sequence == 0:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#sequence = :sequence AND #hash = :hash"
            put["ExpressionAttributeNames"] = {"#sequence": "sequence", "#hash": "hash"}
            put["ExpressionAttributeValues"] = {":sequence": expected.sequence, ":hash": expected.hash}
        return {"Put": put}

    # -- reading -----------------------------------------------------------------------------------

    def head(self, shard: int) -> Tip | None:
        """Where chain ``shard`` ends; None if nothing was ever appended to it."""
        try:
            item = self._table.get_item(Key={"pk": chain_key(shard), "sk": HEAD}, ConsistentRead=True).get("Item")
        except ClientError as error:
            raise _translate(error) from error
        if item is None:
            return None
        sequence, digest = item.get("sequence"), item.get("hash")
        if not isinstance(sequence, Decimal) or sequence != sequence.to_integral_value() or sequence < 0 \
                or not isinstance(digest, str):
            raise AuditChainCorrupt("AUDIT_HEAD_UNREADABLE", f"the head of audit chain {shard} is not readable",
                                    shard=shard)
        return Tip(int(sequence), digest)

    def links(self, shard: int, through: int | None = None) -> Iterator[Link | Unreadable]:
        """The chain's entries in sequence order, up to ``through`` (all when None), page by page."""
        condition = "pk = :pk AND begins_with(sk, :entry)"
        values: dict[str, Any] = {":pk": chain_key(shard), ":entry": _ENTRY}
        if through is not None:
            condition = "pk = :pk AND sk BETWEEN :first AND :last"
            values = {":pk": chain_key(shard), ":first": entry_key(1), ":last": entry_key(through)}
        query: dict[str, Any] = {"KeyConditionExpression": condition, "ExpressionAttributeValues": values,
                                 "ConsistentRead": True}
        while True:
            try:
                page = self._table.query(**query)
            except ClientError as error:
                raise _translate(error) from error
            for item in page["Items"]:
                yield _link(shard, item)
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def first_after(self, shard: int, sequence: int) -> int | None:
        """The sequence number of the first stored entry after ``sequence``, if any."""
        try:
            page = self._table.query(KeyConditionExpression="pk = :pk AND sk BETWEEN :next AND :last",
                                     ExpressionAttributeValues={":pk": chain_key(shard),
                                                                ":next": entry_key(sequence + 1),
                                                                ":last": entry_key(LAST_SEQUENCE)},
                                     ConsistentRead=True, Limit=1)
        except ClientError as error:
            raise _translate(error) from error
        for item in page["Items"]:
            return _sequence(item["sk"]) or sequence + 1
        return None


def _item(link: Link) -> dict[str, Any]:
    entry = link.entry
    item: dict[str, Any] = {
        "pk": chain_key(link.shard), "sk": entry_key(link.sequence), "format": FORMAT,
        "previous_hash": link.previous_hash, "hash": link.hash, "at": entry.at, "action": entry.action,
        "actor_subject": entry.actor.subject, "actor_role": entry.actor.role,
        "subject_kind": entry.subject.kind, "subject_reference": entry.subject.reference,
        "purpose": entry.purpose,
    }
    for name, value in (("actor_agency", entry.actor.agency), ("request_id", entry.request_id),
                        ("detail", entry.detail)):
        if value is not None:
            item[name] = value
    return item


def _link(shard: int, item: dict[str, Any]) -> Link | Unreadable:
    """A stored item read back exactly as stored: whatever it says is what gets hashed and checked."""
    sequence = _sequence(item.get("sk", ""))
    if sequence is None:
        return Unreadable(None, f"its key {item.get('sk')!r} is not a sequence number")
    if item.get("format") != FORMAT:
        return Unreadable(sequence, f"format {item.get('format')!r} is not {FORMAT}")
    missing = [name for name in _ENTRY_FIELDS if not isinstance(item.get(name), str)]
    odd = [name for name in _OPTIONAL_FIELDS if name in item and not isinstance(item[name], str)]
    if missing or odd:
        return Unreadable(sequence, f"{', '.join(missing + odd)} missing or not text")
    entry = Entry(
        actor=Actor(item["actor_subject"], item["actor_role"], item.get("actor_agency")),
        action=item["action"], subject=Subject(item["subject_kind"], item["subject_reference"]),
        purpose=item["purpose"], at=item["at"], request_id=item.get("request_id"), detail=item.get("detail"),
    )
    return Link(shard, sequence, item["previous_hash"], item["hash"], entry)


def _sequence(sort_key: str) -> int | None:
    digits = sort_key.removeprefix(_ENTRY)
    if not sort_key.startswith(_ENTRY) or len(digits) != 12 or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def _cancellation_reasons(error: ClientError) -> list[str] | None:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons") or []
    return [reason.get("Code", "None") for reason in reasons] or None


def _translate(error: ClientError) -> Exception:
    code = error.response["Error"]["Code"]
    reasons = _cancellation_reasons(error) or []
    if code in _RETRYABLE or "ThrottlingError" in reasons:
        return AuditUnavailable("AUDIT_UNAVAILABLE", "the audit record is busy; retry")
    return error
