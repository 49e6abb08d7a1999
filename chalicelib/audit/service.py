"""The audit trail as the rest of the code uses it: record what was done, verify what was recorded.

Every read or change of a person's data and every role grant or revocation is
recorded with who did it, to whose data, when and why. An entry is checked
before anything is written (no NIK in clear, nothing empty), so a caller that
passes personal data learns it at once and the record never holds it. A batch is
checked whole before its first entry is written.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from chalicelib.audit.chain import (
    Action,
    Actor,
    Break,
    BreakReason,
    ChainCheck,
    Entry,
    Link,
    Subject,
    new_entry,
    shard_of,
    verify_chain,
)
from chalicelib.audit.repository import AuditChainCorrupt, AuditRepository


@dataclass(frozen=True)
class Record:
    """One thing to record, as :meth:`AuditTrail.record_many` takes it."""

    actor: Actor
    action: Action | str
    subject: Subject
    purpose: str
    request_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class AuditReport:
    chains: tuple[ChainCheck, ...]

    @property
    def intact(self) -> bool:
        return all(check.intact for check in self.chains)

    @property
    def entries_checked(self) -> int:
        return sum(check.checked for check in self.chains)

    @property
    def breaks(self) -> list[Break]:
        return [check.broken for check in self.chains if check.broken is not None]


class AuditTrail:
    def __init__(self, repository: AuditRepository, clock: Callable[[], datetime]) -> None:
        self._repository = repository
        self._clock = clock

    def record(self, actor: Actor, action: Action | str, subject: Subject, purpose: str,
               request_id: str | None = None, detail: str | None = None) -> Link:
        """Record one entry; returns it as chained (its chain, sequence number and hash)."""
        entry = new_entry(actor, action, subject, purpose, self._clock(), request_id, detail)
        (link,) = self._repository.append(shard_of(entry.subject, self._repository.shards), [entry])
        return link

    def record_many(self, records: Iterable[Record]) -> list[Link]:
        """Record many entries at one time (a bulk upload's rows); the links in the order given.

        Entries about the same subject keep their order; each chain they touch
        gets one head update per 99 entries.
        """
        at = self._clock()
        entries = [new_entry(r.actor, r.action, r.subject, r.purpose, at, r.request_id, r.detail)
                   for r in records]
        positions: dict[int, list[int]] = defaultdict(list)
        for position, entry in enumerate(entries):
            positions[shard_of(entry.subject, self._repository.shards)].append(position)
        linked: list[Link | None] = [None] * len(entries)
        for shard in sorted(positions):
            links = self._repository.append(shard, [entries[position] for position in positions[shard]])
            for position, link in zip(positions[shard], links):
                linked[position] = link
        return linked  # type: ignore[return-value]

    def history_of(self, subject: Subject) -> list[Entry]:
        """Every recorded processing of one subject's data, oldest first (a data subject's right of access)."""
        return [link.entry for link in self._repository.links(shard_of(subject, self._repository.shards))
                if isinstance(link, Link) and link.entry.subject == subject]

    def verify(self) -> AuditReport:
        """Check every chain from its first entry to its head; a broken chain does not stop the others."""
        return AuditReport(tuple(self._verify_chain(shard) for shard in range(self._repository.shards)))

    def _verify_chain(self, shard: int) -> ChainCheck:
        try:
            head = self._repository.head(shard)
        except AuditChainCorrupt as corrupt:
            return ChainCheck(shard, 0, None, Break(shard, 0, BreakReason.HEAD_UNREADABLE, corrupt.message))
        through = head.sequence if head is not None else None
        check = verify_chain(shard, self._repository.links(shard, through), head)
        if not check.intact or head is None:
            return check
        # Entries are read up to the head as it was when the walk began; one beyond it is
        # either appended since (the head has moved on with it) or was never appended.
        beyond = self._repository.first_after(shard, head.sequence)
        if beyond is not None:
            now = self._repository.head(shard)
            if now is None or now.sequence < beyond:
                return ChainCheck(shard, check.checked, head, Break(
                    shard, beyond, BreakReason.BEYOND_HEAD,
                    f"an entry after the head, which ends the chain at {now.sequence if now else 0}"))
        return check
