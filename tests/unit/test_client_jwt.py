"""auth="jwt": every request carries the bearer token, a provider is asked per attempt."""

from __future__ import annotations

import pytest

from session_store_client import SessionStoreClient
from session_store_client.agno import SessionStoreDb
from tests.support.http_server import serve
from tests.support.scripted_server import Reply, ScriptedServer


def test_a_token_is_sent_as_a_bearer_token():
    server = ScriptedServer(Reply(200, {"session_id": "s"}))
    with serve(server) as url:
        SessionStoreClient(url, auth="jwt", token="header.payload.signature").get_session("s")
    assert server.requests[0].headers["Authorization"] == "Bearer header.payload.signature"


def test_a_token_provider_is_asked_before_every_attempt():
    tokens = iter(["first", "second"])
    server = ScriptedServer(Reply.problem(503, "Service Unavailable"), Reply(200, {"session_id": "s"}))
    with serve(server) as url:
        client = SessionStoreClient(url, auth="jwt", token=lambda: next(tokens))
        client._transport.retry_policy.sleep = lambda seconds: None
        client.get_session("s")
    assert [r.headers["Authorization"] for r in server.requests] == ["Bearer first", "Bearer second"]


def test_the_agno_adapter_passes_the_token_on():
    server = ScriptedServer(Reply.problem(404, "Not found"))
    with serve(server) as url:
        db = SessionStoreDb(base_url=url, auth="jwt", token=lambda: "agno-token")
        assert db.get_session("s", session_type="agent") is None
    assert server.requests[0].headers["Authorization"] == "Bearer agno-token"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"auth": "jwt"}, "needs token="),
        ({"auth": "jwt", "token": "  "}, "needs token="),
        ({"auth": None, "token": "t"}, "token=... is for auth='jwt'"),
        ({"auth": "basic"}, "auth must be 'iam', 'jwt' or None"),
    ],
)
def test_misuse_is_refused_up_front(arguments, message):
    with pytest.raises(ValueError, match=message):
        SessionStoreClient("http://127.0.0.1:9", **arguments)
