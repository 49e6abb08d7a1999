"""One error model for every bounded context.

A domain error carries a stable machine-readable ``code`` (what a client
switches on) and a human ``message``. Its *kind* (the base class) decides the
HTTP status through :data:`HTTP_STATUS`, the only place where that mapping
lives. Nothing matches on message text.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    """The request itself is malformed or fails a rule; retrying it unchanged fails again."""


class Unauthenticated(DomainError):
    """The caller could not be identified (bad or missing signature or token)."""


class Forbidden(DomainError):
    """The caller is known but their role does not allow this (Art. 7: only granted roles act)."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a closed case)."""


class PayloadTooLarge(DomainError):
    pass


class StoredDataCorrupt(DomainError):
    """What we stored cannot be read back as written (tampering or corruption): never the caller's fault."""


class DependencyUnavailable(DomainError):
    """A partner or the store could not answer now; the same request may succeed later."""


HTTP_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    DependencyUnavailable: 503,
    StoredDataCorrupt: 500,
}


def http_status(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    raise TypeError(f"{type(error).__name__} has no HTTP status")
