"""DynamoDB storage of recipients and their uploads (in the registry table).

Keys, beside the program items of :mod:`chalicelib.registry.repository`:

* ``PROGRAM#<agency>#<code> / UPLOAD#<upload id>`` an upload: state, totals,
  progress counters and the chunk processed last; in the program's partition,
  so another agency cannot reach it;
* ``UPLOAD#<upload id> / CHUNK#<n>`` the file's rows, sealed, one item per
  chunk of :data:`~chalicelib.registry.recipients.CHUNK_ROWS` rows;
* ``UPLOAD#<upload id> / PROBLEMS#<n>`` the rows of chunk ``n`` that were
  rejected or flagged (row number and code), written once per chunk;
* ``RECIPIENT#<agency>#<code>#<nik index> / RECIPIENT`` a recipient: one
  partition per person and program, so a program of a million recipients has
  no hot key; the personal data sealed, never a NIK in clear;
* ``KK#<agency>#<code>#<kk index> / KK`` the NIK indexes of one family card's
  members in the program (at most the program's limit, 20).
"""
from __future__ import annotations

from typing import Any, Iterable

from botocore.exceptions import ClientError

from chalicelib.registry.repository import RegistryUnavailable, _translate, program_key

BATCH_GET = 100
BATCH_WRITE = 25


def upload_key(agency: str, code: str, upload_id: str) -> dict[str, str]:
    return {"pk": program_key(agency, code)["pk"], "sk": f"UPLOAD#{upload_id}"}


def chunk_key(upload_id: str, number: int) -> dict[str, str]:
    return {"pk": f"UPLOAD#{upload_id}", "sk": f"CHUNK#{number:05d}"}


def problems_key(upload_id: str, number: int) -> dict[str, str]:
    return {"pk": f"UPLOAD#{upload_id}", "sk": f"PROBLEMS#{number:05d}"}


def recipient_key(program_ref: str, nik_index: str) -> dict[str, str]:
    agency, _, code = program_ref.partition(":")
    return {"pk": f"RECIPIENT#{agency}#{code}#{nik_index}", "sk": "RECIPIENT"}


def kk_key(program_ref: str, kk_index: str) -> dict[str, str]:
    agency, _, code = program_ref.partition(":")
    return {"pk": f"KK#{agency}#{code}#{kk_index}", "sk": "KK"}


class UploadStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = dynamodb.Table(table_name)
        self._name = table_name

    # ------------------------------------------------------------ uploads
    def get_upload(self, agency: str, code: str, upload_id: str) -> dict[str, Any] | None:
        try:
            return self._table.get_item(Key=upload_key(agency, code, upload_id), ConsistentRead=True).get("Item")
        except ClientError as error:
            raise _translate(error) from error

    def create_upload(self, agency: str, code: str, upload_id: str, attributes: dict[str, Any]) -> bool:
        """The upload record, once; False when it exists already (the same file sent again)."""
        try:
            self._table.put_item(Item={**upload_key(agency, code, upload_id), **attributes},
                                 ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise _translate(error) from error
        return True

    def count_chunk(self, agency: str, code: str, upload_id: str, number: int, following: int,
                    counts: dict[str, int], state: str, at: str) -> bool:
        """Add the counts of chunks ``number`` to ``following - 1`` and move on, if ``number`` is the chunk due.

        The condition on the chunk number makes a chunk processed twice (a
        retried task) count once: the second update finds the counter moved on.
        """
        names = {f"#{name}": name for name in counts}
        try:
            self._table.update_item(
                Key=upload_key(agency, code, upload_id),
                UpdateExpression="SET chunks_done = :next, #state = :state, updated_at = :at, "
                                 + ", ".join(f"#{name} = #{name} + :{name}" for name in counts),
                ConditionExpression="chunks_done = :number",
                ExpressionAttributeNames={"#state": "state", **names},
                ExpressionAttributeValues={":next": following, ":number": number, ":state": state, ":at": at,
                                           **{f":{name}": value for name, value in counts.items()}})
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise _translate(error) from error
        return True

    def mark(self, agency: str, code: str, upload_id: str, state: str, at: str, reason: str | None = None) -> None:
        values: dict[str, Any] = {":state": state, ":at": at}
        expression = "SET #state = :state, updated_at = :at"
        if reason:
            expression += ", failure = :reason"
            values[":reason"] = reason[:200]
        try:
            self._table.update_item(Key=upload_key(agency, code, upload_id), UpdateExpression=expression,
                                    ExpressionAttributeNames={"#state": "state"}, ExpressionAttributeValues=values)
        except ClientError as error:
            raise _translate(error) from error

    # ------------------------------------------------------------ chunks and problems
    def chunk(self, upload_id: str, number: int) -> dict[str, Any] | None:
        try:
            return self._table.get_item(Key=chunk_key(upload_id, number), ConsistentRead=True).get("Item")
        except ClientError as error:
            raise _translate(error) from error

    def problems(self, upload_id: str, from_chunk: int, limit: int) -> list[dict[str, Any]]:
        """Problem items of chunks ``from_chunk`` onwards, at most ``limit`` items."""
        try:
            page = self._table.query(
                KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
                ExpressionAttributeValues={":pk": f"UPLOAD#{upload_id}", ":first": f"PROBLEMS#{from_chunk:05d}",
                                           ":last": "PROBLEMS#99999"},
                Limit=limit, ConsistentRead=True)
        except ClientError as error:
            raise _translate(error) from error
        return page["Items"]

    # ------------------------------------------------------------ many items at once
    def get_many(self, keys: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
        """The items of ``keys`` that exist (BatchGetItem, unprocessed keys asked again)."""
        found: list[dict[str, Any]] = []
        unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
        for start in range(0, len(unique), BATCH_GET):
            request = {self._name: {"Keys": unique[start:start + BATCH_GET], "ConsistentRead": True}}
            for _ in range(8):
                try:
                    answer = self._dynamodb.batch_get_item(RequestItems=request)
                except ClientError as error:
                    raise _translate(error) from error
                found.extend(answer["Responses"].get(self._name, []))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise RegistryUnavailable("STORE_UNAVAILABLE", "the registry store is busy; retry")
        return found

    def put_many(self, items: list[dict[str, Any]]) -> None:
        """Write ``items`` (BatchWriteItem, unprocessed items sent again); each write is a whole item."""
        try:
            with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
                for item in items:
                    batch.put_item(Item=item)
        except ClientError as error:
            raise _translate(error) from error
