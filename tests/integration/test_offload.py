"""Runs of any size up to the request limit: gzip, then offload to S3 (moto in server mode), and the
stream cascade removing offloaded objects; reads of the newest runs that read only those."""

from __future__ import annotations

import pytest

from bench.data import incompressible
from session_store import codec, items, keys, names, runtime
from session_store.payloads import OBJECT_PREFIX
from tests.integration.test_cascade import run_cascade, stream_records
from tests.support.api import call, run_path, session_path
from tests.support.s3 import objects

MB = 1024 * 1024
S3_KEY_LIMIT_BYTES = 1024


def big_run(run_id, size, seed=0):
    """A run of `size` characters of base64 noise: gzip keeps about 75% of it."""
    return {"run_id": run_id, "status": "COMPLETED", "content": incompressible(size, seed), "metrics": {"n": 0.1}}


def run_items(dynamodb_client, table_name, session_id):
    response = dynamodb_client.query(
        TableName=table_name,
        ConsistentRead=True,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :run)",
        ExpressionAttributeValues={":pk": {"S": keys.session_pk(session_id)}, ":run": {"S": names.RUN_PREFIX}},
    )
    return response["Items"]


def cascade_until_settled(dynamodb_local, table_name):
    """Feed the stream to the cascade until it stops producing work: a session's removal purges
    its runs, whose own removals then come through the stream and delete their objects."""
    for _ in range(3):
        assert run_cascade(stream_records(dynamodb_local, table_name)) == {"batchItemFailures": []}


@pytest.mark.parametrize("size", [1 * MB, 5 * MB], ids=["1MB", "5MB"])
def test_a_big_run_round_trips_exactly_through_put_run_and_put_session(bucket, s3, dynamodb_client, table_name, size):
    through_run = big_run("r-run", size, seed=1)
    created = call("PUT", run_path("by-run", "r-run"), through_run)
    assert created.status == 201, created.text
    assert call("GET", run_path("by-run", "r-run")).json() == through_run
    assert call("GET", session_path("by-run")).json()["runs"] == [through_run]

    through_session = big_run("r-session", size, seed=2)
    written = call("PUT", session_path("by-session"), {"session_type": "agent", "runs": [through_session]})
    assert written.status == 201, written.text
    assert call("GET", session_path("by-session")).json()["runs"] == [through_session]

    # Each went to S3, its item holding only the object's key, and nothing else was offloaded.
    stored = [item for session in ("by-run", "by-session") for item in run_items(dynamodb_client, table_name, session)]
    assert all(items.RUN_ATTRIBUTE not in item and items.PAYLOAD_OBJECT_ATTRIBUTE in item for item in stored)
    assert objects(s3, bucket) == sorted(item[items.PAYLOAD_OBJECT_ATTRIBUTE]["S"] for item in stored)


def test_a_run_under_the_item_limit_stays_inline_gzipped(bucket, s3, dynamodb_client, table_name):
    run = big_run("r1", 300 * 1024)
    assert call("PUT", run_path("s1", "r1"), run).status == 201
    (item,) = run_items(dynamodb_client, table_name, "s1")
    assert "B" in item[items.RUN_ATTRIBUTE] and codec.decode(item[items.RUN_ATTRIBUTE]) == run
    assert objects(s3, bucket) == []


def test_deleting_an_offloaded_run_removes_its_object_through_the_stream(bucket, s3, dynamodb_local, table_name):
    call("PUT", run_path("s1", "big"), big_run("big", MB))
    call("PUT", run_path("s1", "other"), big_run("other", MB, seed=3))
    assert len(objects(s3, bucket)) == 2
    assert call("DELETE", run_path("s1", "big")).status == 204
    cascade_until_settled(dynamodb_local, table_name)
    (kept,) = objects(s3, bucket)
    assert call("GET", run_path("s1", "other")).json() == big_run("other", MB, seed=3)
    assert kept.startswith(OBJECT_PREFIX)


