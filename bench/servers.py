"""Start an AWS endpoint for a measurement in a process of its own, and stop it again.

Each server gets a fresh process, so one measurement's tables, threads and
memory never weigh on the next; the benchmark's own client work runs in
another process, as an application's would.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from localcloud.cloud import free_port, wait_for_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-southeast-3"
STOP_GRACE_S = 3.0


class AwsServer:
    """``python -m <module> --port N`` as a context manager; its output goes to a log file.

    The log is kept out of the figures (stock moto prints a traceback for
    every request it fails) and shown only if the server does not come up.
    """

    def __init__(self, module: str, label: str) -> None:
        self.module = module
        self.label = label
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(prefix=f"bench-{label}-", suffix=".log", delete=False)
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "AwsServer":
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port)],
            cwd=PROJECT_ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(self.port, timeout=60, process=self._process)
        except Exception:
            self.__exit__()
            sys.stderr.write(Path(self._log.name).read_text(errors="replace")[-4000:])
            raise
        return self

    def __exit__(self, *_: Any) -> None:
        """Ask the server to stop; its state is thrown away, so it is not waited for long."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def client(self, service: str, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id="bench", aws_secret_access_key="bench",
            config=Config(retries={"mode": "standard", "max_attempts": 3}, **config),
        )


def local_aws() -> AwsServer:
    """Our local AWS, as the local cloud runs it."""
    return AwsServer("localcloud.aws", "local-aws")


def stock_moto() -> AwsServer:
    return AwsServer("bench.stock_moto", "stock-moto")
