"""The audit trail on DynamoDB (moto in this process, with the local cloud's guarantees).

Given entries recorded through :class:`AuditTrail`, when someone with access to
the table changes, removes, moves or adds an item with plain boto3, then
verification names the chain, the sequence number and what is wrong.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.audit.chain import Action, Actor, BreakReason, PersonalDataInAuditEntry, Subject, shard_of
from chalicelib.audit.repository import (
    ENTRIES_PER_TRANSACTION,
    SHARDS,
    AuditChainCorrupt,
    AuditRepository,
    AuditUnavailable,
    chain_key,
    entry_key,
)
from chalicelib.audit.service import AuditTrail, Record
from chalicelib.core.errors import http_status

OFFICER = Actor("officer-0001", "AGENCY_HEAD", "DINAS_PENDIDIKAN")
ADMIN = Actor("admin-0001", "DISKOMINFOTIK_ADMIN", "DISKOMINFOTIK")
PURPOSE = "Art. 8: the education agency checks a KJP Plus recipient's data"
SIXTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
HASH_OR_INDEX = re.compile(r"[0-9a-f]{64}")
"""A chain hash or a keyed NIK index: 64 hex digits, which may hold 16 decimal ones by chance."""


def at_noon() -> datetime:
    return datetime(2026, 3, 1, 5, 0, tzinfo=timezone.utc)


def person(n: int) -> Subject:
    """A resident as the record names them: by a keyed NIK index (here a stand-in of the same shape)."""
    return Subject.person(f"{n:064x}")


def key(shard: int, sequence: int) -> dict[str, str]:
    return {"pk": chain_key(shard), "sk": entry_key(sequence)}


def head_key(shard: int) -> dict[str, str]:
    return {"pk": chain_key(shard), "sk": "HEAD"}


def one_person_read(trail: AuditTrail, times: int, who: int = 1) -> list[Any]:
    return [trail.record(OFFICER, Action.PERSONAL_DATA_READ, person(who), PURPOSE, request_id=f"req-{n}")
            for n in range(times)]


def only_break(report: Any) -> Any:
    assert not report.intact
    (broken,) = report.breaks
    return broken


# -- recording ----------------------------------------------------------------------------------


def test_an_entry_is_stored_at_the_end_of_its_subjects_chain_and_the_trail_verifies(trail, audit_table):
    link = trail.record(ADMIN, Action.ROLE_GRANTED, Subject.account("user-7"),
                        "Art. 7: Diskominfotik authorises the head of the education agency",
                        request_id="req-1", detail="AGENCY_HEAD of DINAS_PENDIDIKAN")

    assert (link.shard, link.sequence) == (shard_of(Subject.account("user-7"), SHARDS), 1)
    item = audit_table.get_item(Key=key(link.shard, 1))["Item"]
    assert (item["action"], item["actor_subject"], item["actor_role"], item["subject_reference"]) == \
           ("ROLE_GRANTED", "admin-0001", "DISKOMINFOTIK_ADMIN", "user-7")
    assert item["hash"] == link.hash
    report = trail.verify()
    assert report.intact and report.entries_checked == 1
    assert report.chains[link.shard].head.hash == link.hash


def test_entries_about_one_person_stay_in_one_chain_in_the_order_recorded(trail):
    links = one_person_read(trail, 5)
    assert {link.shard for link in links} == {shard_of(person(1), SHARDS)}
    assert [link.sequence for link in links] == [1, 2, 3, 4, 5]
    assert [link.entry.request_id for link in links] == [f"req-{n}" for n in range(5)]
    assert trail.verify().entries_checked == 5


def test_no_stored_item_holds_a_nik_in_clear_and_an_entry_that_would_is_not_written(trail, raw_items):
    trail.record_many(Record(OFFICER, Action.PERSONAL_DATA_CHANGED, person(n), PURPOSE, detail="fields: address")
                      for n in range(200))
    before = raw_items()
    with pytest.raises(PersonalDataInAuditEntry):
        trail.record(OFFICER, Action.PERSONAL_DATA_READ, Subject.person("3174011506900001"), PURPOSE)
    with pytest.raises(PersonalDataInAuditEntry):
        trail.record_many([Record(OFFICER, Action.PERSONAL_DATA_READ, person(1), PURPOSE),
                           Record(OFFICER, Action.PERSONAL_DATA_READ, person(2), "NIK 3174011506900001")])
    after = raw_items()
    assert after == before
    texts = [value["S"] for item in after for value in item.values() if "S" in value]
    assert not [text for text in texts if SIXTEEN_DIGITS.search(text) and not HASH_OR_INDEX.fullmatch(text)]


# -- tampering with stored items ------------------------------------------------------------------


@pytest.mark.parametrize("attribute, value", [
    ("purpose", "Art. 10: analysis"), ("actor_subject", "someone-else"), ("actor_role", "OPERATOR"),
    ("action", "PERSONAL_DATA_CHANGED"), ("subject_reference", f"{99:064x}"),
    ("at", "2026-03-01T02:00:09.000000+00:00"),
    ("request_id", "req-forged"), ("actor_agency", "DINAS_SOSIAL"), ("previous_hash", "0" * 64), ("hash", "f" * 64),
])
def test_an_attribute_changed_in_the_table_is_found_at_its_entry(trail, audit_table, attribute, value):
    links = one_person_read(trail, 4)
    target = links[2]
    audit_table.update_item(Key=key(target.shard, target.sequence), UpdateExpression="SET #a = :v",
                            ExpressionAttributeNames={"#a": attribute}, ExpressionAttributeValues={":v": value})

    broken = only_break(trail.verify())

    assert (broken.shard, broken.sequence, broken.reason) == (target.shard, 3, BreakReason.ALTERED)


def test_an_optional_attribute_removed_is_an_alteration_and_a_required_one_an_unreadable_entry(trail, audit_table):
    links = one_person_read(trail, 3)
    shard = links[0].shard
    audit_table.update_item(Key=key(shard, 2), UpdateExpression="REMOVE request_id")
    assert only_break(trail.verify()).reason == BreakReason.ALTERED

    audit_table.update_item(Key=key(shard, 2), UpdateExpression="REMOVE purpose")
    broken = only_break(trail.verify())
    assert (broken.sequence, broken.reason) == (2, BreakReason.UNREADABLE)
    assert "purpose" in broken.explanation


def test_an_entry_deleted_from_the_middle_leaves_a_gap_where_it_was(trail, audit_table):
    shard = one_person_read(trail, 5)[0].shard
    audit_table.delete_item(Key=key(shard, 3))
    broken = only_break(trail.verify())
    assert (broken.shard, broken.sequence, broken.reason) == (shard, 3, BreakReason.SEQUENCE_GAP)


def test_the_last_entry_deleted_no_longer_reaches_the_head(trail, audit_table):
    shard = one_person_read(trail, 5)[0].shard
    audit_table.delete_item(Key=key(shard, 5))
    broken = only_break(trail.verify())
    assert (broken.shard, broken.sequence, broken.reason) == (shard, 5, BreakReason.TRUNCATED)


def test_the_head_deleted_or_rewritten_is_found(trail, audit_table):
    shard = one_person_read(trail, 2)[0].shard
    audit_table.update_item(Key=head_key(shard), UpdateExpression="SET #h = :h",
                            ExpressionAttributeNames={"#h": "hash"}, ExpressionAttributeValues={":h": "e" * 64})
    assert only_break(trail.verify()).reason == BreakReason.HEAD_MISMATCH

    audit_table.update_item(Key=head_key(shard), UpdateExpression="SET #s = :s",
                            ExpressionAttributeNames={"#s": "sequence"}, ExpressionAttributeValues={":s": "two"})
    assert only_break(trail.verify()).reason == BreakReason.HEAD_UNREADABLE

    audit_table.delete_item(Key=head_key(shard))
    broken = only_break(trail.verify())
    assert (broken.sequence, broken.reason) == (2, BreakReason.HEAD_MISSING)


def test_the_contents_of_two_entries_exchanged_are_found_at_the_first(trail, audit_table):
    links = one_person_read(trail, 4)
    shard = links[0].shard
    second = audit_table.get_item(Key=key(shard, 2))["Item"]
    fourth = audit_table.get_item(Key=key(shard, 4))["Item"]
    audit_table.put_item(Item={**fourth, **key(shard, 2)})
    audit_table.put_item(Item={**second, **key(shard, 4)})
    broken = only_break(trail.verify())
    assert (broken.sequence, broken.reason) == (2, BreakReason.ALTERED)


def test_an_entry_forged_after_the_head_is_found_and_nothing_more_is_appended_to_that_chain(trail, audit_table):
    links = one_person_read(trail, 3)
    shard = links[0].shard
    forged = {**audit_table.get_item(Key=key(shard, 3))["Item"], **key(shard, 4), "request_id": "req-forged"}
    audit_table.put_item(Item=forged)

    broken = only_break(trail.verify())
    assert (broken.shard, broken.sequence, broken.reason) == (shard, 4, BreakReason.BEYOND_HEAD)

    with pytest.raises(AuditChainCorrupt) as refused:
        one_person_read(trail, 1)
    assert http_status(refused.value) == 500
    assert audit_table.get_item(Key=head_key(shard))["Item"]["sequence"] == 3


def test_one_broken_chain_does_not_hide_the_others(trail, audit_table):
    trail.record_many(Record(OFFICER, Action.PERSONAL_DATA_READ, person(n), PURPOSE) for n in range(300))
    victim = shard_of(person(7), SHARDS)
    audit_table.update_item(Key=key(victim, 1), UpdateExpression="SET purpose = :p",
                            ExpressionAttributeValues={":p": "rewritten"})

    report = trail.verify()

    assert [check.shard for check in report.chains] == list(range(SHARDS))
    assert [check.shard for check in report.chains if not check.intact] == [victim]
    assert sum(check.checked for check in report.chains if check.intact) == \
           300 - Counter(shard_of(person(n), SHARDS) for n in range(300))[victim]


# -- batches ----------------------------------------------------------------------------------------


def test_a_batch_of_5000_entries_verifies_with_one_head_update_per_99_entries_of_a_chain(trail, audit_table):
    transactions: list[int] = []
    audit_table.meta.client.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems",
        lambda params, **_: transactions.append(len(params["TransactItems"])))
    subjects = [person(n) for n in range(5000)]

    links = trail.record_many(Record(OFFICER, Action.PERSONAL_DATA_CHANGED, subject, PURPOSE,
                                     request_id="upload-2026-03-01-kjp") for subject in subjects)

    assert [link.entry.subject for link in links] == subjects
    per_chain = Counter(link.shard for link in links)
    assert len(transactions) == sum(math.ceil(count / ENTRIES_PER_TRANSACTION) for count in per_chain.values())
    assert max(transactions) <= 100
    assert sum(transactions) - len(transactions) == 5000, "every item but one head per transaction is an entry"
    report = trail.verify()
    assert report.intact, report.breaks
    assert report.entries_checked == 5000
    assert {check.shard: check.checked for check in report.chains if check.checked} == dict(per_chain)


def test_single_entries_and_batches_continue_one_another_in_a_chain(trail):
    one_person_read(trail, 2)
    batch = trail.record_many(Record(OFFICER, Action.PERSONAL_DATA_READ, person(1), PURPOSE, request_id=f"b-{n}")
                              for n in range(150))
    after = one_person_read(trail, 1)
    assert [link.sequence for link in batch] == list(range(3, 153))
    assert after[0].sequence == 153
    assert trail.verify().entries_checked == 153


def test_a_batch_keeps_each_subjects_entries_in_the_order_given(trail):
    records = [Record(OFFICER, Action.PERSONAL_DATA_READ, person(n % 3), PURPOSE, request_id=f"r-{n}")
               for n in range(30)]
    links = trail.record_many(records)
    for n in range(3):
        mine = [link for link in links if link.entry.subject == person(n)]
        assert [link.entry.request_id for link in mine] == [f"r-{k}" for k in range(n, 30, 3)]
        assert [link.sequence for link in mine] == sorted(link.sequence for link in mine)


def test_an_empty_batch_writes_nothing(trail, raw_items):
    assert trail.record_many([]) == []
    assert raw_items() == []


# -- a writer that loses the race -----------------------------------------------------------------


@pytest.fixture
def rival_between_read_and_write(local_aws, audit_table):
    """Another writer appends to the same chain once, just before this writer's first transaction goes out."""
    rival = AuditTrail(AuditRepository(local_aws.resource("dynamodb").Table(audit_table.name)), at_noon)
    fired: list[bool] = []

    def interfere(**_: Any) -> None:
        if not fired:
            fired.append(True)
            rival.record(OFFICER, Action.PERSONAL_DATA_READ, person(1), PURPOSE, request_id="rival")

    audit_table.meta.client.meta.events.register("before-call.dynamodb.TransactWriteItems", interfere)
    return fired


