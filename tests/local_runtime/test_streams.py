"""The stream poller and the TTL sweeper against a real DynamoDB Local stream (in-process, driven
step by step with run_once/sweep so that nothing depends on timing)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from local_runtime.dynamodb_local import DynamoDBLocal
from local_runtime.functions import LocalFunction
from local_runtime.stack import FunctionSpec, TableSpec
from local_runtime.streams import Checkpoints, MappingSettings, StreamPoller
from local_runtime.tables import ensure_table
from local_runtime.ttl import TtlSweeper
from local_runtime.ttl_deletions import TtlDeletions

TEMPLATE = json.loads((Path(__file__).parent / "local_fixture" / "SessionStoreFixture.template.json").read_text())
TABLE_PROPERTIES = TEMPLATE["Resources"]["Table"]["Properties"]
MAPPING_PROPERTIES = TEMPLATE["Resources"]["CascadeMapping"]["Properties"]
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class Recorder:
    """A stream consumer double: records each invocation; can fail or report item failures."""

    def __init__(self, fail_times: int = 0, fail_record_index: int | None = None) -> None:
        self.batches: list[list[dict]] = []
        self.fail_times = fail_times
        self.fail_record_index = fail_record_index

    def __call__(self, event, context):
        self.batches.append(event["Records"])
        if self.fail_times > 0:
            self.fail_times -= 1
            if self.fail_record_index is None:
                raise RuntimeError("consumer failed")
            failed = event["Records"][min(self.fail_record_index, len(event["Records"]) - 1)]
            return {"batchItemFailures": [{"itemIdentifier": failed["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    @property
    def records(self) -> list[dict]:
        return [r for batch in self.batches for r in batch]


def local_function(handler) -> LocalFunction:
    spec = FunctionSpec("Consumer", "consumer.handler", Path("."), (), {}, 30, 128, None)
    return LocalFunction(spec, "consumer", handler)


@pytest.fixture
def table(dynamodb_client):
    name = f"streams_{uuid.uuid4().hex[:10]}"
    local = ensure_table(
        dynamodb_client, TableSpec("Table", "AWS::DynamoDB::Table", TABLE_PROPERTIES), TABLE_PROPERTIES, name
    )
    yield local
    dynamodb_client.delete_table(TableName=name)


def poller_for(dynamodb_local, table, recorder, deletions=None, checkpoints=None, **settings) -> StreamPoller:
    return StreamPoller(
        mapping_id="CascadeMapping",
        streams=dynamodb_local.streams_client(),
        stream_arn=table.stream_arn,
        table_name=table.name,
        key_attributes=table.key_attributes,
        function=local_function(recorder),
        settings=MappingSettings(**{**MappingSettings.from_properties(MAPPING_PROPERTIES).__dict__, **settings}),
        ttl_deletions=deletions or TtlDeletions(),
        region="us-east-1",
        checkpoints=checkpoints or Checkpoints(None, "CascadeMapping", table.stream_arn),
        initial_position="TRIM_HORIZON",
        retry_backoff=0.01,
    )


def drain(poller: StreamPoller, rounds: int = 20) -> None:
    """Poll until the stream has nothing more (DynamoDB Local may hand records over in pieces)."""
    idle = 0
    while idle < 3 and rounds > 0:
        idle = idle + 1 if poller.run_once() == 0 else 0
        rounds -= 1


def put(client, table, pk: str, sk: str = "META", **attributes) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"N": str(v)} for k, v in attributes.items()}}
    client.put_item(TableName=table.name, Item=item)


def delete(client, table, pk: str, sk: str = "META") -> None:
    client.delete_item(TableName=table.name, Key={"pk": {"S": pk}, "sk": {"S": sk}})


def test_filtered_records_arrive_in_order_in_batches_of_at_most_batch_size(dynamodb_local, dynamodb_client, table):
    recorder = Recorder()
    for index in range(25):
        put(dynamodb_client, table, f"S{index:02d}")
        put(dynamodb_client, table, f"S{index:02d}", sk="RUN#1")
    for index in range(25):
        delete(dynamodb_client, table, f"S{index:02d}")
        delete(dynamodb_client, table, f"S{index:02d}", sk="RUN#1")
    drain(poller_for(dynamodb_local, table, recorder))

    # Only REMOVEs of META items pass the mapping's filter, in write order, BatchSize (10) at most.
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in recorder.records] == [f"S{i:02d}" for i in range(25)]
    assert all(len(batch) <= 10 for batch in recorder.batches) and len(recorder.batches) >= 3
    record = recorder.records[0]
    assert record["eventName"] == "REMOVE" and record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == table.stream_arn
    assert record["dynamodb"]["OldImage"] == {"pk": {"S": "S00"}, "sk": {"S": "META"}}
    assert "userIdentity" not in record  # a user's delete, not TTL


class CountingStreams:
    """The streams client, counting GetRecords calls."""

    def __init__(self, streams) -> None:
        self._streams = streams
        self.get_records_calls = 0

    def get_records(self, **arguments):
        self.get_records_calls += 1
        return self._streams.get_records(**arguments)

    def __getattr__(self, name):
        return getattr(self._streams, name)


def test_batch_size_bounds_the_delivered_batches_not_the_records_read(dynamodb_local, dynamodb_client, table):
    # As on Lambda: the filter runs on what is read, then BatchSize cuts what passed into batches.
    # A BatchSize-1 mapping (the erasure worker's) would otherwise read one record per GetRecords.
    recorder = Recorder()
    for index in range(60):
        put(dynamodb_client, table, f"S{index:02d}", sk="RUN#1")
    for index in range(3):
        put(dynamodb_client, table, f"M{index}")
        delete(dynamodb_client, table, f"M{index}")
    poller = poller_for(dynamodb_local, table, recorder, batch_size=1)
    poller.streams = counting = CountingStreams(poller.streams)
    drain(poller)

    assert [[r["dynamodb"]["Keys"]["pk"]["S"] for r in batch] for batch in recorder.batches] == [["M0"], ["M1"], ["M2"]]
    assert counting.get_records_calls < 20  # 66 records read, most filtered out
    checkpoint = poller.checkpoints.get(next(iter(poller._shards)))
    assert checkpoint == recorder.batches[-1][0]["dynamodb"]["SequenceNumber"]


def test_a_failing_batch_is_retried_until_it_succeeds(dynamodb_local, dynamodb_client, table):
    recorder = Recorder(fail_times=2)
    put(dynamodb_client, table, "A")
    delete(dynamodb_client, table, "A")
    drain(poller_for(dynamodb_local, table, recorder, bisect=False))
    assert [len(b) for b in recorder.batches] == [1, 1, 1]
    assert recorder.batches[0] == recorder.batches[2]


def test_batch_item_failures_resume_from_the_failed_record(dynamodb_local, dynamodb_client, table):
    recorder = Recorder(fail_times=1, fail_record_index=1)
    for pk in "ABC":
        put(dynamodb_client, table, pk)
    for pk in "ABC":
        delete(dynamodb_client, table, pk)
    drain(poller_for(dynamodb_local, table, recorder))
    keys = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in batch] for batch in recorder.batches]
    assert keys[0] == ["A", "B", "C"]
    assert keys[1] == ["B", "C"]  # A succeeded; the retry starts at B


def test_records_are_dropped_after_the_maximum_retries_and_bisected_on_error(dynamodb_local, dynamodb_client, table):
    recorder = Recorder(fail_times=100)
    for pk in "AB":
        put(dynamodb_client, table, pk)
        delete(dynamodb_client, table, pk)
    drain(poller_for(dynamodb_local, table, recorder, max_retries=1, bisect=True))
    sizes = [len(b) for b in recorder.batches]
    # The pair fails and is split; each half is tried once and retried once, then dropped.
    assert sizes == [2, 1, 1, 1, 1]


def test_checkpoints_resume_after_the_last_delivered_record(dynamodb_local, dynamodb_client, table, tmp_path):
    path = tmp_path / "checkpoints.json"
    first = Recorder()
    put(dynamodb_client, table, "OLD")
    delete(dynamodb_client, table, "OLD")
    drain(poller_for(dynamodb_local, table, first, checkpoints=Checkpoints(path, "CascadeMapping", table.stream_arn)))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in first.records] == ["OLD"]

    second = Recorder()
    put(dynamodb_client, table, "NEW")
    delete(dynamodb_client, table, "NEW")
    drain(poller_for(dynamodb_local, table, second, checkpoints=Checkpoints(path, "CascadeMapping", table.stream_arn)))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in second.records] == ["NEW"]
    # A checkpoint of another stream (a recreated table) is ignored.
    assert (
        Checkpoints(path, "CascadeMapping", "arn:other").get(
            next(iter(json.loads(path.read_text())["CascadeMapping"]["shards"]))
        )
        is None
    )


def test_the_sweeper_expires_due_items_and_their_removes_carry_the_ttl_identity(dynamodb_local, dynamodb_client, table):
    # TTL values an hour ahead, swept "two hours from now": DynamoDB Local's own expiry stays out of it.
    now = int(time.time())
    put(dynamodb_client, table, "EXPIRED", expires_at=now + 3600)
    put(dynamodb_client, table, "EXPIRED", sk="RUN#1", expires_at=now + 3600)
    put(dynamodb_client, table, "LIVE", expires_at=now + 3 * 3600)
    put(dynamodb_client, table, "FOREVER")
    put(dynamodb_client, table, "DELETED")
    deletions = TtlDeletions()
    sweeper = TtlSweeper(dynamodb_client, [table], deletions)

    assert sweeper.sweep(now + 2 * 3600) == 2
    remaining = {i["pk"]["S"] + "/" + i["sk"]["S"] for i in dynamodb_client.scan(TableName=table.name)["Items"]}
    assert remaining == {"LIVE/META", "FOREVER/META", "DELETED/META"}

    delete(dynamodb_client, table, "DELETED")  # by a user: no TTL identity
    recorder = Recorder()
    drain(poller_for(dynamodb_local, table, recorder, deletions=deletions))
    identities = {r["dynamodb"]["Keys"]["pk"]["S"]: r.get("userIdentity") for r in recorder.records}
    assert identities == {"EXPIRED": TTL_IDENTITY, "DELETED": None}
    assert not deletions.take(table.name, {"pk": {"S": "EXPIRED"}, "sk": {"S": "RUN#1"}})  # claimed, not leaked


def test_dynamodb_locals_own_expiry_reaches_the_consumer_as_a_ttl_remove():
    # Recent DynamoDB Local releases expire items by themselves (undocumented, on their own
    # schedule), labelling the stream record with an event name their SDK lacks. The consumer must
    # see what AWS sends: a REMOVE by the TTL service. A fresh engine: its expiry worker is not
    # disturbed by the tables other tests create and drop.
    with DynamoDBLocal() as engine:
        client = engine.client()
        local = ensure_table(
            client, TableSpec("Table", "AWS::DynamoDB::Table", TABLE_PROPERTIES), TABLE_PROPERTIES, "own_ttl"
        )
        # (This release only expires items that are in an index, as session items are.)
        item = {"pk": {"S": "GONE"}, "sk": {"S": "META"}, "expires_at": {"N": str(int(time.time()) - 10)}}
        client.put_item(TableName=local.name, Item={**item, "gsi_user_pk": {"S": "u"}, "updated_key": {"S": "k"}})
        deadline = time.monotonic() + 60
        while client.scan(TableName=local.name)["Count"] and time.monotonic() < deadline:
            time.sleep(0.5)
        if client.scan(TableName=local.name)["Count"]:
            pytest.skip("this DynamoDB Local release does not expire items by itself")
        recorder = Recorder()
        drain(poller_for(engine, local, recorder))
    (record,) = recorder.records
    assert record["eventName"] == "REMOVE" and record["userIdentity"] == TTL_IDENTITY
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "GONE"}, "sk": {"S": "META"}}


def test_an_item_refreshed_after_the_scan_is_not_expired(dynamodb_client, table):
    now = int(time.time())
    put(dynamodb_client, table, "REFRESHED", expires_at=now + 3600)
    scanned = dynamodb_client.get_item(TableName=table.name, Key={"pk": {"S": "REFRESHED"}, "sk": {"S": "META"}})[
        "Item"
    ]
    put(dynamodb_client, table, "REFRESHED", expires_at=now + 7200)  # a write between scan and delete
    deletions = TtlDeletions()
    assert TtlSweeper(dynamodb_client, [table], deletions).expire(table, scanned) == 0
    assert dynamodb_client.get_item(TableName=table.name, Key={"pk": {"S": "REFRESHED"}, "sk": {"S": "META"}}).get(
        "Item"
    )
    assert not deletions.take(table.name, {"pk": {"S": "REFRESHED"}, "sk": {"S": "META"}})


class SplitStream:
    """A streams client whose shard A was split: A is closed after two records, B continues it.
    (DynamoDB Local cannot be made to split a shard on demand.)"""

    def __init__(self) -> None:
        self.records = {"A": [_raw("A", "1"), _raw("A", "2")], "B": [_raw("B", "3")]}
        self.iterator_requests: list[tuple[str, str]] = []

    def describe_stream(self, StreamArn, ExclusiveStartShardId=None):
        # Child first, and paginated, to prove neither order nor pagination is relied upon.
        if ExclusiveStartShardId is None:
            return {
                "StreamDescription": {"Shards": [{"ShardId": "B", "ParentShardId": "A"}], "LastEvaluatedShardId": "B"}
            }
        return {"StreamDescription": {"Shards": [{"ShardId": "A"}]}}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, **kwargs):
        self.iterator_requests.append((ShardId, ShardIteratorType))
        return {"ShardIterator": f"{ShardId}:0"}

    def get_records(self, ShardIterator, Limit):
        shard, position = ShardIterator.split(":")
        records = self.records[shard][int(position) :][:Limit]
        following = int(position) + len(records)
        closed = shard == "A" and following == len(self.records["A"])
        return {"Records": records, "NextShardIterator": None if closed else f"{shard}:{following}"}


def _raw(shard: str, sequence: str) -> dict:
    keys = {"pk": {"S": f"{shard}{sequence}"}, "sk": {"S": "META"}}
    return {"eventID": sequence, "eventName": "REMOVE", "dynamodb": {"Keys": keys, "SequenceNumber": sequence}}


def test_a_split_shard_is_read_to_its_end_before_its_child():
    stream, recorder = SplitStream(), Recorder()
    poller = StreamPoller(
        mapping_id="m",
        streams=stream,
        stream_arn="arn:s",
        table_name="t",
        key_attributes=("pk", "sk"),
        function=local_function(recorder),
        settings=MappingSettings(batch_size=1, starting_position="LATEST"),
        ttl_deletions=TtlDeletions(),
        region="us-east-1",
        checkpoints=Checkpoints(None, "m", "arn:s"),
    )
    for _ in range(6):
        poller.run_once()
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in recorder.records] == ["A1", "A2", "B3"]
    # The parent starts where the mapping says; its child from its very beginning.
    assert stream.iterator_requests == [("A", "LATEST"), ("B", "TRIM_HORIZON")]
