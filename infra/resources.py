"""What Chalice does not create: the one source of table schemas, workflow
functions and the state machine's substitutions.

The CloudFormation builder, the local deployer and the test fixtures all read
these definitions; nothing else spells out a key schema.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chalicelib.enrolment.repository import STATE_INDEX
from chalicelib.registry.repository import AGENCY_INDEX

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "jakarta-one"
ENROLMENT_ASL = ROOT / "step_functions" / "enrolment.asl.json"
RECIPIENT_UPLOAD_ASL = ROOT / "step_functions" / "recipient_upload.asl.json"

def pk_sk_table(index: tuple[str, str, str] | None = None) -> dict[str, Any]:
    """A single-table design keyed ``pk``/``sk`` (strings), on demand, with at most one index
    ``(name, hash attribute, range attribute)`` projecting every attribute."""
    definition: dict[str, Any] = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk")],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if index is not None:
        name, hash_key, range_key = index
        definition["AttributeDefinitions"] += [{"AttributeName": attribute, "AttributeType": "S"}
                                               for attribute in (hash_key, range_key)]
        definition["GlobalSecondaryIndexes"] = [{
            "IndexName": name,
            "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"},
                          {"AttributeName": range_key, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }]
    return definition


ENROLMENT_TABLE = pk_sk_table((STATE_INDEX, "state_shard", "state_since"))

IDEMPOTENCY_TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}

AUDIT_TABLE = pk_sk_table()
"""The PDP processing record: one partition per audit chain (see :mod:`chalicelib.audit.repository`).
No expiry: an audit record is kept, not aged out."""

REGISTRY_TABLE = pk_sk_table((AGENCY_INDEX, "agency", "code"))
"""The SMPT program registry (see :mod:`chalicelib.registry.repository`): one partition per program."""

TIME_TO_LIVE: dict[str, str] = {"IDEMPOTENCY_TABLE": "expiration"}
"""Setting → the attribute holding an item's expiry (Powertools' idempotency records expire)."""

TABLES: dict[str, dict[str, Any]] = {
    "ENROLMENT_TABLE": ENROLMENT_TABLE,
    "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
    "AUDIT_TABLE": AUDIT_TABLE,
    "REGISTRY_TABLE": REGISTRY_TABLE,
}
"""Setting name → table definition (everything CreateTable takes but the name)."""

WORKFLOW_FUNCTIONS: dict[str, str] = {
    "CheckDocumentsFunctionArn": "enrolment_check_documents",
    "VerifyNikFunctionArn": "enrolment_verify_nik",
    "RequestIssuanceFunctionArn": "enrolment_request_issuance",
    "RecordOutcomeFunctionArn": "enrolment_record_outcome",
}
"""ASL placeholder → the Chalice Lambda function (``@app.lambda_function`` name) it calls."""

UPLOAD_WORKFLOW_FUNCTIONS: dict[str, str] = {
    "ProcessUploadChunkFunctionArn": "registry_process_upload_chunk",
}
"""The same, for the recipient-upload state machine (``RECIPIENT_UPLOAD_ASL``)."""
UPLOAD_TIMINGS = ("TransientRetryIntervalSeconds",)
"""The timings the upload state machine takes from the stage's."""

PRODUCTION_TIMINGS: dict[str, int] = {
    "IssuanceTimeoutSeconds": 7 * 24 * 3600,
    "RegistryRetryIntervalSeconds": 30,
    "RegistryRetryMaxAttempts": 6,
    "BankRetryIntervalSeconds": 60,
    "BankRetryMaxAttempts": 5,
    "TransientRetryIntervalSeconds": 2,
}
"""Art. 20 gives the bank 7 days (604,800 s). Tests and the demo pass smaller values."""

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def function_name(stage: str, name: str) -> str:
    return f"{APP_NAME}-{stage}-{name}"


def placeholders(definition_text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(definition_text))


def render_definition(definition_text: str, substitutions: dict[str, Any]) -> str:
    """Substitute ``${Name}`` placeholders, the way DefinitionSubstitutions does.

    A placeholder that is a whole JSON string (``"${IssuanceTimeoutSeconds}"``)
    and is given a number becomes that number, so the file stays valid JSON and
    numeric fields still get numbers. Every placeholder must be given.
    """
    missing = placeholders(definition_text) - substitutions.keys()
    if missing:
        raise KeyError(f"no substitution for {sorted(missing)}")

    def whole(match: re.Match[str]) -> str:
        value = substitutions[match.group(1)]
        return json.dumps(value)

    text = re.sub(r'"\$\{([A-Za-z0-9_]+)\}"', whole, definition_text)
    text = _PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), text)
    json.loads(text)
    return text
