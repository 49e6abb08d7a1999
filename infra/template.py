"""One deployable CloudFormation template for a stage.

``chalice package`` knows the API and the Lambda functions declared in
``app.py``; it knows nothing of the tables, the KMS keys, the enrolment state
machine or the permissions the functions need to reach them. This module runs
``chalice package`` and merges those resources into its SAM template, reading
every definition from :mod:`infra.resources` (key schemas, workflow functions,
timings) so the template, the local deployer and the tests cannot drift apart.

``python -m infra.template [--stage prod] [--out build/template.json]`` writes
the template and, beside it, the ``deployment.zip`` its ``CodeUri`` points at;
``sam deploy`` or ``aws cloudformation package`` take it from there.

The template deliberately keeps two decisions of its own:

* numeric timings are rendered into the definition here, because
  DefinitionSubstitutions can only produce strings and ``"TimeoutSeconds":
  "604800"`` is not a valid state machine; the Lambda ARNs, known only at
  deploy time, stay ``${...}`` placeholders filled by DefinitionSubstitutions.
  The definition goes in as an object (``Definition``), not a string:
  cfn-lint checks an embedded ``DefinitionString`` only in templates without
  the SAM transform, and this one has it;
* the API handler gets a role of its own: it starts executions and completes
  task tokens, which the workflow's tasks must not; the tasks unseal personal
  data, which the API must not;
* the bearer-token authorizer gets a role that may only write its logs, and
  only the access settings (the user pool's issuer, app client and public
  keys, as parameters); API Gateway's own refusals (no token, a refused
  token) answer in the API's error shape (:mod:`infra.gateway`).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

from infra.deploy import table_name
from infra.gateway import gateway_response_resources
from infra.resources import (
    APP_NAME,
    ENROLMENT_ASL,
    PRODUCTION_TIMINGS,
    RECIPIENT_UPLOAD_ASL,
    ROOT,
    TABLES,
    TIME_TO_LIVE,
    UPLOAD_TIMINGS,
    UPLOAD_WORKFLOW_FUNCTIONS,
    WORKFLOW_FUNCTIONS,
    render_definition,
)

REGION = "ap-southeast-3"
"""Asia Pacific (Jakarta): where the stack is deployed and what ``chalice package`` is told."""
DEFAULT_OUT = ROOT / "build" / "template.json"
BUNDLE = "deployment.zip"
API_HANDLER = "app.app"
"""The handler ``chalice package`` gives the function behind API Gateway."""
AUTHORIZER_HANDLER = "app.bearer_token"
"""The built-in authorizer declared in ``app.py``; ``chalice package`` makes it a function of its own."""
AUTHORIZER_ROLE = "BearerTokenAuthorizerRole"
REST_API = "RestAPI"
"""The logical id ``chalice package`` gives the REST API."""

ENROLMENT_STATE_MACHINE = "EnrolmentStateMachine"
STATE_MACHINE_ROLE = "EnrolmentStateMachineRole"
UPLOAD_STATE_MACHINE = "RecipientUploadStateMachine"
UPLOAD_STATE_MACHINE_ROLE = "RecipientUploadStateMachineRole"
UPLOAD_TASK_ROLE = "RecipientUploadTaskRole"
API_ROLE = "APIHandlerRole"
TASK_ROLE = "DefaultRole"
"""The role ``chalice package`` creates; after the merge only the workflow's tasks use it."""
PII_KEY = "PersonalDataKey"
NIK_INDEX_KEY = "NikIndexKey"

