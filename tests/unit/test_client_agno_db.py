"""SessionStoreDb's own logic: sending only changed runs, paging, run windows, the fallback db."""

from __future__ import annotations

import asyncio
import logging

import pytest
from agno.db.base import BaseDb, SessionType
from agno.db.in_memory import InMemoryDb
from agno.run.agent import RunOutput
from agno.session import AgentSession

from session_store import runtime
from session_store_client import SessionStoreClient
from session_store_client.agno import SessionStoreDb
from session_store_client.agno import db as db_module
from session_store_client.agno.fallback import FallbackRequired
from tests.support.api import call, session_path
from tests.support.recording_client import RecordingClient

pytest_plugins = ["tests.support.fixtures"]

pytestmark = pytest.mark.usefixtures("no_agno_telemetry")


def _run(session_id: str, index: int, content: str = "answer", **fields) -> RunOutput:
    return RunOutput(
        run_id=f"{session_id}-r{index}",
        agent_id="agent",
        session_id=session_id,
        content=content,
        created_at=1_700_000_000 + index,
        **fields,
    )


def _session(session_id: str, runs: int, user_id: str = None) -> AgentSession:
    return AgentSession(
        session_id=session_id,
        agent_id="agent",
        user_id=user_id,
        session_data={"session_name": session_id},
        created_at=1_700_000_000,
        runs=[_run(session_id, index) for index in range(runs)],
    )


@pytest.fixture
def client(api_url) -> RecordingClient:
    return RecordingClient(api_url)


@pytest.fixture
def db(client) -> SessionStoreDb:
    return SessionStoreDb(client=client)


def _stored(session_id: str) -> dict:
    """The session as the API stores it, read back through the API itself (all its runs)."""
    response = call("GET", session_path(session_id), query={"include_runs": "true"})
    assert response.status == 200, response.text
    return response.json()


def _stored_runs(session_id: str):
    return [(run["run_id"], run.get("content")) for run in _stored(session_id)["runs"]]


# --- Only changed runs are sent -----------------------------------------------------------------


def test_first_upsert_sends_every_run_then_only_what_changed(db, client):
    session = _session("s", runs=3)
    db.upsert_session(session)
    assert client.runs_sent() == ["s-r0", "s-r1", "s-r2"]

    client.take_writes()
    db.upsert_session(session)
    assert [write.run_ids for write in client.take_writes()] == [()]  # the session's fields only

    session.runs[1].content = "edited"
    session.upsert_run(_run("s", 3))
    db.upsert_session(session)
    assert client.runs_sent() == ["s-r1", "s-r3"]
    assert _stored_runs("s") == [("s-r0", "answer"), ("s-r1", "edited"), ("s-r2", "answer"), ("s-r3", "answer")]


def test_a_fresh_process_sends_every_run_once(api_url, db):
    session = _session("s", runs=3)
    db.upsert_session(session)

    other_process = RecordingClient(api_url)
    fresh_db = SessionStoreDb(client=other_process)
    fresh_db.upsert_session(session)
    fresh_db.upsert_session(session)
    assert other_process.runs_sent() == ["s-r0", "s-r1", "s-r2"]


def test_runs_read_back_are_not_sent_again(api_url, db):
    db.upsert_session(_session("s", runs=3))
    reader_client = RecordingClient(api_url)
    reader = SessionStoreDb(client=reader_client)

    session = reader.get_session("s", SessionType.AGENT)
    session.upsert_run(_run("s", 3))
    reader.upsert_session(session)
    assert reader_client.runs_sent() == ["s-r3"]

    windowed = reader.get_session("s", SessionType.AGENT, runs_limit=1)
    windowed.upsert_run(_run("s", 4))
    reader.upsert_session(windowed)
    assert reader_client.runs_sent() == ["s-r3", "s-r4"]


