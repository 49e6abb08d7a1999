"""The composition root: the one place where settings, clients and services meet.

Each factory builds on first use and is cached for the life of the Lambda
container; :func:`reset` forgets them (tests, or a launcher that changed the
environment).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from chalicelib.core import clients
from chalicelib.core.settings import get_access_settings, get_settings, reset_settings


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=1)
def vault() -> Any:
    from chalicelib.identity.protection import PersonalDataVault

    settings = get_settings()
    return PersonalDataVault(clients.client("kms"), settings.pii_kms_key_id, settings.nik_index_kms_key_id)


@lru_cache(maxsize=1)
def application_repository() -> Any:
    from chalicelib.enrolment.repository import ApplicationRepository

    return ApplicationRepository(clients.resource("dynamodb").Table(get_settings().enrolment_table))


@lru_cache(maxsize=1)
def enrolment_workflow() -> Any:
    from chalicelib.enrolment.workflow import EnrolmentWorkflow

    arn = get_settings().enrolment_state_machine_arn
    if not arn:
        raise RuntimeError("ENROLMENT_STATE_MACHINE_ARN is not set")
    return EnrolmentWorkflow(clients.client("stepfunctions"), arn)


@lru_cache(maxsize=1)
def enrolment_service() -> Any:
    from chalicelib.enrolment.service import EnrolmentService

    return EnrolmentService(application_repository(), vault(), enrolment_workflow(), utc_now, audit_trail())


@lru_cache(maxsize=1)
def enrolment_tasks() -> Any:
    from chalicelib.enrolment.tasks import EnrolmentTasks
    from chalicelib.partners.bank import SnapCardIssuingBank
    from chalicelib.partners.population_registry import HttpPopulationRegistry

    settings = get_settings()
    registry = HttpPopulationRegistry(settings.population_registry_url, settings.population_registry_timeout_s)
    bank = SnapCardIssuingBank(settings.bank_url, settings.our_partner_id, settings.bank_client_secret,
                               settings.bank_access_token)
    return EnrolmentTasks(application_repository(), vault(), registry, bank, utc_now,
                          timedelta(seconds=settings.issuance_deadline_s), audit_trail())


@lru_cache(maxsize=1)
def callback_idempotency() -> Any:
    """Bank callbacks run once per partner, day and X-EXTERNAL-ID (SNAP's uniqueness rule)."""
    from chalicelib.core.idempotency import IdempotentUseCase

    return IdempotentUseCase(get_settings().idempotency_table, clients.client("dynamodb"), key_path="key",
                             payload_path="bodyHash", key_prefix="bank-callback", expires_after_s=2 * 24 * 3600)


@lru_cache(maxsize=1)
def issuance_callbacks() -> Any:
    from chalicelib.enrolment.callbacks import BankPartner, IssuanceCallbacks

    settings = get_settings()
    partner = BankPartner(settings.bank_partner_id, settings.bank_client_secret, settings.bank_access_token)
    return IssuanceCallbacks(application_repository(), enrolment_workflow(), partner,
                             callback_idempotency(), utc_now,
                             timedelta(seconds=settings.snap_timestamp_tolerance_s))


@lru_cache(maxsize=1)
def token_verifier() -> Any:
    """The bearer-token check of the API's authorizer, from the user pool's issuer, client and keys."""
    from chalicelib.access.tokens import TokenVerifier

    settings = get_access_settings()
    return TokenVerifier(settings.token_issuer, settings.token_audience, settings.token_jwks)


def audit_trail_for(table_name: str) -> Any:
    """The audit trail kept in ``table_name`` (the verification command names its table itself)."""
    from chalicelib.audit.repository import AuditRepository
    from chalicelib.audit.service import AuditTrail

    return AuditTrail(AuditRepository(clients.resource("dynamodb").Table(table_name)), utc_now)


@lru_cache(maxsize=1)
def audit_trail() -> Any:
    """The PDP processing record: who read or changed whose data or roles, when and why."""
    return audit_trail_for(get_settings().audit_table)


@lru_cache(maxsize=1)
def registry_service() -> Any:
    """The SMPT program registry (Art. 6-8): programs, officers, reports."""
    from chalicelib.registry.repository import ProgramRepository
    from chalicelib.registry.service import RegistryService

    name = get_settings().registry_table
    if not name:
        raise RuntimeError("REGISTRY_TABLE is not set")
    return RegistryService(ProgramRepository(clients.resource("dynamodb").Table(name)), utc_now)


@lru_cache(maxsize=1)
def recipient_uploads() -> Any:
    """Agencies' bulk uploads of program recipients: received by the API, processed by the upload workflow."""
    from chalicelib.registry.upload_store import UploadStore
    from chalicelib.registry.uploads import RecipientUploads, UploadWorkflow

    settings = get_settings()
    workflow = (UploadWorkflow(clients.client("stepfunctions"), settings.recipient_upload_state_machine_arn)
                if settings.recipient_upload_state_machine_arn else None)
    store = UploadStore(clients.resource("dynamodb"), settings.registry_table)
    return RecipientUploads(registry_service(), store, vault(), workflow, audit_trail(), utc_now)


FACTORIES = (vault, application_repository, enrolment_workflow, enrolment_service, enrolment_tasks,
             callback_idempotency, issuance_callbacks, token_verifier, audit_trail,
             registry_service, recipient_uploads)


def reset() -> None:
    for factory in FACTORIES:
        factory.cache_clear()
    clients.reset_clients()
    reset_settings()
