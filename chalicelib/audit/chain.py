"""Audit entries and the hash chain that makes tampering with them detectable (pure: no AWS, no clock).

An entry records who (the actor: the token's subject, its role and agency) did
what (an :class:`Action`) to whose data (a :class:`Subject`: the keyed NIK index
of a person, an application, a program or an account), why (the purpose and its
legal basis), in which request and when. A person is only ever named by the
keyed NIK index; :func:`new_entry` refuses a NIK or KK number in clear anywhere
in an entry.

Entries live in chains (the storage keeps several, see
:mod:`chalicelib.audit.repository`). Each link stores the hash of the link
before it and its own hash::

    hash(n) = SHA-256( hash(n-1) + "\\n" + canonical(chain, n, entry) )      hash(0) = 64 zeros

The canonical form is JSON with sorted keys, no whitespace and ASCII escapes,
and it includes the chain number and the link's sequence number. So an entry
edited in place, moved to another position or to another chain no longer
matches its hash; a link removed or inserted breaks the sequence or the next
link's previous hash; links cut from the end no longer reach the chain's head,
which stores the last sequence number and hash.

What a hash chain cannot show on its own: someone who can write the table and
rewrites a chain from some entry on, recomputing every later hash and the head,
leaves a chain that verifies. The verification report prints every head's hash;
filing those where the table's writers cannot change them (a report sent
elsewhere, write-once storage) turns such a rewrite into a head that no longer
matches.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Iterable

from chalicelib.core.errors import InvalidInput

FORMAT = 1
"""Version of the canonical form; stored with every entry so a later form can still verify old ones."""
GENESIS_HASH = "0" * 64
MAX_TEXT = 256
MAX_PURPOSE = 1000

_HASH = re.compile(r"[0-9a-f]{64}")
_NIK_INDEX = _HASH
"""What :meth:`PersonalDataVault.index` returns: the hex of an HMAC-SHA-256."""
_SIXTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
"""A NIK or a KK number: never written into the record in clear."""


class Action(str, Enum):
    PERSONAL_DATA_READ = "PERSONAL_DATA_READ"
    PERSONAL_DATA_CHANGED = "PERSONAL_DATA_CHANGED"
    ROLE_GRANTED = "ROLE_GRANTED"
    ROLE_REVOKED = "ROLE_REVOKED"


class SubjectKind(str, Enum):
    PERSON = "PERSON"
    """A resident, by the keyed NIK index."""
    APPLICATION = "APPLICATION"
    PROGRAM = "PROGRAM"
    ACCOUNT = "ACCOUNT"
    """A user of the system (the one a role is granted to or revoked from), by the token's subject."""


class InvalidAuditEntry(InvalidInput):
    """An entry that the record cannot hold as given (empty, too long, not text)."""


class PersonalDataInAuditEntry(InvalidAuditEntry):
    """A NIK or KK number in clear, or a person named other than by the keyed NIK index."""


@dataclass(frozen=True)
class Actor:
    subject: str
    """The caller's identity as the token names it (``sub``)."""
    role: str
    agency: str | None = None


@dataclass(frozen=True)
class Subject:
    kind: str
    reference: str

    @classmethod
    def person(cls, nik_index: str) -> "Subject":
        return cls(SubjectKind.PERSON.value, nik_index)

    @classmethod
    def application(cls, application_id: str) -> "Subject":
        return cls(SubjectKind.APPLICATION.value, application_id)

    @classmethod
    def program(cls, program_id: str) -> "Subject":
        return cls(SubjectKind.PROGRAM.value, program_id)

    @classmethod
    def account(cls, account_subject: str) -> "Subject":
        return cls(SubjectKind.ACCOUNT.value, account_subject)


@dataclass(frozen=True)
class Entry:
    actor: Actor
    action: str
    subject: Subject
    purpose: str
    """Why: the purpose of the processing and its legal basis, e.g. "Art. 19: NIK verification"."""
    at: str
    """When, as ISO-8601 UTC with microseconds."""
    request_id: str | None = None
    detail: str | None = None
    """What exactly, without personal values: the fields changed, the role and scope granted."""


