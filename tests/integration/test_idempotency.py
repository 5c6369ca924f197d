"""Idempotency-Key on every write route, on DynamoDB Local through the handlers: a retry replays the
first response (status, body, ETag) and writes nothing; the same key for another request is a 422;
a retry while the first attempt runs is a 409; records live in the session table under their own
key, expire through its TTL attribute and stay out of lists and the cascade."""

import os
import time

import pytest

from session_store import cascade, idempotency, names, runtime, table
from tests.support.api import call, run_path, session_path

AGENT = {"session_type": "agent", "agent_id": "agent-1", "user_id": "alice"}


def keyed(key, **headers):
    return {idempotency.HEADER: key, **headers}


def records(dynamodb_client, table_name):
    return dynamodb_client.query(
        TableName=table_name,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": names.PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": names.IDEMPOTENCY_PREFIX}},
        ConsistentRead=True,
    )["Items"]


def get(session_id):
    return call("GET", session_path(session_id)).json()


def assert_replay_of(first, again):
    assert (again.status, again.text, again.etag) == (first.status, first.text, first.etag)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_put_session_retry_replays_the_first_response_and_writes_nothing(table_name):
    first = call("PUT", session_path("s1"), {**AGENT, "metadata": {"n": 1}}, headers=keyed("k1"))
    assert first.status == 201 and first.etag == '"1"'
    again = call("PUT", session_path("s1"), {**AGENT, "metadata": {"n": 1}}, headers=keyed("k1"))
    assert_replay_of(first, again)
    assert get("s1")["version"] == 1
    # The same body without the key is a new request: it writes (200, version 2).
    assert call("PUT", session_path("s1"), {**AGENT, "metadata": {"n": 1}}).status == 200
    assert get("s1")["version"] == 2


def test_put_run_retry_keeps_201_and_the_first_etag_after_later_writes(table_name):
    first = call("PUT", run_path("s1", "r1"), {"content": "hi", "user_id": "alice"}, headers=keyed("k1"))
    assert first.status == 201 and first.etag == '"1"'
    call("PUT", session_path("s1"), {"metadata": {"later": True}})  # version 2
    again = call("PUT", run_path("s1", "r1"), {"content": "hi", "user_id": "alice"}, headers=keyed("k1"))
    assert_replay_of(first, again)
    assert again.json() == {"content": "hi", "user_id": "alice", "run_id": "r1"}
    session = get("s1")
    assert session["version"] == 2 and session["run_count"] == 1


def test_patch_retry_does_not_apply_the_patch_twice(table_name):
    call("PUT", session_path("s1"), AGENT)
    patch = {"session_data": {"session_name": "renamed"}}
    headers = keyed("k1", **{"Content-Type": "application/merge-patch+json"})
    first = call("PATCH", session_path("s1"), patch, headers=headers)
    assert first.status == 200 and first.etag == '"2"'
    assert_replay_of(first, call("PATCH", session_path("s1"), patch, headers=headers))
    assert get("s1")["version"] == 2


def test_delete_retries_replay_204_instead_of_404(table_name):
    call("PUT", session_path("s1"), {**AGENT, "runs": [{"run_id": "r1"}, {"run_id": "r2"}]})
    first = call("DELETE", run_path("s1", "r1"), headers=keyed("k-run"))
    assert first.status == 204
    assert_replay_of(first, call("DELETE", run_path("s1", "r1"), headers=keyed("k-run")))
    assert call("DELETE", run_path("s1", "r1")).status == 404  # without the key: it is gone
    assert get("s1")["run_count"] == 1

    first = call("DELETE", session_path("s1"), headers=keyed("k-session"))
    assert first.status == 204
    assert_replay_of(first, call("DELETE", session_path("s1"), headers=keyed("k-session")))
    assert call("GET", session_path("s1")).status == 404


@pytest.mark.parametrize(
    "change",
    [
        {"body": {**AGENT, "metadata": {"n": 2}}},
        {"path": session_path("s2")},
        {"query": {"user_id": "alice"}},
        {"headers": {"If-Match": '"1"'}},
    ],
)
def test_the_same_key_for_another_request_is_422_and_writes_nothing(table_name, change):
    first = {"path": session_path("s1"), "body": {**AGENT, "metadata": {"n": 1}}, "query": None, "headers": {}}
    assert call("PUT", first["path"], first["body"], headers=keyed("k1")).status == 201
    other = {**first, **change}
    response = call("PUT", other["path"], other["body"], query=other["query"], headers=keyed("k1", **other["headers"]))
    assert response.status == 422, response.text
    assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
    assert response.json()["type"] == names.PROBLEM_TYPE_BASE + "idempotency-key-reused"
    assert get("s1")["version"] == 1 and get("s1")["metadata"] == {"n": 1}
    assert call("GET", session_path("s2")).status == 404


