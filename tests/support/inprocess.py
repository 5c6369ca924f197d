"""A SessionStoreClient whose requests go to the API functions in-process (tests/support/api.call)
instead of over a socket: the client's whole request and response handling, the handlers as
deployed, no server. The turn benchmark and the adapter's integration tests use it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from session_store_client import SessionStoreClient
from tests.support.api import call

BASE_URL = "http://in-process"


class InProcessAdapter(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every exchange

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        url = urlsplit(request.url)
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        headers = {name: value for name, value in request.headers.items() if name.lower() != "content-type"}
        answer = call(
            str(request.method), url.path, query=dict(parse_qsl(url.query)) or None, raw_body=body, headers=headers
        )
        self.requests.append((str(request.method), url.path, answer.status))
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.text.encode()
        response.url = str(request.url)
        response.request = request
        response.reason = "In-process"
        return response

    def close(self) -> None:
        pass


def in_process_client(**options: Any) -> tuple[SessionStoreClient, InProcessAdapter]:
    adapter = InProcessAdapter()
    http = requests.Session()
    http.mount(BASE_URL, adapter)
    return SessionStoreClient(BASE_URL, http=http, **options), adapter
