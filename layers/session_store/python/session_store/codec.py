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
import re
from decimal import Decimal
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


# How deep a request's JSON may nest. Far beyond what agents send (Agno's records nest under 20
# levels; the fidelity tests use 40), and shallow enough that every recursive step on the way
# (merge patches, serialisation) stays far inside Python's recursion limit.
MAX_REQUEST_DEPTH = 512
# A JSON escape of a UTF-16 surrogate, or a surrogate character itself: text that may hold a lone
# surrogate, which no UTF-8 text (and so no response, no DynamoDB string) can carry.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


class UnfaithfulJson(ValueError):
    """A request's JSON holds a value that could not come back exactly as sent; `field` says where."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class _InexactNumber:
    """Stands in, during parsing, for a number a double cannot hold exactly (found and refused
    afterwards, where its place in the document is known)."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason


def _parse_exact_float(text: str) -> float | _InexactNumber:
    value = float(text)
    if math.isinf(value):
        return _InexactNumber(text, "is out of the range of a 64-bit float")
    # Python writes a float back in its shortest round-tripping form: the number comes back equal
    # exactly when that form has the value that was sent (1E5 -> 100000.0 is equal; -1e-400 ->
    # -0.0 or 31 significant digits -> 17 are not).
    if repr(value) != text and Decimal(repr(value)) != Decimal(text):
        return _InexactNumber(
            text,
            "cannot be kept exactly: a 64-bit float holds about 17 significant digits "
            "between 1e-308 and 1e308 (send it as a string to keep it as written)",
        )
    return value


def loads_request(text: str) -> Any:
    """Parse a request's JSON, refusing what could not be stored and returned exactly as sent:
    numbers a double cannot hold, lone UTF-16 surrogates (`"\\ud800"`), nesting deeper than
    MAX_REQUEST_DEPTH. Raises UnfaithfulJson naming the first offending field, or ValueError
    for JSON that is not valid at all."""
    inexact: list[_InexactNumber] = []

    def parse_float(number: str) -> Any:
        value = _parse_exact_float(number)
        if isinstance(value, _InexactNumber):
            inexact.append(value)
        return value

    value = json.loads(text, parse_float=parse_float, parse_constant=_reject_constant)
    strings = _MAYBE_SURROGATE.search(text) is not None
    deep = text.count("[") + text.count("{") > MAX_REQUEST_DEPTH
    if inexact or strings or deep:
        _refuse_unfaithful(value, strings, deep)
    return value


def _field(path: list[Any]) -> str:
    parts = [
        part.encode("utf-8", "backslashreplace").decode()[:64] if isinstance(part, str) else str(part) for part in path
    ]
    return ".".join(parts) or "body"


def _refuse_unfaithful(document: Any, strings: bool, deep: bool) -> None:
    """Walk the document (iteratively: it may be deep) and raise for its first unfaithful value."""
    stack: list[tuple[Any, list[Any]]] = [(document, [])]
    while stack:
        value, path = stack.pop()
        if deep and len(path) > MAX_REQUEST_DEPTH:
            raise UnfaithfulJson(_field(path[:8]) + "...", f"nests deeper than {MAX_REQUEST_DEPTH} levels")
        if isinstance(value, _InexactNumber):
            raise UnfaithfulJson(_field(path), f"the number {value.text[:40]} {value.reason}")
        if strings and isinstance(value, str) and _SURROGATES.search(value):
            raise UnfaithfulJson(_field(path), "holds a lone UTF-16 surrogate, which is not Unicode text")
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                if strings and _SURROGATES.search(key):
                    raise UnfaithfulJson(
                        _field([*path, key]), "the key holds a lone UTF-16 surrogate, which is not Unicode text"
                    )
                stack.append((item, [*path, key]))
        elif isinstance(value, list):
            stack.extend((item, [*path, index]) for index, item in reversed(list(enumerate(value))))


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
