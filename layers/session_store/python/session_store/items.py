"""The mapping between records and DynamoDB items (low-level AttributeValue form). No I/O here.

Items are laid out for people reading the console: an `entity` attribute names each item's kind,
ids and timestamps are plain attributes, JSON values are JSON text (see codec.py).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from session_store import codec, keys, names
from session_store.models import COMPONENT_FIELDS, ID_FIELDS, OBJECT_FIELDS
from session_store.retention import ExpiryPolicy
from session_store.table import (
    CREATED_ORDER_ATTRIBUTE,
    INDEXED_EXPIRY_ATTRIBUTE,
    RUN_INDEX_ATTRIBUTE,
    SCOPE_ATTRIBUTES,
    SESSION_NAME_SEARCH_ATTRIBUTE,
    UPDATED_ORDER_ATTRIBUTE,
)

RUN_ATTRIBUTE = "run"
RUN_LOCATION_ATTRIBUTE = "run_sk"
PAYLOAD_OBJECT_ATTRIBUTE = "payload_s3_key"
# On a session item written over an expired one (a new incarnation): the incarnation it replaced.
# It marks that write in the table's stream, so the cascade's event filter lets through the one
# MODIFY that needs a purge and none of the turns (the next update removes it).
REPLACED_INCARNATION = "replaced_incarnation"
# "gzip" on a run item whose `run` is gzipped JSON (a Binary attribute); absent when it is text.
PAYLOAD_ENCODING_ATTRIBUTE = "payload_encoding"
# Set while a large update holds the session (large_updates.py).
LEASE_UNTIL_ATTRIBUTE = "lease_until"
_INCARNATION_ENTROPY_HEX = 6


@dataclass
class StoredSession:
    """A session item as the service sees it: the Agno record fields plus the service's own."""

    session_id: str
    session_type: str
    incarnation: str
    version: int
    run_count: int
    created_at: int
    updated_at: int
    expiry_policy: ExpiryPolicy
    expires_at: int | None
    record: dict[str, Any] = field(default_factory=dict)  # ids and object fields
    # When the updated-at index entries last moved, and the expiry they then got (table.py): they
    # trail updated_at / expires_at by less than UPDATED_INDEX_SLACK_SECONDS.
    indexed_at: int = 0
    indexed_expires_at: int | None = None
    # Until when a large update holds the session (large_updates.LEASE_SECONDS), None when none does.
    lease_until: int | None = None

    def public(self) -> dict[str, Any]:
        """The session as the API returns it, without runs."""
        return {
            "session_id": self.session_id,
            "session_type": self.session_type,
            **{name: self.record.get(name) for name in (*ID_FIELDS, *OBJECT_FIELDS)},
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
            "expires_at": self.expires_at,
            "run_count": self.run_count,
        }

    @property
    def user_id(self) -> str | None:
        return self.record.get("user_id")

    @property
    def component_id(self) -> str | None:
        return self.record.get(COMPONENT_FIELDS[self.session_type])

    def session_name(self) -> str | None:
        data = self.record.get("session_data")
        name = data.get("session_name") if isinstance(data, dict) else None
        return name if isinstance(name, str) else None


def new_incarnation() -> str:
    """Changes each time a session is created anew, so runs of a predecessor stay out of it."""
    return f"{int(time.time()):x}{secrets.token_hex(_INCARNATION_ENTROPY_HEX // 2)}"


def incarnation_started_at(incarnation: str) -> int:
    """The Unix second an incarnation began (new_incarnation's hex prefix; erasures compare it)."""
    return int(incarnation[:-_INCARNATION_ENTROPY_HEX], 16)


def new_run_order_ids(count: int) -> list[str]:
    """Time-ordered ids for new runs: microseconds, then position in the request, then entropy."""
    micros = time.time_ns() // 1000
    entropy = secrets.token_hex(3)
    return [f"{micros:016d}{index:04d}{entropy}" for index in range(count)]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def number(item: dict[str, Any], name: str) -> int | None:
    """The Number attribute `name` of an item, None when the item has none."""
    return int(item[name]["N"]) if name in item else None


def session_key(session_id: str) -> dict[str, Any]:
    return {names.PARTITION_KEY: s(keys.session_pk(session_id)), names.SORT_KEY: s(names.SESSION_META_SK)}


