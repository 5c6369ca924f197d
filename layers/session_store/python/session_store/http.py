"""What every API function shares: the resolver, problem+json errors, request ids, responses, the
parsing of precondition headers, and the OpenAPI documentation of every response.

Domain errors (and Powertools' idempotency errors) become HTTP responses here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from session_store import codec, errors, names

ModelT = TypeVar("ModelT", bound=BaseModel)

logger = Logger(service=names.SERVICE_NAME)

# Lambda's response payload limit, less headroom for headers and the proxy envelope.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024
RETRY_AFTER_HEADER = "Retry-After"
# Set on a response that an Idempotency-Key replayed instead of executing the request again.
REPLAYED_HEADER = "Idempotent-Replayed"
# How long a client should wait before retrying a request whose first attempt is still running:
# about one write's worth of DynamoDB retries.
IN_PROGRESS_RETRY_AFTER_SECONDS = 1


def _strict_json(text: str) -> Any:
    try:
        return codec.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:  # e.g. 1e999, NaN, too-long integers
        raise json.JSONDecodeError(str(error), text, 0) from None


def _body_json(text: str) -> Any:
    """A request body for the resolver's validation. Powertools hands a non-sequence parameter the
    first element of a list (meant for repeated query parameters) and does so for bodies too, so
    `[{...}]` would pass as `{...}`; no route takes an array, and as a tuple it fails validation."""
    value = _strict_json(text)
    return tuple(value) if isinstance(value, list) else value


class SessionStoreResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, routing on API Gateway's resource and decoded path parameters.

    Ids may hold any character (`#`, `/` when encoded, spaces, …) but Powertools matches path
    parameters against a narrow character class. API Gateway has already routed the request, so
    the path is rebuilt from `resource` with each parameter percent-encoded (always matchable) and
    decoded again when handed to the handler.
    """

    def __init__(self) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=_body_json)

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = _canonical_path(event)
        request_id = (event.get("requestContext") or {}).get("requestId") or getattr(
            context, "aws_request_id", "local"
        )
        refused = _body_problem(event)
        response = _proxy_response(refused) if refused is not None else super().resolve(event, context)
        headers = response.setdefault("headers", {}) or {}
        headers[names.REQUEST_ID_HEADER] = request_id
        response["headers"] = headers
        if response.get("multiValueHeaders") is not None:
            response["multiValueHeaders"][names.REQUEST_ID_HEADER] = [request_id]
        return response

    def _convert_matches_into_route_keys(self, match: Any) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def _canonical_path(event: dict[str, Any]) -> dict[str, Any]:
    resource, parameters = event.get("resource"), event.get("pathParameters") or {}
    if not resource or "{" not in resource:
        return event
    path = resource
    for name, value in parameters.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return {**event, "path": path}


