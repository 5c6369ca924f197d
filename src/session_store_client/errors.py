"""Exceptions for the Session Store API, built from RFC 9457 problem details.

Every error response of the API is ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and, for invalid input, ``errors`` naming each offending field. The
exception class is chosen by status so callers can catch what they can act on
(``except SessionNotFound``) without parsing bodies.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

REQUEST_ID_HEADER = "X-Request-Id"
# The problem type the API uses when a session is too large to return in one response.
RESPONSE_TOO_LARGE_TYPE_SUFFIX = "response-too-large"


class SessionStoreError(Exception):
    """An error answered by the Session Store API (or, with ``status=None``, no answer at all)."""

    def __init__(
        self,
        status: int | None,
        title: str,
        detail: str | None = None,
        type: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
    ):
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.errors = list(errors or [])
        self.request_id = request_id
        super().__init__(self._message())

    def _message(self) -> str:
        parts = [f"{self.status} {self.title}" if self.status is not None else self.title]
        if self.detail:
            parts.append(f": {self.detail}")
        for error in self.errors:
            parts.append(f"; {error.get('field')}: {error.get('message')}")
        if self.request_id:
            parts.append(f" (request id {self.request_id})")
        return "".join(parts)


class BadRequest(SessionStoreError):
    """400: the request is malformed (bad JSON, a tampered cursor, a query value out of range)."""


class Forbidden(SessionStoreError):
    """403: the write names a user other than the session's owner, or IAM refused the call."""


class NotFound(SessionStoreError):
    """404: the resource is missing, expired, of another type, or owned by another user."""


class SessionNotFound(NotFound):
    """404 on a session route."""


class RunNotFound(NotFound):
    """404 on a single-run route: the run or its session is missing."""


class MemoryNotFound(NotFound):
    """404 on a memory route: missing, expired, or another user's."""


class PreconditionFailed(SessionStoreError):
    """412: ``If-Match`` did not match the session's version, or ``If-None-Match: *`` found it."""


class PayloadTooLarge(SessionStoreError):
    """413: the request body is over the API's limit."""


class ResponseTooLarge(PayloadTooLarge):
    """413 on a read: the answer does not fit one response; read the runs page by page instead."""


class ValidationFailed(SessionStoreError):
    """422: the body is well-formed JSON but breaks the record's rules; see ``errors``."""


class TooManyRequests(SessionStoreError):
    """429 still answered after every retry."""


class ServiceUnavailable(SessionStoreError):
    """503 still answered after every retry (DynamoDB throttling or unavailable)."""


class SessionStoreConnectionError(SessionStoreError):
    """No HTTP answer at all after every retry (connection refused, reset, DNS...)."""

    def __init__(self, detail: str):
        super().__init__(status=None, title="Connection failed", detail=detail)


_ERROR_BY_STATUS: dict[int, type[SessionStoreError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def _parse_problem(body: bytes) -> dict[str, Any]:
    try:
        problem = json.loads(body) if body else {}
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}


def error_from_response(response: httpx.Response, not_found: type[NotFound] = NotFound) -> SessionStoreError:
    """The exception for an error response; ``not_found`` picks the 404 class for the route."""
    status = response.status_code
    problem = _parse_problem(response.content)
    problem_type = problem.get("type") if isinstance(problem.get("type"), str) else None
    error_class = _ERROR_BY_STATUS.get(status, SessionStoreError)
    if error_class is NotFound:
        error_class = not_found
    if error_class is PayloadTooLarge and (problem_type or "").endswith(RESPONSE_TOO_LARGE_TYPE_SUFFIX):
        error_class = ResponseTooLarge
    errors = problem.get("errors")
    return error_class(
        status=status,
        title=str(problem.get("title") or response.reason_phrase or "Error"),
        # API Gateway's own refusals (IAM, throttling) carry {"message": ...}, not a problem.
        detail=problem.get("detail") or problem.get("message"),
        type=problem_type,
        errors=errors if isinstance(errors, list) else None,
        request_id=response.headers.get(REQUEST_ID_HEADER),
    )