def test_upsert_run_of_a_run_the_session_carried_is_skipped(db, client):
    session = _session("s", runs=1)
    db.upsert_session(session)
    db.upsert_run(session.runs[0], session_id="s", run_index=0)
    assert [write.route for write in client.writes] == ["put_session"]

    session.runs[0].content = "changed"
    db.upsert_run(session.runs[0], session_id="s", run_index=0)
    db.upsert_run(session.runs[0], session_id="s", run_index=0)
    assert [write.route for write in client.writes] == ["put_session", "put_run"]
    assert _stored_runs("s") == [("s-r0", "changed")]


def test_deleting_a_session_forgets_its_runs(db, client):
    session = _session("s", runs=2)
    db.upsert_session(session)
    assert db.delete_session("s")
    db.upsert_session(session)
    assert client.runs_sent() == ["s-r0", "s-r1", "s-r0", "s-r1"]
    assert len(_stored("s")["runs"]) == 2


def test_changes_over_the_body_limit_are_split(db, client, monkeypatch):
    monkeypatch.setattr(db_module, "RUN_BYTES_PER_REQUEST", 600)
    session = _session("s", runs=6)
    db.upsert_session(session)
    writes = client.take_writes()
    assert len(writes) > 1
    assert [run_id for write in writes for run_id in write.run_ids] == [f"s-r{index}" for index in range(6)]
    assert [run_id for run_id, _ in _stored_runs("s")] == [f"s-r{index}" for index in range(6)]


def test_another_users_session_is_not_overwritten(db):
    db.upsert_session(_session("s", runs=1, user_id="alice"))
    intruder = _session("s", runs=0, user_id="mallory")
    intruder.session_data = {"session_name": "mine now"}
    assert db.upsert_session(intruder) is None
    assert _stored("s")["session_data"] == {"session_name": "s"}


def test_upsert_returns_the_stored_row_with_the_callers_runs(db):
    session = _session("s", runs=2)
    row = db.upsert_session(session, deserialize=False)
    assert row["session_type"] == "agent" and row["created_at"] == 1_700_000_000
    assert [run["run_id"] for run in row["runs"]] == ["s-r0", "s-r1"]
    assert "version" not in row and "run_count" not in row
    upserted = db.upsert_session(session)
    assert upserted.runs is session.runs


# --- Reads --------------------------------------------------------------------------------------


def test_runs_limit_walks_back_past_member_runs_like_in_memory_db(db):
    session = _session("s", runs=3)
    # The newest runs are team-member runs, which agno's history window drops.
    session.runs += [_run("s", 3, parent_run_id="s-r2"), _run("s", 4, parent_run_id="s-r2")]
    in_memory = InMemoryDb()
    for store in (in_memory, db):
        store.upsert_session(session)
    for limit in (1, 2, 5, 0):
        ours = db.get_session("s", runs_limit=limit, deserialize=False)
        theirs = in_memory.get_session("s", runs_limit=limit, deserialize=False)
        assert [run["run_id"] for run in ours["runs"]] == [run["run_id"] for run in theirs["runs"]], limit


def test_a_page_is_reached_by_following_cursors(db, client, monkeypatch):
    for index in range(7):
        session = _session(f"s{index}", runs=0, user_id="u")
        session.created_at = 1_700_000_000 + index
        db.upsert_session(session)
    pages_read = []
    list_sessions = client.list_sessions

    def recording_list_sessions(**kwargs):
        pages_read.append((kwargs["limit"], kwargs["cursor"] is not None, kwargs["include_total"]))
        return list_sessions(**kwargs)

    monkeypatch.setattr(client, "list_sessions", recording_list_sessions)
    rows, total = db.get_sessions(
        user_id="u", sort_by="created_at", sort_order="asc", limit=2, page=3, deserialize=False, include_runs=False
    )
    assert [row["session_id"] for row in rows] == ["s4", "s5"]
    assert total == 7
    # Four sessions skipped in one request, then the page itself; the total asked once.
    assert pages_read == [(4, False, True), (2, True, False)]

    pages_read.clear()
    assert db.get_sessions(user_id="u", limit=3, page=4, sort_by="created_at", deserialize=False) == ([], 7)
    assert db.get_sessions(user_id="u", sort_by="created_at", sort_order="asc")[-1].session_id == "s6"


