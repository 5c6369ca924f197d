"""The client calls the importer makes (get_session, put_session), served by the API functions
in-process (tests/support/api.call), for benchmarks and tests that need no HTTP server."""

from __future__ import annotations

from typing import Any

from session_store_client.errors import SessionNotFound
from session_store_client.models import Session
from tests.support.api import call, session_path


class InProcessClient:
    def get_session(self, session_id: str, include_runs: bool = True) -> Session:
        response = call("GET", session_path(session_id), query={"include_runs": str(include_runs).lower()})
        if response.status == 404:
            raise SessionNotFound(404, "Not found", response.json().get("detail"))
        assert response.status == 200, response.text
        return Session.model_validate(response.json())

    def put_session(self, session_id: str, body: dict[str, Any]) -> Session:
        response = call("PUT", session_path(session_id), body)
        assert response.status in (200, 201), response.text
        return Session.model_validate(response.json())
