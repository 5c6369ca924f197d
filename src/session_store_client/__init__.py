"""Python client of the Session Store API, and (in ``session_store_client.agno``) an agno ``BaseDb``."""

from session_store_client.async_client import AsyncSessionStoreClient
from session_store_client.client import SessionStoreClient
from session_store_client.errors import (
    BadRequest,
    Forbidden,
    MemoryNotFound,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ResponseTooLarge,
    RunNotFound,
    ServiceUnavailable,
    SessionNotFound,
    SessionStoreConnectionError,
    SessionStoreError,
    TooManyRequests,
    ValidationFailed,
)
from session_store_client.models import (
    MemoryPage,
    MemoryStats,
    ResponseMeta,
    Run,
    RunPage,
    RunWithSession,
    Session,
    SessionPage,
    UserMemory,
)
from session_store_client.retry import RetryPolicy

__all__ = [
    "AsyncSessionStoreClient",
    "BadRequest",
    "Forbidden",
    "MemoryNotFound",
    "MemoryPage",
    "MemoryStats",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ResponseMeta",
    "ResponseTooLarge",
    "RetryPolicy",
    "Run",
    "RunNotFound",
    "RunPage",
    "RunWithSession",
    "ServiceUnavailable",
    "Session",
    "SessionNotFound",
    "SessionPage",
    "SessionStoreClient",
    "SessionStoreConnectionError",
    "SessionStoreError",
    "TooManyRequests",
    "UserMemory",
    "ValidationFailed",
]