def test_updated_at_order_within_created_at_bounds_is_sorted_here(api_url, monkeypatch):
    now = [1000]
    monkeypatch.setattr(runtime.service(), "_clock", lambda: now[0])  # the service stamps updated_at
    db = SessionStoreDb(base_url=api_url)
    for index, updated in enumerate([30, 10, 40, 20]):
        now[0] = 1_900_000_000 + updated
        session = _session(f"s{index}", runs=0, user_id="u")
        session.created_at = 100 + index
        db.upsert_session(session)
    rows, total = db.get_sessions(
        user_id="u",
        start_timestamp=101,
        end_timestamp=103,
        sort_by="updated_at",
        sort_order="desc",
        deserialize=False,
        limit=2,
        page=1,
    )
    # s1..s3 are within the created_at bounds; by updated_at desc: s2 (40), s3 (20), s1 (10).
    assert [row["session_id"] for row in rows] == ["s2", "s3"]
    assert total == 3


def test_runs_are_found_by_run_id_in_this_process_and_in_a_fresh_one(db, client, api_url, monkeypatch):
    db.upsert_session(_session("s", runs=2))
    # This process knows the run's session: one request to the session-scoped route, none by id.
    by_id_calls: list[str] = []
    original = SessionStoreClient.get_run_by_id

    def counted(self, run_id, **kwargs):
        by_id_calls.append(run_id)
        return original(self, run_id, **kwargs)

    monkeypatch.setattr(SessionStoreClient, "get_run_by_id", counted)
    assert db.get_run("s-r1").content == "answer"
    assert by_id_calls == []
    # A fresh process (another replica, a restart) finds it by its id alone.
    stranger = SessionStoreDb(base_url=api_url)
    found = stranger.get_run("s-r1")
    assert (found.run_id, found.session_id, found.content) == ("s-r1", "s", "answer")
    assert by_id_calls == ["s-r1"]
    assert stranger.get_run("s-r1", session_id="s", deserialize=False)["run_id"] == "s-r1"
    assert by_id_calls == ["s-r1"]  # now known: no lookup
    assert SessionStoreDb(base_url=api_url).get_run("nope") is None
    # delete_run still needs the session known (or session_id=): it never guesses among holders.
    assert SessionStoreDb(base_url=api_url).delete_run("s-r0") is False
    assert db.delete_run("s-r0") is True
    assert db.get_run("s-r0", session_id="s") is None
    assert SessionStoreDb(base_url=api_url).get_run("s-r0") is None


# --- The rest of BaseDb -------------------------------------------------------------------------


FALLBACK_READS = [
    ("get_metrics", {}, ([], None)),
    ("get_eval_runs", {"deserialize": False}, ([], 0)),
    ("get_eval_runs", {}, []),
    ("get_eval_run", {"eval_run_id": "e"}, None),
    ("get_traces", {}, ([], 0)),
    ("get_knowledge_contents", {}, ([], 0)),
    ("list_components", {}, ([], 0)),
    ("get_latest_schema_version", {"table_name": "agno_metrics"}, None),
]


@pytest.mark.parametrize("method_name, arguments, empty", FALLBACK_READS)
def test_without_a_fallback_other_domains_read_empty(db, method_name, arguments, empty):
    assert getattr(db, method_name)(**arguments) == empty


@pytest.mark.parametrize(
    "method_name",
    [
        "create_eval_run",
        "upsert_trace",
        "calculate_metrics",
        "upsert_knowledge_content",
        "upsert_schema_version",
        "upsert_learning",
        "create_schedule",
    ],
)
def test_without_a_fallback_writes_name_the_fallback_option(db, method_name):
    with pytest.raises(FallbackRequired) as raised:
        getattr(db, method_name)(*([None] * (getattr(BaseDb, method_name).__code__.co_argcount - 1)))
    assert "fallback=" in str(raised.value)


