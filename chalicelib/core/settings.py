"""Settings of the deployed functions, read once from the environment.

Nothing here has a default for a table name, a region or an endpoint: a
function that starts without them fails loudly at first use, not silently
against the wrong resource. Endpoints come from boto3's own
``AWS_ENDPOINT_URL*`` variables, so they never appear here.
"""
from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    enrolment_table: str = Field(alias="ENROLMENT_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    audit_table: str = Field(alias="AUDIT_TABLE")
    registry_table: str | None = Field(None, alias="REGISTRY_TABLE")
    """Needed by the registry's routes only; checked where the registry is wired."""
    enrolment_state_machine_arn: str | None = Field(None, alias="ENROLMENT_STATE_MACHINE_ARN")
    """Needed by the API only; the workflow's own functions are created before it exists."""
    recipient_upload_state_machine_arn: str | None = Field(None, alias="RECIPIENT_UPLOAD_STATE_MACHINE_ARN")
    """Needed by the API only, to start processing an agency's recipient upload."""
    pii_kms_key_id: str = Field(alias="PII_KMS_KEY_ID")
    nik_index_kms_key_id: str = Field(alias="NIK_INDEX_KMS_KEY_ID")
    population_registry_url: str = Field(alias="POPULATION_REGISTRY_URL")
    population_registry_timeout_s: float = Field(3.0, alias="POPULATION_REGISTRY_TIMEOUT_S")
    bank_url: str = Field(alias="BANK_DKI_URL")
    bank_partner_id: str = Field(alias="BANK_DKI_PARTNER_ID")
    our_partner_id: str = Field(alias="JAKONE_PARTNER_ID")
    bank_client_secret: str = Field(alias="BANK_DKI_CLIENT_SECRET", repr=False)
    bank_access_token: str = Field(alias="BANK_DKI_ACCESS_TOKEN", repr=False)
    issuance_deadline_s: int = Field(7 * 24 * 3600, alias="ISSUANCE_DEADLINE_S")
    """Art. 20: at most 7 days from verification to issuance."""
    snap_timestamp_tolerance_s: int = Field(300, alias="SNAP_TIMESTAMP_TOLERANCE_S")


class AccessSettings(BaseSettings):
    """What the bearer-token authorizer needs, and nothing more: in AWS it is a function of its own."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    token_issuer: str = Field(alias="ACCESS_TOKEN_ISSUER")
    """The user pool's ``iss``: ``https://cognito-idp.<region>.amazonaws.com/<pool id>``."""
    token_audience: str = Field(alias="ACCESS_TOKEN_AUDIENCE")
    """The app client the tokens are issued to (``client_id`` of access tokens, ``aud`` of ID tokens)."""
    token_jwks: str = Field(alias="ACCESS_TOKEN_JWKS", repr=False)
    """The pool's public signing keys as JWKS JSON, placed here at deploy; the functions fetch nothing."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def get_access_settings() -> AccessSettings:
    return AccessSettings()  # type: ignore[call-arg]


def reset_settings() -> None:
    get_settings.cache_clear()
    get_access_settings.cache_clear()
