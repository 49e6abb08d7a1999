"""Create the resources of one stage against whatever endpoint boto3 is given.

The same code deploys to the embedded moto cloud, to LocalStack and to AWS:
only ``AWS_ENDPOINT_URL`` differs. Running it twice changes nothing.
Returns the settings the functions need (the environment of every function).
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from infra.resources import (
    APP_NAME,
    ENROLMENT_ASL,
    RECIPIENT_UPLOAD_ASL,
    ROOT,
    TABLES,
    TIME_TO_LIVE,
    UPLOAD_TIMINGS,
    UPLOAD_WORKFLOW_FUNCTIONS,
    WORKFLOW_FUNCTIONS,
    function_name,
    render_definition,
)

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
STATES_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass
class Clients:
    dynamodb: Any
    kms: Any
    iam: Any
    lambda_: Any
    stepfunctions: Any

    @classmethod
    def from_session(cls, session: Any) -> "Clients":
        return cls(session.client("dynamodb"), session.client("kms"), session.client("iam"),
                   session.client("lambda"), session.client("stepfunctions"))


@dataclass
class Stage:
    name: str
    timings: dict[str, int]
    function_environment: dict[str, str] = field(default_factory=dict)


def table_name(stage: str, setting: str) -> str:
    return f"{APP_NAME}-{stage}-{setting.removesuffix('_TABLE').lower()}"


def ensure_table(dynamodb: Any, name: str, definition: dict[str, Any], expiry_attribute: str | None = None) -> str:
    try:
        dynamodb.create_table(TableName=name, **definition)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    if expiry_attribute:
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "AttributeName": expiry_attribute, "Enabled": True})
    return dynamodb.describe_table(TableName=name)["Table"]["TableArn"]


def _alias_target(kms: Any, alias: str) -> str | None:
    for page in kms.get_paginator("list_aliases").paginate():
        for entry in page["Aliases"]:
            if entry["AliasName"] == alias and "TargetKeyId" in entry:
                return entry["TargetKeyId"]
    return None


def ensure_key(kms: Any, alias: str, **key_spec: Any) -> str:
    key_id = _alias_target(kms, alias)
    if key_id is None:
        key_id = kms.create_key(Description=alias, **key_spec)["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def ensure_role(iam: Any, name: str, trust: dict[str, Any], statements: list[dict[str, Any]]) -> str:
    """The role with exactly the given permissions (one inline policy, rewritten on every deploy)."""
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="permissions",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return arn


def _allow(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def function_permissions(table_arns: list[str], key_arns: list[str], state_machine_arn: str,
                         *other_state_machines: str) -> list[dict[str, Any]]:
    """What the API and the workflow tasks call: their tables, their keys, the workflows, their logs."""
    machines = [state_machine_arn, *other_state_machines]
    executions = [arn.replace(":stateMachine:", ":execution:") + ":*" for arn in machines]
    return [
        _allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                "dynamodb:Query", "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem"],
               table_arns + [f"{arn}/index/*" for arn in table_arns]),
        _allow(["kms:GenerateDataKey", "kms:Decrypt", "kms:GenerateMac"], key_arns),
        _allow(["states:StartExecution"], machines),
        _allow(["states:DescribeExecution"], executions),
        _allow(["states:SendTaskSuccess", "states:SendTaskFailure"], ["*"]),
        _allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], ["*"]),
    ]


def code_package() -> bytes:
    """The deployed code as Chalice packages it: app.py and chalicelib/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(ROOT / "app.py", "app.py")
        for path in sorted((ROOT / "chalicelib").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, str(path.relative_to(ROOT)))
    return buffer.getvalue()


