"""Retention: sliding expiry, pins, and expired sessions treated as absent."""

import time

from session_store import items, keys
from session_store.table import INDEXED_EXPIRY_ATTRIBUTE
from tests.support.api import call, session_path

DAY = 86_400


def put(session_id, body):
    return call("PUT", session_path(session_id), body)


def test_every_write_slides_expiry_by_the_retention(table_name):
    body = put("s1", {"session_type": "agent"}).json()
    assert abs(body["expires_at"] - (int(time.time()) + 30 * DAY)) <= 5


def test_pinned_and_never_and_keeping_the_policy(table_name):
    pinned = int(time.time()) + 3600
    assert put("s1", {"session_type": "agent", "expires_at": pinned}).json()["expires_at"] == pinned
    assert put("s1", {"metadata": {"a": 1}}).json()["expires_at"] == pinned  # no sliding while pinned
    assert put("s1", {"expires_at": None}).json()["expires_at"] is None
    assert put("s1", {"metadata": {"a": 2}}).json()["expires_at"] is None
    assert call("GET", session_path("s1")).json()["expires_at"] is None


def test_an_expired_session_is_invisible_and_a_put_starts_it_fresh(table_name, dynamodb_client):
    put("gone", {"session_type": "agent", "user_id": "u", "runs": [{"run_id": "old-1"}, {"run_id": "old-2"}]})
    # Expire it in place, as time passing would: the item stays (DynamoDB deletes lazily). Its
    # index entries' expiry (as of their last move, never later than the session's) passes too.
    dynamodb_client.update_item(
        TableName=table_name,
        Key=items.session_key("gone"),
        UpdateExpression="SET expires_at = :past, #indexed = :past",
        ExpressionAttributeNames={"#indexed": INDEXED_EXPIRY_ATTRIBUTE},
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 10)}},
    )
    assert call("GET", session_path("gone")).status == 404
    assert call("GET", "/sessions").json()["sessions"] == []
    assert call("GET", "/sessions", query={"user_id": "u", "include_total": "true"}).json()["total"] == 0
    assert call("GET", "/sessions/gone/runs").status == 404
    assert call("DELETE", session_path("gone")).status == 404
    recreated = put("gone", {"session_type": "agent", "runs": [{"run_id": "new-1"}]})
    assert recreated.status == 201
    body = call("GET", session_path("gone")).json()
    assert [run["run_id"] for run in body["runs"]] == ["new-1"]
    assert body["run_count"] == 1 and body["user_id"] is None
    # Writing a run id the expired session had makes a new run, not the old one back.
    put("gone", {"runs": [{"run_id": "old-1", "fresh": True}]})
    assert call("GET", session_path("gone")).json()["runs"][-1] == {"run_id": "old-1", "fresh": True}


def test_a_session_created_already_expired_is_invisible(table_name):
    assert put("s1", {"session_type": "agent", "expires_at": int(time.time()) - 1}).status == 201
    assert call("GET", session_path("s1")).status == 404


def test_retention_zero_means_never(table_name, monkeypatch):
    from session_store import names, runtime

    monkeypatch.setenv(names.ENV_RETENTION_DAYS, "0")
    runtime.reset()
    assert put("s1", {"session_type": "agent"}).json()["expires_at"] is None
    assert keys.session_pk("s1") == "SESSION#s1"
