"""Bearer tokens with Amazon Cognito's claims: verified here, minted only by the local cloud.

A token is an RS256 JWT signed by the user pool. We accept Cognito's two kinds:

* an *access* token (``token_use: access``) names the app client in ``client_id``;
* an *ID* token (``token_use: id``) names it in ``aud``.

Either must come from our issuer (``iss``), be in date (``exp``, ``iat``, with
a little clock skew allowed), carry a subject (``sub``) and the caller's roles
as Cognito groups (``cognito:groups``); an agency head's agency rides along as
``custom:agency`` (an ID-token attribute, or an access-token claim added by
the pool's pre-token-generation trigger).

Only RS256 over a key in the configured key set is accepted, chosen by the
token's ``kid``: ``alg: none``, an HMAC token keyed with our public key, or a
key we do not hold are all refused before any claim is read. In AWS the key
set is the user pool's JWKS, placed in the settings at deploy; locally, the
local cloud generates a key pair at start-up and :class:`TokenIssuer` signs
with it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any, Callable, Iterable

import jwt
from jwt.algorithms import RSAAlgorithm

from chalicelib.access.roles import InvalidPrincipal, Principal, Role, roles_named

ALGORITHM = "RS256"
GROUPS_CLAIM = "cognito:groups"
AGENCY_CLAIM = "custom:agency"
TOKEN_USES = ("access", "id")
REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "token_use")
CLOCK_SKEW_S = 30
"""How far our clock and the pool's may disagree, in seconds."""
MAX_TOKEN_CHARS = 8192
"""Far above a Cognito token (about 1 KB); anything longer is refused before it is parsed."""


class TokenRefused(Exception):
    """The token does not identify anyone; ``reason`` is a stable code, for the logs only.

    Callers are told no more than "unauthenticated": which check failed helps
    whoever forges tokens more than whoever holds a real one.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, jwks_json: str, leeway_s: int = CLOCK_SKEW_S) -> None:
        if not issuer or not audience:
            raise ValueError("a token verifier needs an issuer and an audience")
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s
        self._keys = _signing_keys(jwks_json)

    def verify(self, token: str) -> Principal:
        claims = self._verified_claims(token)
        token_use = claims["token_use"]
        if token_use not in TOKEN_USES:
            raise TokenRefused("TOKEN_USE")
        client = claims.get("client_id") if token_use == "access" else claims.get("aud")
        if not _names(client, self._audience):
            raise TokenRefused("AUDIENCE")
        groups = claims.get(GROUPS_CLAIM)
        if not isinstance(groups, list) or not groups or not all(isinstance(g, str) for g in groups):
            raise TokenRefused("NO_ROLES")
        agency = claims.get(AGENCY_CLAIM)
        if agency is not None and not isinstance(agency, str):
            raise TokenRefused("AGENCY")
        subject = claims["sub"]
        if not isinstance(subject, str):
            raise TokenRefused("SUBJECT")
        try:
            roles = roles_named(groups)
            return Principal(subject=subject, roles=roles,
                             agency=agency if Role.AGENCY_HEAD in roles else None)
        except InvalidPrincipal:
            raise TokenRefused("ROLES") from None

    def _verified_claims(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenRefused("MALFORMED")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("MALFORMED") from None
        if header.get("alg") != ALGORITHM:
            raise TokenRefused("ALGORITHM")
        key = self._keys.get(header.get("kid"))
        if key is None:
            raise TokenRefused("UNKNOWN_KEY")
        try:
            return jwt.decode(token, key=key, algorithms=[ALGORITHM], issuer=self._issuer,
                              leeway=self._leeway_s,
                              options={"require": list(REQUIRED_CLAIMS), "verify_aud": False})
        except jwt.ExpiredSignatureError:
            raise TokenRefused("EXPIRED") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("NOT_YET_VALID") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused("ISSUER") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("SIGNATURE") from None
        except jwt.MissingRequiredClaimError:
            raise TokenRefused("MISSING_CLAIM") from None
        except jwt.PyJWTError:
            raise TokenRefused("MALFORMED") from None


def _names(claimed: Any, audience: str) -> bool:
    if isinstance(claimed, str):
        return claimed == audience
    return isinstance(claimed, list) and audience in claimed


def _signing_keys(jwks_json: str) -> dict[str, Any]:
    """kid → public key, for the RSA signing keys of the set; a set without one is a configuration fault."""
    try:
        keys = jwt.PyJWKSet.from_json(jwks_json).keys
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"the token key set is not a usable JWKS: {error}") from None
    usable = {key.key_id: key.key for key in keys
              if key.key_id and key.key_type == "RSA" and key.algorithm_name == ALGORITHM
              and key.public_key_use in (None, "sig")}
    if not usable:
        raise ValueError("the token key set has no RS256 signing key with a kid")
    return usable


def key_id(public_key: Any) -> str:
    """The key's RFC 7638 thumbprint: the same key always gets the same ``kid``."""
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class TokenIssuer:
    """Signs tokens shaped like a Cognito user pool's, for the local cloud and the tests.

    Deployed functions never mint: in AWS the user pool does. Holding the
    claim names here, beside the verifier, keeps the two from drifting apart.
    """

    def __init__(self, private_key: Any, issuer: str, audience: str,
                 clock: Callable[[], float] = time.time) -> None:
        self._private_key = private_key
        self.issuer = issuer
        self.audience = audience
        self.key_id = key_id(private_key.public_key())
        self._clock = clock

    @classmethod
    def generate(cls, issuer: str, audience: str, clock: Callable[[], float] = time.time) -> "TokenIssuer":
        from cryptography.hazmat.primitives.asymmetric import rsa

        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), issuer, audience, clock)

    @classmethod
    def from_pem(cls, pem: bytes, issuer: str, audience: str,
                 clock: Callable[[], float] = time.time) -> "TokenIssuer":
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        return cls(load_pem_private_key(pem, password=None), issuer, audience, clock)

    def private_key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self._private_key.public_key(), as_dict=True)
        return {"keys": [{"kty": "RSA", "alg": ALGORITHM, "use": "sig", "kid": self.key_id,
                          "n": public["n"], "e": public["e"]}]}

    def jwks_json(self) -> str:
        return json.dumps(self.jwks(), separators=(",", ":"))

    def mint(self, roles: Iterable[Role | str], *, subject: str | None = None, agency: str | None = None,
             ttl_s: int = 3600, token_use: str = "access", claims: dict[str, Any] | None = None) -> str:
        """A signed token for ``roles``; ``claims`` adds or (with ``None``) removes claims."""
        now = int(self._clock())
        subject = subject or str(uuid.uuid4())
        body: dict[str, Any] = {
            "sub": subject, "iss": self.issuer, "token_use": token_use,
            GROUPS_CLAIM: [role.value if isinstance(role, Role) else role for role in roles],
            "iat": now, "auth_time": now, "exp": now + ttl_s, "jti": str(uuid.uuid4()), "username": subject,
        }
        if token_use == "id":
            body["aud"] = self.audience
        else:
            body["client_id"] = self.audience
            body["scope"] = "aws.cognito.signin.user.admin"
        if agency is not None:
            body[AGENCY_CLAIM] = agency
        for name, value in (claims or {}).items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return jwt.encode(body, self._private_key, algorithm=ALGORITHM, headers={"kid": self.key_id})