def ensure_function(lambda_: Any, name: str, handler: str, role_arn: str, package: bytes,
                    environment: dict[str, str]) -> str:
    try:
        existing = lambda_.get_function(FunctionName=name)["Configuration"]
        lambda_.update_function_code(FunctionName=name, ZipFile=package)
        lambda_.get_waiter("function_updated_v2").wait(FunctionName=name)
        lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": environment})
        return existing["FunctionArn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    return lambda_.create_function(
        FunctionName=name, Runtime="python3.11", Role=role_arn, Handler=handler,
        Code={"ZipFile": package}, Timeout=60, MemorySize=512,
        Environment={"Variables": environment},
    )["FunctionArn"]


def ensure_state_machine(sfn: Any, name: str, definition: str, role_arn: str) -> str:
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                sfn.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=definition)
                return machine["stateMachineArn"]
    return sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn,
                                    type="STANDARD")["stateMachineArn"]


def ensure_workflow(clients: Clients, machine_name: str, asl: Any, functions: dict[str, str],
                    timings: dict[str, Any], role_name: str, stage_name: str, lambda_role: str, package: bytes,
                    environment: dict[str, str]) -> str:
    """A state machine, its task functions, and a role that may invoke those tasks and nothing else."""
    substitutions = dict(timings)
    for placeholder, function in functions.items():
        substitutions[placeholder] = ensure_function(
            clients.lambda_, function_name(stage_name, function), f"app.{function}",
            lambda_role, package, environment)
    task_arns = [substitutions[placeholder] for placeholder in functions]
    states_role = ensure_role(clients.iam, role_name, STATES_TRUST,
                              [_allow(["lambda:InvokeFunction"], task_arns + [f"{arn}:*" for arn in task_arns])])
    return ensure_state_machine(clients.stepfunctions, machine_name,
                                render_definition(asl.read_text(), substitutions), states_role)


def deploy(clients: Clients, stage: Stage) -> dict[str, str]:
    settings: dict[str, str] = {}
    table_arns = []
    for setting, definition in TABLES.items():
        name = table_name(stage.name, setting)
        table_arns.append(ensure_table(clients.dynamodb, name, definition, TIME_TO_LIVE.get(setting)))
        settings[setting] = name
    settings["PII_KMS_KEY_ID"] = ensure_key(clients.kms, f"alias/{APP_NAME}-{stage.name}-pii")
    settings["NIK_INDEX_KMS_KEY_ID"] = ensure_key(
        clients.kms, f"alias/{APP_NAME}-{stage.name}-nik-index",
        KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    key_arns = [clients.kms.describe_key(KeyId=settings[key])["KeyMetadata"]["Arn"]
                for key in ("PII_KMS_KEY_ID", "NIK_INDEX_KMS_KEY_ID")]
    machine_name = f"{APP_NAME}-{stage.name}-enrolment"
    region, account = key_arns[0].split(":")[3:5]
    machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{machine_name}"
    upload_machine_name = f"{APP_NAME}-{stage.name}-recipient-upload"
    upload_machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{upload_machine_name}"

    environment = {**stage.function_environment, **settings}
    lambda_role = ensure_role(clients.iam, f"{APP_NAME}-{stage.name}-functions", LAMBDA_TRUST,
                              function_permissions(table_arns, key_arns, machine_arn, upload_machine_arn))
    package = code_package()
    settings["ENROLMENT_STATE_MACHINE_ARN"] = ensure_workflow(
        clients, machine_name, ENROLMENT_ASL, WORKFLOW_FUNCTIONS, dict(stage.timings),
        f"{APP_NAME}-{stage.name}-workflow", stage.name, lambda_role, package, environment)
    settings["RECIPIENT_UPLOAD_STATE_MACHINE_ARN"] = ensure_workflow(
        clients, upload_machine_name, RECIPIENT_UPLOAD_ASL, UPLOAD_WORKFLOW_FUNCTIONS,
        {name: stage.timings[name] for name in UPLOAD_TIMINGS},
        f"{APP_NAME}-{stage.name}-recipient-upload", stage.name, lambda_role, package, environment)
    return settings
