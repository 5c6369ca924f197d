"""OpenAPI documentation of responses.

The models below describe what the functions return; they validate nothing at run time. The
route decorators pass `documented(...)` as `responses=`, so /openapi.json lists every status a
route can answer with, its body and its headers, and schemathesis holds the functions to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from session_store import errors, names
from session_store.http.problems import RETRY_AFTER_HEADER
from session_store.http.responses import REPLAYED_HEADER

# Every problem `type` the API answers with: a relative URI reference, PROBLEM_TYPE_BASE + slug,
# and what it means. The OpenAPI document lists them on the Problem schema.
PROBLEM_TYPES: dict[str, str] = {
    errors.InvalidRequest.slug: "the request is malformed (a header, a parameter or the body as a whole)",
    "malformed-json": "the body is not valid JSON (or not UTF-8 text)",
    errors.ValidationFailed.slug: "the request does not match the schema; `errors` names each field",
    errors.Forbidden.slug: "the session belongs to another user",
    errors.NotFound.slug: "no such session or run (missing, expired, or another user's)",
    "no-route": "no such route",
    errors.PreconditionFailed.slug: "If-Match or If-None-Match did not hold; nothing was written",
    errors.PayloadTooLarge.slug: "the request is over the size limit, or what it holds does not fit the store",
    errors.ResponseTooLarge.slug: "the answer would be over Lambda's 6 MB; ask for less (include_runs=false, pages)",
    "unsupported-media-type": "the body is not of a content type the route takes",
    errors.IdempotencyConflict.slug: "the Idempotency-Key was first used with another request",
    "idempotency-request-in-progress": "the first request with this Idempotency-Key is still running",
    errors.ServiceUnavailable.slug: "DynamoDB or S3 was throttling or out of reach; retry after Retry-After",
    errors.SessionStoreError.slug: "an unexpected error, logged under the request id",
    "gateway-{RESPONSE_TYPE}": "answered by API Gateway itself, e.g. gateway-THROTTLED, gateway-UNAUTHORIZED, "
    "gateway-ACCESS_DENIED (its gateway response types)",
}


class ProblemField(BaseModel):
    field: str
    location: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(
        description="A relative URI reference naming the problem: "
        + "; ".join(f"`{names.PROBLEM_TYPE_BASE}{slug}`: {meaning}" for slug, meaning in PROBLEM_TYPES.items())
    )
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | None = Field(default=None, description="for invalid input: each offending field")


class RunDocument(BaseModel):
    """A run: any JSON object with a string run_id, returned exactly as written."""

    model_config = ConfigDict(extra="allow")
    run_id: str


class RunWithSession(RunDocument):
    """A run found by its id: as written, with `session_id` naming the session that holds it."""

    session_id: str


class SessionDocument(BaseModel):
    """A session without its runs, with the service's fields."""

    session_id: str
    session_type: str
    agent_id: str | None
    team_id: str | None
    workflow_id: str | None
    user_id: str | None
    session_data: dict[str, Any] | None
    agent_data: dict[str, Any] | None
    team_data: dict[str, Any] | None
    workflow_data: dict[str, Any] | None
    metadata: dict[str, Any] | None
    summary: dict[str, Any] | None
    created_at: int
    updated_at: int
    version: int = Field(description="+1 on every write to the session or its runs; the ETag")
    expires_at: int | None = Field(description="Unix seconds; null when the session never expires")
    run_count: int


class SessionWithRuns(SessionDocument):
    runs: list[RunDocument] | None = Field(default=None, description="absent with include_runs=false")


class SessionPage(BaseModel):
    sessions: list[SessionWithRuns]
    next_cursor: str | None = Field(
        description="null on the last page. A page may hold fewer sessions than `limit`, even none, and "
        "still have one: it stops after a bounded number of reads (e.g. behind an erased user's sessions)"
    )
    total: int | None = Field(default=None, description="only with include_total=true")


class RunPage(BaseModel):
    runs: list[RunDocument]
    next_cursor: str | None


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON, a modified or foreign cursor, or an unsupported If-None-Match",
    401: "JWT mode: no valid token (answered by API Gateway)",
    403: "The session belongs to another user, or the caller may not call the API",
    404: "No such session or run: missing, expired, or another user's",
    409: "A request with this Idempotency-Key is still in progress; retry after Retry-After",
    412: "If-Match or If-None-Match did not hold; nothing was written",
    413: "The body is over 6 MB, or what it holds does not fit the store",
    415: "The body is not application/json",
    422: "The request does not match the schema (`errors` names each field), or an Idempotency-Key was "
    "reused for another request",
    429: "API Gateway throttled the caller",
    503: "DynamoDB was throttling or unavailable after retries; retry after Retry-After",
}
_RETRY_STATUSES = (409, 503)
READ_PROBLEMS = (400, 401, 403, 404, 422, 429, 503)
LIST_PROBLEMS = (400, 401, 403, 422, 429, 503)
WRITE_PROBLEMS = (400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503)
DELETE_PROBLEMS = (400, 401, 403, 404, 409, 412, 422, 429, 503)

_REQUEST_ID = {
    names.REQUEST_ID_HEADER: {
        "description": "The request's id, for support and the logs",
        "schema": {"type": "string"},
        "required": True,
    },
}
_ETAG = {
    "ETag": {
        "description": 'The session\'s version, quoted ("7"): send it back in If-Match',
        "schema": {"type": "string", "pattern": r'^"[0-9]+"$'},
        "required": True,
    }
}
_RETRY_AFTER = {
    RETRY_AFTER_HEADER: {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "required": True,
    }
}
_REPLAYED = {
    REPLAYED_HEADER: {
        "description": "Present when an Idempotency-Key replayed the first response",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def documented(
    success: dict[int, tuple[str, type[BaseModel] | None]],
    problems: Iterable[int],
    *,
    etag_on_success: bool = False,
    idempotent: bool = False,
) -> dict[int, dict[str, Any]]:
    """The `responses=` of a route: each success status with its body model (None: no body) and
    each problem status a route can answer with, all carrying X-Request-Id."""
    documented_responses: dict[int, dict[str, Any]] = {}
    for status, (description, model) in success.items():
        headers = {**_REQUEST_ID, **(_ETAG if etag_on_success else {}), **(_REPLAYED if idempotent else {})}
        response: dict[str, Any] = {"description": description, "headers": headers}
        # A response without `content` would get the route's return annotation from Powertools;
        # an empty one documents "no body".
        response["content"] = {"application/json": {"model": model}} if model is not None else {}
        documented_responses[status] = response
    for status in problems:
        headers = {**_REQUEST_ID, **(_RETRY_AFTER if status in _RETRY_STATUSES else {})}
        documented_responses[status] = {
            "description": _PROBLEM_DESCRIPTIONS[status],
            "headers": headers,
            "content": {names.PROBLEM_CONTENT_TYPE: {"model": Problem}},
        }
    return documented_responses
