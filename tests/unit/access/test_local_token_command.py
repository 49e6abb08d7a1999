"""``make token`` (``python -m localcloud.tokens``): what a developer types to act as a role locally."""
from __future__ import annotations

import pytest

from chalicelib.access.roles import Role
from chalicelib.access.tokens import TokenIssuer, TokenVerifier
from localcloud.cloud import TOKEN_AUDIENCE, TOKEN_ISSUER, write_private
from localcloud import tokens


@pytest.fixture
def key_file(tmp_path):
    """TEST FIXTURE ONLY: a signing key as a running local cloud writes it."""
    pool = TokenIssuer.generate(TOKEN_ISSUER, TOKEN_AUDIENCE)
    path = tmp_path / "localcloud-signing-key.pem"
    write_private(path, pool.private_key_pem())
    return path, TokenVerifier(TOKEN_ISSUER, TOKEN_AUDIENCE, pool.jwks_json())


def test_it_prints_a_token_the_local_cloud_accepts_and_nothing_else(key_file, capsys):
    path, verifier = key_file
    assert tokens.main(["--key-file", str(path), "--role", "OPERATOR", "--subject", "clerk-9"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1
    principal = verifier.verify(printed.strip())
    assert (principal.subject, principal.roles) == ("clerk-9", {Role.OPERATOR})


def test_an_agency_head_token_needs_an_agency_code(key_file, capsys):
    path, _ = key_file
    for arguments in (["--role", "AGENCY_HEAD"], ["--role", "AGENCY_HEAD", "--agency", "disdik"]):
        with pytest.raises(SystemExit) as stopped:
            tokens.main(["--key-file", str(path), *arguments])
        assert stopped.value.code == 2
    assert "DISDIK" in capsys.readouterr().err


def test_an_unknown_role_is_refused(key_file):
    path, _ = key_file
    with pytest.raises(SystemExit):
        tokens.main(["--key-file", str(path), "--role", "ROOT"])


def test_without_a_running_cloud_it_says_how_to_start_one(tmp_path, capsys):
    assert tokens.main(["--key-file", str(tmp_path / "missing.pem"), "--role", "OPERATOR"]) == 2
    assert "make run" in capsys.readouterr().err
