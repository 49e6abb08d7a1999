"""Fixes that let moto's server carry a batch of enrolments on a laptop.

* **Parse a definition once.** Every execution parses its state machine's ASL
  with the ANTLR runtime, about 60 ms of pure Python for ours: a thousand
  executions spend a minute of CPU on parsing alone. The syntax tree is kept
  per definition text; the evaluation components are still built fresh for
  each execution, so executions share nothing that changes.
* **No error log for ordinary failures.** For Retry and Catch a failure is
  control flow, yet the interpreter builds the ``repr`` of the state's whole
  component tree and logs it at ERROR each time. The execution history keeps
  every failure.
* **One client per service for the interpreter.** It built a new boto3
  client (and so a new connection) for every Lambda invocation; the
  credentials it is given are not used by moto's own client anyway.
* **Each JSONPath compiled once.** The interpreter compiled every path (and
  built a new parser, tables included) at every evaluation.
* **No Nagle on keep-alive.** The server writes headers and body separately;
  with Nagle's algorithm and delayed ACKs each response on a kept-alive
  connection stalls ~40 ms.
* **The list of moto's own modules, read once.** It was read from disk on
  every request.
* **A callback never meets an execution that has not started.** An execution
  is listed before its worker exists; ``SendTaskSuccess``/``Failure`` arriving
  in that moment failed with an ``AttributeError`` (a 500) instead of looking
  at the executions that can hold the token.
* **A task failure keeps its cause.** ``SendTaskFailure`` dropped the
  ``cause`` on its way to the interpreter, so a Catch saw ``"Cause": null``
  where AWS passes the caller's text (here: the bank's rejection reason).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _parse_each_definition_once()
    _quiet_interpreter_failures()
    _one_client_per_service()
    _compile_each_json_path_once()
    _fast_server()
    _keep_the_cause_of_a_task_failure()
    _callbacks_only_reach_started_executions()
    _installed = True


def _parse_each_definition_once() -> None:
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    trees: dict[str, Any] = {}
    lock = threading.Lock()

    def syntax_tree(definition: str) -> Any:
        with lock:
            tree = trees.get(definition)
        if tree is None:
            listener = asl_parser.SyntaxErrorListener()
            parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
            parser.removeErrorListeners()
            parser.addErrorListener(listener)
            tree = parser.state_machine()
            if listener.errors:
                raise asl_parser.ASLParserException(errors=listener.errors)
            with lock:
                trees[definition] = tree
        return tree

    def parse(definition: str) -> tuple[Any, Any]:
        tree = syntax_tree(definition)
        return Preprocessor().visit(tree), tree

    asl_parser.AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign]


def _quiet_interpreter_failures() -> None:
    from moto.stepfunctions.parser.asl.component import eval_component

    eval_component.LOG.setLevel(logging.CRITICAL)

    def only_when_enabled(original: Any) -> Any:
        def log(self: Any, *args: Any, **kwargs: Any) -> None:
            if eval_component.LOG.isEnabledFor(logging.ERROR):
                original(self, *args, **kwargs)
        return log

    component = eval_component.EvalComponent
    component._log_failure_event_exception = only_when_enabled(component._log_failure_event_exception)
    component._log_exception = only_when_enabled(component._log_exception)


def _one_client_per_service() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    build = boto_client.boto_client_for
    cache: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def cached(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            if (region, service) not in cache:
                cache[(region, service)] = build(region, service)
            return cache[(region, service)]

    lambda_eval_utils.boto_client_for = cached


def _compile_each_json_path_once() -> None:
    from functools import lru_cache

    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = lru_cache(maxsize=4096)(json_path.parse)
    result_path.parse = lru_cache(maxsize=4096)(result_path.parse)


def _fast_server() -> None:
    from moto import backends
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    MotoRequestHandler.disable_nagle_algorithm = True
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def _keep_the_cause_of_a_task_failure() -> None:
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                    cause=self._get_param("cause"))
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure


def _callbacks_only_reach_started_executions() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    listed = StepFunctionsParserBackend._get_executions

    def started_executions(self: Any, execution_status: Any = None) -> list[Any]:
        return [execution for execution in listed(self, execution_status) if execution.exec_worker is not None]

    StepFunctionsParserBackend._get_executions = started_executions
