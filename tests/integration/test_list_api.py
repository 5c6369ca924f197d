"""GET /sessions: filters, orders, pages, totals — all from index queries."""

import json
import time

import pytest
from agno.db.base import SessionType

from session_store import names
from session_store.repository import SessionRepository
from session_store_client.agno import SessionStoreDb
from tests.support.api import call, session_path
from tests.support.inprocess import in_process_client
from tests.support.metering import batch_reads


def put(session_id, **fields):
    response = call("PUT", session_path(session_id), fields)
    assert response.status in (200, 201), response.text
    return response.json()


def ids(response):
    assert response.status == 200, response.text
    return [session["session_id"] for session in response.json()["sessions"]]


@pytest.fixture
def population(table_name):
    """Sessions with distinct created_at, updated in a different order than created."""
    put(
        "a1",
        session_type="agent",
        agent_id="agent-x",
        user_id="u1",
        created_at=100,
        session_data={"session_name": "Trip to Paris"},
    )
    put("a2", session_type="agent", agent_id="agent-y", user_id="u1", created_at=200)
    put("t1", session_type="team", team_id="team-x", user_id="u1", created_at=300)
    put("w1", session_type="workflow", workflow_id="wf-x", user_id="u2", created_at=400)
    put(
        "a3",
        session_type="agent",
        agent_id="agent-x",
        user_id="u2",
        created_at=500,
        session_data={"session_name": "paris again"},
    )
    time.sleep(1.1)  # updated_at has one-second resolution
    put("a1", metadata={"touched": True})
    return ["a1", "a2", "t1", "w1", "a3"]


def test_lists_all_sessions_newest_updated_first(population):
    listed = ids(call("GET", "/sessions"))
    assert listed[0] == "a1"
    assert sorted(listed) == sorted(population)
    assert "runs" not in call("GET", "/sessions").json()["sessions"][0]


def test_sort_by_created_at_both_orders(population):
    assert ids(call("GET", "/sessions", query={"sort_by": "created_at"})) == ["a3", "w1", "t1", "a2", "a1"]
    assert ids(call("GET", "/sessions", query={"sort_by": "created_at", "sort_order": "asc"})) == [
        "a1",
        "a2",
        "t1",
        "w1",
        "a3",
    ]


def test_filters(population):
    by_created = {"sort_by": "created_at", "sort_order": "asc"}
    assert ids(call("GET", "/sessions", query={"user_id": "u1", **by_created})) == ["a1", "a2", "t1"]
    assert ids(call("GET", "/sessions", query={"user_id": "u1", "session_type": "agent", **by_created})) == ["a1", "a2"]
    assert ids(call("GET", "/sessions", query={"agent_id": "agent-x", **by_created})) == ["a1", "a3"]
    assert ids(call("GET", "/sessions", query={"component_id": "team-x"})) == ["t1"]
    assert ids(call("GET", "/sessions", query={"user_id": "u2", "component_id": "agent-x"})) == ["a3"]
    assert ids(call("GET", "/sessions", query={"session_type": "workflow"})) == ["w1"]
    assert ids(call("GET", "/sessions", query={"session_name": "PARIS", **by_created})) == ["a1", "a3"]
    assert ids(call("GET", "/sessions", query={"start_timestamp": 200, "end_timestamp": 400, **by_created})) == [
        "a2",
        "t1",
        "w1",
    ]


