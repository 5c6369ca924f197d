"""pytest fixtures for the client tests; test modules import the ones they use."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from session_store_client import RetryPolicy, SessionStoreClient
from tests.support.fake_api import FakeSessionStoreApi
from tests.support.http_server import serve
from tests.support.scripted_server import Reply, ScriptedServer


@pytest.fixture
def no_agno_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGNO_TELEMETRY", "false")


@pytest.fixture
def fake_api() -> FakeSessionStoreApi:
    return FakeSessionStoreApi()


@pytest.fixture
def fake_api_url(fake_api: FakeSessionStoreApi) -> Iterator[str]:
    with serve(fake_api) as url:
        yield url


class Sleeps(list):
    """A RetryPolicy.sleep that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def scripted(sleeps: Sleeps) -> Iterator[Callable[..., tuple]]:
    """``scripted(*replies, **policy)`` -> (client, server): a client of a server answering ``replies``.

    Waits are recorded in ``sleeps``; jitter draws 0.5 so expected waits are exact.
    """
    servers = []

    def start(*replies: Reply, **policy):
        server = ScriptedServer(*replies)
        context = serve(server)
        url = context.__enter__()
        servers.append(context)
        retry_policy = RetryPolicy(**{"sleep": sleeps, "random": lambda: 0.5, **policy})
        return SessionStoreClient(url, retry_policy=retry_policy), server

    yield start
    for context in servers:
        context.__exit__(None, None, None)
