"""The composition root of the functions: builds the service from the environment, once per
execution environment, on first use (not at import: a cold start pays only for what it uses)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from session_store.settings import current_settings

# Fail fast enough that API Gateway (29 s) never times out first: a request makes at most a few
# calls, each retried 3 times within these timeouts, well inside the functions' 10 s timeout.
_CLIENT_TIMEOUTS = {"connect_timeout": 1, "read_timeout": 2}
_RETRIES = {"max_attempts": 3, "mode": "standard"}

# Called with (service name, client) for each AWS client the functions create, before first use:
# the benchmarks meter consumed capacity on the very client the service calls through.
client_observers: list[Callable[[str, Any], None]] = []


def _client(service_name: str, endpoint_url: str | None) -> Any:
    # Imported here, not at module level: a handler's import (its cold start) then never loads
    # boto3; the first request that calls AWS does.
    import boto3
    from botocore.config import Config

    config = Config(retries=_RETRIES, tcp_keepalive=True, **_CLIENT_TIMEOUTS)
    client = boto3.session.Session().client(service_name, endpoint_url=endpoint_url, config=config)
    for observe in client_observers:
        observe(service_name, client)
    return client


@cache
def repository():
    from session_store.payloads import PayloadStore
    from session_store.repository import SessionRepository

    settings = current_settings()
    payloads = PayloadStore(settings.payload_bucket, cache(lambda: _client("s3", settings.s3_endpoint)))
    return SessionRepository(_client("dynamodb", settings.dynamodb_endpoint), settings.table_name, payloads)


@cache
def service():
    from session_store.service import SessionService

    return SessionService(repository(), current_settings().retention_days)


def reset() -> None:
    """Forget built dependencies (tests change the environment between cases)."""
    current_settings.cache_clear()
    repository.cache_clear()
    service.cache_clear()