PARAMETERS: dict[str, dict[str, Any]] = {
    "PopulationRegistryUrl": {
        "Type": "String", "Description": "Dukcapil's NIK verification endpoint (Art. 19)"},
    "BankDkiUrl": {
        "Type": "String", "Description": "Bank DKI's SNAP card issuance endpoint (Art. 20)"},
    "BankDkiPartnerId": {
        "Type": "String", "Default": "BANKDKI", "Description": "X-PARTNER-ID the bank signs its callbacks with"},
    "JakonePartnerId": {
        "Type": "String", "Default": "JAKONE", "Description": "X-PARTNER-ID we sign our requests to the bank with"},
    "BankDkiClientSecret": {
        "Type": "String", "NoEcho": True, "Description": "SNAP HMAC secret shared with Bank DKI"},
    "BankDkiAccessToken": {
        "Type": "String", "NoEcho": True, "Description": "SNAP access token shared with Bank DKI"},
    "AccessTokenIssuer": {
        "Type": "String", "Description": "The user pool's issuer: https://cognito-idp.<region>.amazonaws.com/<pool id>"},
    "AccessTokenAudience": {
        "Type": "String", "Description": "The app client id the user pool issues the bearer tokens to"},
    "AccessTokenJwks": {
        "Type": "String", "Description": "The user pool's public signing keys: the JSON of its /.well-known/jwks.json"},
}
PARTNER_ENVIRONMENT: dict[str, str] = {
    "POPULATION_REGISTRY_URL": "PopulationRegistryUrl",
    "BANK_DKI_URL": "BankDkiUrl",
    "BANK_DKI_PARTNER_ID": "BankDkiPartnerId",
    "JAKONE_PARTNER_ID": "JakonePartnerId",
    "BANK_DKI_CLIENT_SECRET": "BankDkiClientSecret",
    "BANK_DKI_ACCESS_TOKEN": "BankDkiAccessToken",
}
"""Function setting → the template parameter that supplies it."""
ACCESS_ENVIRONMENT: dict[str, str] = {
    "ACCESS_TOKEN_ISSUER": "AccessTokenIssuer",
    "ACCESS_TOKEN_AUDIENCE": "AccessTokenAudience",
    "ACCESS_TOKEN_JWKS": "AccessTokenJwks",
}
"""The authorizer's settings (chalicelib.core.settings.AccessSettings) → their parameters."""

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
LOGS_STATEMENT = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"},
}


# ---------------------------------------------------------------- chalice package

def chalice_package(stage: str, directory: Path) -> dict[str, Any]:
    """The SAM template ``chalice package`` writes for ``stage`` (with its bundle) into ``directory``.

    Chalice needs a region to render ARNs but makes no AWS call; the one given
    by the environment wins, Jakarta's otherwise.
    """
    environment = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", REGION)}
    command = [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())",
               "--project-dir", str(ROOT), "package", "--stage", stage, str(directory)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"chalice package failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return json.loads((directory / "sam.json").read_text())


# ---------------------------------------------------------------- what Chalice does not generate

def logical_id(setting: str) -> str:
    """``ENROLMENT_TABLE`` → ``EnrolmentTable``."""
    return "".join(part.capitalize() for part in setting.lower().split("_"))


_CREATE_TABLE_TO_CFN = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes",
                        "LocalSecondaryIndexes", "BillingMode", "ProvisionedThroughput")
"""CreateTable arguments whose CloudFormation property has the same name and shape."""


def table(stage: str, setting: str, definition: dict[str, Any]) -> dict[str, Any]:
    """An AWS::DynamoDB::Table from the definition CreateTable takes, so both stay one source.

    The name is the one the local deployer gives, so a stage's tables are
    called the same on moto, LocalStack and AWS. A named table cannot be
    replaced by an update, and the table outlives the stack: losing
    applications or the ledger to a template change must not be possible.
    """
    unknown = definition.keys() - set(_CREATE_TABLE_TO_CFN)
    if unknown:
        raise ValueError(f"{setting}: no CloudFormation mapping for {sorted(unknown)}")
    properties: dict[str, Any] = {"TableName": table_name(stage, setting)}
    properties.update(copy.deepcopy(definition))
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    properties["SSESpecification"] = {"SSEEnabled": True}
    if setting in TIME_TO_LIVE:
        properties["TimeToLiveSpecification"] = {"AttributeName": TIME_TO_LIVE[setting], "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": properties}


def _key(description: str, **spec: Any) -> dict[str, Any]:
    """A KMS key administered by the account; what may use it is granted by the roles.

    Retained when the stack goes: without the PII key the sealed personal data
    cannot be read, without the index key no NIK can be found again.
    """
    return {
        "Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": description,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "TheAccountAdministersTheKey", "Effect": "Allow",
                    "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                    "Action": "kms:*", "Resource": "*",
                }],
            },
            **spec,
        },
    }


