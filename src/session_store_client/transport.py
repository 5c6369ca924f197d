"""One HTTP exchange with the API: URL building, signing, retries and error mapping.

Kept apart from the client so the routes read as routes, and so retry behaviour has one home.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests

from session_store_client import _json
from session_store_client.auth import BearerToken, SigV4Signer
from session_store_client.errors import (
    REQUEST_ID_HEADER,
    NotFound,
    SessionStoreConnectionError,
    error_from_response,
)
from session_store_client.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after

JSON_CONTENT_TYPE = "application/json"


def _encode_segment(segment: str) -> str:
    # "." and ".." are dot-segments that URL normalization would resolve away; as ids they are
    # sent as %2E so they stay the literal ids.
    if segment in (".", ".."):
        return segment.replace(".", "%2E")
    return quote(segment, safe="")


def path(*segments: str) -> str:
    """``/a/b/c`` with every segment percent-encoded, ``/`` and ``#`` included.

    Ids may contain any character; encoding each one whole keeps ``a/b`` one segment and ``#``
    or ``?`` from ending the path.
    """
    return "".join("/" + _encode_segment(segment) for segment in segments)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_string(params: Mapping[str, Any]) -> str:
    """Parameters whose value is None are left out, a list repeats its name; spaces become %20,
    as SigV4 expects."""
    present = [
        (name, _query_value(item))
        for name, value in params.items()
        if value is not None
        for item in (value if isinstance(value, (list, tuple)) else [value])
    ]
    return urlencode(present, quote_via=quote)


def prepared(
    url: str,
    query: Mapping[str, Any] | None,
    body: Any,
    headers: Mapping[str, str | None] | None,
    content_type: str,
) -> tuple[str, dict[str, str], bytes | None]:
    """The URL with its query, the headers (None values dropped) and the JSON payload of a request,
    as the sync and the async transports send it."""
    encoded_query = query_string(query or {})
    if encoded_query:
        url = f"{url}?{encoded_query}"
    payload = None if body is None else _json.dumps(body)
    request_headers = {name: value for name, value in (headers or {}).items() if value is not None}
    request_headers["Accept"] = "application/json, application/problem+json"
    if payload is not None:
        request_headers["Content-Type"] = content_type
    return url, request_headers, payload


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    body: Any  # the parsed JSON, or None for an empty body

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def request_id(self) -> str | None:
        return self.headers.get(REQUEST_ID_HEADER)


class Transport:
    def __init__(
        self,
        base_url: str,
        *,
        signer: SigV4Signer | BearerToken | None,
        timeout: float,
        retry_policy: RetryPolicy,
        http: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.timeout = timeout
        self.retry_policy = retry_policy
        # One pooled session: connection reuse saves a TLS handshake per call.
        self.http = http or requests.Session()

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        route: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str | None] | None = None,
        content_type: str = JSON_CONTENT_TYPE,
        not_found: type[NotFound] = NotFound,
    ) -> ApiResponse:
        """Send with retries; return the answer or raise the SessionStoreError it maps to."""
        url, request_headers, payload = prepared(self.base_url + route, query, body, headers, content_type)
        attempt = 0
        while True:
            try:
                response = self._send(method, url, request_headers, payload)
            except requests.ConnectionError as error:
                delay = self.retry_policy.delay_before_retry(attempt)
                if delay is None:
                    raise SessionStoreConnectionError(f"{method} {url}: {error}") from error
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return self._result(response, not_found)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = self.retry_policy.delay_before_retry(attempt, retry_after)
                if delay is None:
                    return self._result(response, not_found)
            self.retry_policy.sleep(delay)
            attempt += 1

    def fetch(self, route: str, accept: str) -> requests.Response:
        """GET `route` with the same signing, retries and error mapping as request(), and return the
        raw response: the body unparsed (JSON Lines, say) and a redirect not followed."""
        url = self.base_url + route
        attempt = 0
        while True:
            try:
                response = self._send(
                    "GET", url, {"Accept": f"{accept}, application/problem+json"}, None, allow_redirects=False
                )
            except requests.ConnectionError as error:
                delay = self.retry_policy.delay_before_retry(attempt)
                if delay is None:
                    raise SessionStoreConnectionError(f"GET {url}: {error}") from error
            else:
                delay = None
                if response.status_code in RETRYABLE_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    delay = self.retry_policy.delay_before_retry(attempt, retry_after)
                if delay is None:
                    if response.status_code >= 400:
                        raise error_from_response(
                            response.status_code, response.reason, response.headers, response.content, NotFound
                        )
                    return response
            self.retry_policy.sleep(delay)
            attempt += 1

    def _send(
        self, method: str, url: str, headers: dict[str, str], payload: bytes | None, allow_redirects: bool = True
    ) -> requests.Response:
        # Signed per attempt: the signature embeds the time, and credentials may have rotated.
        if self.signer is not None:
            headers = self.signer.sign(method, url, headers, payload)
        prepared = self.http.prepare_request(requests.Request(method, url, data=payload, headers=headers))
        # Preparing normalizes the URL (/sessions/.. becomes /, %2E is decoded); the path must
        # reach the server exactly as encoded, and as signed.
        prepared.url = url
        settings = self.http.merge_environment_settings(url, {}, None, None, None)
        return self.http.send(prepared, timeout=self.timeout, allow_redirects=allow_redirects, **settings)

    @staticmethod
    def _result(response: requests.Response, not_found: type[NotFound]) -> ApiResponse:
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code, response.reason, response.headers, response.content, not_found
            )
        # Parsed with the standard library, whatever JSON library requests would pick, so
        # numbers come back as Python's json reads them (exact ints, shortest-repr floats).
        body = json.loads(response.content) if response.content else None
        return ApiResponse(status=response.status_code, headers=response.headers, body=body)