@dataclass(frozen=True)
class Tip:
    """Where a chain ends: its last sequence number and hash (0 and 64 zeros when empty)."""

    sequence: int
    hash: str


GENESIS = Tip(0, GENESIS_HASH)


@dataclass(frozen=True)
class Link:
    shard: int
    sequence: int
    previous_hash: str
    hash: str
    entry: Entry

    @property
    def tip(self) -> Tip:
        return Tip(self.sequence, self.hash)


@dataclass(frozen=True)
class Unreadable:
    """A stored item in a chain that is not an audit entry any more (an attribute missing or of the wrong type)."""

    sequence: int | None
    problem: str


# -- making entries ---------------------------------------------------------------------------------


def new_entry(actor: Actor, action: Action | str, subject: Subject, purpose: str, at: datetime,
              request_id: str | None = None, detail: str | None = None) -> Entry:
    """A checked entry: every field present, of bounded size, and no personal data in clear."""
    try:
        action_value = Action(action).value
    except ValueError:
        raise InvalidAuditEntry("INVALID_AUDIT_ENTRY", f"unknown action {action!r}", field="action") from None
    try:
        kind = SubjectKind(subject.kind).value
    except ValueError:
        raise InvalidAuditEntry("INVALID_AUDIT_ENTRY", f"unknown subject kind {subject.kind!r}",
                                field="subject.kind") from None
    if at.tzinfo is None:
        raise InvalidAuditEntry("INVALID_AUDIT_ENTRY", "the time of an entry must carry its zone", field="at")
    if kind == SubjectKind.PERSON.value:
        if not isinstance(subject.reference, str) or not _NIK_INDEX.fullmatch(subject.reference):
            raise PersonalDataInAuditEntry("PERSONAL_DATA_IN_AUDIT_ENTRY",
                                           "a person is named by the keyed NIK index only",
                                           field="subject.reference")
        reference = subject.reference
    else:
        reference = _text("subject.reference", subject.reference, MAX_TEXT)
    return Entry(
        actor=Actor(_text("actor.subject", actor.subject, MAX_TEXT), _text("actor.role", actor.role, MAX_TEXT),
                    _text("actor.agency", actor.agency, MAX_TEXT, optional=True)),
        action=action_value,
        subject=Subject(kind, reference),
        purpose=_text("purpose", purpose, MAX_PURPOSE),
        at=at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        request_id=_text("request_id", request_id, MAX_TEXT, optional=True),
        detail=_text("detail", detail, MAX_PURPOSE, optional=True),
    )


