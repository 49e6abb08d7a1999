"""The HTTP API as its callers meet it: Chalice's test client over a stage on moto.

Each test module gets its own stage, deployed inside ``moto.mock_aws`` by
``infra.deploy.deploy``, the code that deploys to LocalStack and AWS. Step
Functions do not execute in-process, so a submission starts an execution and
stays ``SUBMITTED``; the workflow's own tests drive the states beyond that.

Residents are synthetic: NIKs follow the real structure over real Kemendagri
area codes (Jakarta's unless a test says otherwise), names belong to no one.

The stage trusts the test run's user pool (:mod:`tests.identities`, a key pair
made for the run), and Chalice's local gateway answers as API Gateway does
with our template (:mod:`localcloud.gateway`). Each request goes as the caller
its route is for (:data:`USUAL_CALLERS`) unless the test names another.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from chalicelib.access.roles import Role
from demo.population import PopulationFactory, Resident
from tests import identities, moto_guarantees

REGION = "ap-southeast-3"
BANK_PARTNER_ID = "BANKDKI"
OUR_PARTNER_ID = "JAKONE"
USUAL_CALLERS: dict[str, Role] = {
    "/enrolment/applications": Role.OPERATOR,
    "/enrolment/uploads": Role.AGENCY_HEAD,
    "/operator/applications": Role.OPERATOR,
}
"""Path → who normally calls it: a counter clerk submits, the education agency's head uploads,
an operator lists."""
USUAL = object()
"""``as_role`` default: the route's usual caller."""


@dataclass(frozen=True)
class BankCredentials:
    partner_id: str
    client_secret: str
    access_token: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """A thin caller's-eye wrapper over ``chalice.test.Client``: bytes in, status and JSON out."""

    def __init__(self, client: Any, bank: BankCredentials) -> None:
        self.client = client
        self.bank = bank

    def request(self, method: str, path: str, body: bytes | str = b"",
                headers: dict[str, str] | None = None, as_role: Any = USUAL) -> Answer:
        """Send as ``as_role`` (a bearer token of that role; ``None``: no token), by default the route's usual caller."""
        raw = body.encode() if isinstance(body, str) else body
        role = USUAL_CALLERS.get(path.split("?")[0]) if as_role is USUAL else as_role
        sent = dict(headers or {})
        if role is not None and not any(name.lower() == "authorization" for name in sent):
            sent.update(identities.bearer(role))
        response = self.client.http.request(method, path, headers=sent, body=raw)
        try:
            parsed = json.loads(response.body) if response.body else None
        except ValueError:
            parsed = response.body
        return Answer(response.status_code, parsed, dict(response.headers))

    def get(self, path: str, as_role: Any = USUAL) -> Answer:
        return self.request("GET", path, as_role=as_role)

    def post_json(self, path: str, document: Any, as_role: Any = USUAL) -> Answer:
        return self.request("POST", path, json.dumps(document), {"Content-Type": "application/json"}, as_role)

    def post_raw(self, path: str, body: bytes | str, content_type: str = "application/json",
                 as_role: Any = USUAL) -> Answer:
        return self.request("POST", path, body, {"Content-Type": content_type}, as_role)

    def submit(self, form: dict[str, Any], as_role: Any = USUAL) -> Answer:
        return self.post_json("/enrolment/applications", form, as_role)

    def upload(self, csv_text: bytes | str, content_type: str = "text/csv", as_role: Any = USUAL) -> Answer:
        return self.post_raw("/enrolment/uploads", csv_text, content_type, as_role)

    def operator_list(self, query: str, as_role: Any = USUAL) -> Answer:
        return self.get(f"/operator/applications?{query}", as_role)

    def all_in_state(self, state: str, limit: int = 500) -> list[dict[str, Any]]:
        """Every application the operator list shows in ``state``, following ``nextToken``."""
        found: list[dict[str, Any]] = []
        token = None
        while True:
            query = f"state={state}&limit={limit}" + (f"&nextToken={quote(token)}" if token else "")
            page = self.operator_list(query)
            assert page.status == 200, page
            found.extend(page.body["applications"])
            token = page.body.get("nextToken")
            if not token:
                return found


