"""``python -m chalicelib.audit.verify``: 0 when every chain is intact, 1 when one is broken, 2 when it cannot check."""
from __future__ import annotations

import io

import pytest

from chalicelib.audit import verify
from chalicelib.audit.chain import Action, Actor, Subject
from chalicelib.audit.repository import SHARDS, chain_key, entry_key
from chalicelib.audit.service import Record
from chalicelib.core import clients

ADMIN = Actor("admin-0001", "DISKOMINFOTIK_ADMIN", "DISKOMINFOTIK")


@pytest.fixture
def command(local_aws, monkeypatch):
    """The command as an auditor runs it, on this process's moto; returns (exit status, stdout, stderr)."""
    monkeypatch.delenv("AUDIT_TABLE", raising=False)
    clients.reset_clients()

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        status = verify.main(list(argv), out, err)
        return status, out.getvalue(), err.getvalue()

    yield run
    clients.reset_clients()


def grant_roles(trail, count: int):
    return trail.record_many(Record(ADMIN, Action.ROLE_GRANTED, Subject.account(f"user-{n}"),
                                    "Art. 7: Diskominfotik authorises an agency head", detail="AGENCY_HEAD")
                             for n in range(count))


def test_an_intact_trail_exits_0_with_a_line_and_the_head_of_every_chain(command, trail, audit_table, monkeypatch):
    links = grant_roles(trail, 40)
    monkeypatch.setenv("AUDIT_TABLE", audit_table.name)

    status, out, err = command()

    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"audit trail {audit_table.name}: {SHARDS} chains, 40 entries checked"
    assert len([line for line in lines if line.startswith("  chain ")]) == SHARDS
    last = max(links, key=lambda link: (link.shard, link.sequence))
    assert f"head {last.sequence} {last.hash}" in out
    assert lines[-1] == "result: INTACT"


def test_an_altered_entry_exits_1_naming_its_chain_and_sequence(command, trail, audit_table):
    victim = grant_roles(trail, 40)[13]
    audit_table.update_item(Key={"pk": chain_key(victim.shard), "sk": entry_key(victim.sequence)},
                            UpdateExpression="SET detail = :d", ExpressionAttributeValues={":d": "OPERATOR"})

    status, out, _ = command("--table", audit_table.name)

    assert status == 1
    (broken,) = [line for line in out.splitlines() if "BROKEN at" in line]
    assert broken.startswith(f"  chain {victim.shard:02d}:")
    assert f"BROKEN at sequence {victim.sequence}: ALTERED" in broken
    assert out.splitlines()[-1] == f"result: BROKEN (1 of {SHARDS} chains)"


def test_an_empty_trail_is_intact(command, audit_table):
    status, out, _ = command("--table", audit_table.name)
    assert status == 0 and "0 entries checked" in out


def test_without_a_table_it_cannot_check_and_exits_2(command):
    status, out, err = command()
    assert (status, out) == (2, "")
    assert "AUDIT_TABLE" in err


def test_a_table_that_does_not_exist_exits_2_not_1(command, local_aws):
    status, out, err = command("--table", "jakarta-one-test-no-such-table")
    assert (status, out) == (2, "")
    assert "could not be checked" in err
