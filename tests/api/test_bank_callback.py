"""The bank's card-issuance callback (Art. 20), spoken in Bank Indonesia's SNAP conventions (Art. 11).

Every answer is SNAP-shaped: ``responseCode`` is the HTTP status, the service
code 73 and a case code, so ``4017300`` is "401, card-issuance notify,
Unauthorized". The happy path needs a live task token from a running workflow;
the workflow's own tests cover it, since Step Functions do not execute under
in-process moto.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from chalicelib.partners.snap import format_timestamp, minify, signed_headers

CALLBACK = "/snap/v1.0/card-issuance/notify"
SERVICE = "73"
_external_ids = count(1)

bank_link = pytest.mark.regulation("Art. 11")
issuance = pytest.mark.regulation("Art. 20")


def an_issuance(application_id: str = "app_" + "N0tIssuedByUs" * 2, **changes) -> dict:
    return {"partnerReferenceNo": application_id, "originalReferenceNo": "BDKI-CARD-000123",
            "issuanceStatus": "ISSUED", "cardNumberMasked": "6011 **** **** 1234",
            "issuedAt": "2026-12-03T10:00:00+07:00", **changes}


def fresh_external_id() -> str:
    return f"{datetime.now(timezone.utc):%H%M%S}{next(_external_ids):08d}"


def signed(api, raw_body: bytes, *, external_id: str | None = None, at: datetime | None = None,
           sign_body: bytes | None = None, client_secret: str | None = None, access_token: str | None = None,
           partner_id: str | None = None, timestamp: str | None = None) -> dict[str, str]:
    """Headers as the bank sends them, signed over ``sign_body`` (by default: the body sent)."""
    return signed_headers(
        client_secret=client_secret or api.bank.client_secret,
        access_token=access_token or api.bank.access_token,
        partner_id=partner_id or api.bank.partner_id, channel_id="95221",
        external_id=external_id or fresh_external_id(), method="POST", path=CALLBACK,
        raw_body=sign_body if sign_body is not None else raw_body,
        timestamp=timestamp or format_timestamp(at or datetime.now(timezone.utc)),
    )


def notify(api, raw_body: bytes, headers: dict[str, str]):
    return api.request("POST", CALLBACK, raw_body, headers)


def snap_code(answer) -> str:
    """The SNAP response code, after checking it agrees with the HTTP status."""
    code = answer.body["responseCode"]
    assert code == f"{answer.status}{SERVICE}{code[-2:]}", answer
    assert answer.body["responseMessage"]
    return code


# --- authentication --------------------------------------------------------------------------------------


@bank_link
@pytest.mark.parametrize("header", ["X-SIGNATURE", "X-TIMESTAMP", "X-PARTNER-ID", "X-EXTERNAL-ID", "CHANNEL-ID",
                                    "Authorization"])
def test_a_callback_missing_a_mandatory_snap_header_is_refused(api, header):
    # Given a signed callback with one mandatory header left out
    body = minify(an_issuance())
    headers = signed(api, body)
    del headers[header]

    # When it arrives
    answer = notify(api, body, headers)

    # Then it is refused as SNAP's "Invalid Mandatory Field", naming the header
    assert answer.status == 400, answer
    assert snap_code(answer) == "4007302"
    assert header in answer.body["responseMessage"]


@bank_link
def test_a_callback_with_a_forged_signature_is_unauthorised(api):
    # Given a callback signed with a secret other than the one shared with the bank
    body = minify(an_issuance())

    # When it arrives
    answer = notify(api, body, signed(api, body, client_secret="not-the-shared-secret"))

    # Then it is unauthorised
    assert answer.status == 401, answer
    assert snap_code(answer) == "4017300"


@bank_link
def test_a_signature_is_checked_against_the_body_exactly_as_received(api):
    # Given a callback signed over its minified body but sent pretty-printed (same JSON, other bytes)
    document = an_issuance()
    signed_over = minify(document)
    sent = json.dumps(document, indent=2).encode()

    # When it arrives
    answer = notify(api, sent, signed(api, sent, sign_body=signed_over))

    # Then the signature does not verify
    assert answer.status == 401, answer
    assert snap_code(answer) == "4017300"


@bank_link
def test_a_callback_whose_body_was_changed_after_signing_is_unauthorised(api):
    # Given a signed "issued" callback whose body was turned into a rejection on the way
    signed_over = minify(an_issuance())
    tampered = minify(an_issuance(issuanceStatus="REJECTED", rejectReason="KTP photo unreadable"))

    # When it arrives
    answer = notify(api, tampered, signed(api, tampered, sign_body=signed_over))

    # Then it is unauthorised
    assert answer.status == 401 and snap_code(answer) == "4017300", answer


@bank_link
def test_a_callback_with_the_wrong_access_token_is_refused_as_an_invalid_token(api):
    # Given a callback carrying (and signed with) a bearer token we never issued
    body = minify(an_issuance())

    # When it arrives
    answer = notify(api, body, signed(api, body, access_token="someone-elses-token"))

    # Then it is refused as SNAP's "Invalid Token (B2B)"
    assert answer.status == 401, answer
    assert snap_code(answer) == "4017301"


@bank_link
def test_a_callback_from_another_partner_id_is_unauthorised(api):
    # Given a correctly signed callback that names a partner other than our bank
    body = minify(an_issuance())

    # When it arrives
    answer = notify(api, body, signed(api, body, partner_id="BANKXYZ"))

    # Then it is unauthorised
    assert answer.status == 401 and snap_code(answer) == "4017300", answer


@bank_link
@pytest.mark.parametrize("skew", [timedelta(minutes=-10), timedelta(minutes=10), timedelta(days=-1)])
def test_a_correctly_signed_callback_outside_the_time_window_is_refused_as_a_replay(api, skew):
    # Given a callback correctly signed, but stamped well before (or after) now
    body = minify(an_issuance())
    headers = signed(api, body, at=datetime.now(timezone.utc) + skew)

    # When it arrives
    answer = notify(api, body, headers)

    # Then it is unauthorised
    assert answer.status == 401, answer
    assert snap_code(answer) == "4017300"


@bank_link
@pytest.mark.parametrize("timestamp", ["yesterday", "2026-12-03 10:00:00", "2026-13-45T10:00:00+07:00",
                                       "2026-12-03T10:00:00"])
def test_a_callback_with_a_malformed_timestamp_is_refused_as_an_invalid_field(api, timestamp):
    # Given a callback signed over an X-TIMESTAMP that is not ISO-8601 with an offset
    body = minify(an_issuance())

    # When it arrives
    answer = notify(api, body, signed(api, body, timestamp=timestamp))

    # Then the header is named as badly formatted
    assert answer.status == 400, answer
    assert snap_code(answer) == "4007301"
    assert "X-TIMESTAMP" in answer.body["responseMessage"]


# --- the notification itself -----------------------------------------------------------------------------


@issuance
@pytest.mark.parametrize("body", [
    b"",
    b"not json",
    b"[]",
    minify({"partnerReferenceNo": "app_" + "x" * 22}),
    minify(an_issuance(issuanceStatus="LOST_IN_THE_MAIL")),
    minify(an_issuance(cardNumberMasked="6011222233331234")),
    minify(an_issuance(cardNumberMasked=None)),
    minify(an_issuance(issuanceStatus="REJECTED")),
    minify(an_issuance(partnerReferenceNo="'; DROP TABLE applications; --")),
    minify(an_issuance(issuedAt="last Tuesday")),
])
def test_a_correctly_signed_but_malformed_notification_is_refused_as_an_invalid_field(api, body):
    # When a correctly signed callback carries a body that is not a complete notification
    answer = notify(api, body, signed(api, body))

    # Then it is refused, SNAP-style, without touching any application
    assert answer.status == 400, answer
    assert snap_code(answer) == "4007301"
    assert answer.body["code"] == "INVALID_CALLBACK"


@issuance
def test_a_notification_about_an_application_we_never_issued_is_refused(api):
    # Given a correctly signed notification whose partnerReferenceNo is no application of ours
    body = minify(an_issuance("app_" + "Unkn0wnApplicati0n01"))

    # When it arrives
    answer = notify(api, body, signed(api, body))

    # Then it is refused as a bad request about an unknown reference
    assert answer.status == 400, answer
    assert snap_code(answer) == "4007300"
    assert answer.body["code"] == "APPLICATION_NOT_FOUND"


@issuance
def test_a_notification_for_an_application_not_yet_handed_to_the_bank_changes_nothing(api, residents):
    # Given an application that has not been verified, so no bank was asked to issue a card
    submitted = api.submit(residents.a_payment_card_form()).body
    application_id = submitted["applicationId"]

    # When a callback claims its card was issued
    body = minify(an_issuance(application_id))
    answer = notify(api, body, signed(api, body))

    # Then it is refused as a conflict with the application's state
    assert answer.status == 409, answer
    assert snap_code(answer) == "4097301"
    assert answer.body["code"] == "NOT_AWAITING_ISSUANCE"
    # and the application is as it was
    assert api.get(f"/enrolment/applications/{application_id}").body == submitted


# --- X-EXTERNAL-ID: the bank's idempotency key ----------------------------------------------------------


@bank_link
def test_a_retried_callback_with_the_same_external_id_gets_the_same_answer(api, residents):
    # Given a callback that was answered
    application_id = api.submit(residents.a_payment_card_form()).body["applicationId"]
    body = minify(an_issuance(application_id))
    external_id = fresh_external_id()
    first = notify(api, body, signed(api, body, external_id=external_id))

    # When the bank retries it (same X-EXTERNAL-ID, same body, freshly signed)
    again = notify(api, body, signed(api, body, external_id=external_id))

    # Then it gets the very same answer
    assert (again.status, again.body) == (first.status, first.body)


@bank_link
def test_a_second_callback_reusing_an_external_id_with_another_body_is_a_conflict(api):
    # Given a callback the bank sent under one X-EXTERNAL-ID
    external_id = fresh_external_id()
    first_body = minify(an_issuance("app_" + "FirstReference001"))
    first = notify(api, first_body, signed(api, first_body, external_id=external_id))
    assert first.status < 500, first

    # When another notification arrives under the same X-EXTERNAL-ID the same day
    other_body = minify(an_issuance("app_" + "OtherReference002"))
    answer = notify(api, other_body, signed(api, other_body, external_id=external_id))

    # Then it is refused as SNAP's duplicate-X-EXTERNAL-ID conflict
    assert answer.status == 409, answer
    assert snap_code(answer) == "4097300"
