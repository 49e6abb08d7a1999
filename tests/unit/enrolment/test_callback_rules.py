"""What a bank's notification may carry into our records."""
import pytest
from pydantic import ValidationError

from chalicelib.enrolment.callbacks import IssuanceNotification, _reason_code

ISSUED = {"partnerReferenceNo": "app_abcdefghijklmnop", "originalReferenceNo": "DKI000000000001",
          "issuanceStatus": "ISSUED", "issuedAt": "2026-12-04T10:00:00+07:00"}


@pytest.mark.parametrize("masked", ["6048 50** **** 1234", "604850******1234", "************1234"])
def test_a_card_number_masked_as_pci_dss_allows_is_accepted(masked):
    assert IssuanceNotification.model_validate({**ISSUED, "cardNumberMasked": masked})


@pytest.mark.parametrize("masked", ["604850123456789*", "6048501234**1234", "****************", "1234"])
def test_a_card_number_with_more_in_clear_is_refused(masked):
    with pytest.raises(ValidationError):
        IssuanceNotification.model_validate({**ISSUED, "cardNumberMasked": masked})


def test_a_rejection_reason_never_carries_digits_into_our_records():
    assert _reason_code("Rekening 3171012104170001 tidak ditemukan") == "BANK_REKENING_TIDAK_DITEMUKAN"
    assert _reason_code("Nama tidak sesuai") == "BANK_NAMA_TIDAK_SESUAI"
    assert _reason_code("١٢٣") == "BANK_REJECTED"
