"""One HTTP exchange with the API: URL building, signing, retries and error mapping.

Kept apart from the client so the routes read as routes, and so retry behaviour has one home.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast
from urllib.parse import quote, urlencode, urlsplit

import httpx

from session_store_client import _json
from session_store_client.auth import BearerToken, SigV4Signer
from session_store_client.errors import (
    REQUEST_ID_HEADER,
    NotFound,
    SessionStoreConnectionError,
    error_from_response,
)
from session_store_client.models import ApiModel, ResponseMeta
from session_store_client.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after

JSON_CONTENT_TYPE = "application/json"
MAX_PAGE_SIZE = 100  # the API's largest page
ModelT = TypeVar("ModelT", bound=ApiModel)
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
# What the retry loop needs of a transport: to send a request, and to wait.
Send = Callable[[httpx.Request], Awaitable[httpx.Response]]
Sleep = Callable[[float], Awaitable[object]]


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


def parse(model: type[ModelT], response: ApiResponse) -> ModelT:
    result = model.model_validate(response.body)
    result._response_meta = ResponseMeta(response.status, response.etag, response.request_id)
    return result


def every_item(list_page: Callable[..., Any], items: str, page_size: int, **arguments: Any) -> Iterator[Any]:
    """Every item of a paged list (``items`` names the page's list), following ``next_cursor``."""
    cursor: str | None = None
    while True:
        page = list_page(limit=page_size, cursor=cursor, **arguments)
        yield from getattr(page, items)
        cursor = page.next_cursor
        if cursor is None:
            return


class _RetryingTransport(Generic[HttpT]):
    """What the sync and the async transports share: signing, the exact request target, the retry
    loop and how an answer maps to a result or an error. Only sending and waiting are their own.

    ``http`` is one pooled client: connections (and their TLS handshakes) are reused across
    requests and concurrent tasks."""

    def __init__(
        self, base_url: str, *, signer: SigV4Signer | BearerToken | None, retry_policy: RetryPolicy, http: HttpT
    ):
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.retry_policy = retry_policy
        self.http: HttpT = http

    def _build(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> httpx.Request:
        # Signed per attempt: the signature embeds the time, and credentials may have rotated.
        if self.signer is not None:
            headers = self.signer.sign(method, url, headers, body)
        request = self.http.build_request(method, url, content=body, headers=headers)
        # httpx.URL would normalize the path (/sessions/.. becomes /, %2E is decoded); the raw
        # target keeps it exactly as encoded, and as signed.
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request.url = request.url.copy_with(raw_path=target.encode())
        return request

    async def _exchange(
        self, send: Send, sleep: Sleep, method: str, url: str, headers: dict[str, str], payload: bytes | None
    ) -> httpx.Response:
        """Send until an answer is the one to keep, waiting before each retry; a request that got
        no answer and may not be retried raises SessionStoreConnectionError. The one retry loop of
        both transports: each passes its own ``send`` and ``sleep``."""
        for attempt in itertools.count():
            try:
                response = await send(self._build(method, url, headers, payload))
            except httpx.TransportError as error:
                delay = self.retry_policy.delay_before_retry(attempt)
                if delay is None:
                    raise SessionStoreConnectionError(f"{method} {url}: {error}") from error
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = self.retry_policy.delay_before_retry(attempt, retry_after)
                if delay is None:
                    return response
            await sleep(delay)
        raise AssertionError("unreachable: itertools.count() never ends")

    @staticmethod
    def _raise_for_error(response: httpx.Response, not_found: type[NotFound] = NotFound) -> httpx.Response:
        if response.status_code >= 400:
            raise error_from_response(response, not_found)
        return response

    @classmethod
    def _result(cls, response: httpx.Response, not_found: type[NotFound]) -> ApiResponse:
        cls._raise_for_error(response, not_found)
        # Parsed with the standard library, so numbers come back as Python's json reads them
        # (exact ints, shortest-repr floats).
        body = json.loads(response.content) if response.content else None
        return ApiResponse(status=response.status_code, headers=response.headers, body=body)


class Transport(_RetryingTransport[httpx.Client]):
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
        return self._result(self._send(method, url, request_headers, payload, follow_redirects=True), not_found)

    def fetch(self, route: str, accept: str) -> httpx.Response:
        """GET `route` with the same signing, retries and error mapping as request(), and return the
        raw response: the body unparsed (JSON Lines, say) and a redirect not followed."""
        headers = {"Accept": f"{accept}, application/problem+json"}
        response = self._send("GET", self.base_url + route, headers, None, follow_redirects=False)
        return self._raise_for_error(response)

    def _send(
        self, method: str, url: str, headers: dict[str, str], payload: bytes | None, follow_redirects: bool
    ) -> httpx.Response:
        async def send(request: httpx.Request) -> httpx.Response:
            return self.http.send(request, follow_redirects=follow_redirects)

        async def sleep(delay: float) -> None:
            self.retry_policy.sleep(delay)

        # Blocking calls wrapped as coroutines: the loop never suspends, so one send(None) runs it to the end.
        exchange = self._exchange(send, sleep, method, url, headers, payload)
        try:
            exchange.send(None)
        except StopIteration as done:
            return cast(httpx.Response, done.value)
        raise AssertionError("unreachable: the retry loop awaited something that suspends")


class AsyncTransport(_RetryingTransport[httpx.AsyncClient]):
    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
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
        url, request_headers, payload = prepared(self.base_url + route, query, body, headers, content_type)
        # The waits are asyncio.sleep, so other tasks run meanwhile.
        response = await self._exchange(self.http.send, asyncio.sleep, method, url, request_headers, payload)
        return self._result(response, not_found)
