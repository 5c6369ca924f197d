"""GET /runs/{run_id}: a run found by its id alone, through the run-id index, with the same
liveness and ownership checks as GET /sessions/{session_id}/runs/{run_id}."""

from __future__ import annotations

import time

import pytest

from session_store import items, keys, names
from session_store.table import INDEXED_EXPIRY_ATTRIBUTE, RUN_INDEX
from tests.integration.test_bad_input import assert_problem
from tests.integration.test_erasure import run_worker, start_erasure
from tests.support.api import call, run_path, segment, session_path

AGENT = {"session_type": "agent", "agent_id": "agent-1"}


def by_id(run_id, **query):
    return call("GET", f"/runs/{segment(run_id)}", query=query or None)


def put(session_id, user_id, *runs):
    body = {**AGENT, "user_id": user_id, "runs": list(runs)}
    response = call("PUT", session_path(session_id), body)
    assert response.status in (200, 201), response.text


def index_entries(dynamodb_client, table_name, run_id):
    """The run-id index's entries for `run_id` (what the route starts from)."""
    response = dynamodb_client.query(
        TableName=table_name,
        IndexName=RUN_INDEX.name,
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": RUN_INDEX.partition_key},
        ExpressionAttributeValues={":v": items.s(keys.run_index_partition(run_id))},
    )
    return [keys.session_id_from_pk(item[names.PARTITION_KEY]["S"]) for item in response["Items"]]


def set_attributes(dynamodb_client, table_name, session_id, **values):
    names_ = {f"#a{i}": name for i, name in enumerate(values)}
    dynamodb_client.update_item(
        TableName=table_name,
        Key=items.session_key(session_id),
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames=names_,
        ExpressionAttributeValues={f":v{i}": items.n(value) for i, value in enumerate(values.values())},
    )


def test_a_run_is_found_by_its_id_with_its_session(table_name):
    put("s1", "alice", {"run_id": "r1", "content": "hello", "n": 0.1}, {"run_id": "r2"})
    scoped = call("GET", run_path("s1", "r1")).json()
    found = by_id("r1")
    assert found.status == 200, found.text
    assert found.json() == {**scoped, "session_id": "s1"}
    assert by_id("r1", user_id="alice").json() == {**scoped, "session_id": "s1"}
    # A run that names its session keeps it; the answer is the run as stored.
    call("PUT", run_path("s1", "r3"), {"session_id": "s1", "x": [1, {}]})
    assert by_id("r3").json() == {"session_id": "s1", "x": [1, {}], "run_id": "r3"}


def test_ids_with_hash_and_percent_never_collide(table_name):
    odd = ["a#b", "a%23b", "#", "RUNID#x"]
    for index, run_id in enumerate(odd):
        put(f"s{index}", "alice", {"run_id": run_id, "n": index})
    for index, run_id in enumerate(odd):
        assert by_id(run_id).json() == {"run_id": run_id, "n": index, "session_id": f"s{index}"}
    long_id = "ü" * 256  # escapes past the key budget: a digest in the index key
    put("long", "alice", {"run_id": long_id})
    assert by_id(long_id).json()["session_id"] == "long"


def test_another_users_run_is_404_like_the_session_scoped_route(table_name):
    put("s1", "alice", {"run_id": "r1"})
    scoped = call("GET", run_path("s1", "r1"), query={"user_id": "bob"})
    assert scoped.status == 404
    # Indistinguishable from a run that does not exist: the id leaks neither owner nor session.
    foreign = assert_problem(by_id("r1", user_id="bob"), 404)
    missing = assert_problem(by_id("r9"), 404)
    assert foreign["detail"] == missing["detail"].replace("r9", "r1")


def test_of_several_sessions_holding_a_run_id_the_most_recently_updated_wins(table_name, dynamodb_client):
    put("s-a", "alice", {"run_id": "shared", "from": "a"})
    put("s-b", "alice", {"run_id": "shared", "from": "b"})
    put("s-c", "bob", {"run_id": "shared", "from": "c"})
    now = int(time.time())
    set_attributes(dynamodb_client, table_name, "s-a", updated_at=now + 50)
    set_attributes(dynamodb_client, table_name, "s-b", updated_at=now + 40)
    set_attributes(dynamodb_client, table_name, "s-c", updated_at=now + 60)
    assert by_id("shared").json()["from"] == "c"
    assert by_id("shared", user_id="alice").json()["from"] == "a"
    set_attributes(dynamodb_client, table_name, "s-b", updated_at=now + 70)
    assert by_id("shared", user_id="alice").json()["from"] == "b"
    # Equal times: the smaller session id, every time.
    for session_id in ("s-a", "s-b", "s-c"):
        set_attributes(dynamodb_client, table_name, session_id, updated_at=now + 80)
    assert {by_id("shared").json()["from"] for _ in range(3)} == {"a"}


