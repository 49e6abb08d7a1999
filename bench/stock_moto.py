"""moto's threaded server exactly as moto ships it, as the baseline the figures compare against.

Nothing of :mod:`localcloud` is imported here: no serialisation of DynamoDB
operations, no cheap rollback, no transport tuning. Run as
``python -m bench.stock_moto --port N``.
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading


def serve(port: int, host: str = "127.0.0.1") -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="serve stock moto (the baseline)")
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)