def keys(stage: str) -> dict[str, Any]:
    """The two keys :func:`infra.deploy.deploy` creates, under the same aliases."""
    return {
        PII_KEY: _key(f"{APP_NAME} {stage}: envelope key of residents' personal data (UU 27/2022)",
                      EnableKeyRotation=True),
        f"{PII_KEY}Alias": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": f"alias/{APP_NAME}-{stage}-pii", "TargetKeyId": {"Ref": PII_KEY}}},
        NIK_INDEX_KEY: _key(f"{APP_NAME} {stage}: HMAC key of the NIK lookup index",
                            KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC"),
        f"{NIK_INDEX_KEY}Alias": {"Type": "AWS::KMS::Alias", "Properties": {
            "AliasName": f"alias/{APP_NAME}-{stage}-nik-index", "TargetKeyId": {"Ref": NIK_INDEX_KEY}}},
    }


def definition_with_timings(asl: Any, placeholders: Iterable[str], timings: dict[str, int]) -> dict[str, Any]:
    """An ASL with the timings rendered in and the Lambda ARNs left as placeholders."""
    keep = {placeholder: "${" + placeholder + "}" for placeholder in placeholders}
    return json.loads(render_definition(asl.read_text(), {**timings, **keep}))


def _workflow(machine_id: str, role_id: str, name: str, policy_name: str, definition: dict[str, Any],
              task_functions: dict[str, str]) -> dict[str, Any]:
    """A Standard state machine and a role that may invoke its own tasks and nothing else."""
    arns = [{"Fn::GetAtt": [resource, "Arn"]} for resource in task_functions.values()]
    return {
        role_id: {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                }],
            },
            "Policies": [{"PolicyName": policy_name, "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arns}],
            }}],
        }},
        machine_id: {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "StateMachineName": name,
            "StateMachineType": "STANDARD",
            "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
            "Definition": definition,
            "DefinitionSubstitutions": {placeholder: {"Fn::GetAtt": [resource, "Arn"]}
                                        for placeholder, resource in task_functions.items()},
        }},
    }


def state_machine(stage: str, task_functions: dict[str, str], timings: dict[str, int]) -> dict[str, Any]:
    """The enrolment workflow: Standard, since Express cannot wait 7 days."""
    return _workflow(ENROLMENT_STATE_MACHINE, STATE_MACHINE_ROLE, f"{APP_NAME}-{stage}-enrolment",
                     "InvokeTheEnrolmentTasks", definition_with_timings(ENROLMENT_ASL, WORKFLOW_FUNCTIONS, timings),
                     task_functions)


def upload_state_machine(stage: str, task_functions: dict[str, str], timings: dict[str, int]) -> dict[str, Any]:
    """The recipient-upload workflow: one chunk per step, looped."""
    definition = definition_with_timings(RECIPIENT_UPLOAD_ASL, UPLOAD_WORKFLOW_FUNCTIONS,
                                         {name: timings[name] for name in UPLOAD_TIMINGS})
    return _workflow(UPLOAD_STATE_MACHINE, UPLOAD_STATE_MACHINE_ROLE, f"{APP_NAME}-{stage}-recipient-upload",
                     "InvokeTheUploadTask", definition, task_functions)


# ---------------------------------------------------------------- permissions of the functions

def _table_arns(setting: str) -> list[Any]:
    arn = {"Fn::GetAtt": [logical_id(setting), "Arn"]}
    return [arn, {"Fn::Sub": "${" + logical_id(setting) + ".Arn}/index/*"}]


def _statement(action: list[str] | str, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


APPLICATION_STORE = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"]
"""Reads, and the conditional puts and updates every transition's transaction is made of."""
IDEMPOTENCY_STORE = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
REGISTRY_STORE = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem",
                  "dynamodb:BatchWriteItem"]
"""Programs, officers and reports: conditional puts (create once, replace if unchanged since read), reads;
an upload's sealed chunks, written in batches."""
UPLOAD_STORE = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
"""Processing an upload: read its chunks and the program's holdings, write recipients, count progress."""
AUDIT_APPEND = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"]
"""Appending to the chains: read a head, then put entries and move the head in one transaction. Never delete."""


