"""A small HTTP client for the Jakarta One API, as an agency's or operator's tool would use it.

A client speaks for one caller: the bearer token it is given goes with every
request. :meth:`ApiClient.as_caller` gives another caller's client over the
same connections.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import urllib3


class ApiClient:
    def __init__(self, base_url: str, http: urllib3.PoolManager | None = None, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http or urllib3.PoolManager(maxsize=16, retries=urllib3.Retry(3, backoff_factor=0.2))
        self._token = token

    def as_caller(self, token: str | None) -> "ApiClient":
        """The same API and connections, speaking for the holder of ``token``."""
        return ApiClient(self.base_url, self._http, token)

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json", headers: dict[str, str] | None = None) -> tuple[int, Any]:
        sent = {"Content-Type": content_type, **(headers or {})}
        if self._token and not any(name.lower() == "authorization" for name in sent):
            sent["Authorization"] = f"Bearer {self._token}"
        response = self._http.request(method, self.base_url + path, body=body, headers=sent, timeout=120)
        try:
            return response.status, json.loads(response.data) if response.data else None
        except ValueError:
            return response.status, response.data.decode(errors="replace")

    def submit(self, application: dict[str, Any]) -> tuple[int, Any]:
        return self.request("POST", "/enrolment/applications", json.dumps(application).encode())

    def upload(self, csv_bytes: bytes) -> tuple[int, Any]:
        return self.request("POST", "/enrolment/uploads", csv_bytes, content_type="text/csv")

    def status(self, application_id: str) -> tuple[int, Any]:
        return self.request("GET", f"/enrolment/applications/{application_id}")

    def applications_in(self, state: str, page_size: int = 500) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            query = f"/operator/applications?state={state}&limit={page_size}"
            if cursor:
                query += f"&nextToken={cursor}"
            status, body = self.request("GET", query)
            if status != 200:
                raise RuntimeError(f"listing {state} answered {status}: {body}")
            yield from body["applications"]
            cursor = body.get("nextToken")
            if not cursor:
                return
