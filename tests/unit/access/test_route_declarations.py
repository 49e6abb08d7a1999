"""Route declarations and the authorizer's decision, on throwaway Chalice apps (no AWS, no gateway)."""
from __future__ import annotations

import pytest
from chalice import Chalice

from chalicelib.access.gate import (
    Gate,
    RouteWithoutDeclaration,
    Unauthorized,
    allowed,
    authorize,
    declaration_of,
    principal_from_context,
    protect_routes,
    public,
)
from chalicelib.access.roles import Principal, Role
from chalicelib.access.tokens import TokenIssuer, TokenVerifier


def an_app() -> tuple[Chalice, object]:
    app = Chalice(app_name="declarations-under-test", configure_logs=False)

    @app.authorizer()
    def bearer(auth_request):  # pragma: no cover - never called here
        raise Unauthorized()

    return app, bearer


def test_an_app_with_a_route_that_declares_nothing_is_refused():
    app, bearer = an_app()

    @app.route("/declared")
    @public("a test route")
    def declared():
        return {}

    @app.route("/forgotten", methods=["POST"])
    def forgotten():
        return {}

    with pytest.raises(RouteWithoutDeclaration, match="POST /forgotten"):
        protect_routes(app, bearer)


def test_the_authorizer_goes_in_front_of_token_routes_only():
    app, bearer = an_app()

    @app.route("/open")
    @public("a test route")
    def open_route():
        return {}

    @app.route("/guarded")
    @allowed(Role.OPERATOR)
    def guarded():
        return {}

    protect_routes(app, bearer)
    assert app.routes["/open"]["GET"].authorizer is None
    assert app.routes["/guarded"]["GET"].authorizer is bearer
    assert declaration_of(app.routes["/guarded"]["GET"].view_function).roles == {Role.OPERATOR}


def test_a_route_that_names_its_own_authorizer_contradicts_its_declaration():
    app, bearer = an_app()

    @app.authorizer()
    def another(auth_request):  # pragma: no cover - never called here
        raise Unauthorized()

    @app.route("/odd", authorizer=another)
    @public("a test route")
    def odd():
        return {}

    with pytest.raises(RouteWithoutDeclaration, match="authorizer of its own"):
        protect_routes(app, bearer)


def test_a_declaration_names_someone():
    with pytest.raises(ValueError):
        allowed()
    with pytest.raises(ValueError):
        allowed("OPERATOR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        public("  ")


def test_who_gets_past_each_gate():
    token_route = declaration_of(allowed(Role.OPERATOR)(lambda: None))
    open_route = declaration_of(public("a test route")(lambda: None))
    assert token_route.gate is Gate.BEARER_TOKEN
    assert token_route.admits(Role.OPERATOR) and not token_route.admits(Role.RESIDENT)
    assert not token_route.admits(None)
    assert open_route.admits(None) and open_route.admits(Role.BANK_PARTNER)


# ---------------------------------------------------------------- the authorizer's decision

@pytest.fixture(scope="module")
def pool() -> TokenIssuer:
    """TEST FIXTURE ONLY: a key pair made for this module, standing in for the user pool."""
    return TokenIssuer.generate("urn:test:pool", "test-client")


@pytest.fixture(scope="module")
def verifier(pool: TokenIssuer) -> TokenVerifier:
    return TokenVerifier("urn:test:pool", "test-client", pool.jwks_json())


def test_a_valid_token_passes_with_its_roles_and_agency_as_strings(pool, verifier):
    token = pool.mint([Role.AGENCY_HEAD, Role.RESIDENT], agency="DISDIK", subject="head-of-disdik")

    response = authorize(f"Bearer {token}", verifier).to_dict(
        type("Request", (), {"method_arn": "arn:aws:execute-api:ap-southeast-3:1:api/prod/GET/x"})())

    assert response["principalId"] == "head-of-disdik"
    assert response["context"] == {"roles": "AGENCY_HEAD,RESIDENT", "agency": "DISDIK"}
    assert all(isinstance(value, str) for value in response["context"].values())
    (statement,) = response["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == ["arn:aws:execute-api:ap-southeast-3:1:api/prod/*/*"]


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.token", "Token abc"])
def test_anything_else_is_unauthorized_in_api_gateways_words_and_the_token_is_not_logged(verifier, caplog, header):
    with caplog.at_level("INFO"):
        with pytest.raises(Unauthorized) as refused:
            authorize(header, verifier)

    assert str(refused.value) == "Unauthorized"
    (record,) = [record for record in caplog.records if record.getMessage() == "bearer token refused"]
    assert record.reason in ("NOT_BEARER", "MALFORMED")
    if len(header) > 8:
        assert header.split(" ")[-1] not in caplog.text + repr(record.__dict__)


@pytest.mark.parametrize("context", [
    None, {}, {"principalId": "x"}, {"roles": "OPERATOR"}, {"principalId": "x", "roles": "ROOT"},
    {"principalId": "x", "roles": ""}, {"principalId": "x", "roles": "AGENCY_HEAD"},
    {"principalId": "", "roles": "OPERATOR"},
])
def test_a_context_the_authorizer_did_not_write_names_no_one(context):
    assert principal_from_context(context) is None


def test_the_context_the_authorizer_wrote_names_the_caller():
    context = {"principalId": "head-1", "roles": "AGENCY_HEAD", "agency": "DINSOS", "integrationLatency": 3}
    assert principal_from_context(context) == Principal("head-1", frozenset({Role.AGENCY_HEAD}), "DINSOS")


def test_only_the_authorizer_pays_for_loading_pyjwt():
    """Importing app.py is every function's cold start; the token library loads when a token is checked."""
    import subprocess
    import sys
    from pathlib import Path

    probe = "import sys, app; print('jwt' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[3],
                            capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
