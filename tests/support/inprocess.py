"""A SessionStoreClient whose requests go to the API functions in-process (tests/support/api.call)
instead of over a socket: the client's whole request and response handling, the handlers as
deployed, no server. The turn benchmark and the adapter's integration tests use it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from session_store_client import SessionStoreClient
from tests.support.api import call

BASE_URL = "http://in-process"


class InProcessAdapter(httpx.BaseTransport):
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every exchange

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(request.url.raw_path.decode())
        headers = {name: value for name, value in request.headers.items() if name.lower() != "content-type"}
        answer = call(
            request.method, url.path, query=dict(parse_qsl(url.query)) or None, raw_body=request.read(), headers=headers
        )
        self.requests.append((request.method, url.path, answer.status))
        return httpx.Response(answer.status, headers=answer.headers, content=answer.text.encode(), request=request)


def in_process_client(**options: Any) -> tuple[SessionStoreClient, InProcessAdapter]:
    adapter = InProcessAdapter()
    return SessionStoreClient(BASE_URL, http=httpx.Client(transport=adapter), **options), adapter
