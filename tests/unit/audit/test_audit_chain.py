"""The hash chain: whatever was written verifies, and any change to it is found where it was made.

Properties over arbitrary chains of arbitrary entries; hypothesis shrinks a
counterexample to the smallest chain and the smallest change that slips through.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timezone

import pytest
from hypothesis import given, settings, strategies as st

from chalicelib.audit.chain import (
    GENESIS,
    GENESIS_HASH,
    Action,
    Actor,
    BreakReason,
    Entry,
    Link,
    Subject,
    SubjectKind,
    Tip,
    Unreadable,
    canonical,
    chain,
    link_hash,
    verify_chain,
)

texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
optional_texts = st.none() | texts
hashes = st.text("0123456789abcdef", min_size=64, max_size=64)
actors = st.builds(Actor, subject=texts, role=st.sampled_from(["DISKOMINFOTIK_ADMIN", "AGENCY_HEAD", "OPERATOR"]),
                   agency=st.none() | st.sampled_from(["DINAS_PENDIDIKAN", "DINAS_SOSIAL", "DISKOMINFOTIK"]))
subjects = st.one_of(st.builds(Subject.person, hashes), st.builds(Subject.application, texts),
                     st.builds(Subject.program, texts), st.builds(Subject.account, texts))
times = st.datetimes(timezones=st.just(timezone.utc)).map(lambda at: at.isoformat(timespec="microseconds"))
entries = st.builds(Entry, actor=actors, action=st.sampled_from([action.value for action in Action]),
                    subject=subjects, purpose=texts, at=times, request_id=optional_texts, detail=optional_texts)
shards = st.integers(0, 15)


@st.composite
def written_chains(draw, min_size=1):
    shard = draw(shards)
    return shard, chain(shard, GENESIS, draw(st.lists(entries, min_size=min_size, max_size=12)))


def verify(shard, links, head):
    return verify_chain(shard, links, head)


# -- what was written verifies ------------------------------------------------------------------


@given(written_chains(min_size=0))
def test_any_chain_as_written_verifies_to_its_head(written):
    shard, links = written
    head = links[-1].tip if links else None
    check = verify(shard, links, head)
    assert check.intact, check.broken
    assert check.checked == len(links)


@given(shards, st.lists(entries, max_size=8), st.lists(entries, min_size=1, max_size=8))
def test_a_chain_written_in_two_batches_is_the_chain_written_at_once(shard, first, second):
    earlier = chain(shard, GENESIS, first)
    after = earlier[-1].tip if earlier else GENESIS
    assert earlier + chain(shard, after, second) == chain(shard, GENESIS, first + second)


def test_the_first_link_follows_the_genesis_hash_and_sequences_count_from_one():
    links = chain(4, GENESIS, [ENTRY, ENTRY, ENTRY])
    assert [link.sequence for link in links] == [1, 2, 3]
    assert links[0].previous_hash == GENESIS_HASH
    assert [link.previous_hash for link in links[1:]] == [link.hash for link in links[:-1]]
    assert len({link.hash for link in links}) == 3, "the same entry at another place hashes differently"


# -- the canonical form is fixed: changing it would break every stored chain ----------------------

ENTRY = Entry(Actor("officer-7", "AGENCY_HEAD", "DINAS_PENDIDIKAN"), Action.PERSONAL_DATA_READ.value,
              Subject.person("ab" * 32), "Art. 19: verify the NIK with Dukcapil",
              "2026-03-01T02:00:00.000000+00:00", "req-1", None)
ENTRY_CANONICAL = (
    '{"action":"PERSONAL_DATA_READ","actor":{"agency":"DINAS_PENDIDIKAN","role":"AGENCY_HEAD",'
    '"subject":"officer-7"},"at":"2026-03-01T02:00:00.000000+00:00","detail":null,"format":1,'
    '"purpose":"Art. 19: verify the NIK with Dukcapil","request_id":"req-1","sequence":1,"shard":3,'
    '"subject":{"kind":"PERSON","reference":"' + "ab" * 32 + '"}}'
)


def test_the_canonical_form_is_sorted_compact_json_with_the_chain_and_sequence_in_it():
    assert canonical(3, 1, ENTRY) == ENTRY_CANONICAL.encode("ascii")


def test_the_hash_is_sha256_over_the_previous_hash_and_the_canonical_entry():
    expected = hashlib.sha256((GENESIS_HASH + "\n" + ENTRY_CANONICAL).encode("ascii")).hexdigest()
    assert link_hash(3, 1, GENESIS_HASH, ENTRY) == expected


@given(shards, entries)
def test_the_canonical_form_is_ascii_whatever_the_text(shard, entry):
    assert canonical(shard, 1, entry).isascii()


# -- any change is found where it was made --------------------------------------------------------

ENTRY_FIELDS = {
    "actor.subject": lambda e, v: replace(e, actor=replace(e.actor, subject=v)),
    "actor.role": lambda e, v: replace(e, actor=replace(e.actor, role=v)),
    "actor.agency": lambda e, v: replace(e, actor=replace(e.actor, agency=v)),
    "action": lambda e, v: replace(e, action=v),
    "subject.kind": lambda e, v: replace(e, subject=replace(e.subject, kind=v)),
    "subject.reference": lambda e, v: replace(e, subject=replace(e.subject, reference=v)),
    "purpose": lambda e, v: replace(e, purpose=v),
    "at": lambda e, v: replace(e, at=v),
    "request_id": lambda e, v: replace(e, request_id=v),
    "detail": lambda e, v: replace(e, detail=v),
}
ENTRY_VALUES = {"action": st.sampled_from([a.value for a in Action]) | texts,
                "subject.kind": st.sampled_from([k.value for k in SubjectKind]) | texts,
                "at": times, "actor.agency": optional_texts, "request_id": optional_texts,
                "detail": optional_texts}


def _read(entry, field):
    value = entry
    for part in field.split("."):
        value = getattr(value, part)
    return value


@given(written_chains(), st.data())
def test_altering_any_field_of_any_one_entry_breaks_the_chain_at_that_entry(written, data):
    shard, links = written
    position = data.draw(st.integers(0, len(links) - 1), label="position")
    field = data.draw(st.sampled_from(sorted(ENTRY_FIELDS)), label="field")
    old = _read(links[position].entry, field)
    new = data.draw(ENTRY_VALUES.get(field, texts).filter(lambda value: value != old), label="new value")
    tampered = list(links)
    tampered[position] = replace(links[position], entry=ENTRY_FIELDS[field](links[position].entry, new))

    check = verify(shard, tampered, links[-1].tip)

    assert check.broken is not None
    assert (check.broken.sequence, check.broken.reason) == (position + 1, BreakReason.ALTERED)
    assert check.checked == position


@given(written_chains(), st.data())
def test_altering_a_stored_hash_breaks_the_chain_at_that_entry(written, data):
    shard, links = written
    position = data.draw(st.integers(0, len(links) - 1), label="position")
    field = data.draw(st.sampled_from(["hash", "previous_hash"]), label="field")
    new = data.draw((hashes | texts).filter(lambda value: value != getattr(links[position], field)))
    tampered = list(links)
    tampered[position] = replace(links[position], **{field: new})

    check = verify(shard, tampered, links[-1].tip)

    assert (check.broken.sequence, check.broken.reason) == (position + 1, BreakReason.ALTERED)


@given(written_chains(), st.data())
def test_renumbering_an_entry_breaks_the_chain_at_that_entry(written, data):
    shard, links = written
    position = data.draw(st.integers(0, len(links) - 1), label="position")
    new = data.draw(st.integers(0, 10**6).filter(lambda value: value != position + 1))
    tampered = list(links)
    tampered[position] = replace(links[position], sequence=new)

    check = verify(shard, tampered, links[-1].tip)

    reason = BreakReason.SEQUENCE_GAP if new > position + 1 else BreakReason.OUT_OF_ORDER
    assert (check.broken.sequence, check.broken.reason) == (position + 1, reason)


@given(written_chains(), st.data())
def test_deleting_any_entry_breaks_the_chain_where_it_was(written, data):
    shard, links = written
    position = data.draw(st.integers(0, len(links) - 1), label="position")
    tampered = links[:position] + links[position + 1:]

    check = verify(shard, tampered, links[-1].tip)

    last = position == len(links) - 1
    reason = BreakReason.TRUNCATED if last else BreakReason.SEQUENCE_GAP
    assert (check.broken.sequence, check.broken.reason) == (position + 1, reason)


@given(written_chains(min_size=2), st.data())
def test_swapping_two_entries_breaks_the_chain_at_the_first_of_them(written, data):
    shard, links = written
    first = data.draw(st.integers(0, len(links) - 2), label="first")
    second = data.draw(st.integers(first + 1, len(links) - 1), label="second")
    tampered = list(links)
    tampered[first], tampered[second] = links[second], links[first]

    check = verify(shard, tampered, links[-1].tip)

    assert (check.broken.sequence, check.broken.reason) == (first + 1, BreakReason.SEQUENCE_GAP)


@given(written_chains(min_size=2), st.data())
def test_swapping_two_entries_under_their_old_numbers_breaks_the_chain_at_the_first_of_them(written, data):
    """As in a table, where the numbers are the keys: the contents of two keys exchanged."""
    shard, links = written
    first = data.draw(st.integers(0, len(links) - 2), label="first")
    second = data.draw(st.integers(first + 1, len(links) - 1), label="second")
    tampered = list(links)
    tampered[first] = replace(links[second], sequence=first + 1)
    tampered[second] = replace(links[first], sequence=second + 1)

    check = verify(shard, tampered, links[-1].tip)

    assert (check.broken.sequence, check.broken.reason) == (first + 1, BreakReason.ALTERED)


@given(written_chains(), entries, st.data())
def test_inserting_an_entry_chained_on_its_predecessor_breaks_the_chain_right_after_it(written, forged, data):
    """The best forgery: a link that fits the one before it. The link it displaces no longer fits."""
    shard, links = written
    position = data.draw(st.integers(0, len(links)), label="position")
    if position < len(links) and forged == links[position].entry:
        return  # that is no forgery: it is the entry itself, written twice
    before = links[position - 1].tip if position else GENESIS
    (forgery,) = chain(shard, before, [forged])
    tampered = links[:position] + [forgery] + links[position:]

    check = verify(shard, tampered, links[-1].tip)

    if position == len(links):
        assert (check.broken.sequence, check.broken.reason) == (position + 1, BreakReason.BEYOND_HEAD)
        assert check.checked == position
    else:
        assert (check.broken.sequence, check.broken.reason) == (position + 2, BreakReason.OUT_OF_ORDER)
        assert check.checked == position + 1


@given(written_chains(), entries, st.data())
def test_inserting_an_entry_and_renumbering_the_rest_breaks_the_chain_after_it(written, forged, data):
    shard, links = written
    position = data.draw(st.integers(0, len(links) - 1), label="position")
    before = links[position - 1].tip if position else GENESIS
    (forgery,) = chain(shard, before, [forged])
    shifted = [replace(link, sequence=link.sequence + 1) for link in links[position:]]
    tampered = links[:position] + [forgery] + shifted

    check = verify(shard, tampered, Tip(len(tampered), links[-1].hash))

    assert (check.broken.sequence, check.broken.reason) == (position + 2, BreakReason.ALTERED)


@given(written_chains(min_size=2), st.data())
def test_replaying_an_entry_from_elsewhere_in_the_chain_breaks_it_where_it_was_inserted(written, data):
    shard, links = written
    position = data.draw(st.integers(0, len(links) - 1), label="position")
    copied = data.draw(st.sampled_from([link for link in links if link.sequence != position + 1]), label="copied")
    tampered = links[:position] + [copied] + links[position:]

    check = verify(shard, tampered, links[-1].tip)

    assert check.broken.sequence == position + 1
    assert check.broken.reason in {BreakReason.SEQUENCE_GAP, BreakReason.OUT_OF_ORDER}


@given(written_chains(), shards)
def test_a_chain_moved_to_another_shard_breaks_at_its_first_entry(written, other):
    shard, links = written
    if other == shard:
        return
    check = verify(other, links, links[-1].tip)
    assert (check.broken.sequence, check.broken.reason) == (1, BreakReason.ALTERED)


# -- the head vouches for the end of the chain ------------------------------------------------------


@given(written_chains())
def test_a_head_that_does_not_match_the_last_hash_breaks_the_chain_at_its_end(written):
    shard, links = written
    head = Tip(len(links), "f" * 64 if links[-1].hash != "f" * 64 else "e" * 64)
    check = verify(shard, links, head)
    assert (check.broken.sequence, check.broken.reason) == (len(links), BreakReason.HEAD_MISMATCH)
    assert check.checked == len(links)


@given(written_chains())
def test_entries_without_a_head_are_a_break(written):
    shard, links = written
    check = verify(shard, links, None)
    assert (check.broken.sequence, check.broken.reason) == (len(links), BreakReason.HEAD_MISSING)


def test_an_empty_chain_without_a_head_is_intact():
    assert verify(0, [], None).intact


def test_a_head_over_no_entries_means_they_were_all_removed():
    check = verify(0, [], Tip(3, "a" * 64))
    assert (check.broken.sequence, check.broken.reason) == (1, BreakReason.TRUNCATED)


def test_an_unreadable_item_breaks_the_chain_where_it_sits():
    links: list[Link | Unreadable] = list(chain(2, GENESIS, [ENTRY, ENTRY, ENTRY]))
    tip = links[-1].tip
    links[1] = Unreadable(2, "purpose missing or not text")
    check = verify(2, links, tip)
    assert (check.broken.sequence, check.broken.reason) == (2, BreakReason.UNREADABLE)
    assert "purpose" in check.broken.explanation


@settings(max_examples=25)
@given(written_chains())
def test_verification_stops_at_the_first_break_and_counts_what_verified_before_it(written):
    shard, links = written
    tampered = [replace(link, entry=replace(link.entry, purpose=link.entry.purpose + "!")) for link in links]
    check = verify(shard, tampered, links[-1].tip)
    assert check.checked == 0 and check.broken.sequence == 1


@pytest.mark.parametrize("bad_hash", ["", "A" * 64, "0" * 63, "g" * 64, "é" * 64])
def test_a_stored_hash_that_is_not_a_hash_is_an_alteration_not_a_crash(bad_hash):
    (link,) = chain(0, GENESIS, [ENTRY])
    for field in ("hash", "previous_hash"):
        check = verify(0, [replace(link, **{field: bad_hash})], link.tip)
        assert check.broken.reason == BreakReason.ALTERED
