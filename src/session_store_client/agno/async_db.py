"""AsyncSessionStoreDb: an agno ``AsyncBaseDb`` with exactly the sync adapter's behaviour.

agno awaits every method of an ``AsyncBaseDb``. Each method here runs the same method of a
:class:`SessionStoreDb` in a worker thread (``asyncio.to_thread``), so the event loop never waits
for an HTTP request: concurrent ``arun`` turns and AgentOS requests proceed while the store
answers. The behaviour (rows, filters, order, fallback) is the sync adapter's by construction.

Why threads rather than AsyncSessionStoreClient (httpx) underneath: one implementation of every
method keeps the two adapters from drifting, and the adapter's own CPU work (serializing and
digesting a session's runs on every upsert) then runs in a thread too, where the interpreter
hands the loop the GIL every few milliseconds. Replaying the sync adapter's methods over the
httpx client (as AsyncSessionStoreClient replays the sync client) was measured and stalled the
loop longer: 459-587 ms against 26-160 ms, because that CPU work then ran on the loop itself.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
from collections.abc import Callable
from typing import Any, Literal

from agno.db.base import AsyncBaseDb, BaseDb

from session_store_client.agno.db import SessionStoreDb
from session_store_client.agno.fallback import INFRASTRUCTURE, _hints, _without_fallback, hide_tables_without_fallback
from session_store_client.client import SessionStoreClient


def _threaded(name: str) -> Callable[..., Any]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.sync_db, name), *args, **kwargs)

    return method


def _direct(name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.sync_db, name)(*args, **kwargs)

    return method


def _absent(name: str, annotation: Any, is_async: bool) -> Callable[..., Any]:
    """A method AsyncBaseDb declares and BaseDb does not: the fallback rule without a fallback."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _without_fallback(self, name, annotation, kwargs)

    async def async_method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs)

    return async_method if is_async else method


def _mirror_the_sync_adapter(cls: type) -> type:
    for name, original in inspect.getmembers(AsyncBaseDb, callable):
        if name.startswith("_") or name in INFRASTRUCTURE - {"table_exists"} or name in vars(cls):
            continue
        is_async = inspect.iscoroutinefunction(original)
        if hasattr(BaseDb, name):
            method = _threaded(name) if is_async else _direct(name)
        else:
            method = _absent(name, _hints(AsyncBaseDb, name), is_async)
        method.__name__ = method.__qualname__ = name
        setattr(cls, name, method)
    # The methods were added after the class was built: let ABCMeta recount what is abstract.
    abc.update_abstractmethods(cls)
    return cls


@_mirror_the_sync_adapter
class AsyncSessionStoreDb(AsyncBaseDb):
    """``Agent(db=AsyncSessionStoreDb(base_url=...))``; the arguments are SessionStoreDb's."""

    def __init__(
        self,
        base_url: str | None = None,
        auth: Literal["iam"] | None = None,
        region: str | None = None,
        client: SessionStoreClient | None = None,
        id: str | None = None,
        fallback: BaseDb | None = None,
    ):
        # mypy reads SessionStoreDb as abstract: BaseDb's abstract methods are defined on it by
        # @delegate_to_fallback when the class is created, not in its body.
        self.sync_db = SessionStoreDb(  # type: ignore[abstract]
            base_url=base_url, auth=auth, region=region, client=client, id=id, fallback=fallback
        )
        super().__init__(id=self.sync_db.id)
        self.fallback = fallback
        hide_tables_without_fallback(self)

    @property
    def client(self) -> SessionStoreClient:
        return self.sync_db.client

    async def close(self) -> None:
        # Awaited, as AsyncBaseDb declares it: AgentOS awaits every async db's close at shutdown.
        # Closing the HTTP client and the fallback may block, so it runs in a thread like the rest.
        await asyncio.to_thread(self.sync_db.close)
