"""The resolver every API function routes with, and what it refuses before routing: bodies over
the size limit or not UTF-8, writes whose body is not JSON."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from session_store import codec, errors, names, powertools_compat, wire
from session_store.http.problems import problem
from session_store.http.queries import document_query_models, refuse_repeated_parameters
from session_store.powertools_compat import DecodedPathParameters

# The media types a write's body may have (compared case-insensitively, parameters allowed).
JSON_MEDIA_TYPE = "application/json"
MERGE_PATCH_MEDIA_TYPE = "application/merge-patch+json"
WRITE_MEDIA_TYPES = {
    "PUT": (JSON_MEDIA_TYPE,),
    "POST": (JSON_MEDIA_TYPE,),
    "PATCH": (JSON_MEDIA_TYPE, MERGE_PATCH_MEDIA_TYPE),
}


def strict_json(text: str) -> Any:
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
    value = strict_json(text)
    return tuple(value) if isinstance(value, list) else value


class SessionStoreResolver(DecodedPathParameters, APIGatewayRestResolver):
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
        self.use([refuse_repeated_parameters])

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Powertools' document (also behind its Swagger UI), with the query models' full schemas."""
        document = super().get_openapi_schema(*args, **kwargs)
        return document_query_models(document, powertools_compat.registered_routes(self))

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

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        proxy = _canonical_path(event)
        request_id = (proxy.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", "local")
        refused = _body_problem(proxy) or _media_type_problem(proxy)
        if refused is not None:
            response = _proxy_response(refused)
        else:
            proxy = _lowercase_media_type(proxy)
            self.current_event, self.lambda_context = self._to_proxy_event(proxy), context
            response = super().resolve(proxy, context)
        headers = response.setdefault("headers", {}) or {}
        headers[names.REQUEST_ID_HEADER] = request_id
        response["headers"] = headers
        if response.get("multiValueHeaders") is not None:
            response["multiValueHeaders"][names.REQUEST_ID_HEADER] = [request_id]
        return response


def _canonical_path(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as a dict (what Powertools' proxy events wrap), its path rebuilt from `resource`."""
    resource, parameters = event.get("resource"), event.get("pathParameters") or {}
    if not resource or "{" not in resource:
        return dict(event)
    path = resource
    for name, value in parameters.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return {**event, "path": path}


def _body_size(event: Mapping[str, Any]) -> int:
    """The request body's size in bytes, computed without copying it when it is clearly small."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    if len(body) * 4 <= wire.LAMBDA_PAYLOAD_BYTES:  # UTF-8 needs at most 4 bytes a character
        return len(body)
    return len(body.encode("utf-8", "surrogatepass"))


def _body_problem(event: Mapping[str, Any]) -> Response[str] | None:
    """A body refused before routing: over the size limit (before the validation middleware would
    parse megabytes of JSON), as sent or once escaped into the Lambda event (on AWS the invocation
    limit stops it earlier; this keeps every other runner honest, and measures what AWS measures),
    or bytes that are not UTF-8 text (API Gateway passes those base64-encoded, and Powertools would
    fail decoding them with an exception, a 500)."""
    limit_mb = wire.LAMBDA_PAYLOAD_BYTES // (1024 * 1024)
    too_large = None
    if _body_size(event) > wire.LAMBDA_PAYLOAD_BYTES:
        too_large = f"the request body is over {limit_mb} MB, the most a request may carry"
    elif (size := wire.event_bytes(event)) > wire.LAMBDA_PAYLOAD_BYTES:
        too_large = (
            f"the request takes {size} bytes once its body is escaped into the Lambda event, over the "
            f"{limit_mb} MB an invocation may carry: quotes, backslashes, control and non-ASCII "
            f"characters count as their escapes"
        )
    if too_large is not None:
        return problem(
            errors.PayloadTooLarge.status, errors.PayloadTooLarge.title, too_large, errors.PayloadTooLarge.slug
        )
    if event.get("isBase64Encoded") and event.get("body"):
        try:
            base64.b64decode(event["body"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return problem(400, "Malformed JSON", "the request body is not UTF-8 text, so not JSON", "malformed-json")
    return None


def _header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, looked up case-insensitively (API Gateway keeps the client's spelling)."""
    wanted = name.lower()
    # The proxy event's header maps, as API Gateway sends them: names to a value, or to a list.
    single: Mapping[str, str] = event.get("headers") or {}
    multi: Mapping[str, list[str]] = event.get("multiValueHeaders") or {}
    found = [value for key, value in single.items() if key.lower() == wanted]
    found += [values[-1] for key, values in multi.items() if key.lower() == wanted and values]
    return found[0] if found else None


def media_type(content_type: str | None) -> str | None:
    """`Application/JSON; charset=utf-8` -> `application/json` (RFC 9110: case-insensitive)."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _media_type_problem(event: Mapping[str, Any]) -> Response[str] | None:
    """415 for a write whose body is not JSON: one rule for every write route, checked before
    routing so that no parser (Powertools reads form and multipart bodies too) ever sees it."""
    accepted = WRITE_MEDIA_TYPES.get(str(event.get("httpMethod") or "").upper())
    if accepted is None:
        return None
    sent = _header(event, "Content-Type")
    if media_type(sent) in accepted:
        return None
    named = "no Content-Type" if sent is None else f"Content-Type {sent[:80]!r}"
    return problem(
        415,
        "Unsupported media type",
        f"{named}: send the body as {' or '.join(accepted)}",
        "unsupported-media-type",
        [{"field": "content-type", "location": "header", "message": f"must be {' or '.join(accepted)}"}],
    )


def _lowercase_media_type(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its Content-Type reduced to the bare, lower-case media type: accepted in any
    case (RFC 9110), while Powertools' body parser compares it case-sensitively."""
    if str(event.get("httpMethod") or "").upper() not in WRITE_MEDIA_TYPES:
        return event
    headers = {
        key: media_type(value) if key.lower() == "content-type" else value
        for key, value in (event.get("headers") or {}).items()
    }
    multi = {
        key: [media_type(value) for value in values] if key.lower() == "content-type" else values
        for key, values in (event.get("multiValueHeaders") or {}).items()
    }
    return {**event, "headers": headers, "multiValueHeaders": multi}


def _proxy_response(response: Response[str]) -> dict[str, Any]:
    """A Response as a REST proxy result, for answers given before the resolver runs."""
    headers = {name: [value] for name, value in response.headers.items()}
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": headers,
        "body": response.body,
        "isBase64Encoded": False,
    }
