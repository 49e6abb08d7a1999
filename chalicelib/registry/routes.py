"""Registry routes (Art. 6-8, 10): an agency head's own programs; Diskominfotik's de-identified overview."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import wiring
from chalicelib.access.gate import allowed, current_caller
from chalicelib.access.roles import Role
from chalicelib.audit.chain import Actor
from chalicelib.core.api import JSON, answers_domain_errors, json_body
from chalicelib.core.errors import NotFound
from chalicelib.registry.model import PROGRAM_CODE, parse_officer, parse_program, parse_report

registry = Blueprint(__name__)


def _agency() -> str:
    caller = current_caller()
    if caller is None or caller.agency is None:
        raise RuntimeError("an agency route must declare AGENCY_HEAD as its caller")
    return caller.agency


def _code(program_code: str) -> str:
    if not PROGRAM_CODE.match(program_code):
        raise NotFound("PROGRAM_NOT_FOUND", "your agency has no program with this code")
    return program_code


def _answer(body: Any, created: bool | None = None) -> Response:
    return Response(body=body, status_code=201 if created else 200, headers=JSON)


@registry.route("/registry/programs", methods=["POST"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def create_program() -> Response:
    """Register a program of the caller's agency (Art. 8); the agency's code for it makes a retry safe."""
    program = parse_program(json_body(registry.current_request.raw_body), _agency())
    stored, created = wiring.registry_service().create(program)
    return _answer(stored.view(), created)


@registry.route("/registry/programs", methods=["GET"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def list_programs() -> Response:
    """The caller's agency's programs, and no other agency's."""
    agency = _agency()
    return _answer({"agency": agency, "programs": [p.view() for p in wiring.registry_service().programs_of(agency)]})


@registry.route("/registry/programs/{program_code}", methods=["GET"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def read_program(program_code: str) -> Response:
    """One of the caller's agency's programs; another agency's is not found (404)."""
    return _answer(wiring.registry_service().get(_agency(), _code(program_code)).view())


@registry.route("/registry/programs/{program_code}", methods=["PATCH"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def update_program(program_code: str) -> Response:
    """Change what the agency decided (name, legal basis, period, budget, status, limits, exclusions)."""
    changes = json_body(registry.current_request.raw_body)
    return _answer(wiring.registry_service().update(_agency(), _code(program_code), changes).view())


@registry.route("/registry/programs/{program_code}/officers", methods=["POST"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def appoint_officer(program_code: str) -> Response:
    """Name an officer in charge (penanggung jawab) of the program."""
    officer = parse_officer(json_body(registry.current_request.raw_body))
    caller = current_caller()
    stored, created = wiring.registry_service().appoint_officer(_agency(), _code(program_code), officer,
                                                                caller.subject if caller else "")
    return _answer(stored.view(), created)


@registry.route("/registry/programs/{program_code}/officers", methods=["GET"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def list_officers(program_code: str) -> Response:
    officers = wiring.registry_service().officers(_agency(), _code(program_code))
    return _answer({"officers": [o.view() for o in officers]})


@registry.route("/registry/programs/{program_code}/reports", methods=["POST"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def file_report(program_code: str) -> Response:
    """File the program's implementation report for one quarter (Art. 23-26), once."""
    report = parse_report(json_body(registry.current_request.raw_body))
    caller = current_caller()
    stored, created = wiring.registry_service().file_report(_agency(), _code(program_code), report,
                                                            caller.subject if caller else "")
    return _answer(stored.view(), created)


@registry.route("/registry/programs/{program_code}/reports", methods=["GET"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def list_reports(program_code: str) -> Response:
    reports = wiring.registry_service().reports(_agency(), _code(program_code))
    return _answer({"reports": [r.view() for r in reports]})


@registry.route("/registry/programs/{program_code}/recipients/uploads", methods=["POST"],
                content_types=["text/csv"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def upload_recipients(program_code: str) -> Response:
    """The program's recipients as a CSV of up to 50,000 rows (Art. 8), processed in the background:
    202 with the upload's id and status URL; the same file again is the same upload (200), nothing new stored."""
    caller = current_caller()
    actor = Actor(caller.subject, "+".join(sorted(r.value for r in caller.roles)), caller.agency) if caller else None
    if actor is None:
        raise RuntimeError("an agency route must declare AGENCY_HEAD as its caller")
    status, created = wiring.recipient_uploads().receive(_agency(), _code(program_code),
                                                         registry.current_request.raw_body or b"", actor)
    return Response(body=status, status_code=202 if created else 200,
                    headers={**JSON, "Location": status["statusUrl"]})


@registry.route("/registry/programs/{program_code}/recipients/uploads/{upload_id}", methods=["GET"])
@allowed(Role.AGENCY_HEAD)
@answers_domain_errors
def upload_status(program_code: str, upload_id: str) -> Response:
    """Progress of an upload: state, rows processed, accepted, rejected and flagged, and its problems by row
    (a page at a time: pass ``nextToken``)."""
    params = registry.current_request.query_params or {}
    return _answer(wiring.recipient_uploads().status(_agency(), _code(program_code), upload_id,
                                                     params.get("nextToken")))


@registry.route("/analytics/programs", methods=["GET"])
@allowed(Role.DISKOMINFOTIK_ADMIN)
@answers_domain_errors
def program_overview() -> Response:
    """Diskominfotik's analysis across agencies (Art. 10): aggregates only, small cells suppressed."""
    return _answer(wiring.registry_service().overview())
