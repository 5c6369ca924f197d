"""The answers API Gateway gives by itself, shaped by the template's AWS::ApiGateway::GatewayResponse.

When no function is involved (no route, a body over the limit) or the function failed, API Gateway
renders the gateway response of that type, else DEFAULT_4XX / DEFAULT_5XX, else its built-in
`{"message": ...}`. The stack customizes them (problem+json with the request id), so the local
server renders the same templates: the client sees locally what it would see deployed. Without a
customization the local server answers with a problem+json of its own.

Only the VTL the templates use is supported: `$context.<variable>` / `${context.<variable>}`
references, with `error.message`, `error.messageString` (the message as a quoted JSON string),
`error.responseType` and `requestId`; and `#if($context.<variable> == "text")...#else...#end`
(`#{else}` / `#{end}` too), without nesting.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from http import HTTPStatus

from werkzeug.wrappers import Response

from local_runtime.stack import GatewayResponseSpec
from session_store import names

log = logging.getLogger(__name__)

RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
UNAUTHORIZED = "UNAUTHORIZED"
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
BAD_REQUEST_PARAMETERS = "BAD_REQUEST_PARAMETERS"
DEFAULT_4XX = "DEFAULT_4XX"
DEFAULT_5XX = "DEFAULT_5XX"
# CloudFormation's ResponseType values; anything else would fail the deployment.
KNOWN_TYPES = frozenset(
    {
        "ACCESS_DENIED",
        "API_CONFIGURATION_ERROR",
        "AUTHORIZER_CONFIGURATION_ERROR",
        "AUTHORIZER_FAILURE",
        "BAD_REQUEST_PARAMETERS",
        "BAD_REQUEST_BODY",
        DEFAULT_4XX,
        DEFAULT_5XX,
        "EXPIRED_TOKEN",
        "INTEGRATION_FAILURE",
        "INTEGRATION_TIMEOUT",
        "INVALID_API_KEY",
        "INVALID_SIGNATURE",
        "MISSING_AUTHENTICATION_TOKEN",
        "QUOTA_EXCEEDED",
        REQUEST_TOO_LARGE,
        RESOURCE_NOT_FOUND,
        "THROTTLED",
        "UNAUTHORIZED",
        "UNSUPPORTED_MEDIA_TYPE",
        "WAF_FILTERED",
    }
)
_CONTEXT_REFERENCE = re.compile(r"\$(\{)?context\.([A-Za-z0-9_.]*[A-Za-z0-9_])(?(1)\})")
_HEADER_PREFIX = "gatewayresponse.header."
_CONDITION = re.compile(
    r'#if\(\s*\$\{?context\.([A-Za-z0-9_.]+)\}?\s*==\s*"([^"]*)"\s*\)(.*?)(?:#\{?else\}?(.*?))?#\{?end\}?', re.S
)


class GatewayResponses:
    def __init__(self, specs: Mapping[str, GatewayResponseSpec]) -> None:
        self.specs = dict(specs)
        for response_type in sorted(set(self.specs) - KNOWN_TYPES):
            log.warning(
                "gateway response type %r is not one CloudFormation accepts (e.g. DEFAULT_4XX, DEFAULT_5XX);"
                " it is ignored here and would fail a deployment",
                response_type,
            )

    def render(self, response_type: str, status: HTTPStatus, message: str, request_id: str) -> Response:
        family = DEFAULT_5XX if status >= 500 else DEFAULT_4XX
        spec = self.specs.get(response_type) or self.specs.get(family)
        if spec is None:
            return self._builtin(status, message, request_id)
        # A status set on DEFAULT_4XX/5XX applies to every response of the family without its own.
        family_status = self.specs[family].status_code if family in self.specs else None
        code = spec.status_code or family_status or int(status)
        variables = {
            "requestId": request_id,
            "error.message": message,
            "error.messageString": json.dumps(message),
            "error.responseType": response_type,
        }
        headers: list[tuple[str, str]] = []
        for key, source in spec.parameters.items():
            if key.startswith(_HEADER_PREFIX):
                value = _parameter_value(source, variables)
                if value is not None:
                    headers.append((key.removeprefix(_HEADER_PREFIX), value))
        template = spec.templates.get("application/json", next(iter(spec.templates.values()), None))
        body = json.dumps({"message": message}) if template is None else _render(template, variables)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return Response(body, status=code, headers=headers)

    def _builtin(self, status: HTTPStatus, message: str, request_id: str) -> Response:
        body = {
            "type": names.PROBLEM_TYPE_BASE + status.phrase.lower().replace(" ", "-"),
            "title": status.phrase,
            "status": int(status),
            "detail": message,
        }
        return Response(
            json.dumps(body),
            status=int(status),
            headers=[("Content-Type", names.PROBLEM_CONTENT_TYPE), (names.REQUEST_ID_HEADER, request_id)],
        )


def _render(template: str, variables: Mapping[str, str]) -> str:
    def branch(match: re.Match[str]) -> str:
        chosen = match.group(3) if variables.get(match.group(1), "") == match.group(2) else match.group(4)
        return chosen or ""

    template = _CONDITION.sub(branch, template)
    # An unknown variable renders empty, as in API Gateway.
    return _CONTEXT_REFERENCE.sub(lambda m: variables.get(m.group(2), ""), template)


def _parameter_value(source: str, variables: Mapping[str, str]) -> str | None:
    if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if source.startswith("context."):
        return variables.get(source.removeprefix("context."))
    return None  # method.request.* mappings are not emulated
