"""Calls the API functions in-process with API Gateway REST proxy events, the way API Gateway
would: the route table comes from routes.py, the events from the local runtime's builder."""

from __future__ import annotations

import importlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from local_runtime.apigateway import IncomingRequest, build_event
from local_runtime.functions import MAX_PAYLOAD_BYTES
from local_runtime.router import Router
from local_runtime.stack import ApiMethod
from session_store import routes

_ROUTER = Router(ApiMethod(route.method, route.path, route.function) for route in routes.ROUTES)


class FakeContext:
    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:test-function"
    memory_limit_in_mb = "512"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "test"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


def segment(identifier: str) -> str:
    return quote(identifier, safe="")


def call(
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: bytes | None = None,
) -> ApiResponse:
    """`path` is percent-encoded (use segment() for ids), as a client would send it."""
    match = _ROUTER.match(method, path)
    if match is None:
        raise AssertionError(f"no route for {method} {path}")
    if raw_body is None:
        raw_body = b"" if body is None else json.dumps(body).encode()
    request_headers = [("Content-Type", "application/json"), *(headers or {}).items()]
    target = path + ("?" + urlencode(query, doseq=True) if query else "")
    request = IncomingRequest(method, target, request_headers, raw_body, "127.0.0.1", "localapi", "v1")
    event = build_event(request, match)
    module = importlib.import_module(f"handlers.{match.method.function_id}")
    result = module.lambda_handler(event, FakeContext())
    if len(json.dumps(result).encode()) > MAX_PAYLOAD_BYTES:
        # What Lambda (and the local runtime) does with a result over its payload limit: the
        # invocation fails and API Gateway answers 502. In-process, a response that could never
        # leave the function must not pass for one that was served.
        return ApiResponse(502, {}, "Function.ResponseSizeTooLarge")
    response_headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        response_headers[name] = values[-1]
    return ApiResponse(result["statusCode"], response_headers, result.get("body") or "")


def call_retrying(method: str, path: str, body: Any = None, *, attempts: int = 5, **kwargs: Any) -> ApiResponse:
    """`call`, retried on 503 after its Retry-After, as every client of the API does. For large
    writes whose transactions a loaded machine can slow past the functions' DynamoDB timeouts: a
    503 there is the contract working, not a failure of what the test checks."""
    for _ in range(attempts - 1):
        response = call(method, path, body, **kwargs)
        if response.status != 503:
            return response
        time.sleep(int(response.headers.get("Retry-After", "1")))
    return call(method, path, body, **kwargs)


def session_path(session_id: str) -> str:
    return f"/sessions/{segment(session_id)}"


def run_path(session_id: str, run_id: str) -> str:
    return f"/sessions/{segment(session_id)}/runs/{segment(run_id)}"
