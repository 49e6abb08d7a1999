"""The adapters against the emulated Dukcapil and Bank DKI, over real loopback HTTP."""
import json
import logging
import queue
import re
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import urllib3

from chalicelib.partners import snap
from chalicelib.partners.bank import BankUnavailable, IssuanceRefused, SnapCardIssuingBank
from chalicelib.partners.population_registry import HttpPopulationRegistry, PopulationRegistryUnavailable
from emulators.bank import BankEmulator
from emulators.dukcapil import PopulationRegistryEmulator

AYU = {"nik": "3174054508900001", "fullName": "Ayu Sekarwangi Prameswari", "birthDate": "1990-08-05"}
BIMA = {"nik": "3171021203850002", "fullName": "Bima Aryasatya Nugroho", "birthDate": "1985-03-12"}
PARTNER, SECRET, TOKEN = "JAKONE01", "bank-dki-shared-secret", "b2b-access-token"
http = urllib3.PoolManager()


def post(url, body):
    resp = http.request("POST", url, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return resp.status, json.loads(resp.data)


# -- population registry (Art. 19) -------------------------------------------------------------

@pytest.fixture
def dukcapil():
    emulator = PopulationRegistryEmulator([AYU])
    emulator.base_url = emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def registry(dukcapil):
    return HttpPopulationRegistry(dukcapil.base_url, timeout_s=1)


@pytest.mark.regulation("Art. 19")
def test_registry_matches_a_known_resident_ignoring_case_and_spacing(registry):
    assert registry.verify(AYU["nik"], "Ayu Sekarwangi Prameswari", date(1990, 8, 5))
    assert registry.verify(AYU["nik"], "  ayu  SEKARWANGI prameswari ", date(1990, 8, 5))


@pytest.mark.regulation("Art. 19")
@pytest.mark.parametrize("nik, name, birth", [
    (BIMA["nik"], BIMA["fullName"], date(1985, 3, 12)),
    (AYU["nik"], "Ayu Sekarwangi", date(1990, 8, 5)),
    (AYU["nik"], AYU["fullName"], date(1990, 5, 8)),
])
def test_registry_says_no_match_for_unknown_nik_or_other_name_or_birth_date(registry, nik, name, birth):
    assert registry.verify(nik, name, birth) is False


@pytest.mark.regulation("Art. 19")
def test_residents_seeded_over_http_are_added_to_the_existing_ones(dukcapil, registry):
    assert post(dukcapil.base_url + "/_emulator/residents", [BIMA]) == (200, {"residents": 2})
    assert registry.verify(BIMA["nik"], BIMA["fullName"], date(1985, 3, 12))
    assert registry.verify(AYU["nik"], AYU["fullName"], date(1990, 8, 5))
    assert post(dukcapil.base_url + "/_emulator/residents", [{"nik": "1"}])[0] == 400


@pytest.mark.regulation("Art. 19")
def test_registry_down_is_unavailable(dukcapil, registry):
    dukcapil.set_behaviour(mode="down")
    with pytest.raises(PopulationRegistryUnavailable):
        registry.verify(AYU["nik"], AYU["fullName"], date(1990, 8, 5))


@pytest.mark.regulation("Art. 19")
def test_registry_down_for_some_calls_then_up_again(dukcapil, registry):
    assert post(dukcapil.base_url + "/_emulator/behaviour", {"downForCalls": 2})[0] == 200
    for _ in range(2):
        with pytest.raises(PopulationRegistryUnavailable):
            registry.verify(AYU["nik"], AYU["fullName"], date(1990, 8, 5))
    assert registry.verify(AYU["nik"], AYU["fullName"], date(1990, 8, 5))
    stats = json.loads(http.request("GET", dukcapil.base_url + "/_emulator/stats").data)
    assert stats == {"calls": 3, "matches": 1, "noMatches": 0, "unavailable": 2, "residents": 1}


@pytest.mark.regulation("Art. 19")
def test_registry_slower_than_our_timeout_is_unavailable(dukcapil):
    dukcapil.set_behaviour(mode="slow", latency_ms=400)
    with pytest.raises(PopulationRegistryUnavailable):
        HttpPopulationRegistry(dukcapil.base_url, timeout_s=0.05).verify(AYU["nik"], AYU["fullName"],
                                                                         date(1990, 8, 5))


@pytest.mark.regulation("Art. 19")
def test_registry_unreachable_is_unavailable():
    emulator = PopulationRegistryEmulator()
    base_url = emulator.start()
    emulator.stop()
    with pytest.raises(PopulationRegistryUnavailable):
        HttpPopulationRegistry(base_url, timeout_s=0.5).verify(AYU["nik"], AYU["fullName"], date(1990, 8, 5))


def test_registry_logs_mask_the_nik(registry, caplog):
    with caplog.at_level(logging.DEBUG):
        registry.verify(AYU["nik"], AYU["fullName"], date(1990, 8, 5))
    assert "3174********0001" in caplog.text
    assert AYU["nik"] not in caplog.text


def test_behaviour_is_validated(dukcapil):
    assert post(dukcapil.base_url + "/_emulator/behaviour", {"mode": "sideways"})[0] == 400
    with pytest.raises(ValueError):
        dukcapil.set_behaviour(down_for_calls=-1)


# -- bank (Art. 11, Art. 20) -------------------------------------------------------------------

class CallbackReceiver:
    """Our side of the callback, reduced to recording what arrives and answering scripted statuses."""

    def __init__(self, statuses=()):
        self.received, self.statuses = queue.Queue(), list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.put((self.path, dict(self.headers), raw))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                data = json.dumps(snap.snap_response("SUCCESS" if status == 200 else "GENERAL_ERROR", "73")).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bank/dki/v1.0/card-issuance/notify"

    def next(self, timeout=3):
        path, headers, raw = self.received.get(timeout=timeout)
        verified = snap.authenticate(headers, method="POST", path=path, raw_body=raw, client_secret=SECRET,
                                     access_token=TOKEN, now=snap.parse_timestamp(headers["X-TIMESTAMP"]))
        return verified, json.loads(raw)

    def nothing_more(self, wait=0.1):
        try:
            self.received.get(timeout=wait)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def receiver():
    r = CallbackReceiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def bank_dki(receiver):
    emulator = BankEmulator(PARTNER, SECRET, TOKEN, receiver.url, time_scale_s_per_day=0.01, seed=7)
    emulator.set_behaviour(delay_days_range=(0, 2))
    emulator.base_url = emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def bank(bank_dki):
    return SnapCardIssuingBank(bank_dki.base_url, PARTNER, SECRET, TOKEN, timeout_s=2)


def applicant(person=AYU):
    return {"name": person["fullName"], "nik": person["nik"], "birthDate": date.fromisoformat(person["birthDate"]),
            "bankAccount": "10123456789", "program": "KJP_PLUS"}


@pytest.mark.regulation("Art. 20")
def test_signed_request_is_accepted_and_the_issued_card_is_called_back_signed(bank, bank_dki, receiver):
    answer = bank.request_issuance("APP-0001", applicant(), external_id="100001")

    assert answer["responseCode"] == "2027200" and answer["responseMessage"] == "Request In Progress"
    headers, result = receiver.next()
    assert headers.partner_id == "BANKDKI" and headers.channel_id == "95221"
    assert result["partnerReferenceNo"] == "APP-0001"
    assert result["originalReferenceNo"] == answer["referenceNo"]
    assert result["issuanceStatus"] == "ISSUED"
    assert re.fullmatch(r"6048 50\*\* \*\*\*\* \d{4}", result["cardNumberMasked"])
    assert snap.parse_timestamp(result["issuedAt"]).utcoffset().total_seconds() == 7 * 3600
    assert bank_dki.wait_idle(2)
    assert [(c["status"], c["body"]["responseCode"]) for c in bank_dki.callbacks()] == [(200, "2007300")]


@pytest.mark.regulation("Art. 11")
def test_bad_signature_is_refused_with_a_snap_401(bank_dki):
    impostor = SnapCardIssuingBank(bank_dki.base_url, PARTNER, "wrong-secret", TOKEN, timeout_s=2)
    with pytest.raises(IssuanceRefused) as e:
        impostor.request_issuance("APP-0002", applicant(), external_id="100002")
    assert (e.value.status, e.value.code) == (401, "4017200")
    assert bank_dki.stats()["accepted"] == 0


@pytest.mark.regulation("Art. 11")
def test_stale_timestamp_is_refused(bank_dki):
    late = SnapCardIssuingBank(bank_dki.base_url, PARTNER, SECRET, TOKEN,
                               clock=lambda: snap.parse_timestamp("2020-01-01T00:00:00+07:00"))
    with pytest.raises(IssuanceRefused) as e:
        late.request_issuance("APP-0003", applicant(), external_id="100003")
    assert e.value.code == "4017200"


@pytest.mark.regulation("Art. 20")
def test_repeating_a_reference_is_answered_idempotently_without_a_second_callback(bank, bank_dki, receiver):
    first = bank.request_issuance("APP-0004", applicant(), external_id="100004")
    again = bank.request_issuance("APP-0004", applicant(), external_id="100005")

    assert again["responseCode"] == "2007200" and again["referenceNo"] == first["referenceNo"]
    receiver.next()
    assert bank_dki.wait_idle(2) and receiver.nothing_more()


@pytest.mark.regulation("Art. 11")
def test_external_id_reused_with_another_body_conflicts_and_with_the_same_body_repeats(bank, bank_dki):
    first = bank.request_issuance("APP-0006", applicant(), external_id="100006")
    with pytest.raises(IssuanceRefused) as e:
        bank.request_issuance("APP-0007", applicant(BIMA), external_id="100006")
    assert (e.value.status, e.value.code) == (409, "4097200")
    assert bank.request_issuance("APP-0006", applicant(), external_id="100006") == first


@pytest.mark.regulation("Art. 20")
def test_same_reference_with_another_applicant_is_a_duplicate_reference(bank):
    bank.request_issuance("APP-0008", applicant(), external_id="100008")
    with pytest.raises(IssuanceRefused) as e:
        bank.request_issuance("APP-0008", applicant(BIMA), external_id="100009")
    assert e.value.code == "4097201"


@pytest.mark.regulation("Art. 11")
def test_bank_down_or_unreachable_is_unavailable(bank, bank_dki):
    assert post(bank_dki.base_url + "/_emulator/behaviour", {"mode": "down"})[0] == 200
    with pytest.raises(BankUnavailable):
        bank.request_issuance("APP-0010", applicant(), external_id="100010")
    bank_dki.stop()
    with pytest.raises(BankUnavailable):
        bank.request_issuance("APP-0010", applicant(), external_id="100011")


@pytest.mark.regulation("Art. 20")
def test_rejection_by_nik_override_is_called_back_with_a_reason(bank, bank_dki, receiver):
    bank_dki.set_behaviour(overrides={AYU["nik"]: {"outcome": "reject", "delayDays": 0}})
    bank.request_issuance("APP-0012", applicant(), external_id="100012")

    _, result = receiver.next()
    assert result["issuanceStatus"] == "REJECTED" and result["rejectReason"]
    assert "cardNumberMasked" not in result


@pytest.mark.regulation("Art. 20")
def test_duplicate_outcome_calls_back_twice_under_two_external_ids(bank, bank_dki, receiver):
    bank_dki.set_behaviour(overrides={"APP-0013": {"outcome": "duplicate"}})
    bank.request_issuance("APP-0013", applicant(), external_id="100013")

    (first, body1), (second, body2) = receiver.next(), receiver.next()
    assert first.external_id != second.external_id and body1 == body2


@pytest.mark.regulation("Art. 20")
def test_silent_outcome_never_calls_back(bank, bank_dki, receiver):
    post(bank_dki.base_url + "/_emulator/behaviour", {"silentRate": 1.0})
    bank.request_issuance("APP-0014", applicant(), external_id="100014")

    assert bank_dki.wait_idle(1) and receiver.nothing_more(0.2)
    stats = json.loads(http.request("GET", bank_dki.base_url + "/_emulator/stats").data)
    assert stats["outcomes"]["silent"] == 1 and stats["callbacksSent"] == 0


@pytest.mark.regulation("Art. 20")
def test_replay_resends_the_last_callback_with_the_same_external_id(bank, bank_dki, receiver):
    bank.request_issuance("APP-0015", applicant(), external_id="100015")
    original, body = receiver.next()
    assert bank_dki.wait_idle(2)

    status, record = post(bank_dki.base_url + "/_emulator/replay/APP-0015", {})
    replayed, replayed_body = receiver.next()
    assert status == 200 and record["replay"] and record["status"] == 200
    assert replayed.external_id == original.external_id and replayed_body == body
    assert post(bank_dki.base_url + "/_emulator/replay/APP-9999", {})[0] == 404


@pytest.mark.regulation("Art. 11")
def test_callback_is_retried_on_5xx_with_the_same_external_id():
    receiver = CallbackReceiver(statuses=[503, 500])
    emulator = BankEmulator(PARTNER, SECRET, TOKEN, receiver.url, time_scale_s_per_day=0.01,
                            callback_backoff_s=0.01)
    emulator.set_behaviour(delay_days=0)
    bank = SnapCardIssuingBank(emulator.start(), PARTNER, SECRET, TOKEN)
    try:
        bank.request_issuance("APP-0016", applicant(), external_id="100016")
        assert emulator.wait_idle(2)
        attempts = emulator.callbacks("APP-0016")
        assert [a["status"] for a in attempts] == [503, 500, 200]
        assert len({a["externalId"] for a in attempts}) == 1
        assert emulator.stats()["callbacksDelivered"] == 1
    finally:
        emulator.stop()
        receiver.server.shutdown()


def test_same_seed_tells_the_same_story(receiver):
    def run():
        emulator = BankEmulator(PARTNER, SECRET, TOKEN, receiver.url, time_scale_s_per_day=0.001, seed=42)
        emulator.set_behaviour(reject_rate=0.3, silent_rate=0.3)
        bank = SnapCardIssuingBank(emulator.start(), PARTNER, SECRET, TOKEN)
        try:
            refs = [bank.request_issuance(f"APP-1{i:03d}", applicant(), external_id=str(i))["referenceNo"]
                    for i in range(8)]
            return refs, emulator.stats()["outcomes"]
        finally:
            emulator.stop()

    first = run()
    assert first == run()
    assert first[1]["silent"] and first[1]["reject"]


def test_bank_behaviour_is_validated_and_hides_niks(bank_dki):
    assert post(bank_dki.base_url + "/_emulator/behaviour", {"rejectRate": 0.7, "silentRate": 0.7})[0] == 400
    assert post(bank_dki.base_url + "/_emulator/behaviour", {"overrides": {"x": {"outcome": "maybe"}}})[0] == 400
    status, behaviour = post(bank_dki.base_url + "/_emulator/behaviour", {"overrides": {AYU["nik"]: {}}})
    assert status == 200 and list(behaviour["overrides"]) == ["3174********0001"]


def test_bank_rejects_malformed_applicant_with_snap_field_codes(bank_dki):
    raw = snap.minify({"partnerReferenceNo": "APP-0020", "applicant": {**applicant(), "birthDate": "1990-08-05",
                                                                         "nik": "31740545"}})
    path = urlsplit(bank_dki.base_url + "/snap/v1.0/card-issuance").path
    headers = snap.signed_headers(client_secret=SECRET, access_token=TOKEN, partner_id=PARTNER, channel_id="95221",
                                  external_id="100020", method="POST", path=path, raw_body=raw,
                                  timestamp=snap.format_timestamp(datetime.now(snap.JAKARTA)))
    resp = http.request("POST", bank_dki.base_url + path, body=raw, headers=headers)
    assert resp.status == 400
    assert json.loads(resp.data) == {"responseCode": "4007201", "responseMessage": "Invalid Field Format applicant.nik"}