def test_pages_with_cursor_and_total(population):
    seen, cursor = [], None
    while True:
        query = {"limit": 2, "sort_by": "created_at", "include_total": "true", **({"cursor": cursor} if cursor else {})}
        page = call("GET", "/sessions", query=query).json()
        assert page["total"] == 5
        seen += [session["session_id"] for session in page["sessions"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["a3", "w1", "t1", "a2", "a1"]


def test_a_tampered_or_foreign_cursor_is_400(population):
    cursor = call("GET", "/sessions", query={"limit": 2}).json()["next_cursor"]
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    assert call("GET", "/sessions", query={"limit": 2, "cursor": tampered}).status == 400
    assert call("GET", "/sessions", query={"limit": 2, "cursor": cursor, "user_id": "u1"}).status == 400
    assert call("GET", "/sessions", query={"cursor": "garbage"}).status == 400


def test_many_sessions_sharing_one_second_page_without_loss(table_name):
    for index in range(30):
        put(f"s{index:02d}", session_type="agent", user_id="same", created_at=1_000)
    seen, cursor = [], None
    while True:
        query = {"user_id": "same", "limit": 7, "sort_by": "created_at", **({"cursor": cursor} if cursor else {})}
        page = call("GET", "/sessions", query=query).json()
        seen += [session["session_id"] for session in page["sessions"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"s{index:02d}" for index in range(30)] and len(seen) == 30


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 101},
        {"sort_by": "name"},
        {"sort_order": "up"},
        {"session_type": "robot"},
        {"agent_id": "a", "team_id": "t"},
        {"start_timestamp": 10, "end_timestamp": 5},
        {"start_timestamp": -1},
    ],
)
def test_invalid_list_queries_are_422(table_name, query):
    response = call("GET", "/sessions", query=query)
    assert response.status == 422, response.text
    assert response.json()["errors"]


def test_include_runs_lists_sessions_with_their_runs_when_few(table_name):
    from session_store.names import MAX_LISTED_RUNS_PER_SESSION
    from tests.support.api import call as api_call

    api_call(
        "PUT",
        "/sessions/few",
        {"session_type": "agent", "user_id": "runs-user", "runs": [{"run_id": "a", "v": 1}, {"run_id": "b"}]},
    )
    many = [{"run_id": f"r{i}"} for i in range(MAX_LISTED_RUNS_PER_SESSION + 1)]
    api_call("PUT", "/sessions/many", {"session_type": "agent", "user_id": "runs-user", "runs": many})
    api_call("PUT", "/sessions/none", {"session_type": "agent", "user_id": "runs-user"})
    page = api_call("GET", "/sessions", query={"user_id": "runs-user", "include_runs": "true"}).json()
    by_id = {session["session_id"]: session for session in page["sessions"]}
    assert by_id["few"]["runs"] == [{"run_id": "a", "v": 1}, {"run_id": "b"}]
    assert by_id["none"]["runs"] == []
    assert "runs" not in by_id["many"]  # too many: the client reads that session itself
    plain = api_call("GET", "/sessions", query={"user_id": "runs-user"}).json()
    assert all("runs" not in session for session in plain["sessions"])


