"""Builds an API function from a Router: resolver, error mapping, logging, tracing, metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.logging import correlation_paths

from session_store import names
from session_store.http import SessionStoreResolver, register_error_handlers

logger = Logger(service=names.SERVICE_NAME)
tracer = Tracer(service=names.SERVICE_NAME)
metrics = Metrics(namespace=names.METRICS_NAMESPACE, service=names.SERVICE_NAME)


def build_app(*routers: Router) -> SessionStoreResolver:
    app = SessionStoreResolver()
    register_error_handlers(app)
    for router in routers:
        app.include_router(router)
    return app


def lambda_handler_for(app: SessionStoreResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return lambda_handler
