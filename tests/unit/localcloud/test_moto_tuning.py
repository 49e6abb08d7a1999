"""Fixes to moto's Step Functions that the local cloud depends on."""
from types import SimpleNamespace

from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from localcloud import moto_tuning


def test_a_callback_looks_only_at_executions_that_have_started(monkeypatch):
    monkeypatch.setattr(StepFunctionsParserBackend, "_get_executions", StepFunctionsParserBackend._get_executions)
    started = SimpleNamespace(status="RUNNING", exec_worker=object())
    listed_before_its_worker = SimpleNamespace(status="RUNNING", exec_worker=None)
    backend = SimpleNamespace(state_machines=[SimpleNamespace(executions=[listed_before_its_worker, started])])

    moto_tuning._callbacks_only_reach_started_executions()

    assert StepFunctionsParserBackend._get_executions(backend) == [started]


def test_a_task_failure_reaches_the_interpreter_with_its_cause(monkeypatch):
    monkeypatch.setattr(StepFunctionResponse, "send_task_failure", StepFunctionResponse.send_task_failure)
    received = {}
    backend = SimpleNamespace(send_task_failure=lambda token, error, cause: received.update(
        token=token, error=error, cause=cause))
    params = {"taskToken": "t-1", "error": "BankRejected", "cause": "BANK_REKENING_TIDAK_AKTIF"}
    response = SimpleNamespace(stepfunction_backend=backend, _get_param=params.get)

    moto_tuning._keep_the_cause_of_a_task_failure()
    StepFunctionResponse.send_task_failure(response)

    assert received == {"token": "t-1", "error": "BankRejected", "cause": "BANK_REKENING_TIDAK_AKTIF"}