def api_policy() -> dict[str, Any]:
    """What the API does: store and list applications, seal and index personal data
    (never unseal it), start the workflow, and hand the bank's callback to the waiting task."""
    return {"Version": "2012-10-17", "Statement": [
        _statement(APPLICATION_STORE, _table_arns("ENROLMENT_TABLE")),
        _statement(IDEMPOTENCY_STORE, {"Fn::GetAtt": [logical_id("IDEMPOTENCY_TABLE"), "Arn"]}),
        _statement("kms:GenerateDataKey", {"Fn::GetAtt": [PII_KEY, "Arn"]}),
        _statement("kms:GenerateMac", {"Fn::GetAtt": [NIK_INDEX_KEY, "Arn"]}),
        _statement(AUDIT_APPEND, {"Fn::GetAtt": [logical_id("AUDIT_TABLE"), "Arn"]}),
        _statement(REGISTRY_STORE, _table_arns("REGISTRY_TABLE")),
        _statement("states:StartExecution", [{"Ref": ENROLMENT_STATE_MACHINE}, {"Ref": UPLOAD_STATE_MACHINE}]),
        # A token from a .waitForTaskToken service integration carries no resource IAM can name.
        _statement(["states:SendTaskSuccess", "states:SendTaskFailure"], "*"),
    ]}


def task_policy() -> dict[str, Any]:
    """What the workflow's tasks do: read and move applications on, unseal personal data
    to send it to Dukcapil and the bank."""
    return {"Version": "2012-10-17", "Statement": [
        _statement(APPLICATION_STORE, _table_arns("ENROLMENT_TABLE")),
        _statement(AUDIT_APPEND, {"Fn::GetAtt": [logical_id("AUDIT_TABLE"), "Arn"]}),
        _statement("kms:Decrypt", {"Fn::GetAtt": [PII_KEY, "Arn"]}),
    ]}


def upload_task_policy() -> dict[str, Any]:
    """What processing an upload does: unseal its chunks, index and seal recipients, store them, audit them."""
    return {"Version": "2012-10-17", "Statement": [
        _statement(UPLOAD_STORE, _table_arns("REGISTRY_TABLE")),
        _statement(AUDIT_APPEND, {"Fn::GetAtt": [logical_id("AUDIT_TABLE"), "Arn"]}),
        _statement(["kms:Decrypt", "kms:GenerateDataKey"], {"Fn::GetAtt": [PII_KEY, "Arn"]}),
        _statement("kms:GenerateMac", {"Fn::GetAtt": [NIK_INDEX_KEY, "Arn"]}),
    ]}


# ---------------------------------------------------------------- the merge

def _functions_by_handler(resources: dict[str, Any]) -> dict[str, str]:
    return {resource["Properties"]["Handler"]: name for name, resource in resources.items()
            if resource["Type"] == "AWS::Serverless::Function"}


