"""HTTP edge shared by every blueprint: domain errors become clear 4xx/5xx answers."""
from __future__ import annotations

import json
from typing import Any, Callable

from chalice import Response

from chalicelib.core.errors import DomainError, InvalidInput, http_status
from chalicelib.core.observability import logger

JSON = {"Content-Type": "application/json"}


def error_response(error: DomainError) -> Response:
    return Response(body=error.to_body(), status_code=http_status(error), headers=JSON)


def translate_domain_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice HTTP middleware: the only place a domain error meets a status code."""
    try:
        return get_response(event)
    except DomainError as error:
        if http_status(error) >= 500:
            logger().warning("dependency unavailable", extra={"code": error.code})
        return error_response(error)


def json_body(raw: bytes | None) -> Any:
    """Parse a JSON body ourselves, so a bad body gets our error shape, not the framework's."""
    if not raw:
        raise InvalidInput("BODY_MISSING", "a JSON body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("BODY_NOT_JSON", "the body is not valid JSON") from None


def int_param(params: dict[str, str] | None, name: str, default: int, low: int, high: int) -> int:
    raw = (params or {}).get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput("INVALID_PARAMETER", f"{name} must be a whole number from {low} to {high}",
                           field=name)
    return int(raw)
