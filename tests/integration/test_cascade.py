"""The cascade function, fed real stream records read from DynamoDB Local's stream."""

import time

from local_runtime.stream_records import lambda_record
from session_store import items, keys, runtime
from tests.support.api import FakeContext, call, session_path


def stream_records(dynamodb_local, table_name):
    """Every record of the table's stream so far, in Lambda's event form."""
    streams = dynamodb_local.streams_client()
    arn = dynamodb_local.client().describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += page["Records"]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    region = streams.meta.region_name
    return [lambda_record(record, arn, region, key_attributes=("pk", "sk")) for record in records]


def collection(dynamodb_client, table_name, session_id):
    response = dynamodb_client.query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.session_pk(session_id)}},
        ConsistentRead=True,
    )
    return [item["sk"]["S"] for item in response["Items"]]


def run_cascade(records):
    from handlers import cascade

    return cascade.lambda_handler({"Records": records}, FakeContext())


def test_deleting_a_session_removes_its_runs_through_the_stream(table_name, dynamodb_local, dynamodb_client):
    call(
        "PUT",
        session_path("s1"),
        {"session_type": "agent", "runs": [{"run_id": f"r{i}", "big": "x" * 20_000} for i in range(30)]},
    )
    call("PUT", session_path("keep"), {"session_type": "agent", "runs": [{"run_id": "r0"}]})
    assert len(collection(dynamodb_client, table_name, "s1")) == 61
    assert call("DELETE", session_path("s1")).status == 204
    result = run_cascade(stream_records(dynamodb_local, table_name))
    assert result == {"batchItemFailures": []}
    assert collection(dynamodb_client, table_name, "s1") == []
    assert len(collection(dynamodb_client, table_name, "keep")) == 3
    # Replaying the same records is harmless (at-least-once delivery).
    assert run_cascade(stream_records(dynamodb_local, table_name)) == {"batchItemFailures": []}


def test_a_ttl_removal_and_a_replaced_expired_incarnation_are_purged(table_name, dynamodb_local, dynamodb_client):
    call("PUT", session_path("ttl"), {"session_type": "agent", "runs": [{"run_id": "a"}, {"run_id": "b"}]})
    call("PUT", session_path("reborn"), {"session_type": "agent", "runs": [{"run_id": "old"}]})
    past = {":past": {"N": str(int(time.time()) - 5)}}
    for session_id in ("ttl", "reborn"):
        dynamodb_client.update_item(
            TableName=table_name,
            Key=items.session_key(session_id),
            UpdateExpression="SET expires_at = :past",
            ExpressionAttributeValues=past,
        )
    dynamodb_client.delete_item(TableName=table_name, Key=items.session_key("ttl"))  # what TTL does
    call("PUT", session_path("reborn"), {"session_type": "agent", "runs": [{"run_id": "new"}]})
    records = stream_records(dynamodb_local, table_name)
    for record in records:
        if record["eventName"] == "REMOVE":
            record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert run_cascade(records) == {"batchItemFailures": []}
    assert collection(dynamodb_client, table_name, "ttl") == []
    remaining = collection(dynamodb_client, table_name, "reborn")
    assert len(remaining) == 3  # META, the new run and its lookup
    assert [r["run_id"] for r in call("GET", session_path("reborn")).json()["runs"]] == ["new"]


def test_a_failing_record_is_reported_alone(table_name, dynamodb_local, monkeypatch):
    call("PUT", session_path("s1"), {"session_type": "agent", "runs": [{"run_id": "a"}]})
    call("DELETE", session_path("s1"))
    records = stream_records(dynamodb_local, table_name)
    removal = next(r for r in records if r["eventName"] == "REMOVE")

    def broken(*args, **kwargs):
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(runtime.repository(), "purge_incarnation", broken)
    result = run_cascade(records)
    assert result == {"batchItemFailures": [{"itemIdentifier": removal["dynamodb"]["SequenceNumber"]}]}


def test_only_the_records_the_stacks_filter_passes_suffice(table_name, dynamodb_local, dynamodb_client):
    """The event source mapping's filters (cdk/session_store_stack/cascade.py), applied to the real
    stream: deletes, re-incarnations and offload changes get through and do their whole job; the
    records of ordinary turns do not reach the function."""
    from cdk.session_store_stack.cascade import STREAM_FILTERS
    from local_runtime.filters import compile_criteria

    passes = compile_criteria({"Filters": [{"Pattern": pattern} for pattern in STREAM_FILTERS]})
    call("PUT", session_path("gone"), {"session_type": "agent", "runs": [{"run_id": "a"}]})
    call("PUT", session_path("reborn"), {"session_type": "agent", "runs": [{"run_id": "old"}]})
    for turn in range(3):  # ordinary turns: MODIFYs of the session item, INSERTs of runs
        call("PUT", session_path("reborn"), {"session_type": "agent", "runs": [{"run_id": f"t{turn}"}]})
    turns = stream_records(dynamodb_local, table_name)
    assert not [r for r in turns if passes(r)]

    dynamodb_client.update_item(
        TableName=table_name,
        Key=items.session_key("reborn"),
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 5)}},
    )
    call("PUT", session_path("reborn"), {"session_type": "agent", "runs": [{"run_id": "new"}]})
    call("PUT", session_path("reborn"), {"session_type": "agent", "runs": [{"run_id": "newer"}]})
    call("DELETE", session_path("gone"))
    records = stream_records(dynamodb_local, table_name)[len(turns) :]
    passed = [r for r in records if passes(r)]
    # The re-incarnating write and the delete; not the expiry edit, nor the turn after the rebirth.
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in passed] == [
        ("MODIFY", "SESSION#reborn"),
        ("REMOVE", "SESSION#gone"),
    ]
    assert run_cascade(passed) == {"batchItemFailures": []}
    assert collection(dynamodb_client, table_name, "gone") == []
    assert len(collection(dynamodb_client, table_name, "reborn")) == 5  # META, 2 runs, 2 lookups
    assert [r["run_id"] for r in call("GET", session_path("reborn")).json()["runs"]] == ["new", "newer"]
