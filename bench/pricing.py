"""A small cost model: what AWS charges for each DynamoDB call, from the sizes of the items it
touches, by AWS's published rules (on-demand capacity mode, Standard table class).

DynamoDB Local's own `ConsumedCapacity` is exact for single-item operations but not for
transactions (items of equal units are counted once, see docs/design.md) nor for reads of missing
keys (it reports 0), so the turn benchmark prices every call itself. `Pricer.attach(client)` hooks
a boto3 client; each call is priced from the items as stored before and after it, read through a
separate, unhooked client (the "shadow"). Rules (DynamoDB Developer Guide, "Read/write capacity
mode" and "Global secondary indexes: provisioned throughput considerations"):

- Item size: attribute names (UTF-8) plus values: strings UTF-8 bytes, binaries their bytes,
  numbers 1 byte per two significant digits plus 1, booleans and nulls 1 byte, lists and maps
  3 bytes plus their elements plus 1 byte per element.
- Write request units: 1 per KB (rounded up) of the larger of the item before and after the write;
  twice that inside TransactWriteItems. A write also writes every global secondary index whose
  entry it adds (1 per KB of the entry), deletes (1 per KB of the old entry), moves (both) or whose
  projected attributes it changes (1 per KB of the new entry). An index entry is the table's key,
  the index's key and the projected attributes.
- Read request units: GetItem 1 per 4 KB of the item (rounded up, at least 1), halved when
  eventually consistent; BatchGetItem prices each key as a GetItem; Query adds up every item it
  evaluates (before any filter: DynamoDB charges what it reads), rounds up to 4 KB once per page,
  at least 1 unit, halved when eventually consistent. A key that does not exist still costs the
  minimum.
- Prices: on-demand, US East (N. Virginia), Standard table class, as listed on the DynamoDB
  pricing page since 2024-11-01.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

USD_PER_MILLION_WRU = 0.625
USD_PER_MILLION_RRU = 0.125
PRICES = {
    "mode": "on-demand, Standard table class, us-east-1 (aws.amazon.com/dynamodb/pricing/on-demand, 2024-11-01)",
    "usd_per_million_write_request_units": USD_PER_MILLION_WRU,
    "usd_per_million_read_request_units": USD_PER_MILLION_RRU,
}
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
_PRICED = ("GetItem", "BatchGetItem", "Query", *_WRITES)


def usd_per_million(rru: float, wru: float) -> float:
    """USD per million operations that each cost `rru` read and `wru` write request units."""
    return round(rru * USD_PER_MILLION_RRU + wru * USD_PER_MILLION_WRU, 4)


# --- item sizes ------------------------------------------------------------------------------------
def _number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content)
    if kind == "N":
        return _number_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(element.encode()) for element in content)
    if kind == "BS":
        return sum(len(element) for element in content)
    if kind == "NS":
        return sum(_number_size(element) for element in content)
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(element) + 1 for name, element in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


# --- tables ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Index:
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...] = ()

    def entry(self, item: dict[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The index entry of `item` (None when the item is not in this sparse index)."""
        if not item or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        wanted = {*table_keys, *self.keys, *self.included}
        return {name: value for name, value in item.items() if name in wanted}


