"""Idempotent use cases on Powertools' idempotency utility, with our error model.

The same key with the same payload returns the first result; the same key with
another payload, or while the first call is still running, is a conflict the
caller can name. The Lambda context, when there is one, bounds how long an
in-progress record may block a retry: a function that died mid-call frees its
key when its time is up, not when the record expires days later.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.core.errors import Conflict


class IdempotencyKeyReused(Conflict):
    """The key was used before with another payload."""


class RequestInProgress(Conflict):
    """A call with the same key is running now; its result will be the answer."""


class IdempotentUseCase:
    def __init__(self, table_name: str, dynamodb_client: Any, *, key_path: str, payload_path: str,
                 key_prefix: str, expires_after_s: int) -> None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

        self._store = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb_client)
        self._config = IdempotencyConfig(event_key_jmespath=key_path, payload_validation_jmespath=payload_path,
                                         raise_on_no_idempotency_key=True, expires_after_seconds=expires_after_s)
        self._key_prefix = key_prefix

    def register_lambda_context(self, context: Any) -> None:
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self._config.register_lambda_context(context)

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap ``function(request=...)`` so that it runs once per key."""
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        once = idempotent_function(function, data_keyword_argument="request", persistence_store=self._store,
                                   config=self._config, key_prefix=self._key_prefix)

        def run_once(request: dict[str, Any]) -> Any:
            try:
                return once(request=request)
            except IdempotencyValidationError:
                raise IdempotencyKeyReused("IDEMPOTENCY_KEY_REUSED",
                                           "this key was already used with another request") from None
            except IdempotencyAlreadyInProgressError:
                raise RequestInProgress("REQUEST_IN_PROGRESS",
                                        "a request with this key is being processed; retry for its result") from None

        return run_once
