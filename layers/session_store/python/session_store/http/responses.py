"""The responses of the API functions: JSON (held to Lambda's response limit), no content, and
the response of a write that an Idempotency-Key may replay."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

from session_store import codec, errors, wire
from session_store.http.preconditions import etag
from session_store.http.resolver import strict_json

if TYPE_CHECKING:
    from session_store.idempotency import Outcome

# Set on a response that an Idempotency-Key replayed instead of executing the request again.
REPLAYED_HEADER = "Idempotent-Replayed"


def json_response(status: int, body: Any, version: int | None = None) -> Response[str]:
    return json_text_response(status, codec.dumps(body), version)


def json_text_response(
    status: int, text: str, version: int | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    if not wire.fits(text, wire.MAX_RESPONSE_BODY_BYTES):
        raise errors.ResponseTooLarge(
            "the response would exceed Lambda's 6 MB limit: read the session with include_runs=false "
            "and page through GET /sessions/{session_id}/runs"
        )
    headers = dict(headers or {})
    if version is not None:
        headers["ETag"] = etag(version)
    return Response(status_code=status, content_type="application/json", body=text, headers=headers)


def no_content(headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=204, body="", headers=dict(headers or {}))


def outcome_response(outcome: Outcome, body: str | None = None) -> Response[str]:
    """The HTTP response of a write; `body` overrides the outcome's (a body rebuilt from the request)."""
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else {}
    text = body if body is not None else outcome.body
    if text is None:
        headers.update({"ETag": etag(outcome.version)} if outcome.version is not None else {})
        return no_content(headers) if outcome.status == 204 else Response(outcome.status, body="", headers=headers)
    return json_text_response(outcome.status, text, outcome.version, headers)


def request_json(event: Any) -> Any:
    """The JSON body of a request the resolver does not parse itself (e.g. merge-patch+json)."""
    text = event.decoded_body
    if not text:
        raise errors.InvalidRequest("the request needs a JSON body")
    try:
        return strict_json(text)
    except json.JSONDecodeError as error:
        raise errors.InvalidRequest(f"the request body is not valid JSON: {error.msg}") from None