def _set_environment(function: dict[str, Any], variables: dict[str, Any]) -> None:
    existing = function["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
    clash = existing.keys() & variables.keys()
    if clash:
        raise ValueError(f"the Chalice config already sets {sorted(clash)}; the template owns them")
    existing.update(variables)


def merge(sam: dict[str, Any], stage: str, timings: dict[str, int] | None = None) -> dict[str, Any]:
    """``sam`` (as ``chalice package`` wrote it) with everything else the stage needs."""
    template = copy.deepcopy(sam)
    timings = dict(PRODUCTION_TIMINGS if timings is None else timings)
    resources: dict[str, Any] = template["Resources"]
    by_handler = _functions_by_handler(resources)
    missing = {f"app.{name}" for name in [*WORKFLOW_FUNCTIONS.values(), *UPLOAD_WORKFLOW_FUNCTIONS.values()]} \
        - by_handler.keys()
    if missing or API_HANDLER not in by_handler:
        raise ValueError(f"chalice package did not emit {sorted(missing | ({API_HANDLER} - by_handler.keys()))}")
    task_functions = {placeholder: by_handler[f"app.{name}"] for placeholder, name in WORKFLOW_FUNCTIONS.items()}
    upload_functions = {placeholder: by_handler[f"app.{name}"] for placeholder, name in UPLOAD_WORKFLOW_FUNCTIONS.items()}
    api_function = by_handler[API_HANDLER]
    if TASK_ROLE not in resources:
        raise ValueError(f"chalice package did not emit {TASK_ROLE}; the task policy has nowhere to go")
    if AUTHORIZER_HANDLER not in by_handler or REST_API not in resources:
        raise ValueError(f"chalice package did not emit {AUTHORIZER_HANDLER} and {REST_API}")
    authorizer_function = by_handler[AUTHORIZER_HANDLER]

    added: dict[str, Any] = {}
    for setting, definition in TABLES.items():
        added[logical_id(setting)] = table(stage, setting, definition)
    added.update(keys(stage))
    added.update(state_machine(stage, task_functions, timings))
    added.update(upload_state_machine(stage, upload_functions, timings))
    added[UPLOAD_TASK_ROLE] = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": LAMBDA_TRUST,
        "Policies": [
            {"PolicyName": "WriteLogs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [LOGS_STATEMENT]}},
            {"PolicyName": "ProcessRecipientUploads", "PolicyDocument": upload_task_policy()},
        ],
    }}
    added[API_ROLE] = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": LAMBDA_TRUST,
        "Policies": [
            {"PolicyName": "WriteLogs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [LOGS_STATEMENT]}},
            {"PolicyName": "ServeTheApi", "PolicyDocument": api_policy()},
        ],
    }}
    added[AUTHORIZER_ROLE] = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": LAMBDA_TRUST,
        "Policies": [
            {"PolicyName": "WriteLogs", "PolicyDocument": {"Version": "2012-10-17", "Statement": [LOGS_STATEMENT]}},
        ],
    }}
    added.update(gateway_response_resources(REST_API))
    clash = added.keys() & resources.keys()
    if clash:
        raise ValueError(f"chalice package already emits {sorted(clash)}")
    resources.update(added)

    resources[TASK_ROLE]["Properties"].setdefault("Policies", []).append(
        {"PolicyName": "RunTheEnrolmentTasks", "PolicyDocument": task_policy()})
    resources[api_function]["Properties"]["Role"] = {"Fn::GetAtt": [API_ROLE, "Arn"]}
    resources[authorizer_function]["Properties"]["Role"] = {"Fn::GetAtt": [AUTHORIZER_ROLE, "Arn"]}
    _set_environment(resources[authorizer_function],
                     {variable: {"Ref": parameter} for variable, parameter in ACCESS_ENVIRONMENT.items()})

    settings: dict[str, Any] = {setting: {"Ref": logical_id(setting)} for setting in TABLES}
    settings["PII_KMS_KEY_ID"] = {"Ref": PII_KEY}
    settings["NIK_INDEX_KMS_KEY_ID"] = {"Ref": NIK_INDEX_KEY}
    settings.update({variable: {"Ref": parameter} for variable, parameter in PARTNER_ENVIRONMENT.items()})
    # The deadline the application records is the state machine's own timeout.
    settings["ISSUANCE_DEADLINE_S"] = str(timings["IssuanceTimeoutSeconds"])
    for resource in task_functions.values():
        _set_environment(resources[resource], settings)
    for resource in upload_functions.values():
        resources[resource]["Properties"]["Role"] = {"Fn::GetAtt": [UPLOAD_TASK_ROLE, "Arn"]}
        _set_environment(resources[resource], settings)
    # Only the API starts executions; the tasks exist before the state machine does.
    _set_environment(resources[api_function],
                     {**settings, "ENROLMENT_STATE_MACHINE_ARN": {"Ref": ENROLMENT_STATE_MACHINE},
                      "RECIPIENT_UPLOAD_STATE_MACHINE_ARN": {"Ref": UPLOAD_STATE_MACHINE}})

    template["Description"] = (f"Jakarta One ({stage}): API, enrolment workflow (Pergub DKI 145/2017 "
                               "Art. 17-20), its tables and keys")
    template.setdefault("Parameters", {}).update(copy.deepcopy(PARAMETERS))
    outputs = template.setdefault("Outputs", {})
    outputs["EnrolmentStateMachineArn"] = {"Value": {"Ref": ENROLMENT_STATE_MACHINE}}
    outputs["RecipientUploadStateMachineArn"] = {"Value": {"Ref": UPLOAD_STATE_MACHINE}}
    for setting in TABLES:
        outputs[logical_id(setting) + "Name"] = {"Value": {"Ref": logical_id(setting)}}
    return template


def build(stage: str, directory: Path, timings: dict[str, int] | None = None) -> dict[str, Any]:
    """Package the app into ``directory`` and return the merged template (not written)."""
    return merge(chalice_package(stage, directory), stage, timings)


def write(stage: str, out: Path) -> Path:
    """Write the stage's template to ``out`` and the Lambda bundle beside it, where CodeUri expects it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chalice-package-") as directory:
        template = build(stage, Path(directory))
        shutil.move(str(Path(directory) / BUNDLE), str(out.parent / BUNDLE))
    out.write_text(json.dumps(template, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write the stage's deployable CloudFormation template")
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    arguments = parser.parse_args(argv)
    written = write(arguments.stage, arguments.out)
    print(f"{written} (and {written.parent / BUNDLE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
