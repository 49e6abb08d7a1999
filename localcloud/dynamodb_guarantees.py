"""Give moto's DynamoDB the two guarantees of the real service that a ledger needs.

1. **Serialised operations.** Real DynamoDB never lets two conflicting writes
   both pass their conditions. moto's threaded server runs requests in parallel
   threads over shared dicts, so it does. Every DynamoDB action is run under one
   lock. The lock wraps the DynamoDB action only, not the HTTP request: a Lambda
   invoked through the same server calls back into DynamoDB while its own
   request is still open.
2. **Transactions that cost what they touch.** moto deep-copies every table a
   transaction touches so it can roll back, which makes a transaction as slow as
   the table is big. Here the rollback copies only the items the transaction
   writes.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler

OPERATION_LOCK = threading.RLock()
_installed = False


def _serialised(call_action: Any) -> Any:
    def call_action_serialised(self: DynamoHandler) -> Any:
        with OPERATION_LOCK:
            return call_action(self)

    call_action_serialised.__wrapped__ = call_action  # type: ignore[attr-defined]
    return call_action_serialised


def _item_key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


class _TouchedItems:
    """Before-images of the items one transaction writes, to put back on failure."""

    def __init__(self) -> None:
        self._before: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []

    def remember(self, table: Any, key: dict[str, Any]) -> None:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_value, range_value)
        self._before.append((table, hash_value, range_value, copy.deepcopy(current)))

    def restore(self) -> None:
        for table, hash_value, range_value, before in reversed(self._before):
            if before is None:
                table.delete_item(hash_value, range_value)
            elif range_value is not None:
                table.items[hash_value][range_value] = before
            else:
                table.items[hash_value] = before


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    touched = _TouchedItems()
    seen: set[tuple[str, str]] = set()
    outcomes: list[tuple[str | None, str | None, Any]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        try:
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            table = self.get_table(table_name)
            key = _item_key(table, op_type, op)
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)

            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            condition = op.get("ConditionExpression")
            if condition is not None:
                current = self.get_item(table_name, key)
                if not get_filter_expression(condition, names, values).expr(current):
                    old = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old)

            if op_type != "ConditionCheck":
                touched.remember(table, key)
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition,
                              expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition,
                                 expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition,
                                 expression_attribute_names=names, expression_attribute_values=values)
            outcomes.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            touched.restore()
            raise
        except ConditionalCheckFailed as failed:
            outcomes.append(("ConditionalCheckFailed", str(failed.message), getattr(failed, "item", None)))
        except Exception as failed:  # noqa: BLE001 - each item's failure is reported, as DynamoDB does
            outcomes.append((type(failed).__name__, str(failed), None))

    if any(code is not None for code, _, _ in outcomes):
        touched.restore()
        raise TransactionCanceledException(outcomes)


def install() -> None:
    """Patch moto in this process; idempotent."""
    global _installed
    if _installed:
        return
    DynamoHandler.call_action = _serialised(DynamoHandler.call_action)  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True
