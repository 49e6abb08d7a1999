"""Personal data at rest (``PersonalDataVault``) with keys in the local cloud's KMS.

The keys are made by :func:`infra.deploy.ensure_key`, as the deployment makes
them: a symmetric key that wraps data keys, and an HMAC key for the NIK index.
"""
from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from chalicelib.core.errors import DomainError
from chalicelib.identity.protection import PersonalDataVault

NIK = "3174015003140001"
OTHER_NIK = "3174015003140002"
PERSON = {"nik": NIK, "full_name": "Putri Ayu Lestari", "sex": "F", "birth_date": "2014-03-10",
          "kk_number": "3174010101200003", "bank_account": "1234567890", "beneficiary_proof": "NISN:0141234567"}


@pytest.fixture
def new_vault(local_aws: Any, personal_data_keys: tuple[str, str]):
    """A vault as a fresh Lambda container builds it: nothing cached yet."""
    data_key, index_key = personal_data_keys

    def build() -> PersonalDataVault:
        return PersonalDataVault(local_aws.client("kms"), data_key, index_key)

    return build


def test_the_same_nik_always_gets_the_same_index(new_vault):
    # Given two containers of the function
    one, other = new_vault(), new_vault()

    # When each computes the index of the same NIK, twice
    indexes = {one.index(NIK), one.index(NIK), other.index(NIK)}

    # Then it is one index, a keyed hash that does not show the NIK
    assert len(indexes) == 1
    index = indexes.pop()
    assert re.fullmatch(r"[0-9a-f]{64}", index)
    assert NIK not in index


def test_different_niks_get_different_indexes(new_vault):
    vault = new_vault()

    assert vault.index(NIK) != vault.index(OTHER_NIK)


def test_sealed_personal_data_unseals_to_what_was_sealed(new_vault):
    # Given a person's data sealed by one container
    sealing = new_vault()
    sealed = sealing.seal(PERSON)

    # When it is unsealed by the same container and by a fresh one
    # Then both get the same record back
    assert sealing.unseal(sealed) == PERSON
    assert new_vault().unseal(sealed) == PERSON


def test_sealed_personal_data_shows_none_of_the_numbers_it_holds(new_vault):
    # Given a person's data sealed
    sealed = new_vault().seal(PERSON)

    # Then neither the blob nor its decoded parts contain the NIK, the KK number or the bank account
    parts = [base64.b64decode(part) for part in sealed.split(".")]
    for number in (PERSON["nik"], PERSON["kk_number"], PERSON["bank_account"]):
        assert number not in sealed
        assert all(number.encode() not in part for part in parts)


def test_sealing_the_same_data_twice_gives_different_blobs(new_vault):
    vault = new_vault()

    assert vault.seal(PERSON) != vault.seal(PERSON)


def _flip_first_byte(part: str) -> str:
    raw = base64.b64decode(part)
    return base64.b64encode(bytes([raw[0] ^ 0x01]) + raw[1:]).decode()


def _tampered(sealed: str, which: int) -> str:
    parts = sealed.split(".")
    parts[which] = _flip_first_byte(parts[which])
    return ".".join(parts)


TAMPERINGS = {
    "ciphertext-changed": lambda sealed: _tampered(sealed, 2),
    "nonce-changed": lambda sealed: _tampered(sealed, 1),
    "wrapped-key-changed": lambda sealed: _tampered(sealed, 0),
    "part-missing": lambda sealed: ".".join(sealed.split(".")[:2]),
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_a_tampered_blob_is_refused_with_a_domain_error(new_vault, tamper):
    # Given a person's data sealed, then altered at rest
    tampered = tamper(new_vault().seal(PERSON))

    # When a fresh container unseals it
    # Then it is refused with a domain error, never with data
    with pytest.raises(DomainError):
        new_vault().unseal(tampered)


def test_the_index_is_an_hmac_under_a_subkey_derived_once_from_the_kms_key(local_aws, personal_data_keys):
    import hashlib
    import hmac

    from chalicelib.identity.protection import NIK_INDEX_LABEL

    # Given a vault whose KMS calls are counted
    kms = local_aws.client("kms")
    calls = []
    original = kms.generate_mac

    def counted(**kwargs):
        calls.append(kwargs["Message"])
        return original(**kwargs)

    kms.generate_mac = counted
    vault = PersonalDataVault(kms, *personal_data_keys)

    # When it indexes many NIKs
    indexes = [vault.index(f"31740150031400{n:02d}") for n in range(50)]

    # Then KMS was asked once, for the versioned label only (no NIK ever goes to KMS)
    assert calls == [NIK_INDEX_LABEL]
    # And each index is HMAC-SHA256 over "NIK:<nik>" under that subkey
    subkey = original(KeyId=personal_data_keys[1], MacAlgorithm="HMAC_SHA_256", Message=NIK_INDEX_LABEL)["Mac"]
    assert indexes[1] == hmac.new(subkey, b"NIK:3174015003140001", hashlib.sha256).hexdigest()
    assert len(set(indexes)) == 50
