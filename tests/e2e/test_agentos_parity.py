"""AgentOS on SessionStoreDb (the local runtime) against AgentOS on agno's SqliteDb: the same app,
the same scenario (an agent with memory, two runs), every route the AgentOS UI calls."""

from __future__ import annotations

import uuid

import pytest
from agno.db.sqlite import SqliteDb

from session_store_client.agno import AsyncSessionStoreDb, SessionStoreDb
from tests.support import agentos_parity

pytestmark = pytest.mark.e2e

# Compared on status only: agno computes these from its own tables (metrics from sessions, the
# config lists each domain's tables), which a SessionStoreDb without fallback does not have.
STATUS_ONLY = ("GET /config", "GET /metrics", "POST /databases")


@pytest.fixture(autouse=True)
def _no_agno_telemetry(monkeypatch):
    monkeypatch.setenv("AGNO_TELEMETRY", "false")


@pytest.fixture(scope="module")
def fresh_api_url(local_runtime, start_runtime, local_assembly) -> str:
    """A runtime of its own (the synthesized stack, reused): AgentOS lists every session and memory
    of the store, so the store must hold only this scenario's, as the SqliteDb file does."""
    return start_runtime("--in-memory", "--cdk-out", str(local_assembly), "--no-synth").url


@pytest.fixture(scope="module")
def sqlite_answers(tmp_path_factory):
    db = SqliteDb(db_file=str(tmp_path_factory.mktemp("agentos") / "agno.db"))
    client, _ = agentos_parity.build_app(db)
    return agentos_parity.answers(client, db.id)


@pytest.mark.parametrize("adapter", [SessionStoreDb, AsyncSessionStoreDb])
def test_every_agentos_ui_route_answers_as_with_sqlite(fresh_api_url, sqlite_answers, adapter):
    db = adapter(base_url=fresh_api_url)
    # The same user and session ids as the SqliteDb app, on a store the other case may have used.
    sync_db = getattr(db, "sync_db", db)
    sync_db.clear_memories()
    sync_db.delete_session(agentos_parity.SESSION)
    client, _ = agentos_parity.build_app(db, is_async=adapter is AsyncSessionStoreDb)
    ours = agentos_parity.answers(client, db.id)
    assert ours.keys() == sqlite_answers.keys()
    for route, (status, body) in ours.items():
        expected_status, expected_body = sqlite_answers[route]
        assert status < 500, (route, body)
        assert status == expected_status, (route, body, expected_body)
        if not route.startswith(STATUS_ONLY):
            assert agentos_parity.normalized(body) == agentos_parity.normalized(expected_body), route


@pytest.mark.parametrize("adapter", [SessionStoreDb, AsyncSessionStoreDb])
def test_a_fresh_app_refuses_another_agents_run_as_with_sqlite(local_api_url, tmp_path, adapter):
    """AgentOS's run gate (authorization on) reads `db.get_run(run_id)`, no session named, in a
    fresh app: a second replica must find the run, as SqliteDb does, to refuse it with 404."""
    sqlite_file = str(tmp_path / "agno.db")
    expected = agentos_parity.cancel_answers(lambda: SqliteDb(db_file=sqlite_file))
    ours = agentos_parity.cancel_answers(lambda: adapter(base_url=local_api_url))
    assert ours == expected
    assert expected["another agent's run"][0] == 404


def test_the_db_id_is_the_same_in_every_replica(local_api_url):
    assert SessionStoreDb(base_url=local_api_url).id == SessionStoreDb(base_url=local_api_url + "/").id
    assert uuid.UUID(SessionStoreDb(base_url=local_api_url).id).version == 5


def test_the_agentos_sessions_page_is_one_request(local_api_url):
    from bench.agno_drop_in import sessions_page_requests

    assert sessions_page_requests(local_api_url) == 1


@pytest.mark.parametrize("adapter", [SessionStoreDb, AsyncSessionStoreDb])
@pytest.mark.parametrize("with_fallback", [False, True])
def test_config_advertises_a_domain_only_where_it_is_served(tmp_path, adapter, with_fallback):
    """AgentOS lists every db under every domain; the store's db without a fallback serves sessions
    and memories only, so /config must not offer its learning, evals, metrics or traces pages."""
    from agno.agent import Agent
    from agno.os import AgentOS
    from fastapi.testclient import TestClient

    from session_store_client.agno import without_unserved_domains
    from tests.support.fake_model import MemoryWritingModel

    fallback = SqliteDb(db_file=str(tmp_path / "fallback.db")) if with_fallback else None
    # /config reads no data: the store is never called, so no runtime is needed.
    db = adapter(base_url="http://127.0.0.1:9", fallback=fallback)
    agent = Agent(id="config-agent", model=MemoryWritingModel(replies=["hi"]), db=db, telemetry=False)
    agent_os = AgentOS(agents=[agent], telemetry=False)
    config = TestClient(without_unserved_domains(agent_os.get_app(), agent_os)).get("/config").json()

    def advertised(domain):
        return [entry["db_id"] for entry in config[domain]["dbs"]]

    assert advertised("session") == advertised("memory") == [db.id]
    for domain in ("learning", "evals", "metrics", "traces"):
        assert advertised(domain) == ([db.id] if with_fallback else []), domain
