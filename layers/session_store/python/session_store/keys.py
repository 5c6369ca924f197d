"""The key scheme: how ids become partition and sort keys.

Ids may contain any character but control characters, `#` included. Every id is escaped before it
is joined into a key (`%` -> `%25`, `#` -> `%23`), so the separator can only ever come from the
scheme itself and `a#b` in one id can never forge the key of another. The escape is the
percent-encoding people already read, so keys stay legible in the DynamoDB console.
"""

from __future__ import annotations

import hashlib

from session_store import names

_SEP = names.KEY_SEPARATOR
# DynamoDB limits keys to 1,024 bytes (sort) and 2,048 bytes (partition); 256 four-byte characters
# escape to 1,024 bytes. Within a key an escaped id keeps this many bytes, else becomes a digest.
_ID_BUDGET_BYTES = 900
# `%h` cannot occur in an escaped id (escape() turns every `%` into `%25`), so a digest can never
# equal a real id.
_DIGEST_MARKER = "%h"
# Wide enough for any Unix second until the year 2286, so string order equals numeric order.
_TIMESTAMP_WIDTH = 10


def escape(identifier: str) -> str:
    return identifier.replace("%", "%25").replace("#", "%23")


def bounded(identifier: str) -> str:
    """The escaped id, or a collision-proof digest of it when it is too long to share a key."""
    escaped = escape(identifier)
    if len(escaped.encode()) <= _ID_BUDGET_BYTES:
        return escaped
    return _DIGEST_MARKER + hashlib.sha256(identifier.encode()).hexdigest()


def unescape(escaped: str) -> str:
    return escaped.replace("%23", "#").replace("%25", "%")


def session_pk(session_id: str) -> str:
    return f"{names.SESSION_PREFIX}{escape(session_id)}"


def session_id_from_pk(pk: str) -> str:
    return unescape(pk.removeprefix(names.SESSION_PREFIX))


def run_prefix(incarnation: str) -> str:
    """Sort-key prefix of every run of one incarnation of a session."""
    return f"{names.RUN_PREFIX}{incarnation}{_SEP}"


def run_sk(incarnation: str, order_id: str) -> str:
    return f"{run_prefix(incarnation)}{order_id}"


def run_lookup_prefix(incarnation: str) -> str:
    return f"{names.RUN_LOOKUP_PREFIX}{incarnation}{_SEP}"


def run_lookup_sk(incarnation: str, run_id: str) -> str:
    return f"{run_lookup_prefix(incarnation)}{bounded(run_id)}"


def incarnation_of(sort_key: str) -> str | None:
    """The incarnation a run's or a run lookup's sort key names (RUN#<incarnation>#... and
    RUNID#<incarnation>#...; incarnations hold no separator), or None for any other item."""
    for prefix in (names.RUN_PREFIX, names.RUN_LOOKUP_PREFIX):
        if sort_key.startswith(prefix):
            return sort_key.removeprefix(prefix).split(_SEP, 1)[0]
    return None


def run_index_partition(run_id: str) -> str:
    """The run id's partition in the run-id index: every session holding a run of that id."""
    return f"{names.RUN_INDEX_PREFIX}{bounded(run_id)}"


def type_shard(session_id: str) -> int:
    digest = hashlib.blake2b(session_id.encode(), digest_size=2).digest()
    return int.from_bytes(digest, "big") % names.TYPE_SHARDS


def type_partition(session_type: str, shard: int) -> str:
    return f"{names.TYPE_PREFIX}{session_type}{_SEP}{shard}"


def user_partition(user_id: str, session_type: str) -> str:
    return f"{names.USER_PREFIX}{escape(user_id)}{_SEP}{session_type}"


def component_partition(session_type: str, component_id: str) -> str:
    return f"{names.COMPONENT_PREFIX}{session_type}{_SEP}{escape(component_id)}"


def user_component_partition(user_id: str, session_type: str, component_id: str) -> str:
    return f"{names.USER_PREFIX}{bounded(user_id)}{_SEP}{session_type}{_SEP}{bounded(component_id)}"


def order_key(timestamp: int, session_id: str) -> str:
    """A unique, time-ordered index sort key: `<zero-padded unix seconds>#<escaped session id>`.

    The session id makes equal timestamps distinct, so a list cursor can be a single key and
    "strictly after this key" is exact even when many sessions share a second.
    """
    return f"{timestamp:0{_TIMESTAMP_WIDTH}d}{_SEP}{bounded(session_id)}"


def order_key_time(order_key_text: str) -> int:
    """The Unix seconds an order key starts with."""
    return int(order_key_text[:_TIMESTAMP_WIDTH])


def order_key_bound(timestamp: int, upper: bool) -> str:
    """The smallest (or largest) order key of any session at `timestamp`."""
    # `<ts>#` is a prefix of (so sorts before) every key of that second; U+10FFFF is the largest
    # code point, so `<ts>#U+10FFFF` sorts after every one of them.
    suffix = "\U0010ffff" if upper else ""
    return f"{max(timestamp, 0):0{_TIMESTAMP_WIDTH}d}{_SEP}{suffix}"


# --- user memories ---------------------------------------------------------------------------------
def memory_pk(memory_id: str) -> str:
    return f"{names.MEMORY_PREFIX}{escape(memory_id)}"


def memory_id_from_pk(pk: str) -> str:
    return unescape(pk.removeprefix(names.MEMORY_PREFIX))


def memory_user_partition(user_id: str) -> str:
    return f"{names.MEMORY_USER_PREFIX}{bounded(user_id)}"


def memory_shard(memory_id: str) -> int:
    return type_shard(memory_id)


def memory_all_partition(shard: int) -> str:
    """One write shard of "every memory" (memories of no user are listed only here)."""
    return f"{names.MEMORY_ALL_PREFIX}{shard}"
