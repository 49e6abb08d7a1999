"""Art. 17(3) documents, checked before the NIK is verified (Art. 19(1))."""
from datetime import date

import pytest

from chalicelib.enrolment.documents import document_facts, missing_documents
from chalicelib.enrolment.model import ApplicationForm, Program


def form(**changes):
    fields = dict(nik="3174015003140001", full_name="Putri", sex="F", birth_date=date(2014, 3, 10),
                  program=Program.KJP_PLUS, school_level="SMP", kk_number="3174010101200003",
                  village_code="3174011001", bank_account="1234567890", beneficiary_proof="NISN:0141234567")
    fields.update(changes)
    return ApplicationForm(**fields)


@pytest.mark.regulation("Art. 17")
def test_complete_documents_pass():
    assert missing_documents(document_facts(form())) == []


@pytest.mark.regulation("Art. 17")
@pytest.mark.parametrize("changes, reasons", [
    ({"kk_number": "3273010101200003", "village_code": "3273011001"}, ["KK_NOT_JAKARTA"]),
    ({"village_code": "3273011001"}, ["KK_NOT_JAKARTA"]),
    ({"kk_number": None}, ["KK_MISSING"]),
    ({"village_code": None}, ["ADDRESS_MISSING"]),
    ({"bank_account": None}, ["NO_BANK_ACCOUNT"]),
    ({"beneficiary_proof": None, "bank_account": None}, ["NO_BANK_ACCOUNT", "NO_BENEFICIARY_PROOF"]),
])
def test_each_missing_document_is_named(changes, reasons):
    assert missing_documents(document_facts(form(**changes))) == reasons


@pytest.mark.regulation("Art. 18")
def test_a_resident_asking_for_a_payment_card_needs_no_registration_documents():
    outsider = form(program=Program.RESIDENT_PAYMENT, school_level=None, kk_number="3273010101200003",
                    village_code=None, bank_account="1234567890", beneficiary_proof=None)
    assert missing_documents(document_facts(outsider)) == []


@pytest.mark.regulation("Art. 18")
def test_a_payment_card_still_needs_the_account_the_bank_issues_it_on():
    outsider = form(program=Program.RESIDENT_PAYMENT, school_level=None, kk_number=None,
                    village_code=None, bank_account=None, beneficiary_proof=None)
    assert missing_documents(document_facts(outsider)) == ["NO_BANK_ACCOUNT"]
