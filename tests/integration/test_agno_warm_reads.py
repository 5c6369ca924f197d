"""The Agno adapter's copies (session_copies.py), through the real handlers on DynamoDB Local: a
warm process's turn reads the session with If-None-Match and gets a 304; what it delivers is
what a fresh process reads; another writer's change is read whole at the next turn."""

from __future__ import annotations

from agno.agent import Agent

from session_store_client.agno import SessionStoreDb
from tests.support.fake_model import FakeModel
from tests.support.inprocess import in_process_client


def _agent(db: SessionStoreDb, reply: str) -> Agent:
    return Agent(
        model=FakeModel(replies=[reply]),
        db=db,
        session_id="chat",
        user_id="alice",
        add_history_to_context=True,
        telemetry=False,
    )


def _session_reads(adapter) -> list[int]:
    return [status for method, path, status in adapter.requests if method == "GET" and path == "/sessions/chat"]


def _as_a_fresh_process_reads_it() -> dict:
    client, _ = in_process_client()
    return SessionStoreDb(client=client).get_session("chat", deserialize=False)


def test_a_warm_process_reads_a_304_and_delivers_what_a_fresh_process_reads(table_name):
    client, adapter = in_process_client()
    db = SessionStoreDb(client=client)
    agent = _agent(db, "first answer")
    for turn in range(3):
        agent.run(f"question {turn}")
    assert _session_reads(adapter) == [404, 304, 304]  # created by turn 1, then current at every turn
    warm = db.get_session("chat", deserialize=False)
    assert _session_reads(adapter)[-1] == 304
    fresh = _as_a_fresh_process_reads_it()
    assert warm["runs"] == fresh["runs"] and len(warm["runs"]) == 3
    assert {key: warm[key] for key in ("session_data", "agent_data", "updated_at")} == {
        key: fresh[key] for key in ("session_data", "agent_data", "updated_at")
    }


def test_another_writer_makes_the_next_read_whole(table_name):
    client, adapter = in_process_client()
    db = SessionStoreDb(client=client)
    _agent(db, "mine").run("from the warm process")
    other_client, _ = in_process_client()
    _agent(SessionStoreDb(client=other_client), "theirs").run("from another process")
    seen = db.get_session("chat", deserialize=False)
    assert _session_reads(adapter)[-1] == 200
    assert [run["content"] for run in seen["runs"]] == ["mine", "theirs"]
    _agent(db, "mine again").run("back to the warm process")
    assert [run["content"] for run in _as_a_fresh_process_reads_it()["runs"]] == ["mine", "theirs", "mine again"]
    assert _session_reads(adapter)[-1] == 304
