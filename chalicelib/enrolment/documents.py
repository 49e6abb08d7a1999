"""The registration documents Art. 17(3) asks for, checked before verification (Art. 19(1))."""
from __future__ import annotations

from typing import Any

from chalicelib.enrolment.model import ApplicationForm

JAKARTA_PROVINCE = "31"


def document_facts(form: ApplicationForm) -> dict[str, Any]:
    """What the check needs, kept in clear beside the sealed personal data."""
    return {
        "kk_province": form.kk_number[:2] if form.kk_number else None,
        "village_province": form.village_code[:2] if form.village_code else None,
        "has_bank_account": form.bank_account is not None,
        "has_beneficiary_proof": form.beneficiary_proof is not None,
        "needs_registration_documents": form.program.needs_registration_documents,
    }


def missing_documents(facts: dict[str, Any]) -> list[str]:
    """Reasons the documents are incomplete; empty when they are complete.

    Program recipients need a KK with a Jakarta address, an account at the
    appointed bank and proof of beneficiary status. A resident asking only for
    a payment card (Art. 18) registers no documents, but the card the bank
    issues is a card on an account, so the account is needed by everyone.
    """
    if not facts["needs_registration_documents"]:
        return [] if facts["has_bank_account"] else ["NO_BANK_ACCOUNT"]
    reasons = []
    if facts["kk_province"] is None:
        reasons.append("KK_MISSING")
    elif facts["kk_province"] != JAKARTA_PROVINCE or facts["village_province"] not in (None, JAKARTA_PROVINCE):
        reasons.append("KK_NOT_JAKARTA")
    if facts["village_province"] is None:
        reasons.append("ADDRESS_MISSING")
    if not facts["has_bank_account"]:
        reasons.append("NO_BANK_ACCOUNT")
    if not facts["has_beneficiary_proof"]:
        reasons.append("NO_BENEFICIARY_PROOF")
    return reasons
