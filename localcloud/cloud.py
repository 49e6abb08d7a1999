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
"""
from __future__ import annotations

import os
import secrets
import socket
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

    def start(self) -> "LocalCloud":
        self.timings = {**scaled_timings(self.seconds_per_day), **self.timings}
        self.moto_port = self.moto_port or free_port()
        self.api_port = self.api_port or free_port()
        self._environment()
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
        os.environ.update(self.settings)
        wiring.reset()

    def _start_api(self) -> None:
        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, HTTPServerThread, create_local_server

        import app as application

        ChaliceRequestHandler.disable_nagle_algorithm = True
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
