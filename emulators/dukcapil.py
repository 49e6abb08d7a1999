"""Emulated Dukcapil population registry (Art. 19) for local runs and tests.

Like the real one it only says match / no match.  It can be made slow, down, or down for the
next N calls, over HTTP (``/_emulator/...``, loopback clients only) or through the Python API.
``JsonHttpService`` and ``mask_nik`` are shared with ``emulators.bank``.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable, Mapping

log = logging.getLogger(__name__)


def mask_nik(nik) -> str:
    nik = str(nik)
    return nik[:4] + "*" * 8 + nik[-4:] if len(nik) == 16 else "*" * 16


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _dispatch(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        service: JsonHttpService = self.server.service
        if self.path.startswith("/_emulator/") and not ipaddress.ip_address(self.client_address[0]).is_loopback:
            status, body = 403, {"error": "control endpoints answer loopback clients only"}
        else:
            try:
                status, body = service.handle(self.command, self.path, self.headers, raw)
            except Exception:
                log.exception("%s failed on %s %s", type(service).__name__, self.command, self.path.split("?")[0])
                status, body = 500, {"error": "emulator fault"}
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def log_message(self, fmt, *args):
        log.debug("%s " + fmt, self.address_string(), *args)


class JsonHttpService:
    """Loopback JSON service on a ThreadingHTTPServer with daemon threads; subclasses implement ``handle``."""

    _server: ThreadingHTTPServer | None = None

    def handle(self, method: str, path: str, headers, raw: bytes) -> tuple[int, object]:
        raise NotImplementedError

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        server = ThreadingHTTPServer((host, port), _Handler)
        server.daemon_threads, server.block_on_close, server.service = True, False, self
        threading.Thread(target=server.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True).start()
        self._server = server
        return f"http://{host}:{server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def read_json(raw: bytes):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def _canonical_name(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Resident:
    nik: str
    full_name: str
    birth_date: date

    @classmethod
    def from_mapping(cls, m: Mapping) -> "Resident":
        name, birth = m.get("fullName", m.get("full_name")), m.get("birthDate", m.get("birth_date"))
        if not isinstance(name, str):
            raise ValueError("a resident needs fullName")
        return cls(str(m["nik"]), name, birth if isinstance(birth, date) else date.fromisoformat(birth))


class PopulationRegistryEmulator(JsonHttpService):
    MODES = ("up", "down", "slow")

    def __init__(self, residents: Iterable[Resident | Mapping] = ()):
        self._lock = threading.Lock()
        self._residents: dict[str, Resident] = {}
        self._mode, self._latency_ms, self._down_for_calls = "up", 0, 0
        self._stats = {"calls": 0, "matches": 0, "noMatches": 0, "unavailable": 0}
        self.seed(residents)

    def seed(self, residents: Iterable[Resident | Mapping]) -> int:
        """Add (or replace by NIK) residents; returns how many the registry now holds."""
        parsed = [r if isinstance(r, Resident) else Resident.from_mapping(r) for r in residents]
        with self._lock:
            self._residents.update((r.nik, r) for r in parsed)
            return len(self._residents)

    def set_behaviour(self, mode: str | None = None, latency_ms: int | None = None,
                      down_for_calls: int | None = None) -> dict:
        """Change only what is given.  ``down_for_calls`` outranks the mode: 503 for that many calls, then the mode."""
        if mode is not None and mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}")
        if any(v is not None and (not isinstance(v, int) or v < 0) for v in (latency_ms, down_for_calls)):
            raise ValueError("latencyMs and downForCalls are non-negative integers")
        with self._lock:
            self._mode = mode or self._mode
            self._latency_ms = self._latency_ms if latency_ms is None else latency_ms
            self._down_for_calls = self._down_for_calls if down_for_calls is None else down_for_calls
            return self._behaviour()

    def stats(self) -> dict:
        with self._lock:
            return {**self._stats, "residents": len(self._residents)}

    def verify(self, nik: str, full_name: str, birth_date: date) -> bool | None:
        """The registry's answer, or None when it is (made) unavailable."""
        with self._lock:
            self._stats["calls"] += 1
            if self._down_for_calls or self._mode == "down":
                self._down_for_calls = max(0, self._down_for_calls - 1)
                self._stats["unavailable"] += 1
                return None
            delay = self._latency_ms / 1000 if self._mode == "slow" else 0
            known = self._residents.get(nik)
            match = bool(known and _canonical_name(known.full_name) == _canonical_name(full_name)
                         and known.birth_date == birth_date)
            self._stats["matches" if match else "noMatches"] += 1
        log.info("verify nik=%s match=%s", mask_nik(nik), match)
        time.sleep(delay)
        return match

    def handle(self, method, path, headers, raw):
        body = read_json(raw)
        route = (method, path.split("?")[0])
        if route == ("POST", "/dukcapil/v1/verify"):
            try:
                nik, name, birth = body["nik"], body["fullName"], date.fromisoformat(body["birthDate"])
                if not (isinstance(nik, str) and isinstance(name, str)):
                    raise TypeError
            except (KeyError, TypeError, ValueError):
                return 400, {"error": "expected {nik, fullName, birthDate: yyyy-mm-dd}"}
            match = self.verify(nik, name, birth)
            return (503, {"error": "population registry unavailable"}) if match is None else (200, {"match": match})
        try:
            if route == ("POST", "/_emulator/residents"):
                return 200, {"residents": self.seed(body)}
            if route == ("POST", "/_emulator/behaviour"):
                return 200, self.set_behaviour(body.get("mode"), body.get("latencyMs"), body.get("downForCalls"))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            return 400, {"error": str(e) or type(e).__name__}
        if route == ("GET", "/_emulator/stats"):
            return 200, self.stats()
        return 404, {"error": "no such endpoint"}

    def _behaviour(self) -> dict:
        return {"mode": self._mode, "latencyMs": self._latency_ms, "downForCalls": self._down_for_calls}
