"""Chalice's local gateway made to answer as API Gateway does with our template.

``chalice local`` and ``chalice.test.Client`` both run requests through
``chalice.local.LocalGateway``, which runs a route's built-in authorizer as
API Gateway would, with two differences that matter here:

* an authorizer that fails with ``Unauthorized`` (API Gateway's contract for
  "answer 401") escapes as an exception, which kills the local server's
  request and the test client's call, instead of becoming a 401;
* the gateway's own refusals have Chalice's bodies, while the template gives
  API Gateway ours (:data:`infra.gateway.GATEWAY_RESPONSES`).

:func:`answer_like_api_gateway` fixes both, once per process. The match on the
message ``Unauthorized`` is API Gateway's rule, reproduced, not ours.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any

from chalice import local

from infra.gateway import GATEWAY_RESPONSES, GatewayAnswer

_LOCK = threading.Lock()
_log = logging.getLogger(__name__)


class GatewayRefusal(local.LocalGatewayException):
    """A refusal the gateway answers itself, with the status and body our template gives it."""

    def __init__(self, answer: GatewayAnswer, request_id: str = "") -> None:
        headers = {"Content-Type": "application/json", **answer.headers}
        if request_id:
            headers["x-amzn-RequestId"] = request_id
        super().__init__(headers, json.dumps(answer.body()).encode())
        self.CODE = answer.status


def _response_type(error: local.LocalGatewayException) -> str | None:
    kind = error.headers.get("x-amzn-ErrorType")
    if isinstance(error, local.NotAuthorizedError):
        return "UNAUTHORIZED"
    if isinstance(error, local.ForbiddenError):
        return "ACCESS_DENIED" if kind == "AccessDeniedException" else "MISSING_AUTHENTICATION_TOKEN"
    if isinstance(error, local.InvalidAuthorizerError):
        return "AUTHORIZER_CONFIGURATION_ERROR"
    return None


def answer_like_api_gateway() -> None:
    """Patch ``chalice.local`` in this process (idempotent)."""
    with _LOCK:
        if getattr(local.LocalGateway, "answers_like_api_gateway", False):
            return
        authorize = local.LocalGatewayAuthorizer.authorize
        handle_request = local.LocalGateway.handle_request

        def authorize_or_refuse(self: Any, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
            try:
                return authorize(self, raw_path, lambda_event, lambda_context)
            except local.LocalGatewayException:
                raise
            except Exception as error:
                if str(error) == "Unauthorized":
                    raise GatewayRefusal(GATEWAY_RESPONSES["UNAUTHORIZED"], lambda_context.aws_request_id) from None
                _log.exception("the authorizer failed")
                raise GatewayRefusal(GATEWAY_RESPONSES["AUTHORIZER_FAILURE"], lambda_context.aws_request_id) from None

        def handle_in_our_shape(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
            try:
                return handle_request(self, method, path, headers, body)
            except GatewayRefusal:
                raise
            except local.LocalGatewayException as error:
                response_type = _response_type(error)
                if response_type is None:
                    raise
                raise GatewayRefusal(GATEWAY_RESPONSES[response_type],
                                     error.headers.get("x-amzn-RequestId", "")) from None

        local.LocalGatewayAuthorizer.authorize = authorize_or_refuse  # type: ignore[method-assign]
        local.LocalGateway.handle_request = handle_in_our_shape  # type: ignore[method-assign]
        local.LocalGateway.answers_like_api_gateway = True  # type: ignore[attr-defined]
