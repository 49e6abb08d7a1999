"""Deploy a stage from a shell to whatever endpoint boto3 is aimed at.

``python -m infra.deploy_cli --stage local --population-registry-url URL --bank-url URL``

This is :func:`infra.deploy.deploy`, the code the embedded local cloud runs,
behind a command line: ``AWS_ENDPOINT_URL=http://localhost:4566`` sends it to
LocalStack, no endpoint at all to AWS. Running it twice changes nothing.

Two things the embedded cloud does not need and a real Lambda runtime does:

* the workflow's functions get the bundle ``chalice package`` builds (the
  code *and* its dependencies) instead of the bare sources, since LocalStack
  and AWS run them in their own Python, where pydantic or Powertools are not
  installed;
* the settings the functions were given, with the region and endpoint, are
  written to an env file (``build/<stage>.env``, mode 0600: it holds the bank
  secrets) that the API, served by ``chalice local``, and the tests source to
  reach the same stage.

The bank secrets come from ``BANK_DKI_CLIENT_SECRET`` and
``BANK_DKI_ACCESS_TOKEN`` when set (never from the command line, where other
users could read them), else from the env file of a previous run, and are
generated otherwise; the env file holds them for whoever plays the bank.

The API served this way needs a user pool to trust. Without a Cognito pool in
reach, the stage gets a local one, as the embedded cloud has: a signing key
kept beside the env file (``build/<stage>-signing-key.pem``, mode 0600, made
once and reused), whose public half the env file gives the API as
``ACCESS_TOKEN_JWKS``; ``python -m localcloud.tokens --key-file …`` mints with it.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra.deploy import Clients, Stage, deploy
from infra.resources import PRODUCTION_TIMINGS, ROOT, WORKFLOW_FUNCTIONS, function_name

SECRET_SETTINGS = ("BANK_DKI_CLIENT_SECRET", "BANK_DKI_ACCESS_TOKEN")


def timings(seconds_per_day: float | None) -> dict[str, int]:
    """Production's timings, or the local cloud's with a day shortened to ``seconds_per_day``."""
    if seconds_per_day is None:
        return dict(PRODUCTION_TIMINGS)
    from localcloud.cloud import scaled_timings

    return scaled_timings(seconds_per_day)


def read_env_file(path: Path) -> dict[str, str]:
    """The settings a previous run wrote, so a re-deploy keeps the secrets the bank already holds."""
    if not path.is_file():
        return {}
    settings = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            settings[name] = value
    return settings


def function_environment(arguments: argparse.Namespace, stage_timings: dict[str, int],
                         previous: dict[str, str]) -> dict[str, str]:
    environment = {
        "POPULATION_REGISTRY_URL": arguments.population_registry_url,
        "BANK_DKI_URL": arguments.bank_url,
        "BANK_DKI_PARTNER_ID": arguments.bank_partner_id,
        "JAKONE_PARTNER_ID": arguments.our_partner_id,
        # The deadline the application records is the state machine's own timeout.
        "ISSUANCE_DEADLINE_S": str(stage_timings["IssuanceTimeoutSeconds"]),
    }
    for setting in SECRET_SETTINGS:
        environment[setting] = os.environ.get(setting) or previous.get(setting) or secrets.token_urlsafe(32)
    return environment


def chalice_bundle(stage: str) -> bytes:
    from infra.template import BUNDLE, chalice_package

    with tempfile.TemporaryDirectory(prefix="chalice-package-") as directory:
        chalice_package(stage, Path(directory))
        return (Path(directory) / BUNDLE).read_bytes()


def install_bundle(lambda_: Any, stage: str, bundle: bytes) -> None:
    """Give every workflow function the full bundle, waiting out each update as Lambda requires."""
    for function in WORKFLOW_FUNCTIONS.values():
        name = function_name(stage, function)
        lambda_.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
        lambda_.update_function_code(FunctionName=name, ZipFile=bundle)
        lambda_.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})


def local_user_pool(key_file: Path) -> dict[str, str]:
    """The access settings of a stage's local user pool, its key made on first use and kept."""
    from chalicelib.access.tokens import TokenIssuer
    from localcloud.cloud import TOKEN_AUDIENCE, TOKEN_ISSUER, write_private

    if key_file.is_file():
        pool = TokenIssuer.from_pem(key_file.read_bytes(), TOKEN_ISSUER, TOKEN_AUDIENCE)
    else:
        pool = TokenIssuer.generate(TOKEN_ISSUER, TOKEN_AUDIENCE)
        write_private(key_file, pool.private_key_pem())
    return {"ACCESS_TOKEN_ISSUER": TOKEN_ISSUER, "ACCESS_TOKEN_AUDIENCE": TOKEN_AUDIENCE,
            "ACCESS_TOKEN_JWKS": pool.jwks_json()}


def write_env_file(path: Path, settings: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as env_file:
        for name, value in sorted(settings.items()):
            env_file.write(f"export {name}={shlex.quote(value)}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="deploy a stage's tables, keys, workflow functions and "
                                                 "state machine to the endpoint boto3 is given")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--population-registry-url", required=True,
                        help="Dukcapil (or its emulator) as the functions reach it")
    parser.add_argument("--bank-url", required=True, help="Bank DKI (or its emulator) as the functions reach it")
    parser.add_argument("--bank-partner-id", default="BANKDKI")
    parser.add_argument("--our-partner-id", default="JAKONE")
    parser.add_argument("--seconds-per-day", type=float,
                        help="shorten a day for the workflow's timings (default: production's 7-day deadline)")
    parser.add_argument("--bundle", type=Path,
                        help="a deployment.zip already built by `python -m infra.template` (default: build one)")
    parser.add_argument("--sources-only", action="store_true",
                        help="keep the bare sources (for a cloud that runs the functions in our own Python)")
    parser.add_argument("--env-file", type=Path, help="default: build/<stage>.env")
    arguments = parser.parse_args(argv)

    import boto3

    session = boto3.session.Session()
    if session.region_name is None:
        parser.error("no region: set AWS_DEFAULT_REGION (Jakarta is ap-southeast-3)")
    env_file = arguments.env_file or ROOT / "build" / f"{arguments.stage}.env"
    stage_timings = timings(arguments.seconds_per_day)
    environment = function_environment(arguments, stage_timings, read_env_file(env_file))
    clients = Clients.from_session(session)
    settings = deploy(clients, Stage(arguments.stage, stage_timings, environment))
    if not arguments.sources_only:
        bundle = arguments.bundle.read_bytes() if arguments.bundle else chalice_bundle(arguments.stage)
        install_bundle(clients.lambda_, arguments.stage, bundle)

    where = {"AWS_DEFAULT_REGION": session.region_name}
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        where["AWS_ENDPOINT_URL"] = endpoint
    key_file = env_file.with_name(f"{env_file.stem}-signing-key.pem")
    write_env_file(env_file, {**where, **environment, **settings, **local_user_pool(key_file)})
    print(f"stage {arguments.stage} deployed to {endpoint or 'AWS'} ({session.region_name})")
    for name, value in sorted(settings.items()):
        print(f"  {name}={value}")
    print(f"settings for the API and the tests: source {env_file}")
    print(f"bearer tokens for that API: python -m localcloud.tokens --key-file {key_file} --role OPERATOR")
    return 0


if __name__ == "__main__":
    sys.exit(main())
