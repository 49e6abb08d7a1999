"""The emulated AWS of the local cloud: moto's server, made fit for our workloads.

Run as its own process (``python -m localcloud.aws --port N``) so that the
workflow's Lambda functions, which run here in-process, use one core while the
API uses the other. Before serving it:

* restores DynamoDB's serialisation and cheap rollback
  (:mod:`localcloud.dynamodb_guarantees`);
* runs Lambda functions in-process (:mod:`localcloud.lambda_runtime`);
* removes the server's per-request stalls (:mod:`localcloud.moto_tuning`);
* turns Step Functions execution on and tells moto its own port, which its
  interpreter uses to call Lambda back.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading


def serve(port: int, host: str = "127.0.0.1") -> None:
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    from localcloud import dynamodb_guarantees, lambda_runtime, moto_tuning

    os.environ["MOTO_PORT"] = str(port)
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    dynamodb_guarantees.install()
    lambda_runtime.install()
    moto_tuning.install()
    default_user_config["lambda"] = {"use_docker": False}
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    print(f"local AWS (moto) on http://{host}:{port}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="serve the local cloud's emulated AWS")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    arguments = parser.parse_args()
    serve(arguments.port, arguments.host)