def index_attributes(session: StoredSession) -> dict[str, dict[str, Any] | None]:
    """Index keys of a session; None for an index the session is not in (sparse indexes)."""
    session_id, kind = session.session_id, session.session_type
    user, component = session.user_id, session.component_id
    name = session.session_name()
    return {
        SCOPE_ATTRIBUTES["type"]: s(keys.type_partition(kind, keys.type_shard(session_id))),
        SCOPE_ATTRIBUTES["user"]: s(keys.user_partition(user, kind)) if user else None,
        SCOPE_ATTRIBUTES["component"]: s(keys.component_partition(kind, component)) if component else None,
        SCOPE_ATTRIBUTES["user_component"]: (
            s(keys.user_component_partition(user, kind, component)) if user and component else None
        ),
        UPDATED_ORDER_ATTRIBUTE: s(keys.order_key(session.indexed_at, session_id)),
        INDEXED_EXPIRY_ATTRIBUTE: n(session.indexed_expires_at) if session.indexed_expires_at is not None else None,
        CREATED_ORDER_ATTRIBUTE: s(keys.order_key(session.created_at, session_id)),
        SESSION_NAME_SEARCH_ATTRIBUTE: s(name.casefold()) if name else None,
        "session_name": s(name) if name else None,
        names.TTL_ATTRIBUTE: n(session.expires_at) if session.expires_at is not None else None,
    }


def session_attributes(session: StoredSession) -> dict[str, dict[str, Any] | None]:
    """Every attribute of a session item but its key; None marks an attribute to leave out."""
    attributes: dict[str, dict[str, Any] | None] = {
        "entity": s(names.ENTITY_SESSION),
        "session_id": s(session.session_id),
        "session_type": s(session.session_type),
        **{name: s(session.record[name]) if session.record.get(name) else None for name in ID_FIELDS},
        **{name: codec.encode(session.record.get(name)) for name in OBJECT_FIELDS},
        "created_at": n(session.created_at),
        "updated_at": n(session.updated_at),
        "version": n(session.version),
        "run_count": n(session.run_count),
        "incarnation": s(session.incarnation),
        "expiry_policy": s(session.expiry_policy),
    }
    attributes.update(index_attributes(session))
    return attributes


def session_item(session: StoredSession) -> dict[str, Any]:
    present = {name: value for name, value in session_attributes(session).items() if value is not None}
    return {**session_key(session.session_id), **present}


def session_from_item(item: dict[str, Any]) -> StoredSession:
    record: dict[str, Any] = {name: item[name]["S"] if name in item else None for name in ID_FIELDS}
    record.update({name: codec.decode(item.get(name)) for name in OBJECT_FIELDS})
    updated_key = item.get(UPDATED_ORDER_ATTRIBUTE, {}).get("S")
    return StoredSession(
        session_id=item["session_id"]["S"],
        session_type=item["session_type"]["S"],
        incarnation=item["incarnation"]["S"],
        version=number(item, "version") or 0,
        run_count=number(item, "run_count") or 0,
        created_at=number(item, "created_at") or 0,
        updated_at=number(item, "updated_at") or 0,
        expiry_policy=item.get("expiry_policy", {}).get("S", "sliding"),
        expires_at=number(item, names.TTL_ATTRIBUTE),
        record=record,
        indexed_at=keys.order_key_time(updated_key) if updated_key else number(item, "updated_at") or 0,
        indexed_expires_at=number(item, INDEXED_EXPIRY_ATTRIBUTE),
        lease_until=number(item, LEASE_UNTIL_ATTRIBUTE),
    )


def run_key(session_id: str, run_sk: str) -> dict[str, Any]:
    return {names.PARTITION_KEY: s(keys.session_pk(session_id)), names.SORT_KEY: s(run_sk)}


def run_item(session_id: str, run_sk: str, run: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """A run item: the run's JSON in `run` plus a few plain attributes to read it by in the console."""
    item = {
        **run_key(session_id, run_sk),
        "entity": s(names.ENTITY_RUN),
        "run_id": s(run["run_id"]),
        **payload,
    }
    status = run.get("status")
    if isinstance(status, str):
        item["run_status"] = s(status[:256])
    created = run.get("created_at")
    if isinstance(created, int) and not isinstance(created, bool) and 0 <= created < 10**15:
        item["created_at"] = n(created)
    return item


def run_lookup_item(session_id: str, incarnation: str, run_id: str, run_sk: str) -> dict[str, Any]:
    return {
        **run_lookup_key(session_id, incarnation, run_id),
        "entity": s(names.ENTITY_RUN_LOOKUP),
        "run_id": s(run_id),
        RUN_LOCATION_ATTRIBUTE: s(run_sk),
        # Its entry in the run-id index (table.RUN_INDEX): written with the lookup, deleted with it.
        RUN_INDEX_ATTRIBUTE: s(keys.run_index_partition(run_id)),
    }


def run_lookup_key(session_id: str, incarnation: str, run_id: str) -> dict[str, Any]:
    return {
        names.PARTITION_KEY: s(keys.session_pk(session_id)),
        names.SORT_KEY: s(keys.run_lookup_sk(incarnation, run_id)),
    }


def item_key(item: dict[str, Any]) -> dict[str, Any]:
    return {names.PARTITION_KEY: item[names.PARTITION_KEY], names.SORT_KEY: item[names.SORT_KEY]}
