"""JSON encoding shared by the request bodies and the adapter's run digests.

Values that JSON has (str, int of any size, float, bool, None, lists, objects) are written as
Python's json module writes them, which reads back equal (floats use their shortest repr, ints
never lose digits). A few common non-JSON values that agno records may hold are written the way
agno's own SQL adapters write them; anything else is an error rather than a silent loss.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID


def _encode_non_json(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if hasattr(value, "model_dump"):  # pydantic models
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; NaN and infinities are refused because JSON has no spelling for them."""
    return json.dumps(
        value, default=_encode_non_json, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")


def canonical_dumps(value: Any) -> bytes:
    """Like ``dumps`` but with sorted keys, so equal values always give equal bytes."""
    return json.dumps(
        value, default=_encode_non_json, ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


def batches_under(items: list[Any], budget: int) -> Iterator[list[Any]]:
    """Consecutive groups of items whose JSON adds up to at most ``budget`` bytes (a bigger item
    alone); one empty group for no items, so a record without runs still makes one request."""
    batch: list[Any] = []
    size = 0
    for item in items:
        item_size = len(dumps(item))
        if batch and size + item_size > budget:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    yield batch
