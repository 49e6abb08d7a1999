"""Run Lambda functions in-process, without Docker.

moto's Docker-free Lambda backend answers every invocation with a canned
payload. Here an invocation imports the function's real handler (``Handler``
of the function as created, e.g. ``app.verify_nik``) from the project and runs
it, so the state machine drives our code exactly as AWS Lambda would: the
event in, the return value out, and an exception turned into a function error
whose ``errorType`` is the exception's class name (what ASL ``ErrorEquals``
matches on).
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from moto.awslambda_simple.models import LambdaSimpleBackend

_installed = False


@dataclass
class LocalLambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve_handler(handler: str) -> Callable[[Any, Any], Any]:
    module_name, _, attribute = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def invoke(self: LambdaSimpleBackend, function_name: str, qualifier: str | None,
           body: Any, headers: Any, response_headers: Any) -> bytes:
    function = self.get_function(function_name, qualifier)
    config = function.get_configuration()
    context = LocalLambdaContext(
        function_name=config["FunctionName"],
        memory_limit_in_mb=int(config.get("MemorySize") or 128),
        invoked_function_arn=config["FunctionArn"],
        timeout_s=int(config.get("Timeout") or 3),
    )
    _apply_environment(config.get("Environment", {}).get("Variables", {}))
    event = json.loads(body) if body else {}
    try:
        result = resolve_handler(config["Handler"])(event, context)
    except Exception as error:  # noqa: BLE001 - Lambda reports any exception as a function error
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({
            "errorType": type(error).__name__,
            "errorMessage": str(error),
        }).encode()
    return json.dumps(result).encode()


_environment_lock = threading.Lock()
_applied: dict[str, str] = {}


def _apply_environment(variables: dict[str, str]) -> None:
    """Give the handler its function's environment, as Lambda would.

    Functions share this process, so the variables go into ``os.environ``;
    when they change (a redeploy), the app's cached settings and clients are
    dropped so they are read again.
    """
    with _environment_lock:
        if all(_applied.get(name) == value for name, value in variables.items()):
            return
        os.environ.update(variables)
        _applied.update(variables)
        wiring = sys.modules.get("chalicelib.wiring")
        if wiring is not None:
            wiring.reset()


def install() -> None:
    global _installed
    if _installed:
        return
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    _installed = True
