"""DynamoDB storage of applications: the only enrolment code that touches boto3.

One table, keyed for Jakarta's scale:

* ``APP#<id> / APPLICATION`` the application; ids are random, so writes
  spread over all partitions;
* ``APP#<id> / HISTORY#<time>#<state>`` one append-only item per transition;
* ``NIK#<keyed hash> / ENROLMENT`` the guard that makes one NIK one
  application, and a retried submission find the first one;
* the ``by_state`` index, partitioned by state *and* one of
  :data:`STATE_SHARDS` shards, so a million applications waiting in one state
  never share a partition key.

Every transition is one transaction: the application's update, conditional on
the state it leaves, and its history item.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Iterable

from botocore.exceptions import ClientError

from chalicelib.core.errors import Conflict, DependencyUnavailable, NotFound
from chalicelib.enrolment.model import Application, Program, State

STATE_INDEX = "by_state"
STATE_SHARDS = 16
_CURSOR_KEYS = {"pk", "sk", "state_shard", "state_since"}
_RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "InternalServerError", "ServiceUnavailable", "TransactionConflictException"}


class StoreUnavailable(DependencyUnavailable):
    """DynamoDB could not serve the request now; the workflow retries on this name."""


class TransitionRefused(Conflict):
    """The application is no longer in a state the transition may leave."""


def _shard(application_id: str) -> int:
    return int(hashlib.sha256(application_id.encode()).hexdigest()[:4], 16) % STATE_SHARDS


def state_keys(application_id: str, state: State, since: str) -> dict[str, str]:
    return {"state_shard": f"{state.value}#{_shard(application_id):02d}",
            "state_since": f"{since}#{application_id}"}


def _translate(error: ClientError) -> Exception:
    code = error.response["Error"]["Code"]
    if code in _RETRYABLE:
        return StoreUnavailable("STORE_UNAVAILABLE", "the application store is busy; retry")
    return error


class ApplicationRepository:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client
        """The resource's client: it (de)serialises Python values, transactions included."""
        self._name = table.name

    def create(self, application: Application, nik_index: str, request_hash: str,
               personal_sealed: str, documents: dict[str, Any], replacing: str | None = None) -> bool:
        """Store a new application and its NIK guard; False when the NIK already has one.

        ``replacing`` names a closed application whose guard the new one takes
        over (a corrected application after a rejection); False if the guard
        has meanwhile moved on.
        """
        item = {
            "pk": f"APP#{application.application_id}", "sk": "APPLICATION",
            "application_id": application.application_id, "state": application.state.value,
            "program": application.program.value, "nik_index": nik_index,
            "nik_masked": application.nik_masked, "personal": personal_sealed,
            "documents": documents, "submitted_at": application.submitted_at,
            **state_keys(application.application_id, application.state, application.state_since),
        }
        for name, value in (("school_level", application.school_level),
                            ("village_code", application.village_code),
                            ("batch_id", application.batch_id)):
            if value is not None:
                item[name] = value
        guard = {"pk": f"NIK#{nik_index}", "sk": "ENROLMENT",
                 "application_id": application.application_id, "request_hash": request_hash}
        guard_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if replacing is not None:
            guard_condition = {"ConditionExpression": "application_id = :replaced",
                               "ExpressionAttributeValues": {":replaced": replacing}}
        try:
            self._client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self._name, "Item": guard, **guard_condition}},
                {"Put": {"TableName": self._name, "Item": item,
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self._name,
                         "Item": _history(application.application_id, None, application.state,
                                                     application.submitted_at, {})}},
            ])
        except ClientError as error:
            if _cancelled_by_condition(error, position=0):
                return False
            raise _translate(error) from error
        return True

    def guard(self, nik_index: str) -> dict[str, Any] | None:
        try:
            return self._table.get_item(Key={"pk": f"NIK#{nik_index}", "sk": "ENROLMENT"},
                                        ConsistentRead=True).get("Item")
        except ClientError as error:
            raise _translate(error) from error

    def get(self, application_id: str) -> Application:
        try:
            item = self._table.get_item(Key={"pk": f"APP#{application_id}", "sk": "APPLICATION"},
                                        ConsistentRead=True).get("Item")
        except ClientError as error:
            raise _translate(error) from error
        if item is None:
            raise NotFound("APPLICATION_NOT_FOUND", "no application has that id")
        return _application(item)

    def transition(self, application_id: str, leaving: Iterable[State], entering: State, at: str,
                   changes: dict[str, Any] | None = None, remove: Iterable[str] = (),
                   detail: dict[str, Any] | None = None) -> None:
        """Move the application to ``entering`` if it is in one of ``leaving``."""
        leaving, remove = list(leaving), list(remove)
        sets = {"state": entering.value, **state_keys(application_id, entering, at), **(changes or {})}
        names = {f"#a{i}": name for i, name in enumerate(sets)}
        values = {f":a{i}": value for i, value in enumerate(sets.values())}
        names.update({f"#r{i}": name for i, name in enumerate(remove)})
        names["#state"] = "state"
        values.update({f":from{i}": state.value for i, state in enumerate(leaving)})
        expression = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets)))
        if remove:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        condition = "#state IN (" + ", ".join(f":from{i}" for i in range(len(leaving))) + ")"
        try:
            self._client.transact_write_items(TransactItems=[
                {"Update": {"TableName": self._name,
                            "Key": {"pk": f"APP#{application_id}", "sk": "APPLICATION"},
                            "UpdateExpression": expression, "ConditionExpression": condition,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values}},
                {"Put": {"TableName": self._name,
                         "Item": _history(application_id, leaving, entering, at, detail or {}),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except ClientError as error:
            if _cancelled_by_condition(error, position=0):
                raise TransitionRefused("STATE_CHANGED",
                                        f"the application is no longer in {', '.join(s.value for s in leaving)}"
                                        ) from None
            raise _translate(error) from error

    def mark_once(self, application_id: str, attribute: str, value: dict[str, Any],
                  expected: Iterable[State]) -> bool:
        """Set ``attribute`` only if it is absent and the state is one of ``expected``."""
        expected = list(expected)
        try:
            self._table.update_item(
                Key={"pk": f"APP#{application_id}", "sk": "APPLICATION"},
                UpdateExpression="SET #m = :m",
                ConditionExpression="attribute_not_exists(#m) AND #state IN ("
                                    + ", ".join(f":s{i}" for i in range(len(expected))) + ")",
                ExpressionAttributeNames={"#m": attribute, "#state": "state"},
                ExpressionAttributeValues={":m": value, **{f":s{i}": s.value for i, s in enumerate(expected)}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise _translate(error) from error
        return True

    def clear(self, application_id: str, attribute: str) -> None:
        try:
            self._table.update_item(Key={"pk": f"APP#{application_id}", "sk": "APPLICATION"},
                                    UpdateExpression="REMOVE #m", ExpressionAttributeNames={"#m": attribute})
        except ClientError as error:
            raise _translate(error) from error

    def list_by_state(self, state: State, limit: int, cursor: str | None) -> tuple[list[Application], str | None]:
        """Oldest first within each shard; the cursor walks the shards in order."""
        shard, start_key = _decode_cursor(cursor, state)
        found: list[Application] = []
        while shard < STATE_SHARDS and len(found) < limit:
            query: dict[str, Any] = {
                "IndexName": STATE_INDEX, "Limit": limit - len(found),
                "KeyConditionExpression": "state_shard = :s",
                "ExpressionAttributeValues": {":s": f"{state.value}#{shard:02d}"},
            }
            if start_key:
                query["ExclusiveStartKey"] = start_key
            try:
                page = self._table.query(**query)
            except ClientError as error:
                raise _translate(error) from error
            found.extend(_application(item) for item in page["Items"])
            start_key = page.get("LastEvaluatedKey")
            if start_key is None:
                shard += 1
        if shard >= STATE_SHARDS:
            return found, None
        return found, _encode_cursor(shard, start_key)

    def count_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for state in State:
            total = 0
            for shard in range(STATE_SHARDS):
                kwargs: dict[str, Any] = {"IndexName": STATE_INDEX, "Select": "COUNT",
                                          "KeyConditionExpression": "state_shard = :s",
                                          "ExpressionAttributeValues": {":s": f"{state.value}#{shard:02d}"}}
                while True:
                    page = self._table.query(**kwargs)
                    total += page["Count"]
                    if "LastEvaluatedKey" not in page:
                        break
                    kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            counts[state.value] = total
        return counts

    def history(self, application_id: str) -> list[dict[str, Any]]:
        page = self._table.query(KeyConditionExpression="pk = :p AND begins_with(sk, :h)",
                                 ExpressionAttributeValues={":p": f"APP#{application_id}", ":h": "HISTORY#"})
        return page["Items"]


def _history(application_id: str, leaving: list[State] | None, entering: State, at: str,
             detail: dict[str, Any]) -> dict[str, Any]:
    item = {"pk": f"APP#{application_id}", "sk": f"HISTORY#{at}#{entering.value}",
            "to_state": entering.value, "at": at}
    if leaving:
        item["from_states"] = [state.value for state in leaving]
    if detail:
        item["detail"] = detail
    return item


def _application(item: dict[str, Any]) -> Application:
    return Application(
        application_id=item["application_id"], state=State(item["state"]),
        program=Program(item["program"]), school_level=item.get("school_level"),
        village_code=item.get("village_code"), documents=item.get("documents", {}),
        nik_masked=item["nik_masked"], submitted_at=item["submitted_at"],
        state_since=item["state_since"].rsplit("#", 1)[0], reasons=list(item.get("reasons", [])),
        verified_at=item.get("verified_at"), issued_at=item.get("issued_at"),
        card_number_masked=item.get("card_number_masked"), bank_reference=item.get("bank_reference"),
        task_token=item.get("task_token"), batch_id=item.get("batch_id"),
        issuance_deadline=item.get("issuance_deadline"), issued_within_deadline=item.get("issued_within_deadline"),
        late_bank_result=item.get("late_callback"),
        sealed_personal_data=item.get("personal", ""),
    )


def _cancelled_by_condition(error: ClientError, position: int) -> bool:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    return len(reasons) > position and reasons[position].get("Code") == "ConditionalCheckFailed"


def _encode_cursor(shard: int, start_key: dict[str, Any] | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"s": shard, "k": start_key}).encode()).decode()


def _decode_cursor(cursor: str | None, state: State) -> tuple[int, dict[str, Any] | None]:
    """A cursor is valid only for the state and shard it was given out for."""
    if not cursor:
        return 0, None
    from chalicelib.core.errors import InvalidInput

    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        shard, key = int(decoded["s"]), decoded["k"]
        if not 0 <= shard < STATE_SHARDS:
            raise ValueError
        if key is not None and (set(key) != _CURSOR_KEYS or not all(isinstance(v, str) for v in key.values())):
            raise ValueError
        if key is not None and key["state_shard"] != f"{state.value}#{shard:02d}":
            raise ValueError
        return shard, key
    except (ValueError, KeyError, TypeError, OverflowError):
        raise InvalidInput("INVALID_CURSOR", "nextToken is not one this API gave out") from None
