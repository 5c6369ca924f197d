"""Consumed capacity, metered the same way for every boto3 DynamoDB client in the benchmark.

Two botocore event hooks per client: one asks every data-plane call for its consumed capacity
(ReturnConsumedCapacity=TOTAL, unless the caller already asked), one adds up what the response
reports. The same hooks go on this project's client (via runtime.client_observers) and on the
client handed to Agno's adapter, so neither system is measured by its own bookkeeping.

What DynamoDB Local reports (see docs/design.md, "Benchmarks"): one `CapacityUnits` number per
table and call, index writes included; reads rounded per 4 KB of the whole response (halved when
eventually consistent); for TransactWriteItems only about one item's units (times two), not the
sum over the transaction's items, so transactional writes are under-reported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

# The operations that accept ReturnConsumedCapacity; anything else (DescribeTable, …) is left alone.
READ_OPERATIONS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@dataclass(frozen=True)
class Usage:
    read: float = 0.0
    write: float = 0.0
    calls: int = 0

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.read - other.read, self.write - other.write, self.calls - other.calls)


class CapacityMeter:
    """Adds up the capacity every metered client reports. Thread-safe (population runs in threads,
    but measurements are taken one call at a time, so a difference of snapshots is one action's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()
        # Every metered call in order, as (operation, units reported): what one action consisted of
        # is the slice between two snapshots' call counts.
        self.calls: list[tuple[str, float]] = []

    def attach(self, client: Any) -> Any:
        events = client.meta.events
        for operation in (*READ_OPERATIONS, *WRITE_OPERATIONS):
            events.register(f"provide-client-params.dynamodb.{operation}", _ask_for_capacity)
            events.register(f"after-call.dynamodb.{operation}", self._record)
        return client

    def snapshot(self) -> Usage:
        with self._lock:
            return self._usage

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        units = sum(float(entry.get("CapacityUnits") or 0.0) for entry in entries)
        is_write = model.name in WRITE_OPERATIONS
        with self._lock:
            usage = self._usage
            self._usage = Usage(
                usage.read + (0.0 if is_write else units), usage.write + (units if is_write else 0.0), usage.calls + 1
            )
            self.calls.append((model.name, units))

    def calls_between(self, start: Usage, end: Usage) -> dict[str, list[float]]:
        """The calls made between two snapshots: operation -> [calls, units reported]."""
        summary: dict[str, list[float]] = {}
        with self._lock:
            for operation, units in self.calls[start.calls : end.calls]:
                entry = summary.setdefault(operation, [0, 0.0])
                entry[0] += 1
                entry[1] += units
        return summary


def _ask_for_capacity(params: dict[str, Any], **_: Any) -> None:
    params.setdefault("ReturnConsumedCapacity", "TOTAL")