def _body_size(event: dict[str, Any]) -> int:
    """The request body's size in bytes, computed without copying it when it is clearly small."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    if len(body) * 4 <= names.MAX_REQUEST_BYTES:  # UTF-8 needs at most 4 bytes a character
        return len(body)
    return len(body.encode())


def _body_problem(event: dict[str, Any]) -> Response | None:
    """A body refused before routing: over the size limit (before the validation middleware would
    parse megabytes of JSON; on AWS the invocation limit stops it earlier, this keeps every other
    runner honest), or bytes that are not UTF-8 text (API Gateway passes those base64-encoded, and
    Powertools would fail decoding them with an exception, a 500)."""
    if _body_size(event) > names.MAX_REQUEST_BYTES:
        limit_mb = names.MAX_REQUEST_BYTES // (1024 * 1024)
        return problem(errors.PayloadTooLarge.status, errors.PayloadTooLarge.title,
                       f"the request body is over {limit_mb} MB, the most a request may carry",
                       errors.PayloadTooLarge.slug)
    if event.get("isBase64Encoded") and event.get("body"):
        try:
            base64.b64decode(event["body"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return problem(400, "Malformed JSON", "the request body is not UTF-8 text, so not JSON", "malformed-json")
    return None


def _proxy_response(response: Response) -> dict[str, Any]:
    """A Response as a REST proxy result, for answers given before the resolver runs."""
    headers = {name: [value] for name, value in response.headers.items()}
    return {"statusCode": response.status_code, "multiValueHeaders": headers, "body": response.body,
            "isBase64Encoded": False}


def problem(
    status: int, title: str, detail: str, slug: str, errors_list: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": names.PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors_list is not None:
        body["errors"] = errors_list
    return Response(status_code=status, content_type=names.PROBLEM_CONTENT_TYPE, body=codec.dumps(body),
                    headers=headers or {})


def etag(version: int) -> str:
    return f'"{version}"'


def json_response(status: int, body: Any, version: int | None = None) -> Response:
    return json_text_response(status, codec.dumps(body), version)


def json_text_response(status: int, text: str, version: int | None = None,
                       headers: dict[str, str] | None = None) -> Response:
    if len(text.encode()) > MAX_RESPONSE_BYTES:
        raise errors.ResponseTooLarge(
            "the response would exceed Lambda's 6 MB limit: read the session with include_runs=false "
            "and page through GET /sessions/{session_id}/runs"
        )
    headers = dict(headers or {})
    if version is not None:
        headers["ETag"] = etag(version)
    return Response(status_code=status, content_type="application/json", body=text, headers=headers)


def no_content(headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=204, body="", headers=dict(headers or {}))


@dataclass(frozen=True)
class Outcome:
    """What a write answered, in a form an Idempotency-Key record can store and replay.

    `body` is the JSON text exactly as first sent (None: no body, or one the handler rebuilds from
    the request, which a replay carries unchanged).
    """

    status: int
    version: int | None = None
    body: str | None = None
    replayed: bool = False


def outcome_response(outcome: Outcome, body: str | None = None) -> Response:
    """The HTTP response of a write; `body` overrides the outcome's (a body rebuilt from the request)."""
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else {}
    text = body if body is not None else outcome.body
    if text is None:
        headers.update({"ETag": etag(outcome.version)} if outcome.version is not None else {})
        return no_content(headers) if outcome.status == 204 else Response(outcome.status, body="", headers=headers)
    return json_text_response(outcome.status, text, outcome.version, headers)


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    described = []
    for entry in error.errors():
        location = [str(part) for part in entry.get("loc", ())]
        where = location[0] if location else "body"
        described.append({
            "field": ".".join(location[1:]) or where,
            "location": where,
            "message": entry.get("msg", "invalid"),
        })
    return described


def _retry_later(status: int, title: str, detail: str, slug: str, seconds: int) -> Response:
    return problem(status, title, detail, slug, headers={RETRY_AFTER_HEADER: str(seconds)})


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(errors.SessionStoreError)
    def _domain_error(error: errors.SessionStoreError) -> Response:
        headers = {}
        retry_after = getattr(error, "retry_after_seconds", None)
        if retry_after is not None:
            headers[RETRY_AFTER_HEADER] = str(retry_after)
            logger.warning("retry later", extra={"status": error.status, "detail": error.detail})
        return problem(error.status, error.title, error.detail, error.slug, error.errors, headers)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        if any(entry.get("type") == "json_invalid" for entry in error.errors()):
            return problem(400, "Malformed JSON", "the request body is not valid JSON", "malformed-json",
                           _validation_errors(error))
        return problem(422, errors.ValidationFailed.title, "the request does not match the API's schema",
                       errors.ValidationFailed.slug, _validation_errors(error))

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return problem(404, "Not found", "no such route", "no-route")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Never a stack trace to the client; the log has it, under the request's correlation id.
        if type(error).__name__ == "RequestUnsupportedContentType":
            return problem(415, "Unsupported media type", "send application/json", "unsupported-media-type")
        idempotency_problem = _idempotency_problem(error)
        if idempotency_problem is not None:
            return idempotency_problem
        logger.exception("unexpected error")
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged", "internal-error")


# Powertools' idempotency errors are mapped without importing them here: that package imports
# boto3, which a handler's import (its cold start) must not load (see api.py). If the package was
# never loaded, none of its errors can have been raised.
_IDEMPOTENCY_ERRORS = "aws_lambda_powertools.utilities.idempotency.exceptions"


