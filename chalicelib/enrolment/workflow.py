"""Starting the enrolment state machine for an application."""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.errors import DependencyUnavailable


class EnrolmentWorkflow:
    def __init__(self, stepfunctions: Any, state_machine_arn: str) -> None:
        self._sfn = stepfunctions
        self._arn = state_machine_arn

    def start(self, application_id: str) -> None:
        """One execution per application: its name is the application id, so a
        retried submission can never start a second issuance."""
        try:
            self._sfn.start_execution(stateMachineArn=self._arn, name=application_id,
                                      input=json.dumps({"applicationId": application_id}))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return
            raise DependencyUnavailable("WORKFLOW_UNAVAILABLE",
                                        "the enrolment workflow could not be started; retry") from error

    def resume(self, task_token: str, output: dict[str, Any]) -> bool:
        """Hand the bank's issuance to the waiting task; False if the task is gone (timed out or done)."""
        return self._complete(lambda: self._sfn.send_task_success(taskToken=task_token,
                                                                  output=json.dumps(output)))

    def fail(self, task_token: str, error: str, cause: str) -> bool:
        return self._complete(lambda: self._sfn.send_task_failure(taskToken=task_token,
                                                                  error=error, cause=cause))

    @staticmethod
    def _complete(call: Any) -> bool:
        try:
            call()
        except ClientError as error:
            if error.response["Error"]["Code"] in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}:
                return False
            raise DependencyUnavailable("WORKFLOW_UNAVAILABLE",
                                        "the enrolment workflow could not be reached; retry") from error
        return True
