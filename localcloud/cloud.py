"""The embedded local cloud: moto on loopback, the API, the emulated partners.

One process hosts:

* moto's server with Step Functions execution on, Lambda run in-process
  (:mod:`localcloud.lambda_runtime`) and DynamoDB's guarantees restored
  (:mod:`localcloud.dynamodb_guarantees`);
* the Chalice app on Chalice's local server, with the keep-alive stall fixed;
* the emulated population registry (Dukcapil) and partner bank (Bank DKI), each
  its own HTTP service.

Everything is deployed by :func:`infra.deploy.deploy`, the code that deploys
to LocalStack and AWS. Secrets shared with the emulated bank are generated at
start-up and live only in this process.

The local cloud is also the user pool: at start-up it generates the RSA key
pair that signs bearer tokens, gives the API the public half as the pool's
JWKS (the settings the Cognito pool's keys fill in AWS), and mints tokens
for any role with :meth:`LocalCloud.mint`. ``make run`` also writes the
private key to ``build/localcloud-signing-key.pem`` (readable by its owner
only) for ``python -m localcloud.tokens``; it is never committed, and a new
one is made at every start.
"""
from __future__ import annotations

import os
import secrets
import socket
import socketserver
import subprocess
import sys
import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
JAKARTA_REGION = "ap-southeast-3"
CALLBACK_PATH = "/snap/v1.0/card-issuance/notify"
OUR_PARTNER_ID = "JAKONE"
BANK_PARTNER_ID = "BANKDKI"
TOKEN_ISSUER = "urn:jakarta-one:localcloud:user-pool"
"""The local cloud's user pool, as ``iss``; in AWS, the Cognito pool's URL."""
TOKEN_AUDIENCE = "jakarta-one-local-client"
"""The app client the local tokens are issued to (``client_id``)."""
TOKEN_TTL_S = 3600
"""Cognito's default lifetime of an access token."""



def scaled_timings(seconds_per_day: float) -> dict[str, int]:
    """The production timings with a day shortened to ``seconds_per_day``, by substitution only."""
    return {
        "IssuanceTimeoutSeconds": max(1, round(7 * seconds_per_day)),
        "RegistryRetryIntervalSeconds": 1,
        "RegistryRetryMaxAttempts": 3,
        "BankRetryIntervalSeconds": 1,
        "BankRetryMaxAttempts": 2,
        "TransientRetryIntervalSeconds": 1,
    }


