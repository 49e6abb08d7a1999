import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.partners import snap

SECRET, TOKEN, PATH = "client-secret", "access-token-123", "/snap/v1.0/card-issuance"
TS = "2026-12-03T10:00:00+07:00"
BODY = snap.minify({"partnerReferenceNo": "APP-1", "applicant": {"name": "Ayu Lestari"}})


def headers(**overrides):
    h = snap.signed_headers(client_secret=SECRET, access_token=TOKEN, partner_id="JAKONE", channel_id="95221",
                            external_id="123", method="POST", path=PATH, raw_body=BODY, timestamp=TS)
    h.update(overrides)
    return {k: v for k, v in h.items() if v is not None}


def test_minify_is_compact_and_keeps_non_ascii():
    assert snap.minify({"nama": "Siti Nurhaliza Ä", "n": [1, 2]}) == '{"nama":"Siti Nurhaliza Ä","n":[1,2]}'.encode()


def test_body_digest_is_lowercase_hex_sha256():
    assert snap.body_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_signature_matches_a_vector_computed_by_hand():
    digest = hashlib.sha256(BODY).hexdigest()
    message = f"POST:{PATH}:{TOKEN}:{digest}:{TS}".encode()
    expected = base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha512).digest()).decode()

    assert snap.string_to_sign("post", PATH, TOKEN, BODY, TS) == message.decode()
    assert snap.sign(SECRET, "POST", PATH, TOKEN, BODY, TS) == expected
    assert snap.verify(SECRET, "POST", PATH, TOKEN, BODY, TS, expected)


@pytest.mark.regulation("Art. 11")
@pytest.mark.parametrize("change", [
    {"raw_body": BODY.replace(b"APP-1", b"APP-2")},
    {"raw_body": BODY + b" "},
    {"path": "/snap/v1.0/card-issuance/"},
    {"timestamp": "2026-12-03T10:00:01+07:00"},
    {"method": "PUT"},
    {"access_token": "other-token"},
    {"client_secret": "other-secret"},
])
def test_any_tampering_breaks_the_signature(change):
    signature = snap.sign(SECRET, "POST", PATH, TOKEN, BODY, TS)
    args = {"client_secret": SECRET, "method": "POST", "path": PATH, "access_token": TOKEN, "raw_body": BODY,
            "timestamp": TS, **change}
    assert not snap.verify(signature=signature, **args)


def test_timestamps_are_jakarta_time_with_offset_to_the_second():
    utc = datetime(2026, 12, 3, 3, 0, 0, 123456, tzinfo=timezone.utc)
    assert snap.format_timestamp(utc) == TS
    assert snap.parse_timestamp(TS) == utc.replace(microsecond=0)
    assert snap.parse_timestamp("2026-12-03T03:00:00Z") == utc.replace(microsecond=0)
    with pytest.raises(ValueError):
        snap.format_timestamp(datetime(2026, 12, 3, 10))


@pytest.mark.parametrize("text", ["2026-12-03T10:00:00", "2026-12-03 10:00:00+07:00", "03/12/2026",
                                  "2026-13-03T10:00:00+07:00", "", None])
def test_timestamp_without_offset_or_malformed_is_refused(text):
    with pytest.raises(snap.SnapError) as e:
        snap.parse_timestamp(text)
    assert e.value.code == "INVALID_TIMESTAMP"
    assert e.value.response(snap.SERVICE_CARD_ISSUANCE)["responseCode"] == "4007201"


def test_freshness_window_is_symmetric():
    now = snap.parse_timestamp(TS)
    assert snap.is_fresh(now - timedelta(minutes=5), now)
    assert not snap.is_fresh(now - timedelta(minutes=5, seconds=1), now)
    assert not snap.is_fresh(now + timedelta(minutes=6), now)
    assert snap.is_fresh(now + timedelta(minutes=6), now, tolerance=timedelta(minutes=10))


def test_headers_are_read_case_insensitively():
    mixed = {k.lower() if i % 2 else k.title(): v for i, (k, v) in enumerate(headers().items())}
    h = snap.SnapHeaders.from_mapping(mixed)
    assert (h.timestamp, h.partner_id, h.external_id, h.channel_id, h.access_token) == (
        TS, "JAKONE", "123", "95221", TOKEN)


@pytest.mark.parametrize("name", ["X-TIMESTAMP", "X-PARTNER-ID", "X-EXTERNAL-ID", "CHANNEL-ID", "X-SIGNATURE",
                                  "Authorization"])
def test_a_missing_header_is_a_missing_mandatory_field(name):
    with pytest.raises(snap.SnapError) as e:
        snap.SnapHeaders.from_mapping(headers(**{name: None}))
    assert (e.value.code, e.value.field, e.value.http_status) == ("MISSING_MANDATORY_FIELD", name, 400)
    assert e.value.response("73") == {"responseCode": "4007302", "responseMessage": f"Invalid Mandatory Field {name}"}


def test_authorization_must_be_a_bearer_token():
    with pytest.raises(snap.SnapError) as e:
        snap.SnapHeaders.from_mapping(headers(Authorization=f"Basic {TOKEN}"))
    assert e.value.response("73")["responseCode"] == "4017301"


def authenticate(h, now=TS, body=BODY):
    return snap.authenticate(h, method="POST", path=PATH, raw_body=body, client_secret=SECRET, access_token=TOKEN,
                             now=snap.parse_timestamp(now))


@pytest.mark.regulation("Art. 11")
def test_authenticate_accepts_a_fresh_well_signed_request():
    assert authenticate(headers(), now="2026-12-03T10:04:00+07:00").external_id == "123"


@pytest.mark.regulation("Art. 11")
@pytest.mark.parametrize("h, now, body, code", [
    (headers(), "2026-12-03T10:06:00+07:00", BODY, "4017300"),
    (headers(), "2026-12-03T09:54:00+07:00", BODY, "4017300"),
    (headers(), TS, BODY + b"\n", "4017300"),
    (headers(Authorization="Bearer stolen"), TS, BODY, "4017301"),
    (headers(**{"X-TIMESTAMP": "2026-12-03T10:00:00"}), TS, BODY, "4007301"),
])
def test_authenticate_refuses_stale_future_tampered_or_foreign(h, now, body, code):
    with pytest.raises(snap.SnapError) as e:
        authenticate(h, now, body)
    assert e.value.response("73")["responseCode"] == code


def test_response_codes_join_status_service_and_case():
    assert snap.response_code(200, "73", "00") == "2007300"
    assert snap.snap_response("IN_PROGRESS", snap.SERVICE_CARD_ISSUANCE)["responseCode"] == "2027200"
    assert snap.snap_response("UNAUTHORIZED", "73")["responseCode"] == "4017300"
    assert snap.snap_response("DUPLICATE_EXTERNAL_ID", "73")["responseCode"] == "4097300"
    assert snap.snap_response("DUPLICATE_REFERENCE", "72")["responseCode"] == "4097201"
    assert snap.snap_response("INVALID_FIELD_FORMAT", "72")["responseCode"] == "4007201"
    with pytest.raises(ValueError):
        snap.response_code(200, "7", "00")
