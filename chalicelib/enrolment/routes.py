"""Enrolment routes: thin translations between HTTP and the enrolment use cases."""
from __future__ import annotations

import re

from chalice import Blueprint, Response

from chalicelib import wiring
from chalicelib.access.gate import allowed, current_caller, partner_signed, public
from chalicelib.audit.chain import Actor
from chalicelib.access.roles import Role
from chalicelib.core.api import JSON, answers_domain_errors, int_param, json_body
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.enrolment.intake import parse_form
from chalicelib.enrolment.model import State

enrolment = Blueprint(__name__)
_APPLICATION_ID = re.compile(r"^app_[A-Za-z0-9_-]{10,64}$")


@enrolment.route("/enrolment/applications", methods=["POST"])
@allowed(Role.RESIDENT, Role.OPERATOR)
@answers_domain_errors
def submit_application() -> Response:
    """Register one applicant (Art. 17) or a resident asking for a payment card (Art. 18).

    Sent by the resident from the app, or by a counter clerk of the operator on the resident's behalf.
    """
    service = wiring.enrolment_service()
    form = parse_form(json_body(enrolment.current_request.raw_body), today=wiring.utc_now().date())
    submitted = service.submit(form, _actor())
    return Response(body=submitted.application.public_view(), status_code=201 if submitted.created else 200,
                    headers=JSON)


@enrolment.route("/enrolment/uploads", methods=["POST"], content_types=["text/csv"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def submit_upload() -> Response:
    """An agency's CSV of applicants (Art. 8: agency heads submit recipient data); every row gets a result,
    re-uploading is safe."""
    result = wiring.enrolment_service().submit_upload(enrolment.current_request.raw_body or b"", _actor())
    return Response(body=result, status_code=200, headers=JSON)


@enrolment.route("/enrolment/applications/{application_id}", methods=["GET"])
@public("the state only (no personal data), for whoever holds the unguessable application id")
@answers_domain_errors
def application_status(application_id: str) -> Response:
    """The applicant's view: the state only, for whoever holds the unguessable id."""
    if not _APPLICATION_ID.match(application_id):
        raise NotFound("APPLICATION_NOT_FOUND", "no application has that id")
    application = wiring.enrolment_service().status(application_id)
    return Response(body=application.public_view(), status_code=200, headers=JSON)


@enrolment.route("/operator/applications", methods=["GET"])
@allowed(Role.OPERATOR, Role.DISKOMINFOTIK_ADMIN)
@answers_domain_errors
def applications_by_state() -> Response:
    """The operator's work list; ``state=ISSUANCE_OVERDUE`` is the Art. 20 escalation list.

    NIKs are masked, so Diskominfotik may read it too when it follows up on the partner banks.
    """
    params = enrolment.current_request.query_params or {}
    try:
        state = State(params.get("state", ""))
    except ValueError:
        raise InvalidInput("INVALID_PARAMETER", "state must be one of " + ", ".join(s.value for s in State),
                           field="state") from None
    limit = int_param(params, "limit", 100, 1, 500)
    found, cursor = wiring.enrolment_service().work_list(state, limit, params.get("nextToken"), _actor())
    body = {"state": state.value, "applications": [a.operator_view() for a in found]}
    if cursor:
        body["nextToken"] = cursor
    return Response(body=body, status_code=200, headers=JSON)


@enrolment.route("/snap/v1.0/card-issuance/notify", methods=["POST"])
@partner_signed(Role.BANK_PARTNER, "SNAP: HMAC-SHA512 signature and access token, checked by the view")
@answers_domain_errors
def bank_issuance_callback() -> Response:
    """The bank reports an issued or rejected card (Art. 20), signed SNAP-style."""
    request = enrolment.current_request
    wiring.callback_idempotency().register_lambda_context(enrolment.lambda_context)
    result = wiring.issuance_callbacks().receive(request.method, request.context.get("path") or "/snap/v1.0/card-issuance/notify",
                                                 request.headers, request.raw_body or b"")
    return Response(body=result.body, status_code=result.status, headers=JSON)


def _actor() -> Actor:
    """The caller as the audit trail names them: the token's subject, roles and agency."""
    caller = current_caller()
    if caller is None:
        raise RuntimeError("a route that records personal-data processing must declare its callers")
    return Actor(caller.subject, "+".join(sorted(role.value for role in caller.roles)), caller.agency)
