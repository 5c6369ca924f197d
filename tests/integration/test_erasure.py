"""Erasing a user on DynamoDB Local (moto's S3 for offloaded runs): the 202 and its receipt, reads
that answer as if the user's data were gone at once, writes that go to fresh incarnations, and a
worker that deletes every item kind, resumes after failures and gives up into `failed`."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from bench.lifecycle import session_items, small_sessions
from bench.loader import put_all
from session_store import erasure, items, names, runtime
from session_store.erasure_items import job_key
from session_store.user_repository import UserRepository
from tests.integration.test_offload import big_run
from tests.support.api import FakeContext, call, run_path, session_path
from tests.support.s3 import objects

MB = 1024 * 1024


def job_record(dynamodb_client, table_name, user_id, erasure_id):
    """The stream record the job's last save produced, as the event source mapping delivers it."""
    item = dynamodb_client.get_item(TableName=table_name, Key=job_key(user_id, erasure_id), ConsistentRead=True)["Item"]
    return {
        "eventID": "1",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": job_key(user_id, erasure_id),
            "NewImage": item,
            "SequenceNumber": "1",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def run_worker(dynamodb_client, table_name, user_id, erasure_id, limit=100):
    """Play the stream: deliver each save's record to the worker until the job stops running."""
    from handlers import erasure_worker

    for _ in range(limit):
        receipt = call("GET", f"/users/{user_id}/erasures/{erasure_id}").json()
        if receipt["status"] != "running":
            return receipt
        record = job_record(dynamodb_client, table_name, user_id, erasure_id)
        result = erasure_worker.lambda_handler({"Records": [record]}, FakeContext())
        assert result == {"batchItemFailures": []}
    raise AssertionError("the erasure did not finish")


def all_items(dynamodb_client, table_name):
    """Every item of the table (a Scan in the test, never on a request path)."""
    found, start = [], None
    while True:
        page = dynamodb_client.scan(TableName=table_name, **({"ExclusiveStartKey": start} if start else {}))
        found += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def put(session_id, user_id, runs=(), headers=None, kind="agent"):
    body = {
        "session_type": kind,
        "user_id": user_id,
        "agent_id": "a1",
        "session_data": {"session_name": f"{session_id} chat"},
        "runs": list(runs),
    }
    response = call("PUT", session_path(session_id), body, headers=headers)
    assert response.status in (200, 201), response.text
    return response


def start_erasure(user_id):
    response = call("DELETE", f"/users/{user_id}")
    assert response.status == 202, response.text
    body = response.json()
    assert body["status"] == "running"
    assert response.headers["Location"] == f"{user_id}/erasures/{body['erasure_id']}"
    return body["erasure_id"]


def test_erasure_removes_every_item_kind_of_the_user_and_nothing_else(
    table_name,
    bucket,
    s3,
    dynamodb_client,
):
    put("alice-1", "alice", [{"run_id": f"r{i}", "content": "hi"} for i in range(3)])
    put("alice-2", "alice", [big_run("big", 2 * MB)], kind="team")
    put("alice-3", "alice", headers={"Idempotency-Key": "k-alice"})
    for memory_id, user in (("m-alice-1", "alice"), ("m-alice-2", "alice"), ("m-bob-1", "bob")):
        stored = call(
            "PUT", f"/memories/{memory_id}", {"memory": f"{user} likes tea", "user_id": user, "topics": ["drinks"]}
        )
        assert stored.status == 201, stored.text
    put(
        "bob-1",
        "bob",
        [{"run_id": "r0", "content": "hello"}, big_run("big", 2 * MB, seed=1)],
        headers={"Idempotency-Key": "k-bob"},
    )
    bob_before = [item for item in all_items(dynamodb_client, table_name) if "alice" not in str(item)]
    assert len(objects(s3, bucket)) == 2

    erasure_id = start_erasure("alice")
    assert start_erasure("alice") == erasure_id  # idempotent while it runs

    # At once, before any item is deleted: the user's data reads as gone.
    assert call("GET", session_path("alice-1")).status == 404
    assert call("GET", run_path("alice-1", "r0")).status == 404
    assert call("GET", "/sessions", query={"user_id": "alice"}).json()["sessions"] == []
    listed = {s["session_id"] for s in call("GET", "/sessions", query={"agent_id": "a1"}).json()["sessions"]}
    assert listed == {"bob-1"}
    assert call("GET", "/users/alice/export").text == ""
    assert call("GET", "/memories/m-alice-1").status == 404
    assert call("GET", "/memories", query={"user_id": "alice"}).json()["memories"] == []
    assert [m["memory_id"] for m in call("GET", "/memories").json()["memories"]] == ["m-bob-1"]
    assert call("GET", "/memory-topics", query={"user_id": "alice"}).json() in ([], {"topics": []})

    receipt = run_worker(dynamodb_client, table_name, "alice", erasure_id)
    assert receipt["status"] == "done"
    assert receipt["counts"] == {
        "sessions": 3,
        "runs": 4,
        "run_lookups": 4,
        "s3_objects": 1,
        "memories": 2,
        "idempotency_records": 1,
    }
    assert receipt["finished_at"] >= receipt["started_at"]

    remaining = all_items(dynamodb_client, table_name)
    user_items = [
        item for item in remaining if "alice" in str(item) and not item["pk"]["S"].startswith(names.ERASURE_PREFIX)
    ]
    assert user_items == []
    assert [item for item in remaining if "alice" not in str(item)] == bob_before  # untouched
    assert len(objects(s3, bucket)) == 1  # bob's


def test_writes_during_an_erasure_go_to_fresh_incarnations_that_survive_it(table_name, dynamodb_client, monkeypatch):
    clock = {"now": 1_900_000_000.0}
    put("s1", "carol", [{"run_id": "old", "content": "before"}])
    service = runtime.service()
    service._clock = lambda: clock["now"]
    job = erasure.start(UserRepository(service.repository), "carol", lambda: clock["now"])

    # Within the cutoff second, a write that would start an incarnation is asked to retry.
    clock["now"] = job.cutoff + 0.5
    refused = call("PUT", session_path("s1"), {"session_type": "agent", "user_id": "carol", "runs": []})
    assert refused.status == 503 and refused.headers.get("Retry-After")

    # Afterwards it lands in a fresh incarnation: none of the erased runs reappear.
    clock["now"] = job.cutoff + 2.0
    with monkeypatch.context() as patch:
        patch.setattr(items.time, "time", lambda: clock["now"])  # new_incarnation reads the wall clock
        put("s1", "carol", [{"run_id": "new", "content": "after"}])
    fresh = call("GET", session_path("s1")).json()
    assert [run["run_id"] for run in fresh["runs"]] == ["new"]

    receipt = run_worker(dynamodb_client, table_name, "carol", job.erasure_id)
    assert receipt["status"] == "done"
    assert [run["run_id"] for run in call("GET", session_path("s1")).json()["runs"]] == ["new"]
    assert receipt["counts"]["sessions"] == 0  # the session item is the fresh one now


def test_list_totals_leave_out_the_erased_sessions_while_the_erasure_runs(table_name, monkeypatch):
    put("d1", "dave")
    put("d2", "dave", kind="team")
    put("e1", "erin")
    put("e2", "erin")
    service = runtime.service()
    clock = {"now": 1_900_000_000.0}
    job = erasure.start(UserRepository(service.repository), "dave", lambda: clock["now"])
    queries = [
        {"user_id": "dave"},
        {"user_id": "dave", "agent_id": "a1"},  # the user-component index
        {"user_id": "dave", "sort_by": "created_at", "start_timestamp": 1},  # counted by fetching
        {"user_id": "dave", "end_timestamp": 2_000_000_000},
    ]

    def totals(query):
        body = call("GET", "/sessions", query={**query, "include_total": "true"}).json()
        return len(body["sessions"]), body["total"]

    assert [totals(query) for query in queries] == [(0, 0)] * 4  # no worker has run: all still stored
    assert totals({"user_id": "erin"}) == (2, 2)

    # A write after the cutoff is a fresh incarnation: listed and counted.
    clock["now"] = job.cutoff + 2.0
    with monkeypatch.context() as patch:
        patch.setattr(service, "_clock", lambda: clock["now"])
        patch.setattr(items.time, "time", lambda: clock["now"])
        put("d1", "dave")
    assert [totals(query) for query in queries] == [(1, 1)] * 4


def test_a_failing_batch_is_retried_then_failed_and_a_new_delete_resumes_it(table_name, dynamodb_client):
    put("d1", "dave", [{"run_id": "r", "content": "x"}])
    erasure_id = start_erasure("dave")
    users = UserRepository(runtime.repository())
    sleeps = []
    for attempt in range(erasure.MAX_FAILURES):
        outcome = _advance_with_throttled_queries(users, "dave", erasure_id, sleeps)
        assert outcome == ("failed" if attempt == erasure.MAX_FAILURES - 1 else "retrying")
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    receipt = call("GET", f"/users/dave/erasures/{erasure_id}").json()
    assert receipt["status"] == "failed"
    assert call("GET", session_path("d1")).status == 404  # still hidden while failed

    assert start_erasure("dave") == erasure_id  # resumed, not started anew
    assert run_worker(dynamodb_client, table_name, "dave", erasure_id)["counts"]["sessions"] == 1


def _advance_with_throttled_queries(users, user_id, erasure_id, sleeps):
    """One worker attempt during which DynamoDB throttles every Query (a fault injected at the
    client, after botocore's own retries would have given up)."""
    job = users.get_job(user_id, erasure_id)
    events = users.sessions._client.meta.events

    def throttle(**_):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")

    events.register("before-call.dynamodb.Query", throttle, unique_id="erasure-test-throttle")
    try:
        return erasure.advance(users, user_id, erasure_id, job.seq, sleep=sleeps.append)
    finally:
        events.unregister("before-call.dynamodb.Query", unique_id="erasure-test-throttle")


def test_a_redelivered_record_runs_no_batch_twice(table_name, dynamodb_client):
    put("e1", "erin")
    erasure_id = start_erasure("erin")
    users = UserRepository(runtime.repository())
    seq = users.get_job("erin", erasure_id).seq
    assert erasure.advance(users, "erin", erasure_id, seq) == "running"
    assert erasure.advance(users, "erin", erasure_id, seq) == "stale"


def test_a_finished_erasure_can_be_followed_by_another(table_name, dynamodb_client):
    put("f1", "frank")
    first = start_erasure("frank")
    run_worker(dynamodb_client, table_name, "frank", first)
    second = start_erasure("frank")
    assert second != first
    assert call("GET", f"/users/frank/erasures/{first}").json()["status"] == "done"
    assert call("GET", "/users/frank/erasures/nope").status == 404


@pytest.mark.parametrize("path", ["/users/%00x", "/users/" + "u" * 300])
def test_invalid_user_ids_are_refused_and_change_nothing(table_name, path):
    response = call("DELETE", path)
    assert 400 <= response.status < 500
    assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE


def test_a_memory_written_after_the_cutoff_survives_the_erasure(table_name, dynamodb_client):
    clock = {"now": 1_900_000_000.0}
    memories = runtime.memory_service()
    memories._clock = lambda: clock["now"]
    assert call("PUT", "/memories/m1", {"memory": "old fact", "user_id": "dave"}).status == 201
    assert call("PUT", "/memories/m2", {"memory": "another old fact", "user_id": "dave"}).status == 201
    job = erasure.start(UserRepository(runtime.service().repository), "dave", lambda: clock["now"])

    # Within the cutoff second a memory write for the user is asked to retry; after it, it lands.
    clock["now"] = job.cutoff + 0.5
    refused = call("PUT", "/memories/m1", {"memory": "new fact", "user_id": "dave"})
    assert refused.status == 503 and refused.headers.get("Retry-After")
    clock["now"] = job.cutoff + 2.0
    rewritten = call("PUT", "/memories/m1", {"memory": "new fact", "user_id": "dave"})
    assert rewritten.status == 201, rewritten.text  # the erased memory is gone: this one is new
    assert call("GET", "/memories/m2").status == 404

    receipt = run_worker(dynamodb_client, table_name, "dave", job.erasure_id)
    assert receipt["status"] == "done" and receipt["counts"]["memories"] == 1
    assert call("GET", "/memories/m1").json()["memory"] == "new fact"
    assert [m["memory_id"] for m in call("GET", "/memories", query={"user_id": "dave"}).json()["memories"]] == ["m1"]


# --- lists while an erasure runs ------------------------------------------------------------------
BOUND = 150  # names.MAX_LIST_PAGE_READS in these tests, so that few sessions exceed it
# BatchGetItems of a page: its first batch, the bound's, the one that crosses it, and with each a
# read of the erasures of users the page had not met yet. Reading on would take dozens.
MOST_READS = 2 * (1 + BOUND // 100 + 1)


def _seed_sessions(dynamodb_client, table_name, user_id, count):
    seeded = put_all(dynamodb_client, table_name, session_items(table_name, small_sessions(user_id, count, 1)))
    assert seeded == count * 3


def _pages(capacity, query):
    """Every page of GET /sessions with `query`, following the cursors: (ids, BatchGetItem calls)."""
    pages, cursor = [], None
    while True:
        before = capacity.snapshot()
        body = call("GET", "/sessions", query={**query, **({"cursor": cursor} if cursor else {})}).json()
        reads = capacity.calls_between(before, capacity.snapshot()).get("BatchGetItem", [0])[0]
        pages.append(([session["session_id"] for session in body["sessions"]], reads))
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort_by", ["updated_at", "created_at"])
@pytest.mark.parametrize("sort_order", ["desc", "asc"])
def test_a_list_page_bounds_its_reads_behind_an_erased_user_and_the_pages_list_the_rest_exactly(
    table_name, dynamodb_client, capacity, monkeypatch, sort_by, sort_order
):
    monkeypatch.setattr(names, "MAX_LIST_PAGE_READS", BOUND)
    clock = {"now": time.time() - 3600}
    service = runtime.service()
    service._clock = lambda: clock["now"]
    for number in range(2):  # another user's sessions, before the erased user's in time...
        put(f"zoe-{number}", "zoe")
        clock["now"] += 1
    _seed_sessions(dynamodb_client, table_name, "gone", 4 * BOUND)  # at the wall clock
    clock["now"] = time.time() + 60
    put("zoe-2", "zoe")  # ...and one after them
    erasure.start(UserRepository(service.repository), "gone")  # the worker never runs here
    expected = [f"zoe-{number}" for number in range(3)]
    if sort_order == "desc":
        expected.reverse()

    pages = _pages(capacity, {"sort_by": sort_by, "sort_order": sort_order, "limit": 2})
    assert [session_id for ids, _ in pages for session_id in ids] == expected  # each once, in order
    # No page reads more than its bound (and the page's first batch, the batch that crosses the
    # bound and the users' erasures), and some stopped at it.
    assert max(reads for _, reads in pages) <= MOST_READS, pages
    assert any(not ids for ids, _ in pages[:-1]), pages

    # The erased user's own list: empty pages, each bounded, that end.
    own = _pages(capacity, {"user_id": "gone", "sort_by": sort_by, "sort_order": sort_order})
    assert all(not ids for ids, _ in own) and max(reads for _, reads in own) <= MOST_READS
    assert 2 <= len(own) <= 4 * BOUND // BOUND + 1
