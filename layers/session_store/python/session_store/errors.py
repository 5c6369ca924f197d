"""Domain errors. Each knows its HTTP status so that one place (http/problems.py) maps them all."""

from __future__ import annotations

from typing import Any


class SessionStoreError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal-error"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidRequest(SessionStoreError):
    status, title, slug = 400, "Invalid request", "invalid-request"


class ValidationFailed(SessionStoreError):
    status, title, slug = 422, "Validation failed", "validation-failed"


class Forbidden(SessionStoreError):
    status, title, slug = 403, "Forbidden", "owner-mismatch"


class NotFound(SessionStoreError):
    status, title, slug = 404, "Not found", "not-found"


class PreconditionFailed(SessionStoreError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(SessionStoreError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class ResponseTooLarge(PayloadTooLarge):
    title, slug = "Response too large", "response-too-large"


class IdempotencyConflict(SessionStoreError):
    status, title, slug = 422, "Idempotency key reused", "idempotency-key-reused"


class ServiceUnavailable(SessionStoreError):
    status, title, slug = 503, "Service unavailable", "service-unavailable"

    def __init__(self, detail: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class Conflict(Exception):
    """A conditional write lost a race it can win by re-reading (a condition no longer held, or
    another transaction touched the item); the service reads again and retries. Never an HTTP
    answer of its own: retries that keep losing end as ServiceUnavailable. `failed` holds the
    positions of a transaction's refused operations (empty when not a condition)."""

    def __init__(self, detail: str, failed: list[int] | None = None) -> None:
        super().__init__(detail)
        self.failed = failed or []
