"""What API Gateway answers by itself, before any function runs, in the API's one error shape.

A request without a bearer token, or with one the authorizer refuses, never
reaches our code: API Gateway answers it. Its stock bodies
(``{"message": "Unauthorized"}``) are not what every other refusal looks
like, so the template sets Gateway Responses from this table, and the local
cloud's emulation of the gateway (:mod:`localcloud.gateway`) answers from the
same table: one source for AWS, the local cloud and the tests.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


UNAUTHENTICATED = GatewayAnswer(
    401, "UNAUTHENTICATED", "a valid bearer token is required: Authorization: Bearer <token>",
    {"WWW-Authenticate": "Bearer"})
AUTHORIZER_FAILED = GatewayAnswer(500, "AUTHORIZER_FAILED", "the caller's token could not be checked now")

GATEWAY_RESPONSES: dict[str, GatewayAnswer] = {
    "UNAUTHORIZED": UNAUTHENTICATED,
    "ACCESS_DENIED": GatewayAnswer(403, "ACCESS_DENIED", "the token does not give access to this route"),
    "AUTHORIZER_FAILURE": AUTHORIZER_FAILED,
    "AUTHORIZER_CONFIGURATION_ERROR": AUTHORIZER_FAILED,
    "MISSING_AUTHENTICATION_TOKEN": GatewayAnswer(404, "ROUTE_NOT_FOUND", "no route answers this path"),
}
"""API Gateway's response type → our answer. ``MISSING_AUTHENTICATION_TOKEN`` is
API Gateway's (misnamed) answer to a path no route serves."""


def gateway_response_resources(rest_api: str) -> dict[str, Any]:
    """``AWS::ApiGateway::GatewayResponse`` resources for the REST API with logical id ``rest_api``."""
    resources = {}
    for response_type, answer in GATEWAY_RESPONSES.items():
        name = "".join(part.capitalize() for part in response_type.split("_")) + "Response"
        properties: dict[str, Any] = {
            "RestApiId": {"Ref": rest_api},
            "ResponseType": response_type,
            "StatusCode": str(answer.status),
            "ResponseTemplates": {"application/json": json.dumps(answer.body())},
        }
        headers = {"Content-Type": "application/json", **answer.headers}
        properties["ResponseParameters"] = {f"gatewayresponse.header.{name_}": f"'{value}'"
                                            for name_, value in headers.items()}
        resources[name] = {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": properties}
    return resources