class PortInUse(RuntimeError):
    pass


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalCloud:
    seconds_per_day: float = 1.0
    timings: dict[str, int] = field(default_factory=dict)
    moto_port: int = 0
    api_port: int = 0
    bank_seed: int = 0
    stage: str = "local"
    quiet: bool = True
    urls: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    signing_key_file: Path | None = None
    """Where to write the token-signing private key for other processes; by default it stays in this one."""

    def start(self) -> "LocalCloud":
        self.timings = {**scaled_timings(self.seconds_per_day), **self.timings}
        for port in (self.moto_port, self.api_port):
            if port and not port_is_free(port):
                raise PortInUse(f"port {port} is taken (another local cloud?); stop it or choose other ports")
        self.moto_port = self.moto_port or free_port()
        self.api_port = self.api_port or free_port()
        self._environment()
        self._user_pool()
        self._start_moto()
        self._start_partners()
        self._deploy()
        self._start_api()
        return self

    def _environment(self) -> None:
        from chalicelib.core.observability import SERVICE

        endpoint = f"http://127.0.0.1:{self.moto_port}"
        os.environ.update({
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": JAKARTA_REGION,
            "AWS_REGION": JAKARTA_REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": "JakartaOne",
            "POWERTOOLS_IDEMPOTENCY_DISABLED": "false",
            "ISSUANCE_DEADLINE_S": str(self.timings["IssuanceTimeoutSeconds"]),
        })
        self.urls["aws"] = endpoint
        self.urls["api"] = f"http://127.0.0.1:{self.api_port}"

    def _user_pool(self) -> None:
        """A fresh signing key; the API learns its public half exactly as it learns the pool's in AWS."""
        from chalicelib.access.tokens import TokenIssuer

        self.token_issuer = TokenIssuer.generate(TOKEN_ISSUER, TOKEN_AUDIENCE)
        self._access_settings = {
            "ACCESS_TOKEN_ISSUER": TOKEN_ISSUER,
            "ACCESS_TOKEN_AUDIENCE": TOKEN_AUDIENCE,
            "ACCESS_TOKEN_JWKS": self.token_issuer.jwks_json(),
        }
        os.environ.update(self._access_settings)
        if self.signing_key_file is not None:
            write_private(self.signing_key_file, self.token_issuer.private_key_pem())

    def mint(self, *roles: Any, agency: str | None = None, subject: str | None = None,
             ttl_s: int = TOKEN_TTL_S) -> str:
        """A bearer token of this cloud's user pool for ``roles`` (``Role`` members or their names)."""
        from chalicelib.access.roles import Role

        held = [role if isinstance(role, Role) else Role(role) for role in roles]
        return self.token_issuer.mint(held, agency=agency, ttl_s=ttl_s,
                                      subject=subject or default_subject(held, agency))

    def _start_moto(self) -> None:
        """moto runs in its own process; the workflow's Lambda functions run there."""
        self._moto = subprocess.Popen(
            [sys.executable, "-m", "localcloud.aws", "--port", str(self.moto_port)],
            cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": PROJECT_ROOT},
            stdout=subprocess.DEVNULL if self.quiet else None, stderr=None,
        )
        wait_for_port(self.moto_port, timeout=60, process=self._moto)

    def _start_partners(self) -> None:
        from emulators.bank import BankEmulator
        from emulators.dukcapil import PopulationRegistryEmulator

        client_secret = secrets.token_urlsafe(32)
        access_token = secrets.token_urlsafe(24)
        self.registry = PopulationRegistryEmulator()
        self.urls["population_registry"] = self.registry.start()
        self.bank = BankEmulator(OUR_PARTNER_ID, client_secret, access_token,
                                 callback_url=self.urls["api"] + CALLBACK_PATH,
                                 time_scale_s_per_day=self.seconds_per_day, seed=self.bank_seed,
                                 bank_partner_id=BANK_PARTNER_ID)
        self.urls["bank"] = self.bank.start()
        self._function_environment = {
            "POPULATION_REGISTRY_URL": self.urls["population_registry"],
            "BANK_DKI_URL": self.urls["bank"],
            "BANK_DKI_PARTNER_ID": BANK_PARTNER_ID,
            "JAKONE_PARTNER_ID": OUR_PARTNER_ID,
            "BANK_DKI_CLIENT_SECRET": client_secret,
            "BANK_DKI_ACCESS_TOKEN": access_token,
            "ISSUANCE_DEADLINE_S": os.environ["ISSUANCE_DEADLINE_S"],
        }
        os.environ.update(self._function_environment)

    def _deploy(self) -> None:
        import boto3

        from chalicelib import wiring
        from infra.deploy import Clients, Stage, deploy

        session = boto3.session.Session()
        self.settings = deploy(Clients.from_session(session),
                               Stage(self.stage, self.timings, self._function_environment))
        self.settings.update(self._access_settings)
        os.environ.update(self.settings)
        wiring.reset()

    def _start_api(self) -> None:
        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, HTTPServerThread, ThreadedHTTPServer, create_local_server

        import app as application
        from localcloud.gateway import answer_like_api_gateway

        ChaliceRequestHandler.disable_nagle_algorithm = True
        ChaliceRequestHandler.log_message = _quiet_access_log if self.quiet else _masked_access_log
        ThreadedHTTPServer.handle_error = _caller_gone_or_report
        ThreadedHTTPServer.request_queue_size = 128
        answer_like_api_gateway()
        config = Config.create(chalice_stage=self.stage, app_name="jakarta-one",
                               environment_variables=dict(self.settings))
        self._api = HTTPServerThread(lambda: create_local_server(application.app, config, "127.0.0.1",
                                                                  self.api_port))
        self._api.start()
        wait_for_port(self.api_port)

    def stop(self) -> None:
        for stopper in (getattr(self, "_api", None), ):
            if stopper is not None:
                stopper.shutdown()
        for emulator in (getattr(self, "bank", None), getattr(self, "registry", None)):
            if emulator is not None:
                emulator.stop()
        if self.signing_key_file is not None:
            self.signing_key_file.unlink(missing_ok=True)
        moto = getattr(self, "_moto", None)
        if moto is not None and moto.poll() is None:
            moto.terminate()
            try:
                moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                moto.kill()

    def __enter__(self) -> "LocalCloud":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def default_subject(roles: list[Any], agency: str | None = None) -> str:
    """A readable subject for a local token: ``local-operator``, ``local-agency-head-disdik``."""
    parts = ["local", *(role.value.lower().replace("_", "-") for role in roles)]
    if agency:
        parts.append(agency.lower())
    return "-".join(parts)


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` readable and writable by its owner only, replacing any earlier file at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)
    os.replace(partial, path)


def wait_for_port(port: int, timeout: float = 10.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def _quiet_access_log(handler: Any, format: str, *args: Any) -> None:
    """One line per request drowns what the demo and ``make run`` print."""


def _masked_access_log(handler: Any, format: str, *args: Any) -> None:
    """The request line may carry a NIK a caller put in a path or query: masked like every log line."""
    from chalicelib.identity.nik import mask_nik

    sys.stderr.write(mask_nik(f"{handler.address_string()} - [{handler.log_date_time_string()}] {format % args}")
                     + "\n")


def _caller_gone_or_report(server: Any, request: Any, client_address: Any) -> None:
    """A caller that hung up before its answer (a bank's callback timeout) is not a server fault."""
    if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
        return
    socketserver.BaseServer.handle_error(server, request, client_address)
