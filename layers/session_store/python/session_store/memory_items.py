"""User memories as DynamoDB items (low-level AttributeValue form). No I/O here.

A memory is one item, `pk = MEMORY#<memory id>`, `sk = META`, so it is read, replaced and deleted
by key alone (agno addresses memories by id, the user being optional). It is listed through the
table's existing indexes, under partitions of its own (no new GSI: CloudFormation adds one GSI
per stack update, and these carry the same keys):
- a user's memories: the user scope (`gsi_user_pk = MEMUSER#<user>`);
- every memory: the type scope, write-sharded (`gsi_type_pk = MEMALL#<shard>`).
The updated-at index projects `expires_at`, so expired memories are filtered inside the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from session_store import codec, keys, names
from session_store.items import n, number, s
from session_store.table import CREATED_ORDER_ATTRIBUTE, SCOPE_ATTRIBUTES, UPDATED_ORDER_ATTRIBUTE

# The fields of Agno's UserMemory besides memory_id and the timestamps.
ID_FIELDS = ("user_id", "agent_id", "team_id")
STORED_AT_ATTRIBUTE = "stored_at"
JSON_FIELDS = ("memory", "topics", "input", "feedback")


@dataclass
class StoredMemory:
    memory_id: str
    record: dict[str, Any]  # ID_FIELDS and JSON_FIELDS
    created_at: int
    updated_at: int | None
    version: int
    expires_at: int | None
    # The server's clock at the last write (agno sends its own created_at/updated_at, so those say
    # nothing about when the store took the memory): an erasure removes what was stored up to its
    # cutoff and keeps what was written after it.
    stored_at: int | None = None

    @property
    def user_id(self) -> str | None:
        return self.record.get("user_id")

    @property
    def sort_time(self) -> int:
        """The time a memory sorts by for `updated_at` (agno: COALESCE(updated_at, created_at))."""
        return self.updated_at if self.updated_at is not None else self.created_at

    def public(self) -> dict[str, Any]:
        return {
            "memory_id": self.memory_id,
            **{name: self.record.get(name) for name in ("memory", "topics", *ID_FIELDS, "input", "feedback")},
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
        }


def memory_key(memory_id: str) -> dict[str, Any]:
    return {names.PARTITION_KEY: s(keys.memory_pk(memory_id)), names.SORT_KEY: s(names.MEMORY_META_SK)}


def memory_item(memory: StoredMemory) -> dict[str, Any]:
    user = memory.user_id
    attributes: dict[str, Any] = {
        **memory_key(memory.memory_id),
        "entity": s(names.ENTITY_MEMORY),
        "memory_id": s(memory.memory_id),
        **{name: s(memory.record[name]) for name in ID_FIELDS if memory.record.get(name)},
        **{name: codec.encode(memory.record.get(name)) for name in JSON_FIELDS},
        "created_at": n(memory.created_at),
        "version": n(memory.version),
        SCOPE_ATTRIBUTES["type"]: s(keys.memory_all_partition(keys.memory_shard(memory.memory_id))),
        UPDATED_ORDER_ATTRIBUTE: s(keys.order_key(memory.sort_time, memory.memory_id)),
        CREATED_ORDER_ATTRIBUTE: s(keys.order_key(memory.created_at, memory.memory_id)),
    }
    if user:
        attributes[SCOPE_ATTRIBUTES["user"]] = s(keys.memory_user_partition(user))
    if memory.updated_at is not None:
        attributes["updated_at"] = n(memory.updated_at)
    if memory.expires_at is not None:
        attributes[names.TTL_ATTRIBUTE] = n(memory.expires_at)
    if memory.stored_at is not None:
        attributes[STORED_AT_ATTRIBUTE] = n(memory.stored_at)
    return attributes


def memory_from_item(item: dict[str, Any]) -> StoredMemory:
    record: dict[str, Any] = {name: item[name]["S"] if name in item else None for name in ID_FIELDS}
    record.update({name: codec.decode(item.get(name)) for name in JSON_FIELDS})
    return StoredMemory(
        memory_id=item["memory_id"]["S"],
        record=record,
        created_at=number(item, "created_at") or 0,
        updated_at=number(item, "updated_at"),
        version=number(item, "version") or 0,
        expires_at=number(item, names.TTL_ATTRIBUTE),
        stored_at=number(item, STORED_AT_ATTRIBUTE),
    )
