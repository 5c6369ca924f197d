"""The DynamoDB Streams event source mapping, played locally.

A background thread per mapping polls the table's stream in DynamoDB Local (describe_stream,
get_shard_iterator, get_records), turns each record into the JSON Lambda delivers (AttributeValues
in low-level form, binary as base64, creation time in epoch seconds), applies the mapping's filter
criteria, and invokes the function in-process with `{"Records": [...]}` batches of up to BatchSize
records from one shard, in order. Shards are read parent before child, so a split keeps order.
As on Lambda, BatchSize bounds what the function receives, not what is read: each GetRecords asks
for the stream's maximum and the filter runs before batching. (Reading BatchSize records at a time
made the erasure worker's mapping, BatchSize 1, read the thousands of deletions each of its batches
makes one GetRecords at a time: most of the erasure's time on the local runtime.)

Failures follow the mapping's settings: the batch is retried (MaximumRetryAttempts, default
unlimited as on Lambda), split in two when BisectBatchOnFunctionError is set, and resumed from the
first failed record when the function reports batch item failures.

Expiry deletions get the TTL service's userIdentity, which DynamoDB Local never sets: those of the
TTL sweeper (ttl.py, which registers them in ttl_deletions.py), and those DynamoDB Local makes
itself (recent releases do, with a mislabeled event name; stream_records.py converts those).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local_runtime.filters import compile_criteria
from local_runtime.functions import InvocationError, LocalFunction
from local_runtime.stream_records import TTL_IDENTITY, lambda_record
from local_runtime.ttl_deletions import TtlDeletions

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100
GET_RECORDS_LIMIT = 1000  # the most one GetRecords returns
_SHARD_REFRESH_SECONDS = 5.0
_MAX_BACKOFF_SECONDS = 10.0


class Checkpoints:
    """The last delivered sequence number per shard, kept in the data directory across restarts."""

    def __init__(self, path: Path | None, mapping_id: str, stream_arn: str) -> None:
        self._path = path
        self._mapping_id = mapping_id
        self._stream_arn = stream_arn
        self._shards: dict[str, str] = {}
        if path is not None and path.exists():
            saved = json.loads(path.read_text()).get(mapping_id, {})
            if saved.get("stream_arn") == stream_arn:  # a recreated table has a new stream
                self._shards = dict(saved.get("shards", {}))

    def get(self, shard_id: str) -> str | None:
        return self._shards.get(shard_id)

    def set(self, shard_id: str, sequence_number: str) -> None:
        self._shards[shard_id] = sequence_number
        if self._path is None:
            return
        everything = json.loads(self._path.read_text()) if self._path.exists() else {}
        everything[self._mapping_id] = {"stream_arn": self._stream_arn, "shards": self._shards}
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(everything, indent=1))
        temporary.replace(self._path)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    finished: bool = False
    started: bool = False


@dataclass
class MappingSettings:
    batch_size: int = DEFAULT_BATCH_SIZE
    starting_position: str = "LATEST"
    max_retries: int = -1  # -1: until the record expires, as on Lambda
    bisect: bool = False
    report_item_failures: bool = False
    filter_criteria: dict[str, Any] | None = None
    enabled: bool = True

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> MappingSettings:
        return cls(
            batch_size=int(properties.get("BatchSize", DEFAULT_BATCH_SIZE)),
            starting_position=str(properties.get("StartingPosition", "LATEST")),
            max_retries=int(properties.get("MaximumRetryAttempts", -1)),
            bisect=bool(properties.get("BisectBatchOnFunctionError", False)),
            report_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
            filter_criteria=properties.get("FilterCriteria"),
            enabled=properties.get("Enabled", True) not in (False, "false"),
        )


@dataclass
class StreamPoller:
    mapping_id: str
    streams: Any  # boto3 "dynamodbstreams" client
    stream_arn: str
    table_name: str
    key_attributes: tuple[str, ...]  # the table's primary key
    function: LocalFunction
    settings: MappingSettings
    ttl_deletions: TtlDeletions
    region: str
    checkpoints: Checkpoints
    initial_position: str | None = None  # overrides StartingPosition (a table created just now)
    poll_interval: float = 0.25
    retry_backoff: float = 0.5  # seconds before the first retry, doubling up to _MAX_BACKOFF_SECONDS
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _shards: dict[str, _Shard] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._accepts = compile_criteria(self.settings.filter_criteria)

    def start(self) -> StreamPoller:
        if self.settings.enabled:
            self._thread = threading.Thread(target=self._run, name=f"stream-{self.mapping_id}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # --- the loop ------------------------------------------------------------------------------
    def _run(self) -> None:
        last_refresh = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_refresh > _SHARD_REFRESH_SECONDS or not self._active():
                    self._refresh_shards()
                    last_refresh = time.monotonic()
                delivered = sum(self.poll_shard(shard) for shard in self._active())
            except Exception:  # noqa: BLE001 - keep polling; DynamoDB Local may be restarting
                log.exception("stream poller %s failed; retrying", self.mapping_id)
                delivered = 0
                self._stop.wait(1.0)
            if delivered == 0:
                self._stop.wait(self.poll_interval)

    def run_once(self) -> int:
        """One refresh and one read of every readable shard (for tests): records received."""
        self._refresh_shards()
        return sum(self.poll_shard(shard) for shard in self._active())

    def _active(self) -> list[_Shard]:
        return [s for s in self._shards.values() if not s.finished and self._parent_done(s)]

    def _parent_done(self, shard: _Shard) -> bool:
        parent = self._shards.get(shard.parent_id) if shard.parent_id else None
        return parent is None or parent.finished  # an unknown parent has aged out of the stream

    def _refresh_shards(self) -> None:
        arguments: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.streams.describe_stream(**arguments)["StreamDescription"]
            for shard in description.get("Shards", []):
                if shard["ShardId"] not in self._shards:
                    self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            arguments["ExclusiveStartShardId"] = last

    def _iterator(self, shard: _Shard) -> str:
        checkpoint = self.checkpoints.get(shard.shard_id)
        if checkpoint is not None:
            kind, extra = "AFTER_SEQUENCE_NUMBER", {"SequenceNumber": checkpoint}
        elif shard.parent_id in self._shards:
            kind, extra = "TRIM_HORIZON", {}  # a child of a shard we read: start at its beginning
        else:
            kind, extra = self.initial_position or self.settings.starting_position, {}
        return self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard.shard_id, ShardIteratorType=kind, **extra
        )["ShardIterator"]

    def poll_shard(self, shard: _Shard) -> int:
        if shard.iterator is None and not shard.started:
            shard.iterator = self._iterator(shard)
            shard.started = True
        if shard.iterator is None:
            shard.finished = True
            return 0
        try:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=GET_RECORDS_LIMIT)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                shard.iterator, shard.started = None, False  # start again from the checkpoint
                return 0
            raise
        records = response.get("Records", [])
        if records:
            if not self._deliver_all(shard, records):
                return 0  # stopping mid-retry: what was not delivered is read again next start
            self.checkpoints.set(shard.shard_id, records[-1]["dynamodb"]["SequenceNumber"])
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            shard.finished = True  # closed and read to the end: its children may start
        return len(records)

    # --- delivery ------------------------------------------------------------------------------
    def _deliver_all(self, shard: _Shard, raw_records: list[dict[str, Any]]) -> bool:
        """The records the filter accepts, in batches of up to BatchSize, each checkpointed once
        handled; False if the runtime stopped first."""
        accepted = []
        for raw in raw_records:
            record = lambda_record(raw, self.stream_arn, self.region, self.key_attributes)
            if record["eventName"] == "REMOVE" and self.ttl_deletions.take(self.table_name, record["dynamodb"]["Keys"]):
                record["userIdentity"] = dict(TTL_IDENTITY)
            if self._accepts(record):
                accepted.append(record)
        for start in range(0, len(accepted), self.settings.batch_size):
            batch = accepted[start : start + self.settings.batch_size]
            if not self._deliver(batch):
                return False
            self.checkpoints.set(shard.shard_id, batch[-1]["dynamodb"]["SequenceNumber"])
        return True

    def _deliver(self, batch: list[dict[str, Any]]) -> bool:
        """Invoke until the batch is handled or given up on (True), or the runtime stops (False)."""
        pending, attempts = batch, 0
        while True:
            try:
                result = self.function.invoke({"Records": pending})
                failed_from = self._first_failure(pending, result)
                if failed_from is None:
                    return True
                pending = pending[failed_from:]
            except InvocationError:
                if self.settings.bisect and len(pending) > 1:
                    middle = len(pending) // 2
                    return self._deliver(pending[:middle]) and self._deliver(pending[middle:])
            attempts += 1
            if 0 <= self.settings.max_retries < attempts:
                log.error(
                    "%s: dropping %d stream records after %d retries (on-failure destinations are not emulated)",
                    self.mapping_id,
                    len(pending),
                    self.settings.max_retries,
                )
                return True
            if self._stop.wait(min(_MAX_BACKOFF_SECONDS, self.retry_backoff * 2 ** (attempts - 1))):
                return False

    def _first_failure(self, batch: list[dict[str, Any]], result: Any) -> int | None:
        """Index of the first record to retry from, or None when the whole batch succeeded."""
        if not self.settings.report_item_failures or not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures") or []
        identifiers = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        sequence_numbers = [r["dynamodb"].get("SequenceNumber") for r in batch]
        if any(identifier not in sequence_numbers for identifier in identifiers):
            return 0  # an unusable identifier fails the whole batch, as on Lambda
        return min((sequence_numbers.index(identifier) for identifier in identifiers), default=None)