def _text(field: str, value: object, limit: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidAuditEntry("INVALID_AUDIT_ENTRY", f"{field} must be non-empty text", field=field)
    if len(value) > limit:
        raise InvalidAuditEntry("INVALID_AUDIT_ENTRY", f"{field} may be at most {limit} characters", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAuditEntry("INVALID_AUDIT_ENTRY", f"{field} is not valid text", field=field) from None
    if _SIXTEEN_DIGITS.search(value):
        raise PersonalDataInAuditEntry("PERSONAL_DATA_IN_AUDIT_ENTRY",
                                       f"{field} holds a 16-digit number (a NIK or KK number in clear)",
                                       field=field)
    return value


# -- the chain --------------------------------------------------------------------------------------


def canonical(shard: int, sequence: int, entry: Entry) -> bytes:
    """The bytes an entry is hashed as: sorted keys, no whitespace, ASCII only."""
    document = {
        "format": FORMAT, "shard": shard, "sequence": sequence,
        "actor": {"subject": entry.actor.subject, "role": entry.actor.role, "agency": entry.actor.agency},
        "action": entry.action,
        "subject": {"kind": entry.subject.kind, "reference": entry.subject.reference},
        "purpose": entry.purpose, "request_id": entry.request_id, "detail": entry.detail, "at": entry.at,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def link_hash(shard: int, sequence: int, previous_hash: str, entry: Entry) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + b"\n" + canonical(shard, sequence, entry)).hexdigest()


def chain(shard: int, after: Tip, entries: Iterable[Entry]) -> list[Link]:
    """``entries`` linked on after ``after``, in order."""
    links = []
    previous = after
    for entry in entries:
        sequence = previous.sequence + 1
        digest = link_hash(shard, sequence, previous.hash, entry)
        links.append(Link(shard, sequence, previous.hash, digest, entry))
        previous = Tip(sequence, digest)
    return links


def shard_of(subject: Subject, shards: int) -> int:
    """The chain a subject's entries go to: everything about one person stays in one order."""
    digest = hashlib.sha256(f"{subject.kind}#{subject.reference}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % shards


# -- verification -----------------------------------------------------------------------------------


class BreakReason(str, Enum):
    ALTERED = "ALTERED"
    SEQUENCE_GAP = "SEQUENCE_GAP"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    LINK_BROKEN = "LINK_BROKEN"
    UNREADABLE = "UNREADABLE"
    BEYOND_HEAD = "BEYOND_HEAD"
    TRUNCATED = "TRUNCATED"
    HEAD_MISMATCH = "HEAD_MISMATCH"
    HEAD_MISSING = "HEAD_MISSING"
    HEAD_UNREADABLE = "HEAD_UNREADABLE"


@dataclass(frozen=True)
class Break:
    """The first place where a chain is not as it was written."""

    shard: int
    sequence: int
    reason: BreakReason
    explanation: str


@dataclass(frozen=True)
class ChainCheck:
    shard: int
    checked: int
    """Links that verified, from the first, before any break."""
    head: Tip | None
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(shard: int, links: Iterable[Link | Unreadable], head: Tip | None) -> ChainCheck:
    """Check ``links`` (in stored order) against each other and against the chain's ``head``.

    Stops at the first break and says where: the sequence number that link
    should have had, and why it does not fit. ``head`` is None when the chain
    has no head item, which is right only for a chain without entries.
    """
    previous = GENESIS
    checked = 0

    def broken(sequence: int, reason: BreakReason, explanation: str) -> ChainCheck:
        return ChainCheck(shard, checked, head, Break(shard, sequence, reason, explanation))

    for link in links:
        expected = previous.sequence + 1
        if link.sequence is not None and link.sequence != expected:
            if link.sequence > expected:
                return broken(expected, BreakReason.SEQUENCE_GAP,
                              f"found {link.sequence} where {expected} belongs: an entry was removed or moved")
            return broken(expected, BreakReason.OUT_OF_ORDER,
                          f"found {link.sequence} after {previous.sequence}: an entry is repeated or moved")
        if head is not None and expected > head.sequence:
            return broken(expected, BreakReason.BEYOND_HEAD,
                          f"an entry after the head, which ends the chain at {head.sequence}")
        if isinstance(link, Unreadable):
            return broken(expected, BreakReason.UNREADABLE, f"the stored entry is not readable: {link.problem}")
        if not (_is_hash(link.hash) and _is_hash(link.previous_hash)) \
                or link_hash(shard, expected, link.previous_hash, link.entry) != link.hash:
            return broken(expected, BreakReason.ALTERED, "the entry does not match its hash: it was changed")
        if link.previous_hash != previous.hash:
            return broken(expected, BreakReason.LINK_BROKEN,
                          "the entry does not follow the one before it: an entry was inserted, removed or replaced")
        previous = link.tip
        checked += 1

    if head is None:
        if checked:
            return broken(previous.sequence, BreakReason.HEAD_MISSING,
                          f"the chain has {checked} entries but no head")
    elif head.sequence > previous.sequence:
        return broken(previous.sequence + 1, BreakReason.TRUNCATED,
                      f"the head records {head.sequence} entries, the chain ends at {previous.sequence}: "
                      "entries were removed from its end")
    elif head.hash != previous.hash:
        return broken(head.sequence, BreakReason.HEAD_MISMATCH,
                      "the chain's last hash is not the head's: the chain or its head was rewritten")
    return ChainCheck(shard, checked, head, None)


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and _HASH.fullmatch(value) is not None