def _list_all(query, reads, bounded=True):
    """Follow next_cursor to the end: the sessions listed, each page within the read bound (the
    sessions it passes over, and those it lists)."""
    listed, cursor = [], None
    while True:
        before = len(reads)
        page = call("GET", "/sessions", query={**query, **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page.text
        listed += [session["session_id"] for session in page.json()["sessions"]]
        page_reads = reads[before:]
        assert not bounded or sum(page_reads) <= names.MAX_LIST_PAGE_READS + query["limit"], page_reads
        cursor = page.json()["next_cursor"]
        if not cursor:
            return listed
        assert len(listed) < 1_000, "the cursor made no progress"


@pytest.fixture
def erased_among_live(table_name, monkeypatch):
    """40 sessions of a user whose erasure has started (the worker has not run: their items are all
    still there) between and after 20 live sessions of another user; a page may read 10 sessions."""
    monkeypatch.setattr(names, "MAX_LIST_PAGE_READS", 10)
    live = {f"a{index:02d}": 100 + index if index < 10 else 300 + index for index in range(20)}
    for session_id, created_at in live.items():
        put(session_id, session_type="agent", user_id="bob", created_at=created_at)
    for index in range(40):
        put(f"z{index:02d}", session_type="agent", user_id="eve", created_at=200 + index)
    assert call("DELETE", "/users/eve").status == 202
    reads = batch_reads(monkeypatch, SessionRepository, "batch_get_sessions")
    return live, reads


@pytest.mark.parametrize("sort_by", ["created_at", "updated_at"])
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
@pytest.mark.parametrize("limit", [3, 100])
def test_a_page_bounds_its_reads_and_the_pages_list_exactly_the_live_sessions(
    erased_among_live, sort_by, sort_order, limit
):
    live, reads = erased_among_live
    # Newest updated first, a live session lists only once every entry within the index's slack
    # (300 s) after it is read; a page at its bound lists what it holds when that fits, else it
    # reads on (docs/design.md, "A list page bounds its reads"): exact, but not bounded there.
    bounded = not (sort_by == "updated_at" and sort_order == "desc")
    listed = _list_all({"sort_by": sort_by, "sort_order": sort_order, "limit": limit}, reads, bounded)
    assert sorted(listed) == sorted(live) and len(listed) == len(live)
    if sort_by == "created_at":
        assert listed == sorted(live, key=live.__getitem__, reverse=sort_order == "desc")


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_bounded_pages_keep_to_created_at_bounds(erased_among_live, sort_order):
    live, reads = erased_among_live
    query = {
        "sort_by": "created_at",
        "sort_order": sort_order,
        "limit": 4,
        "start_timestamp": 105,
        "end_timestamp": 305,
    }
    listed = _list_all(query, reads)
    expected = sorted((s for s, created in live.items() if 105 <= created <= 305), key=live.__getitem__)
    assert listed == (expected[::-1] if sort_order == "desc" else expected)


def test_a_page_cut_short_by_its_read_bound_still_continues_the_list(erased_among_live):
    _, reads = erased_among_live
    first = call(
        "GET", "/sessions", query={"sort_by": "created_at", "sort_order": "asc", "start_timestamp": 200, "limit": 5}
    )
    body = first.json()
    assert body["sessions"] == [] and body["next_cursor"]  # only erased sessions were read
    assert sum(reads) <= names.MAX_LIST_PAGE_READS + 5


def test_the_client_and_the_agno_adapter_follow_short_pages(erased_among_live):
    """A page cut short by its read bound (here the one after a09: only erased sessions) does not
    make the client or the adapter return fewer sessions than exist."""
    live, _ = erased_among_live
    oldest_first = sorted(live, key=live.__getitem__)
    client, adapter = in_process_client()
    listed = [s.session_id for s in client.iter_sessions(page_size=5, sort_by="created_at", sort_order="asc")]
    assert listed == oldest_first
    pages = sum(1 for _, request_path, _ in adapter.requests if request_path == "/sessions")
    assert pages > len(live) // 5  # some pages came short
    db = SessionStoreDb(client=client)
    for page in (1, 2, 3, 4):
        rows, _ = db.get_sessions(
            session_type=SessionType.AGENT,
            sort_by="created_at",
            sort_order="asc",
            limit=5,
            page=page,
            deserialize=False,
        )
        assert [row["session_id"] for row in rows] == oldest_first[(page - 1) * 5 : page * 5]


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_a_page_at_its_bound_whose_waiting_sessions_do_not_fit_reads_on_and_loses_none(
    erased_among_live, monkeypatch, sort_order
):
    # A response with room for about two sessions: a page at its read bound cannot list all it
    # holds, so it must not stop there (a session it left out would never be read again).
    from functools import partial

    from session_store import wire

    live, reads = erased_among_live
    size = wire.string_bytes(json.dumps(call("GET", session_path("a00"), query={"include_runs": "false"}).json()))
    monkeypatch.setattr(wire, "PageBudget", partial(wire.PageBudget, 2 * size + size // 2))
    listed = _list_all({"sort_by": "updated_at", "sort_order": sort_order, "limit": 3}, reads, bounded=False)
    assert sorted(listed) == sorted(live) and len(listed) == len(live)
