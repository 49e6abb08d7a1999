"""The deployable template: what ``chalice package`` generates plus infra/, lint-clean and one source.

``chalice package`` runs once for the module (after its first run it reuses
the cached bundle) and the merge is applied to its output. Lint runs every
stable rule, informational ones included, for the Jakarta region, and
tolerates nothing; cfn-lint's experimental rules are left out, as they only
ask for descriptive metadata. Whether every ``Next`` points to a state is
checked on the ASL itself in ``tests/unit/workflow/test_definition.py``:
cfn-lint does not check it.
"""
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from chalicelib.core.settings import AccessSettings, Settings
from infra import template as infra_template
from infra.deploy import table_name
from infra.resources import APP_NAME, PRODUCTION_TIMINGS, TABLES, WORKFLOW_FUNCTIONS, placeholders

STAGE = "prod"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("package")


@pytest.fixture(scope="module")
def sam(package: Path) -> dict[str, Any]:
    """The template exactly as ``chalice package`` writes it."""
    return infra_template.chalice_package(STAGE, package)


@pytest.fixture(scope="module")
def production(sam: dict[str, Any]) -> dict[str, Any]:
    return infra_template.merge(sam, STAGE)


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == kind}


def function_by_handler(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(name, resource) for name, resource in resources_of_type(template, "AWS::Serverless::Function").items()
                if resource["Properties"]["Handler"] == handler]
    return found


def state_machine(template: dict[str, Any]) -> dict[str, Any]:
    """The enrolment state machine (the recipient-upload one has its own tests)."""
    machines = resources_of_type(template, "AWS::StepFunctions::StateMachine")
    assert set(machines) == {infra_template.ENROLMENT_STATE_MACHINE, infra_template.UPLOAD_STATE_MACHINE}
    return machines[infra_template.ENROLMENT_STATE_MACHINE]["Properties"]


def test_the_production_template_lints_clean(production):
    matches = lint(json.dumps(production),
                   config=ManualArgs(regions=[infra_template.REGION], include_checks=["I"]))
    assert [f"{match.rule.id} {'/'.join(map(str, match.path))}: {match.message}" for match in matches] == []


def test_the_bundle_lies_where_the_functions_code_uri_points(package, production):
    for function in resources_of_type(production, "AWS::Serverless::Function").values():
        assert (package / function["Properties"]["CodeUri"]).is_file()


def test_every_table_has_the_key_schema_of_the_one_definition(production):
    tables = resources_of_type(production, "AWS::DynamoDB::Table")
    assert set(tables) == {infra_template.logical_id(setting) for setting in TABLES}
    for setting, definition in TABLES.items():
        properties = tables[infra_template.logical_id(setting)]["Properties"]
        assert properties["TableName"] == table_name(STAGE, setting)
        for key in ("KeySchema", "AttributeDefinitions", "BillingMode"):
            assert properties[key] == definition[key], f"{setting} {key}"
        assert properties.get("GlobalSecondaryIndexes") == definition.get("GlobalSecondaryIndexes"), setting


def test_tables_and_keys_outlive_the_stack(production):
    for kind in ("AWS::DynamoDB::Table", "AWS::KMS::Key"):
        for name, resource in resources_of_type(production, kind).items():
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", name


