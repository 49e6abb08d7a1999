"""What an audit entry may hold: who, what, whose, why and when, and never a NIK in clear."""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from chalicelib.audit.chain import (
    Action,
    Actor,
    InvalidAuditEntry,
    PersonalDataInAuditEntry,
    Subject,
    new_entry,
    shard_of,
)
from chalicelib.core.errors import InvalidInput, http_status

NIK = "3174011506900001"
KK = "3174010101090007"
NIK_INDEX = hashlib.sha256(b"an HMAC as the vault computes it").hexdigest()
OFFICER = Actor("c0ffee00-1234-4abc-9def-0123456789ab", "AGENCY_HEAD", "DINAS_PENDIDIKAN")
JAKARTA = timezone(timedelta(hours=7))
AT = datetime(2026, 3, 1, 9, 30, tzinfo=JAKARTA)
PURPOSE = "Art. 8: the agency updates a KJP Plus recipient's school"


def entry(**changes):
    arguments = {"actor": OFFICER, "action": Action.PERSONAL_DATA_CHANGED, "subject": Subject.person(NIK_INDEX),
                 "purpose": PURPOSE, "at": AT, "request_id": "req-42", "detail": "fields: school_level"}
    arguments.update(changes)
    return new_entry(**arguments)


def test_an_entry_records_who_what_whose_why_and_when_in_utc():
    recorded = entry()
    assert recorded.actor == OFFICER
    assert recorded.action == "PERSONAL_DATA_CHANGED"
    assert recorded.subject == Subject("PERSON", NIK_INDEX)
    assert recorded.purpose == PURPOSE
    assert recorded.at == "2026-03-01T02:30:00.000000+00:00"
    assert recorded.request_id == "req-42"


def test_a_role_grant_names_the_account_it_was_granted_to():
    granted = entry(action=Action.ROLE_GRANTED, subject=Subject.account("a1b2c3"),
                    actor=Actor("admin-1", "DISKOMINFOTIK_ADMIN", "DISKOMINFOTIK"),
                    purpose="Art. 7: Diskominfotik authorises the head of the education agency",
                    detail="AGENCY_HEAD of DINAS_PENDIDIKAN")
    assert (granted.action, granted.subject.kind) == ("ROLE_GRANTED", "ACCOUNT")


@pytest.mark.parametrize("reference", [NIK, NIK_INDEX.upper(), NIK_INDEX[:-1], "", "person-1"])
def test_a_person_is_named_by_the_keyed_nik_index_only(reference):
    with pytest.raises(PersonalDataInAuditEntry) as refused:
        entry(subject=Subject.person(reference))
    assert refused.value.details["field"] == "subject.reference"


@pytest.mark.parametrize("changes, field", [
    ({"purpose": f"checked NIK {NIK} against Dukcapil"}, "purpose"),
    ({"detail": f"kk_number {KK}"}, "detail"),
    ({"request_id": NIK}, "request_id"),
    ({"actor": Actor(NIK, "RESIDENT")}, "actor.subject"),
    ({"subject": Subject.application(f"app_{NIK}")}, "subject.reference"),
])
def test_a_nik_or_kk_number_in_clear_is_refused_wherever_it_is(changes, field):
    with pytest.raises(PersonalDataInAuditEntry) as refused:
        entry(**changes)
    assert refused.value.details["field"] == field
    assert NIK not in refused.value.message and KK not in refused.value.message


@given(st.text(max_size=20), st.text("0123456789", min_size=16, max_size=16), st.text(max_size=20))
def test_any_sixteen_digits_standing_alone_in_the_purpose_are_refused(before, digits, after):
    purpose = f"{before} {digits} {after}"
    with pytest.raises(PersonalDataInAuditEntry):
        entry(purpose=purpose)


def test_longer_and_shorter_numbers_are_not_mistaken_for_a_nik():
    assert entry(purpose="SK Gubernur 1234567890123 and reference 12345678901234567890").purpose


@pytest.mark.parametrize("changes", [
    {"purpose": ""}, {"purpose": "   "}, {"purpose": "x" * 1001}, {"purpose": None},
    {"actor": Actor("", "AGENCY_HEAD")}, {"actor": Actor("officer", "")}, {"request_id": ""},
    {"purpose": "half a \ud800 surrogate"}, {"action": "PERSONAL_DATA_SOLD"},
    {"subject": Subject("CITIZEN", "x")}, {"at": datetime(2026, 3, 1, 9, 30)},
])
def test_an_entry_the_record_cannot_hold_is_refused_as_a_clear_4xx(changes):
    with pytest.raises(InvalidAuditEntry) as refused:
        entry(**changes)
    assert isinstance(refused.value, InvalidInput) and http_status(refused.value) == 400


def test_every_action_and_subject_kind_can_be_recorded():
    for action in Action:
        assert entry(action=action).action == action.value
    for subject in (Subject.application("app_x"), Subject.program("KJP_PLUS-2026"), Subject.account("sub-1")):
        assert entry(subject=subject).subject == subject


def test_a_subject_always_goes_to_the_same_chain():
    subject = Subject.person(NIK_INDEX)
    assert len({shard_of(subject, 16) for _ in range(5)}) == 1


def test_subjects_spread_evenly_over_the_chains():
    """No chain is a hot partition: 16,000 residents put between 800 and 1,200 on each of 16 chains."""
    counts = Counter(shard_of(Subject.person(hashlib.sha256(str(n).encode()).hexdigest()), 16)
                     for n in range(16_000))
    assert set(counts) == set(range(16))
    assert all(800 <= count <= 1200 for count in counts.values()), counts
