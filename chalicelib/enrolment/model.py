"""Applications for a Jakarta One card and the states they move through."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any


class Program(str, Enum):
    """What the applicant registers for (Art. 3(3)); RESIDENT_PAYMENT is Art. 18's payment card."""

    KJP_PLUS = "KJP_PLUS"
    KJMU = "KJMU"
    TRANSJAKARTA_FREE = "TRANSJAKARTA_FREE"
    PANGAN_BERSUBSIDI = "PANGAN_BERSUBSIDI"
    RUSUNAWA = "RUSUNAWA"
    RESIDENT_PAYMENT = "RESIDENT_PAYMENT"

    @property
    def category(self) -> str:
        return _CATEGORY[self]

    @property
    def needs_registration_documents(self) -> bool:
        """Art. 17(3) documents apply to program recipients; Art. 18 residents need only a KTP."""
        return self is not Program.RESIDENT_PAYMENT


_CATEGORY = {
    Program.KJP_PLUS: "EDUCATION_AID",
    Program.KJMU: "EDUCATION_AID",
    Program.TRANSJAKARTA_FREE: "PUBLIC_SERVICE",
    Program.PANGAN_BERSUBSIDI: "PUBLIC_SERVICE",
    Program.RUSUNAWA: "RUSUNAWA",
    Program.RESIDENT_PAYMENT: "RESIDENT",
}

SCHOOL_LEVELS: dict[Program, frozenset[str]] = {
    Program.KJP_PLUS: frozenset({"SD", "SMP", "SMA", "SMK"}),
    Program.KJMU: frozenset({"PT"}),
}


class State(str, Enum):
    SUBMITTED = "SUBMITTED"
    VERIFIED = "VERIFIED"
    AWAITING_ISSUANCE = "AWAITING_ISSUANCE"
    CARD_ACTIVE = "CARD_ACTIVE"
    REJECTED = "REJECTED"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    ISSUANCE_OVERDUE = "ISSUANCE_OVERDUE"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({State.CARD_ACTIVE, State.REJECTED, State.MANUAL_REVIEW,
                          State.ISSUANCE_OVERDUE, State.FAILED})
OPEN_STATES = frozenset(State) - FINAL_STATES


@dataclass(frozen=True)
class ApplicationForm:
    """A validated application: what a counter clerk, an agency upload or the app submits."""

    nik: str
    full_name: str
    sex: str
    birth_date: date
    program: Program
    school_level: str | None
    kk_number: str | None
    village_code: str | None
    bank_account: str | None
    beneficiary_proof: str | None

    def personal_data(self) -> dict[str, Any]:
        return {
            "nik": self.nik, "full_name": self.full_name, "sex": self.sex,
            "birth_date": self.birth_date.isoformat(), "kk_number": self.kk_number,
            "bank_account": self.bank_account, "beneficiary_proof": self.beneficiary_proof,
        }

    def canonical(self) -> dict[str, Any]:
        return {**self.personal_data(), "program": self.program.value,
                "school_level": self.school_level, "village_code": self.village_code}


@dataclass
class Application:
    application_id: str
    state: State
    program: Program
    school_level: str | None
    village_code: str | None
    documents: dict[str, Any]
    nik_masked: str
    submitted_at: str
    state_since: str
    reasons: list[str] = field(default_factory=list)
    verified_at: str | None = None
    issued_at: str | None = None
    card_number_masked: str | None = None
    bank_reference: str | None = None
    task_token: str | None = None
    batch_id: str | None = None
    issuance_deadline: str | None = None
    """Art. 20: seven days after verification."""
    issued_within_deadline: bool | None = None
    late_bank_result: dict[str, Any] | None = None
    """What the bank reported after the application had left the wait (overdue, manual review)."""
    sealed_personal_data: str = ""

    def public_view(self) -> dict[str, Any]:
        """All an anonymous holder of the unguessable id may see: the state."""
        return {"applicationId": self.application_id, "state": self.state.value,
                "stateSince": self.state_since}

    def operator_view(self) -> dict[str, Any]:
        view = {
            "applicationId": self.application_id, "state": self.state.value,
            "program": self.program.value, "schoolLevel": self.school_level,
            "nik": self.nik_masked, "submittedAt": self.submitted_at,
            "stateSince": self.state_since, "reasons": self.reasons,
            "verifiedAt": self.verified_at, "issuedAt": self.issued_at,
            "cardNumber": self.card_number_masked, "batchId": self.batch_id,
            "issuanceDeadline": self.issuance_deadline, "issuedWithinDeadline": self.issued_within_deadline,
            "lateBankResult": self.late_bank_result,
        }
        return {key: value for key, value in view.items() if value not in (None, [])}
