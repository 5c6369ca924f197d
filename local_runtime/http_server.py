"""The HTTP front door: a threaded werkzeug server playing API Gateway REST for the template's API.

Each request is matched against the template's methods (router.py), turned into a proxy event
(apigateway.py), handed to the function in-process (functions.py), and its proxy response turned
back into HTTP. What API Gateway answers by itself (no such route, a body over the payload limit, a
failed or malformed invocation) is rendered from the template's gateway responses
(gateway_responses.py).
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from local_runtime import gateway_responses as gateway
from local_runtime import jwt_auth
from local_runtime.apigateway import (
    GATEWAY_MAX_BODY_BYTES,
    LAMBDA_MAX_INVOKE_BYTES,
    IncomingRequest,
    MalformedResponseError,
    build_event,
    event_size,
    parse_response,
)
from local_runtime.functions import InvocationError, LocalFunction
from local_runtime.router import PathDecodeError, Router
from local_runtime.stack import ApiSpec
from session_store import names

log = logging.getLogger("local_runtime.api")

_RAW_TARGET = "local_runtime.raw_target"
_RAW_HEADERS = "local_runtime.raw_headers"
_UNDRAINED = "local_runtime.undrained"
_FUNCTION = "local_runtime.function"
# Past this much, an oversized body is not read to the end; the connection is closed instead.
_DRAIN_LIMIT = 8 * GATEWAY_MAX_BODY_BYTES
_CHUNK = 1024 * 1024


class _RawRequestHandler(WSGIRequestHandler):
    """WSGI folds header names to upper case, joins repeats and drops names with `_`; API Gateway
    does none of that, and routing needs the path still percent-encoded. Keep the request as
    received next to the environ."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[_RAW_TARGET] = self.path
        environ[_RAW_HEADERS] = [(name, value.replace("\r\n", "")) for name, value in self.headers.items()]
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # ApiApplication logs each request with its route and duration


class _ProxyResponse(Response):
    # API Gateway labels a proxy response without a Content-Type as JSON.
    default_mimetype = "application/json"