def _cloud_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """A freshly deployed stage and a client for it, shared by the tests of one module."""
    import boto3
    from moto import mock_aws

    from chalicelib import wiring
    from infra.deploy import Clients, Stage, deploy
    from localcloud.cloud import scaled_timings
    from localcloud.gateway import answer_like_api_gateway

    bank = BankCredentials(BANK_PARTNER_ID, "bank-client-secret-for-tests", "bank-access-token-for-tests")
    function_environment = {
        # Nothing listens on these: under mock_aws no workflow task runs.
        "POPULATION_REGISTRY_URL": "http://127.0.0.1:9/population-registry",
        "BANK_DKI_URL": "http://127.0.0.1:9/bank",
        "BANK_DKI_PARTNER_ID": bank.partner_id,
        "JAKONE_PARTNER_ID": OUR_PARTNER_ID,
        "BANK_DKI_CLIENT_SECRET": bank.client_secret,
        "BANK_DKI_ACCESS_TOKEN": bank.access_token,
        "ISSUANCE_DEADLINE_S": "7",
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        _cloud_environment(monkeypatch)
        moto_guarantees.install_for(monkeypatch)
        with mock_aws():
            wiring.reset()
            settings = deploy(Clients.from_session(boto3.session.Session()),
                              Stage("test", scaled_timings(1), function_environment))
            for name, value in {**function_environment, **settings, **identities.access_settings()}.items():
                monkeypatch.setenv(name, value)
            wiring.reset()
            answer_like_api_gateway()

            import app
            from chalice.test import Client

            with Client(app.app) as client:
                yield Api(client, bank)
            wiring.reset()


def today() -> date:
    """The date the API validates against (its clock is UTC)."""
    return datetime.now(timezone.utc).date()


def ktp_sex(person: Resident) -> str:
    return "P" if person.sex == "F" else "L"


class Residents:
    """Synthetic residents and the forms they send; no two share a NIK within a test run."""

    def __init__(self) -> None:
        self._factory = PopulationFactory(seed=17_2017, today=today())

    def jakartan(self, band: str = "ADULT", sex: str | None = None) -> Resident:
        """Someone living in Jakarta whose NIK was also issued in Jakarta."""
        while True:
            person = self._factory.resident(band, sex=sex, in_jakarta=True)
            if person.nik.startswith("31"):
                return person

    def from_outside_jakarta(self) -> Resident:
        """A KTP holder issued and living outside Jakarta, with no account at the appointed bank."""
        while True:
            person = self._factory.resident("ADULT", in_jakarta=False, bank_account=False)
            if not person.nik.startswith("31"):
                return person

    @staticmethod
    def payment_card_form(person: Resident) -> dict[str, Any]:
        """Art. 18: a KTP holder asking for the payment card, no registration documents."""
        return {"nik": person.nik, "full_name": person.full_name, "sex": ktp_sex(person),
                "birth_date": person.birth_date.isoformat(), "program": "RESIDENT_PAYMENT"}

    @staticmethod
    def pupil_form(person: Resident, school_level: str = "SMA") -> dict[str, Any]:
        """Art. 17: a KJP Plus pupil with the documents Art. 17(3) lists."""
        return {"nik": person.nik, "full_name": person.full_name, "sex": ktp_sex(person),
                "birth_date": person.birth_date.isoformat(), "kk_number": person.kk_number,
                "village_code": person.village_code, "program": "KJP_PLUS", "school_level": school_level,
                "bank_account": person.bank_account or "1234567890", "beneficiary_proof": "NISN:0081234567"}

    def a_payment_card_form(self) -> dict[str, Any]:
        return self.payment_card_form(self.jakartan())


@pytest.fixture(scope="session")
def residents() -> Residents:
    return Residents()
