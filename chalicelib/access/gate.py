"""Who may call each route: declared on the route, checked at the edge (Art. 7).

Every route says who may call it, with exactly one of:

* :func:`allowed` — a bearer token, verified by the API's authorizer, of a
  caller holding one of the named roles;
* :func:`partner_signed` — a partner's own signature, checked by the view
  (the bank's SNAP callbacks carry their own ``Authorization`` header and
  never a token of ours);
* :func:`public` — anyone, with the reason it is safe written down.

:func:`protect_routes` puts the authorizer in front of every route that
needs a token, and refuses to build an app with a route that declares nothing:
a route nobody thought about is not deployed.

The authorizer only authenticates. A token that does not verify is refused by
the gateway (401) before any function runs; a valid token is let through with
the caller's roles and agency in the request context, and the route's own
declaration decides (403), so one table of declarations is the whole policy.
"""
from __future__ import annotations

import contextvars
import functools
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Mapping

from chalice import AuthResponse

from chalicelib.access.roles import Principal, Role
from chalicelib.core.api import answers_domain_errors
from chalicelib.core.errors import Forbidden, Unauthenticated
from chalicelib.core.observability import logger

if TYPE_CHECKING:  # only the authorizer verifies tokens: the API and the workflow's tasks never load PyJWT
    from chalicelib.access.tokens import TokenVerifier

BEARER = "bearer "
ROLES_SEPARATOR = ","


class Gate(str, Enum):
    BEARER_TOKEN = "bearer token"
    PARTNER_SIGNATURE = "partner signature"
    PUBLIC = "public"


@dataclass(frozen=True)
class Declaration:
    gate: Gate
    roles: frozenset[Role]
    """Who may call; empty for a public route."""
    why: str

    def admits(self, role: Role | None) -> bool:
        """Whether a caller holding ``role`` (``None``: no credential) gets past the gate."""
        return self.gate is Gate.PUBLIC or role in self.roles


class RouteWithoutDeclaration(Exception):
    """A route says nothing about who may call it, or says two things at once."""


class Unauthorized(Exception):
    """API Gateway answers 401 when a token authorizer fails with exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def allowed(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Route decorator: a bearer token of a caller holding one of ``roles``."""
    if not roles or not all(isinstance(role, Role) for role in roles):
        raise ValueError("allowed() names at least one Role")
    declaration = Declaration(Gate.BEARER_TOKEN, frozenset(roles),
                              "a bearer token of " + " or ".join(role.value for role in roles))

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            caller = _CALLER.get()
            if caller is None:
                raise Unauthenticated("UNAUTHENTICATED", "a valid bearer token is required")
            if not caller.holds_any(declaration.roles):
                raise Forbidden("ROLE_NOT_ALLOWED",
                                "this route is for " + ", ".join(sorted(r.value for r in declaration.roles)))
            return view(*args, **kwargs)

        guarded = answers_domain_errors(checked)
        guarded.access = declaration  # type: ignore[attr-defined]
        return guarded

    return decorate


def partner_signed(role: Role, scheme: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Route decorator: a partner authenticated by its signature (``scheme``), which the view checks."""
    return _declare(Declaration(Gate.PARTNER_SIGNATURE, frozenset({role}), scheme))


def public(why: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Route decorator: anyone may call; ``why`` says what makes that safe."""
    if not why.strip():
        raise ValueError("a public route says why it may be public")
    return _declare(Declaration(Gate.PUBLIC, frozenset(), why))


def _declare(declaration: Declaration) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.access = declaration  # type: ignore[attr-defined]
        return view

    return decorate


def declaration_of(view: Callable[..., Any]) -> Declaration | None:
    declaration = getattr(view, "access", None)
    return declaration if isinstance(declaration, Declaration) else None


def protect_routes(app: Any, authorizer: Any) -> None:
    """Put ``authorizer`` in front of every route that needs a token; refuse a route that declares nothing."""
    problems = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            declaration = declaration_of(entry.view_function)
            if declaration is None:
                problems.append(f"{method} {path} declares no callers (allowed, partner_signed or public)")
            elif entry.authorizer not in (None, authorizer):
                problems.append(f"{method} {path} names an authorizer of its own; its declaration decides")
            else:
                entry.authorizer = authorizer if declaration.gate is Gate.BEARER_TOKEN else None
    if problems:
        raise RouteWithoutDeclaration("; ".join(problems))


# ---------------------------------------------------------------- the authorizer

def authorize(authorization: str, verifier: TokenVerifier) -> AuthResponse:
    """The authorizer's decision: a valid token passes with its caller's roles, any other is :class:`Unauthorized`.

    ``authorization`` is the header as sent (``Bearer <token>``). The policy
    admits the token to every route, because each route's declaration decides
    by role; so the gateway may cache the decision per token whatever the
    route. The context holds strings only, as API Gateway requires.
    """
    from chalicelib.access.tokens import TokenRefused

    scheme, _, token = (authorization or "").strip().partition(" ")
    try:
        if scheme.lower() + " " != BEARER:
            raise TokenRefused("NOT_BEARER")
        principal = verifier.verify(token.strip())
    except TokenRefused as refusal:
        logger().info("bearer token refused", extra={"reason": refusal.reason})
        raise Unauthorized() from None
    context = {"roles": ROLES_SEPARATOR.join(sorted(role.value for role in principal.roles))}
    if principal.agency:
        context["agency"] = principal.agency
    return AuthResponse(routes=["*"], principal_id=principal.subject, context=context)


# ---------------------------------------------------------------- the caller, for the route

_CALLER: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("caller", default=None)


def identify_caller(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice HTTP middleware: the principal the authorizer vouched for, for the route's declaration."""
    reset = _CALLER.set(principal_from_context((event.context or {}).get("authorizer")))
    try:
        return get_response(event)
    finally:
        _CALLER.reset(reset)


def current_caller() -> Principal | None:
    """Who is calling the route being served (``None`` on a public or partner-signed route)."""
    return _CALLER.get()


def principal_from_context(context: Mapping[str, Any] | None) -> Principal | None:
    """The principal from the authorizer's context, or ``None`` when there is none to trust."""
    if not context or not isinstance(context.get("principalId"), str) or not isinstance(context.get("roles"), str):
        return None
    agency = context.get("agency") or None
    try:
        roles = frozenset(Role(name) for name in context["roles"].split(ROLES_SEPARATOR))
        return Principal(subject=context["principalId"], roles=roles, agency=str(agency) if agency else None)
    except ValueError:  # an unknown role or an unusable principal (InvalidPrincipal is a ValueError)
        return None