def _idempotency_problem(error: Exception) -> Response | None:
    powertools = sys.modules.get(_IDEMPOTENCY_ERRORS)
    if powertools is None:
        return None
    if isinstance(error, powertools.IdempotencyValidationError):
        conflict = errors.IdempotencyConflict
        return problem(conflict.status, conflict.title,
                       "this Idempotency-Key was first used with another request (method, path, query, "
                       "preconditions or body); use a new key for a new request", conflict.slug)
    if isinstance(error, powertools.IdempotencyAlreadyInProgressError):
        return _retry_later(409, "Request in progress",
                            "a request with this Idempotency-Key is still being processed; retry it later",
                            "idempotency-request-in-progress", IN_PROGRESS_RETRY_AFTER_SECONDS)
    if isinstance(error, powertools.IdempotencyPersistenceLayerError) and _is_aws_error(error.__cause__):
        # Powertools wraps what the record store raised: DynamoDB out of reach or throttling is a
        # 503 like on any other path (anything else is a bug, a 500).
        unavailable = errors.ServiceUnavailable("the idempotency records are out of reach; retry")
        logger.warning("idempotency store unavailable", extra={"cause": repr(error.__cause__)})
        return _retry_later(unavailable.status, unavailable.title, unavailable.detail, unavailable.slug,
                            unavailable.retry_after_seconds)
    return None


def _is_aws_error(error: BaseException | None) -> bool:
    botocore = sys.modules.get("botocore.exceptions")  # loaded if it raised anything
    return botocore is not None and isinstance(error, (botocore.BotoCoreError, botocore.ClientError))


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "7"` -> 7. An ETag we never issued can never match: that is a 412, not a 400.

    If-Match uses the strong comparison (RFC 9110 13.1.1), so a weak `W/"7"` never matches; `*` and
    lists are refused too, because the write could not be made conditional on them atomically.
    """
    if value is None:
        return None
    text = value.strip()
    if len(text) < 3 or text[0] != '"' or text[-1] != '"' or not text[1:-1].isdigit() or len(text) > 20:
        raise errors.PreconditionFailed(
            f"If-Match {value[:64]!r} names no version of this session: send one strong ETag, as returned"
        )
    return int(text[1:-1])


def parse_if_none_match(value: str | None) -> bool:
    """`If-None-Match: *` -> create-only. Other forms are refused rather than silently ignored."""
    if value is None:
        return False
    if value.strip() == "*":
        return True
    raise errors.InvalidRequest(
        "If-None-Match on a write supports only `*` (create the session only if it does not exist)",
        errors=[{"field": "if-none-match", "location": "header", "message": "only * is supported"}],
    )


def describe(error: ValidationError, location: str = "body") -> list[dict[str, Any]]:
    """Pydantic errors as the problem's `errors` list: one entry per offending field."""
    return [
        {
            "field": ".".join(str(part) for part in entry.get("loc", ())) or location,
            "location": location,
            "message": entry.get("msg", "invalid"),
        }
        for entry in error.errors()
    ]


def validated(model: type[ModelT], values: dict[str, Any], location: str) -> ModelT:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise errors.ValidationFailed(f"the request's {location} is invalid", errors=describe(error, location)) from None


def request_json(event: Any) -> Any:
    """The JSON body of a request the resolver does not parse itself (e.g. merge-patch+json)."""
    text = event.decoded_body
    if not text:
        raise errors.InvalidRequest("the request needs a JSON body")
    try:
        return _strict_json(text)
    except json.JSONDecodeError as error:
        raise errors.InvalidRequest(f"the request body is not valid JSON: {error.msg}") from None


# --- OpenAPI documentation of responses --------------------------------------------------------
# The models below describe what the functions return; they validate nothing at run time. The
# route decorators pass `documented(...)` as `responses=`, so /openapi.json lists every status a
# route can answer with, its body and its headers, and schemathesis holds the functions to it.


class ProblemField(BaseModel):
    field: str
    location: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | None = Field(default=None, description="for invalid input: each offending field")


class RunDocument(BaseModel):
    """A run: any JSON object with a string run_id, returned exactly as written."""

    model_config = ConfigDict(extra="allow")
    run_id: str


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
    next_cursor: str | None
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
    names.REQUEST_ID_HEADER: {"description": "The request's id, for support and the logs",
                              "schema": {"type": "string"}, "required": True},
}
_ETAG = {"ETag": {"description": 'The session\'s version, quoted ("7"): send it back in If-Match',
                  "schema": {"type": "string", "pattern": r'^"[0-9]+"$'}, "required": True}}
_RETRY_AFTER = {RETRY_AFTER_HEADER: {"description": "Seconds to wait before retrying",
                                     "schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True}}
_REPLAYED = {REPLAYED_HEADER: {"description": "Present when an Idempotency-Key replayed the first response",
                               "schema": {"type": "string", "enum": ["true"]}}}


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
