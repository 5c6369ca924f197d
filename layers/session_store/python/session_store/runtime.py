"""The composition root of the functions: builds the service from the environment, once per
execution environment, on first use (not at import: a cold start pays only for what it uses)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from session_store.settings import current_settings

if TYPE_CHECKING:  # the modules themselves are imported on first use (see below)
    # botocore's stubs name the shape of Config(retries=...) only privately.
    from botocore.config import _RetryDict

    from session_store.memories import MemoryService
    from session_store.repository import SessionRepository
    from session_store.service import SessionService
    from session_store.user_data import UserDataService
    from session_store.user_repository import UserRepository

# Fail fast: each call is retried 3 times within short timeouts (the read timeout is a setting:
# 2 s in AWS), and no attempt starts unless it can finish before the invocation's deadline (see
# _refuse_past_deadline), so a hung table gives a 503 from the function, never a timeout of the
# function (10 s) or of API Gateway (29 s).
_CONNECT_TIMEOUT_SECONDS = 1
_RETRIES: _RetryDict = {"max_attempts": 3, "mode": "standard"}


def _attempt_budget_ms() -> float:
    return (_CONNECT_TIMEOUT_SECONDS + current_settings().aws_read_timeout_seconds) * 1000 + 500


# The running invocation's Lambda context (set by api.lambda_handler_for), for its deadline.
_invocation: ContextVar[Any] = ContextVar("invocation", default=None)


@contextmanager
def invocation(context: Any) -> Iterator[None]:
    """The invocation's deadline applies to the calls made within it, and only to them: code run
    after it returns (a test, the next event's set-up) never sees a spent deadline."""
    token = _invocation.set(context)
    try:
        yield
    finally:
        _invocation.reset(token)


def _refuse_past_deadline(**_: Any) -> None:
    context = _invocation.get()
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None and remaining() < _attempt_budget_ms():
        from session_store.errors import ServiceUnavailable

        # Raised inside botocore's send: not an HTTP error, so botocore neither retries nor wraps it.
        raise ServiceUnavailable("the session table did not answer in time; retry")


# Called with (service name, client) for each AWS client the functions create, before first use:
# the benchmarks meter consumed capacity on the very client the service calls through.
client_observers: list[Callable[[str, Any], None]] = []


def aws_client(service_name: Literal["dynamodb", "s3"], endpoint_url: str | None) -> Any:
    # Imported here, not at module level: a handler's import (its cold start) then never loads
    # boto3; the first request that calls AWS does.
    import boto3
    from botocore.config import Config

    config = Config(
        retries=_RETRIES,
        tcp_keepalive=True,
        connect_timeout=_CONNECT_TIMEOUT_SECONDS,
        read_timeout=current_settings().aws_read_timeout_seconds,
    )
    client = boto3.session.Session().client(service_name, endpoint_url=endpoint_url, config=config)
    client.meta.events.register("before-send", _refuse_past_deadline)
    for observe in client_observers:
        observe(service_name, client)
    return client


@cache
def repository() -> SessionRepository:
    from session_store.payloads import PayloadStore
    from session_store.repository import SessionRepository

    settings = current_settings()
    payloads = PayloadStore(settings.payload_bucket, cache(lambda: aws_client("s3", settings.s3_endpoint)))
    return SessionRepository(aws_client("dynamodb", settings.dynamodb_endpoint), settings.table_name, payloads)


@cache
def service() -> SessionService:
    from session_store.service import SessionService

    settings = current_settings()
    return SessionService(repository(), settings.retention_days, cursor_key=settings.cursor_key)


@cache
def user_data() -> UserDataService:
    from session_store import wire
    from session_store.payloads import ExportStore
    from session_store.user_data import UserDataService

    settings = current_settings()
    exports = ExportStore(settings.payload_bucket, cache(lambda: aws_client("s3", settings.s3_endpoint)))
    return UserDataService(service(), exports, wire.MAX_RESPONSE_BODY_BYTES, memory_service())


@cache
def memory_service() -> MemoryService:
    from session_store.memories import MemoryService
    from session_store.memory_repository import MemoryRepository

    settings = current_settings()
    repository = MemoryRepository(aws_client("dynamodb", settings.dynamodb_endpoint), settings.table_name)
    return MemoryService(repository, settings.memory_retention_days)


def erasure_repository() -> UserRepository:
    """What the erasure worker pages through and deletes (built on the sessions' repository)."""
    from session_store.user_repository import UserRepository

    return UserRepository(repository())


def reset() -> None:
    """Forget built dependencies (tests change the environment between cases)."""
    current_settings.cache_clear()
    repository.cache_clear()
    service.cache_clear()
    user_data.cache_clear()
    memory_service.cache_clear()