def test_the_same_key_on_another_route_is_422(table_name):
    assert call("PUT", session_path("s1"), AGENT, headers=keyed("k1")).status == 201
    response = call("PUT", run_path("s1", "r1"), {"x": 1}, headers=keyed("k1"))
    assert response.status == 422
    assert get("s1")["run_count"] == 0


def test_a_failed_write_is_not_recorded_so_its_retry_runs_again(table_name, dynamodb_client):
    call("PUT", session_path("s1"), AGENT)
    create_only = keyed("k1", **{"If-None-Match": "*"})
    assert call("PUT", session_path("s1"), AGENT, headers=create_only).status == 412
    assert records(dynamodb_client, table_name) == []
    assert call("DELETE", session_path("s1")).status == 204
    # The same request again: executed (the session no longer exists), not a replayed 412.
    retried = call("PUT", session_path("s1"), AGENT, headers=create_only)
    assert retried.status == 201 and "Idempotent-Replayed" not in retried.headers


def test_a_retry_while_the_first_attempt_runs_is_409_with_retry_after(table_name):
    client = runtime.repository()._client
    during = []

    def retry_meanwhile(**_):
        # Called when the first attempt is about to write: its in-progress record exists.
        if not during:
            during.append(call("PUT", session_path("s1"), AGENT, headers=keyed("k1")))

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", retry_meanwhile)
    first = call("PUT", session_path("s1"), AGENT, headers=keyed("k1"))
    assert first.status == 201
    (concurrent,) = during
    assert concurrent.status == 409, concurrent.text
    assert concurrent.headers["Retry-After"] == "1"
    assert concurrent.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
    assert_replay_of(first, call("PUT", session_path("s1"), AGENT, headers=keyed("k1")))
    assert get("s1")["version"] == 1


def test_no_key_no_record_and_records_stay_out_of_indexes_lists_and_the_cascade(table_name, dynamodb_client):
    for index in range(3):
        call("PUT", session_path(f"plain-{index}"), AGENT)
    assert records(dynamodb_client, table_name) == []  # zero extra cost without the header

    before = time.time()
    call("PUT", session_path("keyed"), AGENT, headers=keyed("k1"))
    (record,) = records(dynamodb_client, table_name)
    assert record[names.SORT_KEY]["S"].startswith(f"{idempotency.KEY_PREFIX}#")
    # DynamoDB's TTL removes it: the table's TTL attribute, an hour from the request.
    expires = int(record[names.TTL_ATTRIBUTE]["N"])
    assert before + idempotency.RECORD_SECONDS - 5 <= expires <= time.time() + idempotency.RECORD_SECONDS + 5
    # No index key: the sparse list indexes can never hold it; no entity the cascade acts on.
    index_keys = set(table.key_attributes()) - {names.PARTITION_KEY, names.SORT_KEY}
    assert not index_keys & record.keys()
    assert "entity" not in record

    listed = call("GET", "/sessions", query={"limit": 100}).json()["sessions"]
    assert sorted(s["session_id"] for s in listed) == ["keyed", "plain-0", "plain-1", "plain-2"]
    assert len(call("GET", "/sessions", query={"user_id": "alice"}).json()["sessions"]) == 4

    removal = {
        "eventName": "REMOVE",
        "userIdentity": {"type": "Service", "principalId": cascade.TTL_PRINCIPAL},
        "dynamodb": {"Keys": {k: record[k] for k in (names.PARTITION_KEY, names.SORT_KEY)}, "OldImage": record},
    }
    outcome = cascade.handle_record(runtime.repository(), removal)
    assert "purged_items" not in outcome and "deleted_object" not in outcome
    assert get("keyed")["version"] == 1


def test_a_large_response_is_stored_compressed_and_replayed_byte_for_byte(table_name, dynamodb_client):
    body = {**AGENT, "session_data": {"notes": [f"note {i}: {'x' * 40}" for i in range(500)]}}
    first = call("PUT", session_path("s1"), body, headers=keyed("k1"))
    assert first.status == 201 and len(first.text) > 20_000
    (record,) = records(dynamodb_client, table_name)
    assert "body_gzip" in record["response"]["S"]
    assert_replay_of(first, call("PUT", session_path("s1"), body, headers=keyed("k1")))


def test_a_response_too_large_for_its_record_replays_from_a_fresh_read(table_name, dynamodb_client):
    # ~300 KB of random bytes as hex: the session item holds it gzipped, the record could not.
    body = {**AGENT, "session_data": {"blob": os.urandom(280_000).hex()}}
    first = call("PUT", session_path("s1"), body, headers=keyed("k1"))
    assert first.status == 201, first.text
    (record,) = records(dynamodb_client, table_name)
    assert "body_omitted" in record["response"]["S"]
    assert_replay_of(first, call("PUT", session_path("s1"), body, headers=keyed("k1")))


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_empty_or_overlong_key_is_422(table_name, key):
    response = call("PUT", session_path("s1"), AGENT, headers=keyed(key))
    assert response.status == 422
    assert call("GET", session_path("s1")).status == 404