def test_with_a_fallback_other_domains_go_to_it(client):
    fallback = InMemoryDb()
    db = SessionStoreDb(client=client, fallback=fallback)
    from agno.db.schemas.evals import EvalRunRecord, EvalType

    record = EvalRunRecord(run_id="e1", eval_type=EvalType.ACCURACY, eval_data={}, eval_input={})
    db.create_eval_run(record)
    assert fallback.get_eval_run("e1") is not None and db.get_eval_run("e1") is not None
    assert db.metrics_table_name == fallback.metrics_table_name


def test_every_abstract_method_is_implemented_or_delegated():
    assert not SessionStoreDb.__abstractmethods__
    implemented = set(vars(SessionStoreDb))
    assert BaseDb.__abstractmethods__ <= implemented | {name for name in dir(SessionStoreDb)}
    assert {
        "get_session",
        "get_sessions",
        "upsert_session",
        "upsert_sessions",
        "delete_session",
        "delete_sessions",
        "rename_session",
        "upsert_run",
        "get_run",
        "get_runs",
        "delete_run",
        "delete_runs",
    } <= implemented


def test_table_exists_for_the_stores_own_domains_only_without_a_fallback(db):
    assert db.table_exists(db.session_table_name) and db.table_exists(db.runs_table_name)
    assert db.table_exists(db.memory_table_name)
    assert not db.table_exists("agno_metrics") and db.metrics_table_name is None


def test_the_db_id_is_derived_from_the_url_unless_given():
    assert SessionStoreDb(base_url="http://127.0.0.1:1/").id == SessionStoreDb(base_url="http://127.0.0.1:1").id
    assert SessionStoreDb(base_url="http://127.0.0.1:1").id != SessionStoreDb(base_url="http://127.0.0.1:2").id
    assert SessionStoreDb(base_url="http://127.0.0.1:1", id="mine").id == "mine"


def test_needs_a_url_or_a_client():
    with pytest.raises(ValueError):
        SessionStoreDb()
    client = SessionStoreClient("http://127.0.0.1:1")
    assert SessionStoreDb(client=client, id="mine").client is client
    assert SessionStoreDb(base_url="http://127.0.0.1:1").client.base_url == "http://127.0.0.1:1"


class _AgnoWarnings(logging.Handler):
    """What agno logs while installed on its logger (which does not propagate to the root)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> _AgnoWarnings:
        logging.getLogger("agno").addHandler(self)
        return self

    def __exit__(self, *exc_info) -> None:
        logging.getLogger("agno").removeHandler(self)


def test_agentos_closes_the_async_adapter_by_awaiting_it(tmp_path):
    """AgentOS stops by `await db.close()` on every AsyncBaseDb: the async adapter's close is a
    coroutine, as AsyncBaseDb declares it, and closes its fallback as the sync adapter's does."""
    from agno.agent import Agent
    from agno.db.sqlite import SqliteDb
    from agno.os import AgentOS
    from fastapi.testclient import TestClient

    from session_store_client.agno import AsyncSessionStoreDb
    from tests.support.fake_model import MemoryWritingModel

    # Shutting down reads nothing: the store is never called, so no runtime is needed.
    db = AsyncSessionStoreDb(base_url="http://127.0.0.1:9", fallback=SqliteDb(db_file=str(tmp_path / "fallback.db")))
    agent = Agent(id="closing-agent", model=MemoryWritingModel(replies=["hi"]), db=db, telemetry=False)
    agent_os = AgentOS(agents=[agent], telemetry=False)
    with _AgnoWarnings() as warnings, TestClient(agent_os.get_app()):
        pass
    assert not [message for message in warnings.messages if "close" in message.lower()], warnings.messages
    asyncio.run(db.close())  # closing twice is harmless, as for agno's own dbs
