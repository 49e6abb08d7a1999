"""Cached boto3 clients and resources, built on first use.

Importing this module makes no AWS call. Tests that switch the environment
(moto in-process, a local server) call :func:`reset_clients`.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

_LOCK = threading.Lock()


@lru_cache(maxsize=None)
def _session() -> Any:
    import boto3

    return boto3.session.Session()


def _config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=50)


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    with _LOCK:
        return _session().client(service, config=_config())


@lru_cache(maxsize=None)
def resource(service: str) -> Any:
    with _LOCK:
        return _session().resource(service, config=_config())


def reset_clients() -> None:
    client.cache_clear()
    resource.cache_clear()
    _session.cache_clear()