def test_the_keys_are_the_ones_the_local_deployer_creates(production):
    aliases = {alias["Properties"]["AliasName"]: alias["Properties"]["TargetKeyId"]["Ref"]
               for alias in resources_of_type(production, "AWS::KMS::Alias").values()}
    assert aliases == {f"alias/{APP_NAME}-{STAGE}-pii": infra_template.PII_KEY,
                       f"alias/{APP_NAME}-{STAGE}-nik-index": infra_template.NIK_INDEX_KEY}
    index_key = production["Resources"][infra_template.NIK_INDEX_KEY]["Properties"]
    assert (index_key["KeySpec"], index_key["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")


@pytest.mark.regulation("Art. 20")
def test_production_gives_the_bank_seven_days_in_numbers_not_strings(production):
    machine = state_machine(production)
    assert machine["StateMachineType"] == "STANDARD"
    task = machine["Definition"]["States"]["Ask the bank to issue the card"]
    assert task["TimeoutSeconds"] == 604_800 and isinstance(task["TimeoutSeconds"], int)
    for state in machine["Definition"]["States"].values():
        for retry in state.get("Retry", []):
            assert isinstance(retry["IntervalSeconds"], int) and isinstance(retry["MaxAttempts"], int)


def functions_with_settings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The API and the workflow's tasks: every function but the bearer-token authorizer."""
    authorizer, _ = function_by_handler(template, infra_template.AUTHORIZER_HANDLER)
    return {name: function for name, function in resources_of_type(template, "AWS::Serverless::Function").items()
            if name != authorizer}


def test_the_recorded_deadline_is_the_state_machines_timeout(production):
    for function in functions_with_settings(production).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["ISSUANCE_DEADLINE_S"] == str(PRODUCTION_TIMINGS["IssuanceTimeoutSeconds"])


def test_a_shortened_day_changes_only_the_timings(sam, production):
    quick = infra_template.merge(sam, STAGE, {**PRODUCTION_TIMINGS, "IssuanceTimeoutSeconds": 7})
    task = state_machine(quick)["Definition"]["States"]["Ask the bank to issue the card"]
    assert task["TimeoutSeconds"] == 7
    task["TimeoutSeconds"] = PRODUCTION_TIMINGS["IssuanceTimeoutSeconds"]
    assert state_machine(quick)["Definition"] == state_machine(production)["Definition"]


def test_only_the_lambda_arns_are_left_to_definition_substitutions(production):
    machine = state_machine(production)
    assert placeholders(json.dumps(machine["Definition"])) == set(WORKFLOW_FUNCTIONS) \
        == set(machine["DefinitionSubstitutions"])
    for placeholder, function in WORKFLOW_FUNCTIONS.items():
        name, _ = function_by_handler(production, f"app.{function}")
        assert machine["DefinitionSubstitutions"][placeholder] == {"Fn::GetAtt": [name, "Arn"]}


def test_the_state_machine_may_invoke_its_four_tasks_and_nothing_else(production):
    role = production["Resources"][state_machine(production)["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    tasks = [function_by_handler(production, f"app.{function}")[0] for function in WORKFLOW_FUNCTIONS.values()]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == [{"Fn::GetAtt": [task, "Arn"]} for task in tasks]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}


def _actions(template: dict[str, Any], role: str) -> set[str]:
    statements = [statement for policy in template["Resources"][role]["Properties"]["Policies"]
                  for statement in policy["PolicyDocument"]["Statement"]]
    return {action for statement in statements
            for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])}


def test_only_the_api_drives_the_workflow_and_only_the_tasks_unseal_personal_data(production):
    api_name, api = function_by_handler(production, infra_template.API_HANDLER)
    api_role = api["Properties"]["Role"]["Fn::GetAtt"][0]
    task_roles = {function_by_handler(production, f"app.{function}")[1]["Properties"]["Role"]["Fn::GetAtt"][0]
                  for function in WORKFLOW_FUNCTIONS.values()}
    assert api_role not in task_roles and len(task_roles) == 1
    (task_role,) = task_roles
    assert {"states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure"} <= _actions(production, api_role)
    assert "kms:Decrypt" not in _actions(production, api_role)
    assert not {action for action in _actions(production, task_role) if action.startswith("states:")}
    assert "kms:Decrypt" in _actions(production, task_role)


def test_every_function_that_touches_personal_data_may_append_to_the_audit_trail_but_not_erase_it(production):
    for handler in [infra_template.API_HANDLER] + [f"app.{function}" for function in WORKFLOW_FUNCTIONS.values()]:
        role = function_by_handler(production, handler)[1]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = production["Resources"][role]["Properties"]["Policies"]
        audit = [statement for policy in statements for statement in policy["PolicyDocument"]["Statement"]
                 if statement["Resource"] == {"Fn::GetAtt": ["AuditTable", "Arn"]}]
        assert audit and not any("dynamodb:DeleteItem" in statement["Action"] for statement in audit), handler


def test_every_function_gets_every_setting_it_cannot_start_without(production):
    required = {field.alias for field in Settings.model_fields.values() if field.is_required()}
    for name, function in functions_with_settings(production).items():
        assert required <= function["Properties"]["Environment"]["Variables"].keys(), name


def test_the_authorizer_knows_the_user_pool_only_and_may_only_write_its_logs(production):
    _, authorizer = function_by_handler(production, infra_template.AUTHORIZER_HANDLER)
    required = {field.alias for field in AccessSettings.model_fields.values() if field.is_required()}
    variables = authorizer["Properties"]["Environment"]["Variables"]
    assert set(variables) == required == set(infra_template.ACCESS_ENVIRONMENT)
    assert all(variables[name] == {"Ref": parameter} for name, parameter in infra_template.ACCESS_ENVIRONMENT.items())
    role = authorizer["Properties"]["Role"]["Fn::GetAtt"][0]
    assert _actions(production, role) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}


