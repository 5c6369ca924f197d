"""Builds a Lambda entry point: for an API function its resolver and error mapping from Routers;
for every function logging, tracing and metrics.

Cold start: importing a handler imports only what every request needs (the resolver, pydantic,
Logger, Metrics). The X-Ray SDK is not among them: Powertools' Tracer imports `aws_xray_sdk.core`
(and, through its patches, botocore and every other library it can patch) as soon as it is
constructed, even when tracing is disabled. So the tracer here is built on the first invocation,
and only when tracing is on; see docs/design.md ("Cold start") for the measurements.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, overload

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.logging import correlation_paths

from session_store import names, powertools_compat, runtime
from session_store.http import SessionStoreResolver, register_error_handlers

Handler = Callable[[dict[str, Any], Any], Any]

# The only library our functions call AWS through. Powertools' default patches every library the
# X-Ray SDK supports that is installed (http.client too, which would trace each call twice).
TRACED_MODULES = ("botocore",)


class LazyTracer:
    """Powertools' Tracer, created when the first invocation needs it, and only if tracing is on.

    Tracing is on under Powertools' own rule (inside Lambda, unless POWERTOOLS_TRACE_DISABLED),
    read at that first invocation; with tracing off the X-Ray SDK is never imported.
    """

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Any = None
        self._resolved = False

    def get(self) -> Any:
        """The Tracer, or None when tracing is off."""
        if not self._resolved:
            if not powertools_compat.tracing_disabled():
                from aws_lambda_powertools.tracing.tracer import Tracer  # cheap: constructing it imports X-Ray

                self._tracer = Tracer(service=self._service, patch_modules=TRACED_MODULES)
            self._resolved = True
        return self._tracer

    @overload
    def capture_lambda_handler(self, lambda_handler: Handler, capture_response: bool | None = None) -> Handler: ...

    @overload
    def capture_lambda_handler(
        self, lambda_handler: None = None, capture_response: bool | None = None
    ) -> Callable[[Handler], Handler]: ...

    def capture_lambda_handler(
        self, lambda_handler: Handler | None = None, capture_response: bool | None = None
    ) -> Handler | Callable[[Handler], Handler]:
        """Same use as Tracer.capture_lambda_handler, with or without arguments."""
        if lambda_handler is None:
            return functools.partial(self.capture_lambda_handler, capture_response=capture_response)
        traced: Handler | None = None

        @functools.wraps(lambda_handler)
        def handler(event: dict[str, Any], context: Any) -> Any:
            nonlocal traced
            if traced is None:
                tracer = self.get()
                traced = (
                    tracer.capture_lambda_handler(lambda_handler, capture_response=capture_response)
                    if tracer is not None
                    else lambda_handler
                )
            return traced(event, context)

        return handler

    def reset(self) -> None:
        """Decide again on the next invocation (tests switch tracing on and off)."""
        self._tracer, self._resolved = None, False


logger = Logger(service=names.SERVICE_NAME)
tracer = LazyTracer(service=names.SERVICE_NAME)
metrics = Metrics(namespace=names.METRICS_NAMESPACE, service=names.SERVICE_NAME)


def build_app(*routers: Router) -> SessionStoreResolver:
    app = SessionStoreResolver()
    register_error_handlers(app)
    for router in routers:
        app.include_router(router)
    return app


def entry_point(handler: Handler, correlation_id_path: str | None = None) -> Handler:
    """A Lambda entry point around `handler`: logging with the invocation's context, tracing when
    on, metrics flushed at the end, and the invocation's deadline known to the runtime. Every
    function (API, stream consumers) is built through here, so the stack is written once."""

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    @functools.wraps(handler)
    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        with runtime.invocation(context):
            return handler(event, context)

    return lambda_handler


def lambda_handler_for(app: SessionStoreResolver) -> Handler:
    return entry_point(app.resolve, correlation_id_path=correlation_paths.API_GATEWAY_REST)
