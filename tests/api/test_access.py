"""Who may call what (Art. 7-10), proved over the whole route table.

Every route declares its callers (``chalicelib.access.gate``). The walk below
sends every method of every route as each role, with no token and with a
token that is not one, and checks that the answer is 401 or 403 exactly where
the declaration says, and never where it does not. A route added without a
declaration stops ``app.py`` from importing at all, and fails here first.
"""
from __future__ import annotations

import json
import time

import pytest

import app as application
from chalicelib.access.gate import Gate, declaration_of
from chalicelib.access.roles import Role
from chalicelib.access.tokens import TokenIssuer
from tests import identities
from tests.identities import SOCIAL_AGENCY, TEST_AUDIENCE, TEST_ISSUER

NO_TOKEN = "no token"
GARBAGE = "garbage token"
CALLERS = [NO_TOKEN, GARBAGE, *Role]
A_WELL_FORMED_ID = "app_" + "Z" * 22
"""Fits the application id's pattern; belongs to no application."""


def route_table() -> list[tuple[str, str]]:
    return sorted((method, path) for path, methods in application.app.routes.items() for method in methods)


def declaration(method: str, path: str):
    return declaration_of(application.app.routes[path][method].view_function)


def authorization(caller) -> dict[str, str]:
    if caller == NO_TOKEN:
        return {}
    if caller == GARBAGE:
        return {"Authorization": "Bearer not.a.token"}
    return identities.bearer(caller)


def call(api, method: str, path: str, caller, body: bytes | None = None):
    entry = application.app.routes[path][method]
    concrete = path.replace("{application_id}", A_WELL_FORMED_ID)
    headers = {"Content-Type": entry.content_types[0], **authorization(caller)}
    if body is None:
        body = b"" if method == "GET" else (b"{}" if entry.content_types[0] == "application/json" else b"x\n")
    return api.request(method, concrete, body, headers, as_role=None)


def test_every_route_declares_who_may_call_it():
    undeclared = [f"{method} {path}" for method, path in route_table() if declaration(method, path) is None]
    assert route_table() and undeclared == []


def test_the_authorizer_guards_exactly_the_routes_that_need_a_token():
    for method, path in route_table():
        entry = application.app.routes[path][method]
        needs_token = declaration(method, path).gate is Gate.BEARER_TOKEN
        assert (entry.authorizer is not None) == needs_token, f"{method} {path}"


@pytest.mark.regulation("Art. 7")
@pytest.mark.parametrize("caller", CALLERS, ids=str)
@pytest.mark.parametrize("method,path", route_table())
def test_each_caller_is_refused_exactly_where_the_declaration_says(api, method, path, caller):
    declared = declaration(method, path)

    # When the caller calls the route with a body that would not get far anyway
    answer = call(api, method, path, caller)

    # Then a route behind a token refuses no token and a bad one (401), a role it does not name (403)
    if declared.gate is Gate.BEARER_TOKEN:
        if caller in (NO_TOKEN, GARBAGE):
            assert answer.status == 401, answer
            assert answer.body["code"] == "UNAUTHENTICATED", answer
            assert answer.headers.get("WWW-Authenticate") == "Bearer"
        elif declared.admits(caller):
            assert answer.status not in (401, 403), answer
        else:
            assert answer.status == 403, answer
            assert answer.body["code"] == "ROLE_NOT_ALLOWED", answer
    # And a partner-signed route admits no one without the partner's signature, whatever token they hold
    elif declared.gate is Gate.PARTNER_SIGNATURE:
        assert answer.status in (400, 401), answer
        assert answer.body["responseCode"].startswith(str(answer.status)), answer
    # And a public route refuses no one for who they are
    else:
        assert answer.status not in (401, 403), answer


def test_a_bank_partners_bearer_token_does_not_stand_in_for_the_snap_signature(api):
    from datetime import datetime, timezone

    from chalicelib.partners.snap import format_timestamp, signed_headers

    # Given a callback signed with a secret that is not the bank's, carrying a bank partner's bearer token
    body = json.dumps({"partnerReferenceNo": A_WELL_FORMED_ID, "originalReferenceNo": "X",
                       "issuanceStatus": "REJECTED", "rejectReason": "test"}).encode()
    headers = signed_headers(client_secret="not-the-banks-secret", access_token=api.bank.access_token,
                             partner_id=api.bank.partner_id, channel_id="95221", external_id="1",
                             method="POST", path="/snap/v1.0/card-issuance/notify", raw_body=body,
                             timestamp=format_timestamp(datetime.now(timezone.utc)))
    for authorization in (headers["Authorization"], identities.bearer(Role.BANK_PARTNER)["Authorization"]):
        # When it is sent
        answer = api.request("POST", "/snap/v1.0/card-issuance/notify", body,
                             {**headers, "Authorization": authorization}, as_role=None)

        # Then the bank is not authenticated
        assert answer.status == 401, answer
        assert answer.body["responseCode"].startswith("401")


def test_a_refusal_says_which_roles_the_route_is_for_and_nothing_of_the_token(api):
    answer = call(api, "GET", "/operator/applications", Role.RESIDENT)

    assert answer.status == 403
    assert set(answer.body) == {"code", "message"}
    assert "OPERATOR" in answer.body["message"] and "DISKOMINFOTIK_ADMIN" in answer.body["message"]


