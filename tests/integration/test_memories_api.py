"""The user-memory routes on DynamoDB Local: create/replace, read, delete, lists, topics, stats."""

import pytest

from session_store import runtime
from tests.support.api import call, segment
from tests.support.metering import batch_reads


def memory_path(memory_id: str) -> str:
    return f"/memories/{segment(memory_id)}"


def put(memory_id, **fields):
    response = call("PUT", memory_path(memory_id), {"memory": f"memory {memory_id}", **fields})
    assert response.status in (200, 201), response.text
    return response


def listed(**query):
    response = call("GET", "/memories", query=query)
    assert response.status == 200, response.text
    return response.json()


def test_create_read_replace_delete(table_name):
    created = call(
        "PUT",
        memory_path("m#1"),
        {
            "memory": "likes tea",
            "topics": ["drinks"],
            "user_id": "alice",
            "agent_id": "a1",
            "input": "I like tea",
            "created_at": 1000,
        },
    )
    assert created.status == 201, created.text
    body = created.json()
    assert body["memory_id"] == "m#1" and body["created_at"] == 1000 and body["updated_at"] == 1000
    assert body["expires_at"] is None  # memories never expire by default
    assert call("GET", memory_path("m#1")).json() == body
    replaced = call("PUT", memory_path("m#1"), {"memory": {"structured": [1.5, None]}, "user_id": "alice"})
    assert replaced.status == 200
    assert replaced.json()["memory"] == {"structured": [1.5, None]}
    assert replaced.json()["created_at"] == 1000 and replaced.json()["updated_at"] > 1000
    assert replaced.json()["topics"] is None and replaced.json()["agent_id"] is None
    assert call("DELETE", memory_path("m#1")).status == 204
    assert call("GET", memory_path("m#1")).status == 404
    assert call("DELETE", memory_path("m#1")).status == 404


def test_ownership_rules(table_name):
    put("m1", user_id="alice")
    refused = call("PUT", memory_path("m1"), {"memory": "stolen", "user_id": "bob"})
    assert refused.status == 403 and refused.headers["Content-Type"] == "application/problem+json"
    assert call("GET", memory_path("m1")).json()["memory"] == "memory m1"
    assert call("GET", memory_path("m1"), query={"user_id": "bob"}).status == 404
    assert call("DELETE", memory_path("m1"), query={"user_id": "bob"}).status == 404
    # A write naming no user keeps the owner.
    assert call("PUT", memory_path("m1"), {"memory": "again"}).json()["user_id"] == "alice"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"memory": None},
        {"memory": "x", "memory_id": "other"},
        {"memory": "x", "topics": "not-a-list"},
        {"memory": "x", "unknown": 1},
        {"memory": "x", "created_at": -1},
    ],
)
def test_invalid_writes_are_4xx_and_change_nothing(table_name, body):
    response = call("PUT", memory_path("m1"), body)
    assert 400 <= response.status < 500 and response.headers["Content-Type"] == "application/problem+json"
    assert call("GET", memory_path("m1")).status == 404


