"""The local cloud's AWS (:mod:`localcloud.aws`), with our code's calls counted.

The workflow's Lambda functions run inside this process; each AWS call they
make through :mod:`chalicelib.core.clients` is appended to ``--call-log``
(see :mod:`bench.calls`). Everything else is :func:`localcloud.aws.serve`
unchanged. Run as ``python -m bench.counting_aws --port N --call-log PATH``.
"""
from __future__ import annotations

import argparse

from bench.calls import FileCallLog, instrument_clients

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="serve the local AWS, counting our code's calls")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--call-log", required=True)
    arguments = parser.parse_args()
    instrument_clients(FileCallLog(arguments.call_log).record)

    from localcloud.aws import serve

    serve(arguments.port)