@pytest.mark.parametrize("why,forged", [
    ("expired an hour ago", lambda: identities.token(Role.OPERATOR, ttl_s=-3600)),
    ("from another pool's key", lambda: TokenIssuer.generate(TEST_ISSUER, TEST_AUDIENCE).mint([Role.OPERATOR])),
    ("for another app client", lambda: TokenIssuer.generate(TEST_ISSUER, "another-client").mint([Role.OPERATOR])),
    ("with a role we do not know", lambda: identities.user_pool().mint(["SUPERUSER"])),
])
def test_a_token_that_does_not_verify_is_refused_before_the_route_runs(api, why, forged):
    # When an operator's list is asked for with a token that is not a good one
    answer = api.request("GET", "/operator/applications?state=SUBMITTED",
                         headers={"Authorization": f"Bearer {forged()}"}, as_role=None)

    # Then the gateway refuses it as unauthenticated, in the API's error shape, without saying why
    assert answer.status == 401, why
    assert answer.body == {"code": "UNAUTHENTICATED", "message": answer.body["message"]}


def test_the_scheme_is_bearer_in_any_case_and_nothing_else(api):
    token = identities.token(Role.OPERATOR)
    for header, status in ((f"bearer {token}", 200), (f"BEARER {token}", 200), (token, 401),
                           (f"Basic {token}", 401), ("Bearer", 401)):
        answer = api.request("GET", "/operator/applications?state=SUBMITTED&limit=1",
                             headers={"Authorization": header}, as_role=None)
        assert answer.status == status, header


@pytest.mark.regulation("Art. 8")
def test_only_an_agency_head_submits_recipients_in_bulk(api, residents):
    # Given an agency file of one pupil
    form = residents.pupil_form(residents.jakartan("SMP"), "SMP")
    body = ",".join(form) + "\n" + ",".join(form.values()) + "\n"

    # When the education agency's head uploads it, and every other role tries to
    answers = {caller: api.upload(body, as_role=caller) for caller in Role}

    # Then the agency head's upload is taken and everyone else is refused
    assert answers[Role.AGENCY_HEAD].status == 200 and answers[Role.AGENCY_HEAD].body["accepted"] == 1
    assert {caller: answers[caller].status for caller in Role if caller is not Role.AGENCY_HEAD} == {
        Role.DISKOMINFOTIK_ADMIN: 403, Role.OPERATOR: 403, Role.BANK_PARTNER: 403, Role.RESIDENT: 403}


@pytest.mark.regulation("Art. 9")
def test_the_operators_work_list_is_the_operators(api, residents):
    # Given a registered applicant
    assert api.submit(residents.a_payment_card_form()).status == 201

    # When each role asks for the list of submitted applications
    answers = {caller: api.operator_list("state=SUBMITTED&limit=500", as_role=caller) for caller in Role}

    # Then the operator gets it; agencies, banks and residents do not
    assert answers[Role.OPERATOR].status == 200 and answers[Role.OPERATOR].body["applications"]
    assert [answers[caller].status for caller in (Role.AGENCY_HEAD, Role.BANK_PARTNER, Role.RESIDENT)] == [403] * 3


def test_a_resident_in_the_app_and_a_counter_clerk_may_both_register_an_applicant(api, residents):
    for caller in (Role.RESIDENT, Role.OPERATOR):
        assert api.submit(residents.a_payment_card_form(), as_role=caller).status == 201, caller
    for caller in (Role.AGENCY_HEAD, Role.BANK_PARTNER, Role.DISKOMINFOTIK_ADMIN):
        assert api.submit(residents.a_payment_card_form(), as_role=caller).status == 403, caller


@pytest.mark.regulation("Art. 10")
def test_diskominfotik_reads_the_masked_work_list_and_changes_nothing(api, residents):
    # Given a registered applicant
    person = residents.jakartan()
    assert api.submit(residents.payment_card_form(person)).status == 201

    # When Diskominfotik's admin reads the list, and tries to register and to upload
    listed = api.operator_list("state=SUBMITTED&limit=500", as_role=Role.DISKOMINFOTIK_ADMIN)
    submitted = api.submit(residents.a_payment_card_form(), as_role=Role.DISKOMINFOTIK_ADMIN)
    uploaded = api.upload("nik\n", as_role=Role.DISKOMINFOTIK_ADMIN)

    # Then the admin sees the applications with every NIK masked, and may change none of them
    assert listed.status == 200
    assert person.nik not in json.dumps(listed.body)
    assert any(a["nik"] == person.nik[:4] + "*" * 8 + person.nik[-4:] for a in listed.body["applications"])
    assert (submitted.status, uploaded.status) == (403, 403)


@pytest.mark.parametrize("agency", [None, "disdik; drop", ""])
def test_an_agency_heads_token_that_names_no_agency_code_is_refused(api, agency):
    token = identities.user_pool().mint([Role.AGENCY_HEAD], agency=agency)
    answer = api.request("POST", "/enrolment/uploads", "x\n",
                         {"Content-Type": "text/csv", "Authorization": f"Bearer {token}"}, as_role=None)
    assert answer.status == 401


def test_the_other_agencys_head_is_an_agency_head_too(api):
    answer = api.request("POST", "/enrolment/uploads", "nik\n",
                         {"Content-Type": "text/csv", **identities.bearer(Role.AGENCY_HEAD, SOCIAL_AGENCY)},
                         as_role=None)
    assert answer.status not in (401, 403), answer


def test_a_token_a_few_seconds_old_on_a_slow_clock_is_still_accepted(api):
    """Clocks drift: a token issued up to 30 s "in the future" by the pool's clock is accepted."""
    from chalicelib.access.tokens import CLOCK_SKEW_S

    ahead = TokenIssuer.from_pem(identities.user_pool().private_key_pem(), TEST_ISSUER, TEST_AUDIENCE,
                                 clock=lambda: time.time() + CLOCK_SKEW_S // 2)
    answer = api.request("GET", "/operator/applications?state=SUBMITTED&limit=1",
                         headers={"Authorization": f"Bearer {ahead.mint([Role.OPERATOR])}"}, as_role=None)
    assert answer.status == 200
