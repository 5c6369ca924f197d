"""How JSON values are stored: as JSON text, readable in the DynamoDB console.

DynamoDB's own map and number types cannot hold what agents send: numbers beyond 38 digits or
below 1e-130, nesting deeper than 32 levels. JSON text can, and Python's json module writes floats
with repr (shortest round-tripping form), so every value comes back equal. Text larger than
GZIP_THRESHOLD_BYTES is stored gzipped (a Binary attribute) to cut write and storage cost.
"""

from __future__ import annotations

import gzip
import json
import math
from typing import Any

# Below this a session field stays as text so people can read it in the console; above it gzip
# usually saves more than half the write units (measured in docs/design.md).
GZIP_THRESHOLD_BYTES = 16 * 1024
# Runs are what a turn writes and what a session read returns, so they are gzipped from 1 KB, where
# gzip starts to save a write unit: an Agno run of 7 KB becomes about 2 KB (docs/design.md, "Turn
# cost"). Their items say so in `payload_encoding`, for people reading the console.
RUN_GZIP_THRESHOLD_BYTES = 1024
GZIP_ENCODING = "gzip"
# What one item may spend on its payload: the 400 KB item limit less room for keys and attributes.
MAX_INLINE_PAYLOAD_BYTES = 380 * 1024


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of the range of a 64-bit float")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly: no NaN/Infinity, no float overflow to infinity."""
    return json.loads(text, parse_float=_parse_float, parse_constant=_reject_constant)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(value: Any, gzip_above: int = GZIP_THRESHOLD_BYTES) -> dict[str, Any]:
    """A JSON value as a DynamoDB AttributeValue: text (S), gzipped text (B) or NULL."""
    if value is None:
        return {"NULL": True}
    text = dumps(value).encode()
    if len(text) <= gzip_above:
        return {"S": text.decode()}
    return {"B": gzip.compress(text, compresslevel=6, mtime=0)}


def decode(attribute: dict[str, Any] | None) -> Any:
    if attribute is None or "NULL" in attribute:
        return None
    if "S" in attribute:
        return loads(attribute["S"])
    return loads(gzip.decompress(attribute["B"]))


def encoded_size(attribute: dict[str, Any]) -> int:
    if "S" in attribute:
        return len(attribute["S"].encode())
    if "B" in attribute:
        return len(attribute["B"])
    return 1
