"""agno memories on the local runtime through SessionStoreDb, checked against agno's SqliteDb."""

from __future__ import annotations

import uuid

import pytest
from agno.db.sqlite import SqliteDb

from session_store_client.agno import SessionStoreDb
from tests.support import agno_memories

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _no_agno_telemetry(monkeypatch):
    monkeypatch.setenv("AGNO_TELEMETRY", "false")


def test_an_agent_with_memory_completes_its_runs_and_a_fresh_process_reads_them(local_api_url, tmp_path):
    user = f"alice-{uuid.uuid4().hex[:8]}"
    ours = agno_memories.agent_remembers(SessionStoreDb(base_url=local_api_url), user, f"s-{user}")
    theirs = agno_memories.agent_remembers(SqliteDb(db_file=str(tmp_path / "agno.db")), user, f"s-{user}")
    assert ours == theirs and ours
    # Each run's memory update added the model's memory (SqliteDb holds the same two).
    assert agno_memories.read_in_a_fresh_process(local_api_url, user) == ["The user's name is Alice"] * 2


def test_a_team_with_agentic_memory_matches_sqlite(local_api_url, tmp_path):
    user = f"bob-{uuid.uuid4().hex[:8]}"
    ours = agno_memories.agentic_team_remembers(SessionStoreDb(base_url=local_api_url), user, f"t-{user}")
    theirs = agno_memories.agentic_team_remembers(SqliteDb(db_file=str(tmp_path / "agno.db")), user, f"t-{user}")
    assert ours == theirs and ours


def test_session_type_chooses_the_class_but_does_not_filter_as_in_sqlite(local_api_url, tmp_path):
    from agno.db.base import SessionType
    from agno.session import AgentSession

    session_id = f"typed-{uuid.uuid4().hex[:8]}"
    answers = []
    for db in (SessionStoreDb(base_url=local_api_url), SqliteDb(db_file=str(tmp_path / "agno.db"))):
        db.upsert_session(AgentSession(session_id=session_id, agent_id="a1", user_id="u1", created_at=1_700_000_000))
        as_team = db.get_session(session_id, SessionType.TEAM)
        as_row = db.get_session(session_id, SessionType.WORKFLOW, deserialize=False)
        answers.append((type(as_team).__name__, as_team.session_id, as_row["session_id"], as_row["agent_id"]))
    assert answers[0] == answers[1] == ("TeamSession", session_id, session_id, "a1")
