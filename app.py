"""Jakarta One API and workflow functions: the table of contents.

Routes live in each bounded context's blueprint, each declaring who may call
it; the bearer-token authorizer below is API Gateway's check of the caller;
the Lambda functions below are the enrolment state machine's tasks. Importing
this module makes no AWS call and needs no environment variable.
"""
from typing import Any

from chalice import AuthResponse, Chalice
from chalice.app import AuthRequest

from chalicelib import wiring
from chalicelib.access.gate import authorize, identify_caller, protect_routes, public
from chalicelib.core.api import answers_domain_errors, framework_errors_in_our_shape
from chalicelib.enrolment.routes import enrolment
from chalicelib.registry.routes import registry

app = Chalice(app_name="jakarta-one", configure_logs=False)
"""Logs go through our masking logger only (chalicelib.core.observability), never a second handler."""
app.register_middleware(framework_errors_in_our_shape, "http")
app.register_middleware(identify_caller, "http")
app.register_blueprint(enrolment)
app.register_blueprint(registry)


@app.authorizer(name="bearer_token", ttl_seconds=60)
def bearer_token(auth_request: AuthRequest) -> AuthResponse:
    """The gateway's check of ``Authorization: Bearer <token>`` (a user-pool token); a bad one is a 401."""
    return authorize(auth_request.token, wiring.token_verifier())


@app.route("/health")
@public("liveness only; reveals nothing")
@answers_domain_errors
def health() -> dict[str, str]:
    return {"status": "ok"}


protect_routes(app, bearer_token)
"""Every route has declared who may call it (chalicelib.access.gate); those that need a token get the authorizer."""


@app.lambda_function(name="enrolment_check_documents")
def enrolment_check_documents(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.enrolment_tasks().check_documents(event)


@app.lambda_function(name="enrolment_verify_nik")
def enrolment_verify_nik(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.enrolment_tasks().verify_nik(event)


@app.lambda_function(name="enrolment_request_issuance")
def enrolment_request_issuance(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.enrolment_tasks().request_issuance(event)


@app.lambda_function(name="enrolment_record_outcome")
def enrolment_record_outcome(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return wiring.enrolment_tasks().record_outcome(event)


@app.lambda_function(name="registry_process_upload_chunk")
def registry_process_upload_chunk(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The recipient-upload workflow's step: process the upload's next chunk of rows."""
    uploads = wiring.recipient_uploads()
    if "fault" in event:
        return uploads.record_fault(event["agency"], event["code"], event["uploadId"],
                                    str(event["fault"].get("Error", "fault")))
    return uploads.process_next_chunk(event["agency"], event["code"], event["uploadId"])