def test_exactly_the_routes_that_declare_a_token_ask_api_gateway_for_one(production):
    import app as application
    from chalicelib.access.gate import Gate, declaration_of

    paths = production["Resources"][infra_template.REST_API]["Properties"]["DefinitionBody"]["paths"]
    for path, methods in application.app.routes.items():
        for method, entry in methods.items():
            security = paths[path][method.lower()].get("security")
            needs_token = declaration_of(entry.view_function).gate is Gate.BEARER_TOKEN
            assert security == ([{"bearer_token": []}] if needs_token else None), f"{method} {path}"


def test_api_gateway_refuses_a_missing_or_bad_token_in_the_api_error_shape(production):
    responses = {resource["Properties"]["ResponseType"]: resource["Properties"]
                 for resource in resources_of_type(production, "AWS::ApiGateway::GatewayResponse").values()}
    unauthorized = responses["UNAUTHORIZED"]
    assert unauthorized["StatusCode"] == "401"
    assert unauthorized["RestApiId"] == {"Ref": infra_template.REST_API}
    body = json.loads(unauthorized["ResponseTemplates"]["application/json"])
    assert body["code"] == "UNAUTHENTICATED" and body["message"]
    assert unauthorized["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"
    for properties in responses.values():
        assert set(json.loads(properties["ResponseTemplates"]["application/json"])) == {"code", "message"}


def test_the_api_alone_learns_the_state_machine_arn(production):
    """The tasks exist before the state machine; giving them its ARN would be a cycle."""
    api_name, _ = function_by_handler(production, infra_template.API_HANDLER)
    for name, function in resources_of_type(production, "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        if name == api_name:
            assert variables["ENROLMENT_STATE_MACHINE_ARN"] == {"Ref": "EnrolmentStateMachine"}
        else:
            assert "ENROLMENT_STATE_MACHINE_ARN" not in variables, name


def test_the_recipient_upload_machine_loops_its_one_task_which_has_a_role_of_its_own(production):
    from infra.resources import UPLOAD_WORKFLOW_FUNCTIONS

    machine = production["Resources"][infra_template.UPLOAD_STATE_MACHINE]["Properties"]
    assert machine["StateMachineType"] == "STANDARD"
    assert placeholders(json.dumps(machine["Definition"])) == set(UPLOAD_WORKFLOW_FUNCTIONS) \
        == set(machine["DefinitionSubstitutions"])
    for state in machine["Definition"]["States"].values():
        for retry in state.get("Retry", []):
            assert isinstance(retry["IntervalSeconds"], int)
    (name, function) = function_by_handler(production, "app.registry_process_upload_chunk")
    assert function["Properties"]["Role"] == {"Fn::GetAtt": [infra_template.UPLOAD_TASK_ROLE, "Arn"]}
    _, api = function_by_handler(production, infra_template.API_HANDLER)
    assert api["Properties"]["Environment"]["Variables"]["RECIPIENT_UPLOAD_STATE_MACHINE_ARN"] == {
        "Ref": infra_template.UPLOAD_STATE_MACHINE}
