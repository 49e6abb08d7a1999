"""Jakarta One API and workflow functions: the table of contents.

Routes live in each bounded context's blueprint; the Lambda functions below
are the enrolment state machine's tasks. Importing this module makes no AWS
call and needs no environment variable.
"""
from typing import Any

from chalice import Chalice

from chalicelib import wiring
from chalicelib.core.api import answers_domain_errors, framework_errors_in_our_shape
from chalicelib.enrolment.routes import enrolment

app = Chalice(app_name="jakarta-one", configure_logs=False)
"""Logs go through our masking logger only (chalicelib.core.observability), never a second handler."""
app.register_middleware(framework_errors_in_our_shape, "http")
app.register_blueprint(enrolment)


@app.route("/health")
@answers_domain_errors
def health() -> dict[str, str]:
    return {"status": "ok"}


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