def test_expired_deleted_and_replaced_incarnations_are_not_found(table_name, dynamodb_client):
    put("gone", "alice", {"run_id": "r-exp"})
    past = int(time.time()) - 10
    set_attributes(dynamodb_client, table_name, "gone", expires_at=past, **{INDEXED_EXPIRY_ATTRIBUTE: past})
    assert index_entries(dynamodb_client, table_name, "r-exp") == ["gone"]  # still indexed: filtered out
    assert_problem(by_id("r-exp"), 404)
    # The session written anew (a new incarnation) with the same run id: that run, not the old one.
    put("gone", "alice", {"run_id": "r-exp", "fresh": True})
    assert index_entries(dynamodb_client, table_name, "r-exp") == ["gone", "gone"]
    assert by_id("r-exp").json() == {"run_id": "r-exp", "fresh": True, "session_id": "gone"}

    put("deleted", "alice", {"run_id": "r-del"})
    assert call("DELETE", session_path("deleted")).status == 204
    assert index_entries(dynamodb_client, table_name, "r-del") == ["deleted"]  # until the cascade runs
    assert_problem(by_id("r-del"), 404)

    put("s1", "alice", {"run_id": "r-one"}, {"run_id": "r-two"})
    assert call("DELETE", run_path("s1", "r-one")).status == 204
    assert index_entries(dynamodb_client, table_name, "r-one") == []  # the lookup went, its entry with it
    assert_problem(by_id("r-one"), 404)
    assert by_id("r-two").status == 200


def test_an_erased_users_runs_are_not_found_at_once_and_their_entries_go(table_name, dynamodb_client):
    put("alice-1", "alice", {"run_id": "r-alice"})
    put("bob-1", "bob", {"run_id": "r-bob"})
    erasure_id = start_erasure("alice")
    assert index_entries(dynamodb_client, table_name, "r-alice") == ["alice-1"]
    assert_problem(by_id("r-alice"), 404)
    receipt = run_worker(dynamodb_client, table_name, "alice", erasure_id)
    assert receipt["counts"]["run_lookups"] == 1
    assert index_entries(dynamodb_client, table_name, "r-alice") == []
    assert by_id("r-bob").json()["session_id"] == "bob-1"


@pytest.mark.parametrize("run_id, query", [("bad\x07id", None), ("x" * 257, None), ("r1", {"user_id": "x" * 257})])
def test_bad_run_ids_and_user_ids_are_422(table_name, run_id, query):
    put("s1", "alice", {"run_id": "r1"})
    problem = assert_problem(call("GET", f"/runs/{segment(run_id)}", query=query), 422)
    assert problem["errors"]


def test_a_run_id_held_by_too_many_sessions_is_422_naming_the_way_out(table_name, monkeypatch):
    monkeypatch.setattr(names, "MAX_RUN_ID_HOLDERS", 3)
    for index in range(3):
        put(f"s{index}", "alice", {"run_id": "common", "n": index})
    assert by_id("common").status == 200
    put("s3", "alice", {"run_id": "common"})
    problem = assert_problem(by_id("common"), 422)
    assert "/sessions/{session_id}/runs/{run_id}" in problem["detail"]
    assert call("GET", run_path("s3", "common")).status == 200


def test_a_new_run_writes_one_index_entry_and_a_replacement_none(table_name, dynamodb_client):
    put("s1", "alice", {"run_id": "r1", "v": 1})
    put("s1", "alice", {"run_id": "r1", "v": 2})
    call("PUT", run_path("s1", "r1"), {"v": 3})
    assert index_entries(dynamodb_client, table_name, "r1") == ["s1"]
    assert by_id("r1").json() == {"run_id": "r1", "v": 3, "session_id": "s1"}
