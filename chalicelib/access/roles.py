"""Who may act in the SMPT (Art. 7-10) and who is calling: pure, no framework, no AWS.

Diskominfotik authorises the operator and the heads of regional agencies to
use the SMPT (Art. 7); an agency head submits and monitors their own agency's
programs and recipients (Art. 8); the operator manages the access media
(Art. 9); Diskominfotik analyses the data (Art. 10). Partner banks only call
back, and residents reach their own data through the app.

A role is held as a Cognito group of the same name; the agency an agency head
answers for travels with the token as ``custom:agency``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    DISKOMINFOTIK_ADMIN = "DISKOMINFOTIK_ADMIN"
    """Grants and revokes roles (Art. 7); reads de-identified data across programs (Art. 10)."""
    AGENCY_HEAD = "AGENCY_HEAD"
    """Submits and updates their own agency's program and recipient data (Art. 8)."""
    OPERATOR = "OPERATOR"
    """PT Jakarta Propertindo and its counter clerks: the card media and their work lists (Art. 9)."""
    BANK_PARTNER = "BANK_PARTNER"
    """A partner bank (Art. 11): its callbacks only."""
    RESIDENT = "RESIDENT"
    """A resident using the app: their own data only."""


AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
"""An agency's short code as the city writes it: ``DISDIK`` (education), ``DINSOS`` (social affairs)."""


class InvalidPrincipal(ValueError):
    """The claims do not describe anyone we can let in."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who they are, what they hold, and for which agency."""

    subject: str
    roles: frozenset[Role]
    agency: str | None = None

    def __post_init__(self) -> None:
        if not self.subject:
            raise InvalidPrincipal("a principal needs a subject")
        if not self.roles:
            raise InvalidPrincipal("a principal needs at least one role")
        if self.agency is not None and not AGENCY_CODE.match(self.agency):
            raise InvalidPrincipal("an agency code is 2 to 16 capital letters or digits")
        if Role.AGENCY_HEAD in self.roles and self.agency is None:
            raise InvalidPrincipal("an agency head answers for one agency, and none is named")

    def holds_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


def roles_named(names: list[str] | tuple[str, ...]) -> frozenset[Role]:
    """The roles behind group names; a name we do not know is refused, never ignored.

    Groups are granted by Diskominfotik in one pool kept for this system: an
    unknown name is a misconfigured grant, and a grant that silently means
    nothing would hide it.
    """
    roles = set()
    for name in names:
        try:
            roles.add(Role(name))
        except ValueError:
            raise InvalidPrincipal(f"unknown role {name!r}") from None
    return frozenset(roles)