@dataclass(frozen=True)
class Table:
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    @classmethod
    def describe(cls, client: Any, name: str) -> Table:
        described = client.describe_table(TableName=name)["Table"]
        indexes = tuple(
            Index(
                tuple(key["AttributeName"] for key in index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                tuple(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in described.get("GlobalSecondaryIndexes", [])
        )
        return cls(tuple(key["AttributeName"] for key in described["KeySchema"]), indexes)

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.keys}

    def write_units(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
        """The table's units for turning `before` into `after` (None: absent), index writes included."""
        units = write_units(max(item_size(before), item_size(after)))
        for index in self.indexes:
            old, new = index.entry(before, self.keys), index.entry(after, self.keys)
            if old is None and new is None:
                continue
            if old is None or new is None:
                units += write_units(item_size(old or new))
            elif any(old[key] != new[key] for key in index.keys):
                units += write_units(item_size(old)) + write_units(item_size(new))  # moved: delete + put
            elif old != new:
                units += write_units(item_size(new))
        return units


# --- pricing calls ---------------------------------------------------------------------------------
@dataclass
class Priced:
    """Request units of the calls priced so far, per operation."""

    rru: float = 0.0
    wru: float = 0.0
    calls: dict[str, list[float]] = field(default_factory=dict)  # operation -> [calls, units]

    def add(self, operation: str, units: float, write: bool) -> None:
        if write:
            self.wru += units
        else:
            self.rru += units
        entry = self.calls.setdefault(operation, [0, 0.0])
        entry[0] += 1
        entry[1] += units


class Pricer:
    """Prices every data call of the clients it is attached to, by the rules above."""

    def __init__(self, shadow: Any) -> None:
        self._shadow = shadow  # an unhooked client of the same endpoint and credentials
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()
        self.total = Priced()

    def attach(self, client: Any) -> Any:
        events = client.meta.events
        for operation in _PRICED:
            events.register(f"provide-client-params.dynamodb.{operation}", self._before)
            events.register(f"after-call.dynamodb.{operation}", self._after)
        return client

    def take(self) -> Priced:
        """What was priced since the last take."""
        with self._lock:
            taken, self.total = self.total, Priced()
        return taken

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = Table.describe(self._shadow, name)
        return self._tables[name]

    def _get(self, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self._shadow.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")

    # Writes: read each touched item before the call, and again after it.
    def _writes(
        self, operation: str, params: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
        """(table, key, item the call puts or None) of every item a write call touches."""
        if operation == "TransactWriteItems":
            bodies = [body for entry in params["TransactItems"] for body in entry.values()]
        else:
            bodies = [params]
        touched = []
        for body in bodies:
            item = body.get("Item")
            key = self.table(body["TableName"]).key_of(item) if item else body["Key"]
            touched.append((body["TableName"], key, item))
        return touched

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        operation = model.name
        if operation in _WRITES:
            touched = self._writes(operation, params)
            context["pricing_before"] = [(name, key, self._get(name, key)) for name, key, _ in touched]
        context["pricing_params"] = dict(params)

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if http_response.status_code != 200 or "pricing_params" not in context:
            return  # a failed call: DynamoDB charges cancelled transactions too, but the turn never makes one
        operation, params = model.name, context["pricing_params"]
        if operation in _WRITES:
            factor = 2 if operation == "TransactWriteItems" else 1
            units = (
                sum(
                    self.table(name).write_units(before, self._get(name, key))
                    for name, key, before in context["pricing_before"]
                )
                * factor
            )
            write = True
        elif operation == "GetItem":
            item = self._get(params["TableName"], params["Key"])
            units, write = read_units(item_size(item), bool(params.get("ConsistentRead"))), False
        elif operation == "BatchGetItem":
            units, write = self._batch_get(params, parsed), False
        else:
            units, write = self._query(params, parsed), False
        with self._lock:
            self.total.add(operation, units, write)

    def _batch_get(self, params: dict[str, Any], parsed: dict[str, Any]) -> float:
        units = 0.0
        unprocessed = parsed.get("UnprocessedKeys") or {}
        for table_name, request in params["RequestItems"].items():
            pending = unprocessed.get(table_name, {}).get("Keys", [])
            for key in request["Keys"]:
                if key not in pending:
                    units += read_units(item_size(self._get(table_name, key)), bool(request.get("ConsistentRead")))
        return units

    def _query(self, params: dict[str, Any], parsed: dict[str, Any]) -> float:
        """Repeat the query on the shadow without filter or projection: what it evaluated."""
        evaluated = {
            name: value
            for name, value in params.items()
            if name not in ("FilterExpression", "ProjectionExpression", "Select", "ReturnConsumedCapacity")
        }
        if "FilterExpression" in params or "ProjectionExpression" in params:
            evaluated.pop("ExpressionAttributeNames", None)
            evaluated.pop("ExpressionAttributeValues", None)
            evaluated.update(_key_condition_only(params))
        items = self._shadow.query(**evaluated).get("Items", [])
        return read_units(sum(item_size(item) for item in items), bool(params.get("ConsistentRead")))


def _key_condition_only(params: dict[str, Any]) -> dict[str, Any]:
    """The expression names and values the key condition uses (the filter's would be refused as unused)."""
    used = set(re.findall(r"[#:][A-Za-z0-9_]+", params["KeyConditionExpression"]))
    names = {name: value for name, value in params.get("ExpressionAttributeNames", {}).items() if name in used}
    values = {name: value for name, value in params.get("ExpressionAttributeValues", {}).items() if name in used}
    return {
        **({"ExpressionAttributeNames": names} if names else {}),
        **({"ExpressionAttributeValues": values} if values else {}),
    }