def test_deleting_a_session_removes_every_offloaded_object(bucket, s3, dynamodb_local, dynamodb_client, table_name):
    runs = [big_run(f"r{n}", MB, seed=n) for n in range(2)]
    call("PUT", session_path("s1"), {"session_type": "agent", "runs": [*runs, {"run_id": "small"}]})
    call("PUT", run_path("keep", "r0"), big_run("r0", MB))
    assert len(objects(s3, bucket)) == 3
    assert call("DELETE", session_path("s1")).status == 204
    cascade_until_settled(dynamodb_local, table_name)
    assert run_items(dynamodb_client, table_name, "s1") == []
    (kept,) = objects(s3, bucket)
    assert kept == run_items(dynamodb_client, table_name, "keep")[0][items.PAYLOAD_OBJECT_ATTRIBUTE]["S"]


def test_replacing_an_offloaded_run_writes_a_new_object_and_the_stream_drops_the_old(
    bucket, s3, dynamodb_local, table_name
):
    call("PUT", run_path("s1", "r1"), big_run("r1", MB, seed=1))
    (first,) = objects(s3, bucket)
    replacement = big_run("r1", MB, seed=2)
    assert call("PUT", run_path("s1", "r1"), replacement).status == 200
    # The first object is never overwritten: a reader of the old item still finds its payload.
    assert first in objects(s3, bucket) and len(objects(s3, bucket)) == 2
    cascade_until_settled(dynamodb_local, table_name)
    assert first not in objects(s3, bucket) and len(objects(s3, bucket)) == 1
    assert call("GET", run_path("s1", "r1")).json() == replacement


def test_a_payload_gone_from_s3_is_a_503_to_retry(bucket, s3):
    call("PUT", run_path("s1", "r1"), big_run("r1", MB))
    (key,) = objects(s3, bucket)
    s3.delete_object(Bucket=bucket, Key=key)  # what the cascade does right after a replacement
    response = call("GET", run_path("s1", "r1"))
    assert response.status == 503
    assert response.headers.get("Retry-After")


def test_a_payload_s3_refuses_to_show_is_a_503_too(bucket, s3):
    """Without s3:ListBucket, AWS answers a GET of a missing object with 403 AccessDenied (moto
    answers 404, hence the stub): it must read as missing too, never as a 500."""
    from botocore.stub import Stubber

    call("PUT", run_path("s1", "r1"), big_run("r1", MB))
    client = runtime.repository().payloads._s3_client()
    with Stubber(client) as stubber:
        stubber.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        response = call("GET", run_path("s1", "r1"))
    assert response.status == 503
    assert response.headers.get("Retry-After")
    assert response.json()["type"] == names.PROBLEM_TYPE_BASE + "service-unavailable"


def test_object_keys_fit_s3_whatever_the_session_id(bucket, s3, dynamodb_client, table_name):
    # 255 characters whose escaped form (1,005 bytes) just fits DynamoDB's 1,024-byte sort keys
    # (the list indexes hold `<time>#<escaped id>`), but not S3's 1,024-byte object keys.
    session_id = "\U0001f600" * 240 + "%" * 15
    run = big_run("r1", MB)
    assert call("PUT", run_path(session_id, "r1"), run).status == 201
    (item,) = run_items(dynamodb_client, table_name, session_id)
    assert len(item[items.PAYLOAD_OBJECT_ATTRIBUTE]["S"].encode()) <= S3_KEY_LIMIT_BYTES
    assert call("GET", run_path(session_id, "r1")).json() == run


def test_the_newest_runs_page_reads_only_those_runs(table_name, capacity):
    runs = [{"run_id": f"run-{n:04d}", "content": f"turn {n}"} for n in range(300)]
    call("PUT", session_path("s"), {"session_type": "agent", "runs": runs})
    before = capacity.snapshot().read
    page = call("GET", session_path("s") + "/runs", query={"order": "desc", "limit": 5}).json()
    assert [run["run_id"] for run in page["runs"]] == [f"run-{n:04d}" for n in range(299, 294, -1)]
    assert page["next_cursor"]
    assert capacity.snapshot().read - before <= 3  # the session item and one query of 5 small runs, not 300
