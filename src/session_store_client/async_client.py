"""AsyncSessionStoreClient: every route of SessionStoreClient as a coroutine, over httpx.

One pooled ``httpx.AsyncClient``, the same SigV4 signing (botocore), retry policy (429/503 and
unanswered requests, exponential backoff with full jitter, honouring Retry-After; the waits are
``asyncio.sleep``) and error mapping as the sync client.

The routes are not written twice. Each method runs the sync client's method of the same name
against a transport that answers from the responses already fetched and stops at the first
request it has no answer for; that request is sent with httpx (awaited) and the method is run
again, until it completes. So paths, queries, bodies, parsing and fallbacks (e.g. a session too
large for one response read again page by page) are the sync client's, by construction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import httpx

from session_store_client.auth import SigV4Signer
from session_store_client.client import SessionStoreClient
from session_store_client.errors import SessionStoreError
from session_store_client.retry import RetryPolicy
from session_store_client.transport import ApiResponse, AsyncTransport


class _NeedsResponse(Exception):
    def __init__(self, arguments: dict[str, Any]) -> None:
        self.arguments = arguments


class _ReplayTransport:
    """Answers a sync client's requests from responses already fetched, in order."""

    def __init__(self, answers: list[Any]) -> None:
        self._answers = answers
        self._position = 0

    def request(self, method: str, route: str, **arguments: Any) -> ApiResponse:
        if self._position == len(self._answers):
            raise _NeedsResponse({"method": method, "route": route, **arguments})
        answer = self._answers[self._position]
        self._position += 1
        if isinstance(answer, SessionStoreError):
            raise answer
        assert isinstance(answer, ApiResponse)
        return answer


class AsyncSessionStoreClient:
    """``await client.get_session(...)``: SessionStoreClient's methods and arguments, awaited.

    ``auth="iam"`` signs with SigV4 (botocore's default credential chain). Use ``async with`` or
    ``await client.aclose()`` to close the connection pool.
    """

    def __init__(
        self,
        base_url: str,
        auth: Literal["iam"] | None = None,
        region: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        retry_policy: RetryPolicy | None = None,
    ):
        if auth not in (None, "iam"):
            raise ValueError(f"auth must be 'iam' or None, not {auth!r}")
        signer = SigV4Signer.from_default_chain(base_url, region) if auth == "iam" else None
        self._transport = AsyncTransport(
            base_url,
            signer=signer,
            retry_policy=retry_policy or RetryPolicy(max_retries=max_retries),
            http=httpx.AsyncClient(timeout=timeout),
        )

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncSessionStoreClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        answers: list[Any] = []
        while True:
            replay = SessionStoreClient.__new__(SessionStoreClient)
            replay._transport = _ReplayTransport(answers)  # type: ignore[assignment]
            try:
                return getattr(replay, name)(*args, **kwargs)
            except _NeedsResponse as needed:
                arguments = dict(needed.arguments)
                try:
                    answers.append(
                        await self._transport.request(arguments.pop("method"), arguments.pop("route"), **arguments)
                    )
                except SessionStoreError as error:
                    answers.append(error)

    async def _iterate(self, list_name: str, items: str, page_size: int, **filters: Any) -> AsyncIterator[Any]:
        cursor: str | None = None
        while True:
            page = await self._run(list_name, limit=page_size, cursor=cursor, **filters)
            for item in getattr(page, items):
                yield item
            cursor = page.next_cursor
            if cursor is None:
                return

    def iter_sessions(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[Any]:
        return self._iterate("list_sessions", "sessions", page_size, **filters)

    def iter_runs(self, session_id: str, *, order: str = "asc", page_size: int = 100) -> AsyncIterator[Any]:
        return self._iterate("list_runs", "runs", page_size, session_id=session_id, order=order)

    def iter_memories(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[Any]:
        return self._iterate("list_memories", "memories", page_size, **filters)


def _route(name: str) -> Callable[..., Any]:
    async def method(self: AsyncSessionStoreClient, *args: Any, **kwargs: Any) -> Any:
        return await self._run(name, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(SessionStoreClient, name).__doc__
    return method


for _name in (
    "put_session",
    "get_session",
    "patch_session",
    "rename_session",
    "delete_session",
    "list_sessions",
    "put_run",
    "get_run",
    "get_run_by_id",
    "delete_run",
    "list_runs",
    "openapi",
    "put_memory",
    "get_memory",
    "delete_memory",
    "delete_memories",
    "list_memories",
    "memory_topics",
    "memory_stats",
):
    setattr(AsyncSessionStoreClient, _name, _route(_name))
