"""API Gateway REST's Lambda proxy integration: the event it sends and the response it expects.

Event format 1.0, as API Gateway REST delivers it (checked against live captures):
- `path` is the request path as received, still percent-encoded, without the stage;
  `requestContext.path` is the same with the stage in front;
- `pathParameters` hold URL-decoded values (a greedy `{proxy+}` value stays encoded), or null;
- `queryStringParameters` / `multiValueQueryStringParameters` hold decoded values (`+` is a
  space), the single-value form keeping the last value of a repeated key; null when there is no
  query string;
- `headers` keep the name's case as sent and the last value of a repeated header,
  `multiValueHeaders` every value;
- `body` is the body as text, or base64 with `isBase64Encoded: true` when it is not valid UTF-8;
  null when there is no body.

Sizes: API Gateway REST takes bodies up to 10 MB; Lambda takes an invocation payload (the whole
proxy event as JSON, the body escaped inside it) up to 6,291,456 bytes. A request between the two
passes the gateway and fails the invoke with 413, which API Gateway answers itself (status 413,
message "Request Too Long", through DEFAULT_4XX); the function never runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict

import cdk  # noqa: F401  (puts the domain layer, session_store, on sys.path)
from local_runtime.intrinsics import LOCAL_ACCOUNT_ID
from local_runtime.router import RouteMatch
from session_store.wire import LAMBDA_PAYLOAD_BYTES

GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
LAMBDA_MAX_INVOKE_BYTES = LAMBDA_PAYLOAD_BYTES

# What the client sends that API Gateway answers for itself or recomputes.
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    raw_target: str  # the request target as received: percent-encoded path plus query string
    headers: list[tuple[str, str]]  # as received: original case, repeats kept, in order
    body: bytes
    source_ip: str
    api_id: str
    stage: str

    @property
    def raw_path(self) -> str:
        return self.raw_target.split("?", 1)[0]

    @property
    def raw_query(self) -> str:
        return self.raw_target.split("?", 1)[1] if "?" in self.raw_target else ""


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MalformedResponseError(ValueError):
    """The function's result is not a valid proxy response (API Gateway answers 502)."""


def build_event(request: IncomingRequest, route: RouteMatch, request_id: str | None = None) -> dict[str, Any]:
    now = time.time()
    request_id = request_id or str(uuid.uuid4())
    multi_headers = MultiDict(request.headers).to_dict(flat=False)
    multi_query = MultiDict(parse_qsl(request.raw_query, keep_blank_values=True)).to_dict(flat=False)
    path = _text(request.raw_path)
    body, is_base64 = _body(request.body)
    user_agent = next((v for n, v in reversed(request.headers) if n.lower() == "user-agent"), None)
    return {
        "resource": route.resource_path,
        "path": path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": route.path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": hashlib.blake2b(route.resource_path.encode(), digest_size=3).hexdigest(),
            "resourcePath": route.resource_path,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            # The path the client asked for. On API Gateway that has the stage in front (/v1/...);
            # the local server serves the API at the root, so here it equals `path`. api_docs
            # derives the OpenAPI servers entry from the difference.
            "path": path,
            "accountId": LOCAL_ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": request.stage,
            "domainPrefix": request.api_id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": f"{request.api_id}.execute-api.localhost",
            "apiId": request.api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def event_size(event: dict[str, Any]) -> int:
    """The invocation payload's size as Lambda counts it: the event serialized as JSON."""
    return len(json.dumps(event, separators=(",", ":")).encode())


def _text(raw: str) -> str:
    """The server decodes the request line as latin-1; recover UTF-8 a client sent unencoded."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def parse_response(result: Any) -> ProxyResponse:
    """Translate a proxy result back to HTTP; API Gateway's rules for a malformed one."""
    if not isinstance(result, dict):
        raise MalformedResponseError(f"the result is a {type(result).__name__}, not an object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode {status!r} is not an HTTP status")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedResponseError(f"body is a {type(body).__name__}, not a string")
    if result.get("isBase64Encoded") and body:
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise MalformedResponseError("isBase64Encoded is set but the body is not base64") from error
    else:
        payload = (body or "").encode("utf-8")
    return ProxyResponse(status, _merge_headers(result), payload)


def _merge_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    """API Gateway merges `headers` into `multiValueHeaders`; a name/value pair present in both
    appears once."""
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponseError("headers and multiValueHeaders must be objects")
    merged: dict[str, list[str]] = {}
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponseError(f"multiValueHeaders[{name!r}] is not a list")
        merged[name] = [_header_value(name, v) for v in values]
    for name, value in single.items():
        text = _header_value(name, value)
        if text not in merged.setdefault(name, []):
            merged[name].append(text)
    return [(n, v) for n, values in merged.items() if n.lower() not in _HOP_BY_HOP for v in values]


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedResponseError(f"header {name!r} has a {type(value).__name__} value")