def test_list_filters_sort_and_pages(table_name):
    for index in range(7):
        put(
            f"m{index}",
            user_id="alice",
            created_at=100 + index,
            updated_at=200 - index,
            topics=["Food", "x"] if index % 2 else ["work"],
            agent_id="a1" if index < 3 else "a2",
        )
    put("b1", user_id="bob", created_at=50)
    put("nobody", created_at=60)
    assert [m["memory_id"] for m in listed(user_id="alice", sort_by="created_at", sort_order="asc")["memories"]] == [
        f"m{i}" for i in range(7)
    ]
    assert [m["memory_id"] for m in listed(user_id="alice")["memories"]] == [f"m{i}" for i in range(7)]
    assert {m["memory_id"] for m in listed(user_id="alice", topics=["food"])["memories"]} == {"m1", "m3", "m5"}
    assert {m["memory_id"] for m in listed(user_id="alice", topics=["food", "work"])["memories"]} == set()
    assert {m["memory_id"] for m in listed(agent_id="a1")["memories"]} == {"m0", "m1", "m2"}
    assert {m["memory_id"] for m in listed(search="MEMORY M6")["memories"]} == {"m6"}
    assert listed(include_total=True, limit=1)["total"] == 9
    seen, cursor = [], None
    while True:
        page = listed(
            user_id="alice", topics=["x"], limit=2, include_total=True, **({"cursor": cursor} if cursor else {})
        )
        assert page["total"] == 3
        seen += [m["memory_id"] for m in page["memories"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["m1", "m3", "m5"]
    tampered = call("GET", "/memories", query={"user_id": "bob", "cursor": cursor or "abc"})
    assert tampered.status == 400


def test_topics_and_stats(table_name):
    put("m1", user_id="alice", topics=["b", "a"], updated_at=300)
    put("m2", user_id="alice", topics=["c"], updated_at=100)
    put("m3", user_id="bob", topics=["a"], updated_at=200)
    put("m4", topics=["z"])
    assert call("GET", "/memory-topics", query={"user_id": "alice"}).json() == {"topics": ["a", "b", "c"]}
    assert call("GET", "/memory-topics").json() == {"topics": ["a", "b", "c", "z"]}
    stats = call("GET", "/memory-stats").json()
    assert stats == {
        "total": 2,
        "stats": [
            {"user_id": "alice", "total_memories": 2, "last_memory_updated_at": 300},
            {"user_id": "bob", "total_memories": 1, "last_memory_updated_at": 200},
        ],
    }
    assert call("GET", "/memory-stats", query={"limit": 1, "page": 2}).json()["stats"][0]["user_id"] == "bob"


def test_delete_many_deletes_only_what_matches(table_name):
    put("m1", user_id="alice")
    put("m2", user_id="bob")
    response = call("POST", "/memory-deletions", {"memory_ids": ["m1", "m2", "missing"], "user_id": "alice"})
    assert response.status == 200 and response.json() == {"deleted": ["m1"]}
    assert call("GET", memory_path("m2")).status == 200
    assert call("POST", "/memory-deletions", {"memory_ids": []}).status == 422


def test_retention_is_its_own_setting(table_name, monkeypatch):
    monkeypatch.setenv("MEMORY_RETENTION_DAYS", "2")
    runtime.reset()
    body = put("m1").json()
    assert body["expires_at"] is not None and body["expires_at"] - body["updated_at"] >= 2 * 86400 - 1


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_a_list_page_bounds_its_reads_among_erased_memories(table_name, monkeypatch, sort_order):
    """20 memories of a user whose erasure has started (still stored) between 10 live ones of
    another user; a page may read 5 memories, and the pages together list exactly the live ones."""
    from session_store import names
    from session_store.memory_repository import MemoryRepository

    monkeypatch.setattr(names, "MAX_LIST_PAGE_READS", 5)
    live = [f"a{index}" for index in range(10)]
    for index, memory_id in enumerate(live):
        put(memory_id, user_id="bob", created_at=100 + index if index < 5 else 300 + index)
    for index in range(20):
        put(f"z{index:02d}", user_id="eve", created_at=200 + index)
    assert call("DELETE", "/users/eve").status == 202
    reads = batch_reads(monkeypatch, MemoryRepository, "batch_get_memories")
    seen, cursor = [], None
    while True:
        before = len(reads)
        page = listed(sort_by="created_at", sort_order=sort_order, limit=3, **({"cursor": cursor} if cursor else {}))
        assert sum(reads[before:]) <= 5
        seen += [m["memory_id"] for m in page["memories"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == (live[::-1] if sort_order == "desc" else live)


def test_a_page_that_reads_the_last_entries_at_its_bound_has_no_next_page(table_name, monkeypatch):
    from session_store import names

    monkeypatch.setattr(names, "MAX_LIST_PAGE_READS", 5)
    for index in range(5):
        put(f"z{index}", user_id="eve", created_at=200 + index)
    assert call("DELETE", "/users/eve").status == 202
    page = listed(limit=3)
    assert page == {"memories": [], "next_cursor": None}  # not a cursor to one more, empty, page
    put("a0", user_id="bob")
    query = {"limit": 3, "sort_by": "created_at", "sort_order": "asc"}
    page = listed(**query)
    assert page["memories"] == [] and page["next_cursor"]  # the bound reached, one entry unread
    assert [m["memory_id"] for m in listed(**query, cursor=page["next_cursor"])["memories"]] == ["a0"]