def test_a_writer_that_lost_the_race_rereads_the_head_and_links_on_after_the_winner(
        trail, rival_between_read_and_write, sleeps):
    (mine,) = one_person_read(trail, 1)

    assert rival_between_read_and_write == [True]
    assert mine.sequence == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.01
    report = trail.verify()
    assert report.intact and report.entries_checked == 2


def test_a_writer_that_keeps_losing_gives_up_having_written_nothing(audit_table, rival_between_read_and_write):
    impatient = AuditTrail(AuditRepository(audit_table, max_attempts=1, sleep=lambda _: None), at_noon)
    with pytest.raises(AuditUnavailable) as gave_up:
        one_person_read(impatient, 1)

    assert (gave_up.value.code, http_status(gave_up.value)) == ("AUDIT_CONTENDED", 503)
    report = impatient.verify()
    assert report.intact and report.entries_checked == 1, "only the rival's entry is there"


def test_a_throttled_store_is_reported_as_unavailable_not_as_a_crash(trail, audit_table):
    def throttled(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=400, headers={}), {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400}}

    audit_table.meta.client.meta.events.register("before-call.dynamodb.GetItem", throttled)
    with pytest.raises(AuditUnavailable) as busy:
        one_person_read(trail, 1)
    assert (busy.value.code, http_status(busy.value)) == ("AUDIT_UNAVAILABLE", 503)


# -- the composition root ----------------------------------------------------------------------------


def test_the_composition_root_keeps_the_trail_in_the_table_the_deployment_names(
        audit_table, monkeypatch, aws_environment):
    from chalicelib import wiring
    from chalicelib.core.settings import Settings

    for field in Settings.model_fields.values():
        if field.is_required():
            monkeypatch.setenv(field.alias, "set-by-the-deployment")
    monkeypatch.setenv("AUDIT_TABLE", audit_table.name)
    wiring.reset()
    try:
        link = wiring.audit_trail().record(OFFICER, Action.PERSONAL_DATA_READ, person(3), PURPOSE)
        assert audit_table.get_item(Key=key(link.shard, 1))["Item"]["hash"] == link.hash
        assert wiring.audit_trail() is wiring.audit_trail()
    finally:
        wiring.reset()
