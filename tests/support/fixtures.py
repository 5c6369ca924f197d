"""pytest fixtures for the client tests; test modules import the ones they use.

`api_url` serves the API's real handlers (in-process, on the test's DynamoDB Local table) over
HTTP, so the client and the Agno adapter are tested against the product, not a re-implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from urllib.parse import parse_qsl

import pytest

from session_store_client import RetryPolicy, SessionStoreClient
from tests.support.api import call
from tests.support.http_server import raw_path, serve
from tests.support.scripted_server import Reply, ScriptedServer


@pytest.fixture
def no_agno_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGNO_TELEMETRY", "false")


def handlers_app(environ, start_response):
    """A WSGI app handing each request to the API function of its route (tests/support/api.call)."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)) or None
    answer = call(environ["REQUEST_METHOD"], raw_path(environ), query=query, raw_body=body, headers=headers)
    start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", list(answer.headers.items()))
    return [answer.text.encode()]


@pytest.fixture
def api_url(table_name: str) -> Iterator[str]:
    with serve(handlers_app) as url:
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
