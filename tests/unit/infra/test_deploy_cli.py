"""Deploying a stage from the shell (what ``localstack/deploy.sh`` runs), here against moto in-process.

A tiny zip stands in for the ``chalice package`` bundle: what matters is that
the workflow's functions end up with it, not what it holds.
"""
import base64
import hashlib
import json
import stat
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra import deploy_cli
from infra.resources import WORKFLOW_FUNCTIONS, function_name

STAGE = "local"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for secret in deploy_cli.SECRET_SETTINGS:
        monkeypatch.delenv(secret, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "# the app with its dependencies\n")
    return path


def deploy(tmp_path: Path, bundle: Path) -> Path:
    env_file = tmp_path / f"{STAGE}.env"
    deploy_cli.main(["--stage", STAGE, "--population-registry-url", "http://registry.test",
                     "--bank-url", "http://bank.test", "--seconds-per-day", "1",
                     "--bundle", str(bundle), "--env-file", str(env_file)])
    return env_file


def test_the_workflow_functions_run_the_full_bundle(aws, tmp_path, bundle):
    deploy(tmp_path, bundle)

    expected = base64.b64encode(hashlib.sha256(bundle.read_bytes()).digest()).decode()
    lambda_ = boto3.client("lambda")
    for function in WORKFLOW_FUNCTIONS.values():
        assert lambda_.get_function(FunctionName=function_name(STAGE, function))["Configuration"]["CodeSha256"] == expected


def test_the_env_file_reaches_the_same_stage_and_only_its_owner_reads_it(aws, tmp_path, bundle):
    env_file = deploy(tmp_path, bundle)

    settings = deploy_cli.read_env_file(env_file)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert settings["AWS_DEFAULT_REGION"] == "ap-southeast-3"
    assert boto3.client("dynamodb").describe_table(TableName=settings["ENROLMENT_TABLE"])["Table"]
    machine = boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=settings["ENROLMENT_STATE_MACHINE_ARN"])
    timeout = json.loads(machine["definition"])["States"]["Ask the bank to issue the card"]["TimeoutSeconds"]
    assert timeout == 7 and settings["ISSUANCE_DEADLINE_S"] == "7"


def test_deploying_again_keeps_the_secrets_the_bank_holds(aws, tmp_path, bundle):
    first = deploy_cli.read_env_file(deploy(tmp_path, bundle))
    second = deploy_cli.read_env_file(deploy(tmp_path, bundle))

    assert first == second
    function = boto3.client("lambda").get_function_configuration(
        FunctionName=function_name(STAGE, WORKFLOW_FUNCTIONS["RequestIssuanceFunctionArn"]))
    for secret in deploy_cli.SECRET_SETTINGS:
        assert function["Environment"]["Variables"][secret] == first[secret]


def test_the_api_of_the_stage_trusts_a_user_pool_whose_key_only_its_owner_reads(aws, tmp_path, bundle, capsys):
    from chalicelib.access.roles import Role
    from chalicelib.access.tokens import TokenVerifier
    from localcloud import tokens

    first = deploy_cli.read_env_file(deploy(tmp_path, bundle))
    key_file = tmp_path / f"{STAGE}-signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # the same key on every deploy, so tokens already handed out stay good
    assert deploy_cli.read_env_file(deploy(tmp_path, bundle))["ACCESS_TOKEN_JWKS"] == first["ACCESS_TOKEN_JWKS"]

    capsys.readouterr()
    assert tokens.main(["--key-file", str(key_file), "--role", "AGENCY_HEAD", "--agency", "DINSOS"]) == 0
    minted = capsys.readouterr().out.strip()
    verifier = TokenVerifier(first["ACCESS_TOKEN_ISSUER"], first["ACCESS_TOKEN_AUDIENCE"], first["ACCESS_TOKEN_JWKS"])
    principal = verifier.verify(minted)
    assert (principal.roles, principal.agency, principal.subject) == (
        {Role.AGENCY_HEAD}, "DINSOS", "local-agency-head-dinsos")
