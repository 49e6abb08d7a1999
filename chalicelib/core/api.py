"""HTTP edge shared by every blueprint: domain errors become clear 4xx/5xx answers."""
from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable

from chalice import Response

from chalicelib.core.errors import DomainError, InvalidInput, PayloadTooLarge, http_status
from chalicelib.core.observability import logger

JSON = {"Content-Type": "application/json"}
MAX_JSON_BODY_BYTES = 64 * 1024
"""Far above any one application; a bigger body is refused before it is parsed."""


def error_response(error: DomainError) -> Response:
    return Response(body=error.to_body(), status_code=http_status(error), headers=JSON)


def answers_domain_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Route decorator: the only place a domain error meets a status code.

    Chalice turns any exception a view raises into a 500 before middleware
    sees it, so the translation sits on the view itself.
    """
    @functools.wraps(view)
    def answering(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except DomainError as error:
            if http_status(error) >= 500:
                logger().warning("dependency unavailable", extra={"code": error.code})
            return error_response(error)

    answering.answers_domain_errors = True  # type: ignore[attr-defined]
    return answering


def framework_errors_in_our_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice HTTP middleware: the framework's own refusals (405, 415, …) in the one error shape."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        response.body = {"code": _snake(body["Code"]), "message": body["Message"]}
    return response


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Error")).upper()


def json_body(raw: bytes | None) -> Any:
    """Parse a JSON body ourselves, so a bad body gets our error shape, not the framework's."""
    if not raw:
        raise InvalidInput("BODY_MISSING", "a JSON body is required")
    if len(raw) > MAX_JSON_BODY_BYTES:
        raise PayloadTooLarge("BODY_TOO_LARGE", f"a JSON body may be at most {MAX_JSON_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("BODY_NOT_JSON", "the body is not valid JSON") from None


def int_param(params: dict[str, str] | None, name: str, default: int, low: int, high: int) -> int:
    raw = (params or {}).get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)) or not low <= int(raw) <= high:
        raise InvalidInput("INVALID_PARAMETER", f"{name} must be a whole number from {low} to {high}",
                           field=name)
    return int(raw)
