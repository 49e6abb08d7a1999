"""Bearer-token verification: what a Cognito-shaped token must be for the API to let its holder in.

Each refused case is one way a token could be forged, replayed or misissued;
the reason code is what the authorizer logs (the caller only hears 401).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from chalicelib.access.roles import Principal, Role
from chalicelib.access.tokens import CLOCK_SKEW_S, TokenIssuer, TokenRefused, TokenVerifier

ISSUER = "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_TestPool"
CLIENT = "4example0client0id0jakarta"


@pytest.fixture(scope="module")
def pool() -> TokenIssuer:
    """TEST FIXTURE ONLY: a key pair made for this module, standing in for the user pool."""
    return TokenIssuer.generate(ISSUER, CLIENT)


@pytest.fixture(scope="module")
def verifier(pool: TokenIssuer) -> TokenVerifier:
    return TokenVerifier(ISSUER, CLIENT, pool.jwks_json())


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRefused) as refused:
        verifier.verify(token)
    return refused.value.reason


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, claims: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ---------------------------------------------------------------- accepted

def test_an_operators_access_token_names_the_operator(pool, verifier):
    principal = verifier.verify(pool.mint([Role.OPERATOR], subject="clerk-017"))
    assert principal == Principal(subject="clerk-017", roles=frozenset({Role.OPERATOR}))


def test_an_id_token_names_the_client_as_its_audience_and_is_accepted_too(pool, verifier):
    token = pool.mint([Role.RESIDENT], subject="resident-1", token_use="id")
    assert "aud" in claims_of(token) and "client_id" not in claims_of(token)
    assert verifier.verify(token).roles == {Role.RESIDENT}


def test_an_agency_head_answers_for_the_agency_the_token_names(pool, verifier):
    principal = verifier.verify(pool.mint([Role.AGENCY_HEAD], agency="DISDIK"))
    assert (principal.roles, principal.agency) == ({Role.AGENCY_HEAD}, "DISDIK")


def test_an_agency_named_for_someone_who_heads_no_agency_is_ignored(pool, verifier):
    assert verifier.verify(pool.mint([Role.OPERATOR], agency="DINSOS")).agency is None


def test_a_token_may_carry_several_roles(pool, verifier):
    principal = verifier.verify(pool.mint([Role.OPERATOR, Role.RESIDENT]))
    assert principal.roles == {Role.OPERATOR, Role.RESIDENT}


def test_a_token_that_expired_within_the_clock_skew_is_still_accepted(pool, verifier):
    token = pool.mint([Role.OPERATOR], ttl_s=-(CLOCK_SKEW_S // 2))
    assert verifier.verify(token).roles == {Role.OPERATOR}


# ---------------------------------------------------------------- refused: time, issuer, audience

def test_an_expired_token_is_refused(pool, verifier):
    assert refusal(verifier, pool.mint([Role.OPERATOR], ttl_s=-(CLOCK_SKEW_S + 5))) == "EXPIRED"


def test_a_token_issued_in_the_future_is_refused(pool, verifier):
    ahead = TokenIssuer.from_pem(pool.private_key_pem(), ISSUER, CLIENT, clock=lambda: time.time() + 600)
    assert refusal(verifier, ahead.mint([Role.OPERATOR])) == "NOT_YET_VALID"


def test_a_token_of_another_issuer_is_refused_even_signed_with_our_key(pool, verifier):
    elsewhere = TokenIssuer.from_pem(pool.private_key_pem(), ISSUER.replace("TestPool", "OtherPool"), CLIENT)
    assert refusal(verifier, elsewhere.mint([Role.OPERATOR])) == "ISSUER"


@pytest.mark.parametrize("token_use", ["access", "id"])
def test_a_token_issued_to_another_app_client_is_refused(pool, verifier, token_use):
    other_client = TokenIssuer.from_pem(pool.private_key_pem(), ISSUER, "another-client")
    assert refusal(verifier, other_client.mint([Role.OPERATOR], token_use=token_use)) == "AUDIENCE"


def test_an_access_token_without_its_client_is_refused(pool, verifier):
    assert refusal(verifier, pool.mint([Role.OPERATOR], claims={"client_id": None})) == "AUDIENCE"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "sub", "token_use"])
def test_a_token_without_a_required_claim_is_refused(pool, verifier, claim):
    assert refusal(verifier, pool.mint([Role.OPERATOR], claims={claim: None})) == "MISSING_CLAIM"


def test_a_refresh_or_other_kind_of_token_is_refused(pool, verifier):
    assert refusal(verifier, pool.mint([Role.OPERATOR], token_use="refresh")) == "TOKEN_USE"


# ---------------------------------------------------------------- refused: keys and algorithms

def test_a_token_signed_by_another_key_under_our_key_id_is_refused(pool, verifier):
    impostor = TokenIssuer.generate(ISSUER, CLIENT)
    token = impostor.mint([Role.DISKOMINFOTIK_ADMIN])
    header, payload, signature = token.split(".")
    ours = b64(json.dumps({"alg": "RS256", "kid": pool.key_id, "typ": "JWT"}).encode())
    assert refusal(verifier, f"{ours}.{payload}.{signature}") == "SIGNATURE"


def test_a_token_signed_by_a_key_we_do_not_hold_is_refused(verifier):
    assert refusal(verifier, TokenIssuer.generate(ISSUER, CLIENT).mint([Role.OPERATOR])) == "UNKNOWN_KEY"


def test_a_token_whose_claims_were_changed_after_signing_is_refused(pool, verifier):
    header, _, signature = pool.mint([Role.RESIDENT], subject="resident-1").split(".")
    claims = claims_of(pool.mint([Role.RESIDENT], subject="resident-1"))
    claims["cognito:groups"] = ["DISKOMINFOTIK_ADMIN"]
    assert refusal(verifier, f"{header}.{b64(json.dumps(claims).encode())}.{signature}") == "SIGNATURE"


def test_an_unsigned_token_alg_none_is_refused(pool, verifier):
    claims = claims_of(pool.mint([Role.DISKOMINFOTIK_ADMIN]))
    assert refusal(verifier, hand_made({"alg": "none", "kid": pool.key_id}, claims)) == "ALGORITHM"


def test_an_hmac_token_keyed_with_our_public_key_is_refused(pool, verifier):
    """The classic confusion: HS256 "signed" with the RSA public key, which anyone can read."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    public_pem = load_pem_private_key(pool.private_key_pem(), None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = claims_of(pool.mint([Role.DISKOMINFOTIK_ADMIN]))
    header = {"alg": "HS256", "kid": pool.key_id, "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert refusal(verifier, f"{signing_input}.{b64(signature)}") == "ALGORITHM"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "Bearer x", "x" * 9000, "eyJ9.eyJ9.sig"])
def test_what_is_not_a_token_is_refused_as_malformed(verifier, token):
    assert refusal(verifier, token) == "MALFORMED"


# ---------------------------------------------------------------- refused: roles

@pytest.mark.parametrize("groups", [None, [], "OPERATOR", [7]])
def test_a_token_without_a_list_of_roles_is_refused(pool, verifier, groups):
    token = pool.mint([], claims={"cognito:groups": groups}) if groups is not None else \
        pool.mint([Role.OPERATOR], claims={"cognito:groups": None})
    assert refusal(verifier, token) == "NO_ROLES"


def test_a_role_we_do_not_know_is_refused_not_ignored(pool, verifier):
    assert refusal(verifier, pool.mint([Role.OPERATOR, "SUPERUSER"])) == "ROLES"


def test_an_agency_head_without_an_agency_is_refused(pool, verifier):
    assert refusal(verifier, pool.mint([Role.AGENCY_HEAD])) == "ROLES"


@pytest.mark.parametrize("agency", ["disdik", "D", "DIS DIK", "X" * 17])
def test_an_agency_head_whose_agency_is_no_agency_code_is_refused(pool, verifier, agency):
    assert refusal(verifier, pool.mint([Role.AGENCY_HEAD], agency=agency)) == "ROLES"


def test_an_agency_that_is_not_text_is_refused(pool, verifier):
    assert refusal(verifier, pool.mint([Role.AGENCY_HEAD], claims={"custom:agency": ["DISDIK"]})) == "AGENCY"


# ---------------------------------------------------------------- the key set

def test_the_published_key_set_holds_the_public_key_only(pool):
    (key,) = pool.jwks()["keys"]
    assert set(key) == {"kty", "alg", "use", "kid", "n", "e"}


def test_the_key_id_is_the_keys_thumbprint_so_a_reloaded_key_keeps_it(pool):
    assert TokenIssuer.from_pem(pool.private_key_pem(), ISSUER, CLIENT).key_id == pool.key_id


@pytest.mark.parametrize("jwks", ["", "{}", '{"keys": []}', "not json",
                                  '{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}'])
def test_a_key_set_without_an_rs256_signing_key_is_a_configuration_fault(jwks):
    with pytest.raises(ValueError):
        TokenVerifier(ISSUER, CLIENT, jwks)


def test_a_verifier_needs_an_issuer_and_an_audience(pool):
    with pytest.raises(ValueError):
        TokenVerifier("", CLIENT, pool.jwks_json())
    with pytest.raises(ValueError):
        TokenVerifier(ISSUER, "", pool.jwks_json())
