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
