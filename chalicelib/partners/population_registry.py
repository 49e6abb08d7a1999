"""Population-registry (Dukcapil) adapter for the NIK check of Art. 19.

Dukcapil answers only match / no match, so this adapter never learns why an identity failed.
The exception class names are a workflow API: the state machine retries on
``PopulationRegistryUnavailable`` by name.
"""
from __future__ import annotations

import json
from datetime import date

import urllib3

VERIFY_PATH = "/dukcapil/v1/verify"


class PopulationRegistryUnavailable(Exception):
    """Transient: 5xx, 429, timeout, connection failure or an unreadable answer. Safe to retry."""


class PopulationRegistryRejected(Exception):
    """The registry refused our request (3xx/4xx): a defect on our side, retrying will not help."""

    def __init__(self, status: int):
        self.status = status
        super().__init__(f"population registry refused the request with HTTP {status}")


class HttpPopulationRegistry:
    def __init__(self, base_url: str, timeout_s: float, http: urllib3.PoolManager | None = None):
        self._url = base_url.rstrip("/") + VERIFY_PATH
        self._timeout = urllib3.Timeout(total=timeout_s)
        self._http = http or urllib3.PoolManager()

    def verify(self, nik: str, full_name: str, birth_date: date) -> bool:
        body = json.dumps({"nik": nik, "fullName": full_name, "birthDate": birth_date.isoformat()}).encode()
        try:
            resp = self._http.request("POST", self._url, body=body, headers={"Content-Type": "application/json"},
                                      timeout=self._timeout, retries=False, redirect=False)
        except urllib3.exceptions.HTTPError as e:
            raise PopulationRegistryUnavailable(type(e).__name__) from e
        if resp.status >= 500 or resp.status == 429:
            raise PopulationRegistryUnavailable(f"HTTP {resp.status}")
        if resp.status >= 300:
            raise PopulationRegistryRejected(resp.status)
        try:
            match = json.loads(resp.data)["match"]
        except (ValueError, KeyError, TypeError) as e:
            raise PopulationRegistryUnavailable("unreadable answer") from e
        if not isinstance(match, bool):
            raise PopulationRegistryUnavailable("unreadable answer")
        return match
