"""What the integration tests share: moto in this process with the local cloud's DynamoDB guarantees,
or the local AWS as its own process reached over HTTP."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from localcloud.cloud import JAKARTA_REGION, free_port, wait_for_port
from tests import moto_guarantees

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials in Jakarta's region, and no endpoint that would send boto3 past moto."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in {"AWS_PROFILE", "AWS_SESSION_TOKEN"}:
            monkeypatch.delenv(name)
    for name, value in {**LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": JAKARTA_REGION,
                        "AWS_REGION": JAKARTA_REGION}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def dynamodb_guarantees_installed(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``dynamodb_guarantees.install()`` for this test only; gives moto's methods as they were."""
    return moto_guarantees.install_for(monkeypatch)


@pytest.fixture(scope="module")
def local_aws_endpoint() -> Iterator[str]:
    """``python -m localcloud.aws`` started as the local cloud starts it; stopped after the module."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
    environment.update({**LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": JAKARTA_REGION,
                        "AWS_REGION": JAKARTA_REGION, "PYTHONPATH": str(PROJECT_ROOT)})
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen([sys.executable, "-m", "localcloud.aws", "--port", str(port)],
                                   cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            try:
                wait_for_port(port, timeout=60, process=process)
            except (RuntimeError, TimeoutError):
                errors.seek(0)
                raise RuntimeError(f"the local AWS did not start:\n{errors.read()}") from None
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