class ApiApplication:
    def __init__(self, router: Router, functions: Mapping[str, LocalFunction], api: ApiSpec, api_id: str) -> None:
        self.router = router
        self.functions = functions
        self.api = api
        self.api_id = api_id
        self.gateway = gateway.GatewayResponses(api.gateway_responses)

    def __call__(self, environ, start_response):
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            response = self._handle(environ, request_id)
        except Exception:  # noqa: BLE001 - a bug of the runtime must not reach the client as a trace
            log.exception("the local runtime failed on %s", environ.get(_RAW_TARGET))
            response = self.gateway.render(
                gateway.DEFAULT_5XX, HTTPStatus.BAD_GATEWAY, "Internal server error", request_id
            )
        response.headers["x-amzn-RequestId"] = request_id
        log.info(
            "%s %s -> %d (%.0f ms, %s)",
            environ["REQUEST_METHOD"],
            environ.get(_RAW_TARGET),
            response.status_code,
            (time.monotonic() - started) * 1000,
            environ.get(_FUNCTION, "gateway"),
        )
        return response(environ, start_response)

    def _handle(self, environ, request_id: str) -> Response:
        body = _read_body(environ)
        if body is None:
            response = self.gateway.render(
                gateway.REQUEST_TOO_LARGE,
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The request body exceeds the {GATEWAY_MAX_BODY_BYTES} byte limit.",
                request_id,
            )
            if environ.get(_UNDRAINED):
                response.headers["Connection"] = "close"
            return response
        request = IncomingRequest(
            method=environ["REQUEST_METHOD"],
            raw_target=environ.get(_RAW_TARGET) or environ.get("RAW_URI", "/"),
            headers=environ.get(_RAW_HEADERS, []),
            body=body,
            source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
            api_id=self.api_id,
            stage=self.api.stage,
        )
        try:
            route = self.router.match(request.method, request.raw_path)
        except PathDecodeError as error:
            return self.gateway.render(gateway.BAD_REQUEST_PARAMETERS, HTTPStatus.BAD_REQUEST, str(error), request_id)
        if route is None:
            # API Gateway would answer 403 "Missing Authentication Token" (its answer to any unknown
            # path); the local API has no auth, and "no such route" is what a client needs to know.
            return self.gateway.render(
                gateway.RESOURCE_NOT_FOUND,
                HTTPStatus.NOT_FOUND,
                f"No route for {request.method} {request.raw_path}.",
                request_id,
            )
        claims = None
        if route.method.authorization_type == jwt_auth.COGNITO_AUTHORIZER:
            authorization = next((v for n, v in reversed(request.headers) if n.lower() == "authorization"), None)
            try:
                claims = jwt_auth.claims_of(authorization)
            except jwt_auth.Unauthorized:
                return self.gateway.render(gateway.UNAUTHORIZED, HTTPStatus.UNAUTHORIZED, "Unauthorized", request_id)
        function = self.functions[route.method.function_id]
        environ[_FUNCTION] = function.name
        event = build_event(request, route, request_id)
        if claims is not None:
            event["requestContext"]["authorizer"] = {"claims": claims}
        if event_size(event) > LAMBDA_MAX_INVOKE_BYTES:
            # The body passed the gateway's 10 MB, but the proxy event (the body escaped into JSON,
            # with headers and parameters) is over what Lambda accepts: the invoke fails with 413,
            # which API Gateway answers through DEFAULT_4XX, status kept.
            return self.gateway.render(
                gateway.DEFAULT_4XX,
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                names.GATEWAY_LAMBDA_TOO_LARGE_MESSAGE,
                request_id,
            )
        try:
            proxy = parse_response(function.invoke(event))
        except InvocationError as error:
            return self.gateway.render(
                gateway.DEFAULT_5XX, HTTPStatus.BAD_GATEWAY, f"Internal server error ({error.error_type})", request_id
            )
        except MalformedResponseError as error:
            log.error("%s returned a malformed proxy response: %s", function.name, error)
            return self.gateway.render(
                gateway.DEFAULT_5XX, HTTPStatus.BAD_GATEWAY, "Malformed Lambda proxy response", request_id
            )
        response = _ProxyResponse(proxy.body, status=proxy.status, headers=proxy.headers)
        return self._compress(response, request)

    def _compress(self, response: Response, request: IncomingRequest) -> Response:
        """The API's MinimumCompressionSize: gzip a large enough body for a client that accepts it."""
        minimum = self.api.minimum_compression_size
        accepted = ",".join(v for n, v in request.headers if n.lower() == "accept-encoding")
        if (
            minimum is None
            or "gzip" not in accepted.lower()
            or "Content-Encoding" in response.headers
            or len(response.get_data()) < minimum
        ):
            return response
        response.set_data(gzip.compress(response.get_data()))
        response.headers["Content-Encoding"] = "gzip"
        return response


def _read_body(environ) -> bytes | None:
    """The request body, or None when it is over the limit (then it is drained, not kept)."""
    limit = GATEWAY_MAX_BODY_BYTES
    stream = get_input_stream(environ)
    declared = environ.get("CONTENT_LENGTH", "")
    # A declared length over the limit is refused before anything is read.
    if (declared.isdigit() and int(declared) > limit) or len(data := stream.read(limit + 1)) > limit:
        _drain(environ, stream)
        return None
    return data


def _drain(environ, stream) -> None:
    # Reading the rest lets the client finish sending and see the 413 instead of a reset.
    read = 0
    while read < _DRAIN_LIMIT:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return
        read += len(chunk)
    environ[_UNDRAINED] = True


class HttpServer:
    """The threaded server in a background thread (the caller's thread waits for signals)."""

    def __init__(self, app: ApiApplication, host: str, port: int) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=_RawRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
