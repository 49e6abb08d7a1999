"""TEST FIXTURE ONLY: a user pool for the tests — a signing key pair made afresh for each test run.

The API verifies bearer tokens against the public keys its settings name
(``ACCESS_TOKEN_JWKS``). The tests give it the public half of a key pair
generated here, in memory, and mint tokens with the private half, with the
claims a Cognito user pool gives. The key is never written anywhere and never
leaves the test process.
"""
from __future__ import annotations

from functools import lru_cache

from chalicelib.access.roles import Role
from chalicelib.access.tokens import TokenIssuer

TEST_ISSUER = "urn:jakarta-one:tests:user-pool"
TEST_AUDIENCE = "jakarta-one-test-client"
EDUCATION_AGENCY = "DISDIK"
SOCIAL_AGENCY = "DINSOS"


@lru_cache(maxsize=1)
def user_pool() -> TokenIssuer:
    """The test run's user pool (one key pair for the whole run: RSA key generation is not free)."""
    return TokenIssuer.generate(TEST_ISSUER, TEST_AUDIENCE)


def access_settings() -> dict[str, str]:
    """The settings that make the API trust the test pool, as the deploy gives them the real pool's."""
    return {"ACCESS_TOKEN_ISSUER": TEST_ISSUER, "ACCESS_TOKEN_AUDIENCE": TEST_AUDIENCE,
            "ACCESS_TOKEN_JWKS": user_pool().jwks_json()}


def token(role: Role, agency: str | None = None, **options: object) -> str:
    """A token of the test pool for one role; an agency head answers for the education agency by default."""
    if role is Role.AGENCY_HEAD and agency is None:
        agency = EDUCATION_AGENCY
    subject = f"test-{role.value.lower().replace('_', '-')}" + (f"-{agency.lower()}" if agency else "")
    return user_pool().mint([role], agency=agency, subject=subject, **options)  # type: ignore[arg-type]


def bearer(role: Role, agency: str | None = None) -> dict[str, str]:
    """The ``Authorization`` header of a caller holding ``role``."""
    return {"Authorization": f"Bearer {token(role, agency)}"}
