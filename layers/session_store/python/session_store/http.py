"""What every API function shares: the resolver, problem+json errors, request ids, responses.

Domain errors become HTTP responses here and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from pydantic import BaseModel, ValidationError

from session_store import codec, errors, names

ModelT = TypeVar("ModelT", bound=BaseModel)

logger = Logger(service=names.SERVICE_NAME)

# Lambda's response payload limit, less headroom for headers and the proxy envelope.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024


def _strict_json(text: str) -> Any:
    try:
        return codec.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:  # e.g. 1e999, NaN, too-long integers
        raise json.JSONDecodeError(str(error), text, 0) from None


class SessionStoreResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, routing on API Gateway's resource and decoded path parameters.

    Ids may hold any character (`#`, `/` when encoded, spaces, …) but Powertools matches path
    parameters against a narrow character class. API Gateway has already routed the request, so
    the path is rebuilt from `resource` with each parameter percent-encoded (always matchable) and
    decoded again when handed to the handler.
    """

    def __init__(self) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=_strict_json)

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = _canonical_path(event)
        request_id = (event.get("requestContext") or {}).get("requestId") or getattr(
            context, "aws_request_id", "local"
        )
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


def json_response(status: int, body: Any, version: int | None = None) -> Response:
    text = codec.dumps(body)
    if len(text.encode()) > MAX_RESPONSE_BYTES:
        raise errors.ResponseTooLarge(
            "the response would exceed Lambda's 6 MB limit: read the session with include_runs=false "
            "and page through GET /sessions/{session_id}/runs"
        )
    headers = {"ETag": f'"{version}"'} if version is not None else {}
    return Response(status_code=status, content_type="application/json", body=text, headers=headers)


def no_content() -> Response:
    return Response(status_code=204, body="", headers={})


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


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(errors.SessionStoreError)
    def _domain_error(error: errors.SessionStoreError) -> Response:
        headers = {}
        if isinstance(error, errors.ServiceUnavailable):
            headers["Retry-After"] = str(error.retry_after_seconds)
            logger.warning("service unavailable", extra={"detail": error.detail})
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
        logger.exception("unexpected error")
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged", "internal-error")


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "7"` -> 7. An ETag we never issued can never match: that is a 412, not a 400."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit() or len(text) > 18:
        raise errors.PreconditionFailed(f"If-Match {value!r} names no version of this session")
    return int(text)


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
