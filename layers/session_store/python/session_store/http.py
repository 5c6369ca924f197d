"""What every API function shares: the resolver, problem+json errors, request ids, responses, the
parsing of precondition headers, and the OpenAPI documentation of every response.

Domain errors (and Powertools' idempotency errors) become HTTP responses here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
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

from session_store import codec, errors, names, wire

ModelT = TypeVar("ModelT", bound=BaseModel)

logger = Logger(service=names.SERVICE_NAME)

# The media types a write's body may have (compared case-insensitively, parameters allowed).
JSON_MEDIA_TYPE = "application/json"
MERGE_PATCH_MEDIA_TYPE = "application/merge-patch+json"
WRITE_MEDIA_TYPES = {
    "PUT": (JSON_MEDIA_TYPE,),
    "POST": (JSON_MEDIA_TYPE,),
    "PATCH": (JSON_MEDIA_TYPE, MERGE_PATCH_MEDIA_TYPE),
}
RETRY_AFTER_HEADER = "Retry-After"
# Set on a response that an Idempotency-Key replayed instead of executing the request again.
REPLAYED_HEADER = "Idempotent-Replayed"
# How long a client should wait before retrying a request whose first attempt is still running:
# about one write's worth of DynamoDB retries.
IN_PROGRESS_RETRY_AFTER_SECONDS = 1


def _strict_json(text: str) -> Any:
    try:
        return codec.loads_request(text)
    except codec.UnfaithfulJson as error:
        # Valid JSON that could not come back exactly as sent: refused, naming the field.
        raise errors.InvalidRequest(
            f"the request body cannot be stored exactly as sent: {error.field} {error.reason}",
            errors=[{"field": error.field, "location": "body", "message": error.reason}],
        ) from None
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:  # e.g. NaN, too-long integers, nesting beyond the parser
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
        self._own_event: Any = None
        self._own_context: Any = None

    # Powertools keeps the current event and context on the BaseRouter *class*, shared by every
    # resolver in the process. On Lambda a process runs one event at a time, but the local runtime
    # (and any host running several functions in one process) runs functions in parallel threads:
    # a PATCH then read the body of a PUT that another function had just started, and answered 422
    # for a body it never received. Each resolver keeps its own here; its routers read it through
    # `api_resolver`.
    @property
    def current_event(self) -> Any:
        return self._own_event

    @current_event.setter
    def current_event(self, value: Any) -> None:
        self._own_event = value

    @property
    def lambda_context(self) -> Any:
        return self._own_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._own_context = value

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = _canonical_path(event)
        request_id = (event.get("requestContext") or {}).get("requestId") or getattr(
            context, "aws_request_id", "local"
        )
        refused = _body_problem(event) or _media_type_problem(event)
        if refused is not None:
            response = _proxy_response(refused)
        else:
            event = _lowercase_media_type(event)
            self.current_event, self.lambda_context = self._to_proxy_event(event), context
            response = super().resolve(event, context)
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
    return len(body.encode("utf-8", "surrogatepass"))


def _body_problem(event: dict[str, Any]) -> Response | None:
    """A body refused before routing: over the size limit (before the validation middleware would
    parse megabytes of JSON), as sent or once escaped into the Lambda event (on AWS the invocation
    limit stops it earlier; this keeps every other runner honest, and measures what AWS measures),
    or bytes that are not UTF-8 text (API Gateway passes those base64-encoded, and Powertools would
    fail decoding them with an exception, a 500)."""
    limit_mb = names.MAX_REQUEST_BYTES // (1024 * 1024)
    too_large = None
    if _body_size(event) > names.MAX_REQUEST_BYTES:
        too_large = f"the request body is over {limit_mb} MB, the most a request may carry"
    elif (size := wire.event_bytes(event)) > wire.LAMBDA_PAYLOAD_BYTES:
        too_large = (f"the request takes {size} bytes once its body is escaped into the Lambda event, over the "
                     f"{limit_mb} MB an invocation may carry: quotes, backslashes, control and non-ASCII "
                     f"characters count as their escapes")
    if too_large is not None:
        return problem(errors.PayloadTooLarge.status, errors.PayloadTooLarge.title, too_large,
                       errors.PayloadTooLarge.slug)
    if event.get("isBase64Encoded") and event.get("body"):
        try:
            base64.b64decode(event["body"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return problem(400, "Malformed JSON", "the request body is not UTF-8 text, so not JSON", "malformed-json")
    return None


def _header(event: dict[str, Any], name: str) -> str | None:
    """A request header, looked up case-insensitively (API Gateway keeps the client's spelling)."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return value
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return values[-1]
    return None


def media_type(content_type: str | None) -> str | None:
    """`Application/JSON; charset=utf-8` -> `application/json` (RFC 9110: case-insensitive)."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _media_type_problem(event: dict[str, Any]) -> Response | None:
    """415 for a write whose body is not JSON: one rule for every write route, checked before
    routing so that no parser (Powertools reads form and multipart bodies too) ever sees it."""
    accepted = WRITE_MEDIA_TYPES.get(str(event.get("httpMethod") or "").upper())
    if accepted is None:
        return None
    sent = _header(event, "Content-Type")
    if media_type(sent) in accepted:
        return None
    named = "no Content-Type" if sent is None else f"Content-Type {sent[:80]!r}"
    return problem(415, "Unsupported media type",
                   f"{named}: send the body as {' or '.join(accepted)}", "unsupported-media-type",
                   [{"field": "content-type", "location": "header", "message": f"must be {' or '.join(accepted)}"}])


def _lowercase_media_type(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its Content-Type reduced to the bare, lower-case media type: accepted in any
    case (RFC 9110), while Powertools' body parser compares it case-sensitively."""
    if str(event.get("httpMethod") or "").upper() not in WRITE_MEDIA_TYPES:
        return event
    headers = {key: media_type(value) if key.lower() == "content-type" else value
               for key, value in (event.get("headers") or {}).items()}
    multi = {key: [media_type(value) for value in values] if key.lower() == "content-type" else values
             for key, values in (event.get("multiValueHeaders") or {}).items()}
    return {**event, "headers": headers, "multiValueHeaders": multi}


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
    if not wire.fits(text, wire.MAX_RESPONSE_BODY_BYTES):
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
    # Opaque tags compare character by character: only the exact spelling we issue (etag()) can
    # match, so `"01"` or `"١"` (digits int() would accept) never match version 1.
    if _ISSUED_ETAG.fullmatch(text) is None:
        raise errors.PreconditionFailed(
            f"If-Match {value[:64]!r} names no version of this session: send one strong ETag, as returned"
        )
    return int(text[1:-1])


# What etag() writes: a quoted version in canonical decimal (no sign, no leading zero), ASCII only.
_ISSUED_ETAG = re.compile(r'"(?:0|[1-9][0-9]{0,17})"', re.ASCII)


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


def parse_cached_versions(value: str | None) -> frozenset[int] | str | None:
    """`If-None-Match` on a read: the versions the caller holds (RFC 9110 13.1.2, weak comparison,
    so `W/"7"` matches version 7; `*` matches any). None when absent. A tag we never issued simply
    matches nothing: the caller gets the session, as with no header."""
    if value is None:
        return None
    if value.strip() == "*":
        return "*"
    versions = set()
    for tag in value.split(","):
        tag = tag.strip().removeprefix("W/")
        if 3 <= len(tag) <= 20 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit():
            versions.add(int(tag[1:-1]))
    return frozenset(versions)


def not_modified(version: int) -> Response:
    """304: the caller's copy (named by If-None-Match) is the current version."""
    return Response(status_code=304, body="", headers={"ETag": etag(version)})


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

    type: str = Field(description="A relative URI reference naming the problem: " + "; ".join(
        f"`{names.PROBLEM_TYPE_BASE}{slug}`: {meaning}" for slug, meaning in PROBLEM_TYPES.items()))
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
