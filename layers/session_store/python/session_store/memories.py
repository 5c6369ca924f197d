"""User memories (Agno's UserMemory): create or replace, read, delete, list, topics and per-user
stats, served by key lookups and index queries only.

Ownership follows the sessions' rule: a write naming another owner than the
stored one is a 403 and changes nothing, a read or delete naming another user a 404, and an owner
never moves once set. Retention is the memories' own setting (default: never expire).
"""

from __future__ import annotations

import hashlib
import heapq
import time
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from session_store import cursor, errors, keys, names, wire
from session_store.auth import ANONYMOUS, Actor
from session_store.erasure import ErasureGate
from session_store.erasure_steps import memory_erased
from session_store.memory_filters import matches
from session_store.memory_items import StoredMemory
from session_store.memory_models import MemoryDeletion, MemoryListQuery, MemoryWrite
from session_store.memory_repository import MemoryRepository
from session_store.retention import SECONDS_PER_DAY, is_expired
from session_store.service_base import with_retries
from session_store.table import index_for
from session_store.user_repository import UserRepository

_LOWEST = "0"
_HIGHEST = "\U0010ffff"
_FETCH_BATCH = 100


class MemoryService:
    def __init__(
        self,
        repository: MemoryRepository,
        retention_days: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.repository = repository
        self.retention_days = retention_days
        self._clock = clock
        self._sleep = sleep
        # A user's erased memories answer as gone at once; the erasure's worker deletes them.
        self.erasures = ErasureGate(UserRepository(repository))

    def now(self) -> int:
        return int(self._clock())

    # --- one memory --------------------------------------------------------------------------------
    def _live(self, memory_id: str, user_id: str | None) -> StoredMemory:
        memory = self.repository.get_memory(memory_id)
        if (
            memory is None
            or is_expired(memory.expires_at, self.now())
            or (user_id is not None and memory.user_id != user_id)
            or self._erased(memory)
        ):
            raise errors.NotFound(f"memory {memory_id!r} does not exist")
        return memory

    def _erased(self, memory: StoredMemory) -> bool:
        user = memory.user_id
        if not user:  # a memory without a user belongs to no erasure
            return False
        return memory_erased(memory.stored_at, self.erasures.users.latest(user))

    def _erased_among(self, memories: list[StoredMemory]) -> set[str]:
        users = sorted({memory.user_id for memory in memories if memory.user_id})
        latest = self.erasures.users.latest_of(users) if users else {}
        return {
            memory.memory_id
            for memory in memories
            if memory.user_id in latest and memory_erased(memory.stored_at, latest[memory.user_id])
        }

    def get_memory(self, memory_id: str, user_id: str | None = None, *, actor: Actor = ANONYMOUS) -> dict[str, Any]:
        return self._live(memory_id, actor.reads_as(user_id)).public()

    def put_memory(
        self, memory_id: str, write: MemoryWrite, *, actor: Actor = ANONYMOUS
    ) -> tuple[dict[str, Any], bool]:
        """Create (True) or replace (False) a memory; returns it as stored. The actor's subject,
        when it has one, is the owner the write names."""
        owner = actor.writes_as(write.user_id)
        if write.memory_id is not None and write.memory_id != memory_id:
            raise errors.ValidationFailed(
                "memory_id in the body differs from the path's",
                errors=[{"field": "memory_id", "location": "body", "message": "must equal the path's memory_id"}],
            )
        if "memory" not in write.model_fields_set or write.memory is None:
            raise errors.ValidationFailed(
                "a memory needs its memory", errors=[{"field": "memory", "location": "body", "message": "required"}]
            )
        return with_retries(lambda: self._put_once(memory_id, write, owner), self._sleep, "memory")

    def _put_once(self, memory_id: str, write: MemoryWrite, owner: str | None) -> tuple[dict[str, Any], bool]:
        now = self.now()
        stored = self.repository.get_memory(memory_id)
        if stored is not None and (is_expired(stored.expires_at, now) or self._erased(stored)):
            stored_live = None  # expired or erased: this write starts the memory afresh
        else:
            stored_live = stored
        if stored_live is not None and stored_live.user_id is not None and owner not in (None, stored_live.user_id):
            raise errors.Forbidden(f"memory {memory_id!r} belongs to another user")
        record = {
            "memory": write.memory,
            "topics": write.topics,
            "input": write.input,
            "feedback": write.feedback,
            "agent_id": write.agent_id,
            "team_id": write.team_id,
            # An owner never moves; a memory without one takes the first it is written with.
            "user_id": (stored_live.user_id if stored_live is not None else None) or owner,
        }
        if stored_live is None:
            created_at = write.created_at if write.created_at is not None else now
            updated_at = write.updated_at if write.updated_at is not None else created_at
        else:
            created_at = stored_live.created_at
            updated_at = write.updated_at if write.updated_at is not None else now
        expires_at = now + self.retention_days * SECONDS_PER_DAY if self.retention_days > 0 else None
        memory = StoredMemory(
            memory_id=memory_id,
            record=record,
            created_at=created_at,
            updated_at=updated_at,
            version=(stored.version if stored is not None else 0) + 1,
            expires_at=expires_at,
            stored_at=now,
        )
        if stored_live is None:
            # A memory stored within an erasure's cutoff second would be erased with it: retry.
            self.erasures.check_new_incarnation(record["user_id"], now)
        self.repository.put_memory(memory, stored.version if stored is not None else None)
        return memory.public(), stored_live is None

    def delete_memory(self, memory_id: str, user_id: str | None = None, *, actor: Actor = ANONYMOUS) -> None:
        user_id = actor.reads_as(user_id)

        def attempt() -> None:
            # Read each time: a memory rewritten in between has its owner checked again.
            self.repository.delete_memory(memory_id, self._live(memory_id, user_id).version)

        with_retries(attempt, self._sleep, "memory")

    def delete_memories(self, deletion: MemoryDeletion, *, actor: Actor = ANONYMOUS) -> list[str]:
        """Delete the named memories that exist (and are the user's, when one is named)."""
        user_id, now = actor.reads_as(deletion.user_id), self.now()
        found = self.repository.batch_get_memories(deletion.memory_ids)
        doomed = [
            memory_id
            for memory_id, memory in found.items()
            if not is_expired(memory.expires_at, now) and (user_id is None or memory.user_id == user_id)
        ]
        # An owner never moves, so the check above cannot be invalidated before the delete.
        self.repository.delete_memories(doomed)
        return doomed

    # --- lists -------------------------------------------------------------------------------------
    def _partitions(self, user_id: str | None) -> tuple[str, list[str]]:
        if user_id is not None:
            return "user", [keys.memory_user_partition(user_id)]
        return "type", [keys.memory_all_partition(shard) for shard in range(names.TYPE_SHARDS)]

    def _ordered_ids(
        self, user_id: str | None, sort_by: str, descending: bool, page_size: int, after: str | None = None
    ) -> Iterator[tuple[str, str]]:
        scope, partitions = self._partitions(user_id)
        index = index_for(scope, sort_by)
        low, high = _LOWEST, _HIGHEST
        if after is not None:
            low, high = (low, after) if descending else (after, high)
        now = self.now()
        streams = [
            self.repository.query_memory_index(
                index, partition, (low, high), not descending, page_size, now, exclude=after
            )
            for partition in partitions
        ]
        return heapq.merge(*streams, reverse=descending) if len(streams) > 1 else streams[0]

    def _matching(
        self, query: MemoryListQuery, ordered: Iterator[tuple[str, str]]
    ) -> Iterator[tuple[str, StoredMemory]]:
        return ((order_key, memory) for order_key, memory in self._examined(query, ordered, _FETCH_BATCH) if memory)

    def _examined(
        self, query: MemoryListQuery, ordered: Iterator[tuple[str, str]], batch_size: int
    ) -> Iterator[tuple[str, StoredMemory | None]]:
        """Every index entry read, with its memory when that is one to list (None: skipped)."""
        now = self.now()
        while batch := list(islice(ordered, batch_size)):
            found = self.repository.batch_get_memories([memory_id for _, memory_id in batch])
            erased = self._erased_among(list(found.values()))
            for order_key, memory_id in batch:
                memory = found.get(memory_id)
                # The index is eventually consistent: skip what was deleted or no longer matches.
                listable = memory is not None and memory_id not in erased and matches(memory, query, now)
                yield order_key, memory if listable else None

    def list_memories(self, query: MemoryListQuery, cursor_key: str, *, actor: Actor = ANONYMOUS) -> dict[str, Any]:
        query = query.model_copy(update={"user_id": actor.lists_as(query.user_id)})
        descending = query.sort_order == "desc"
        scope = _cursor_scope(query)
        after = None
        if query.cursor:
            after = cursor.decode(query.cursor, cursor_key, scope).get("after")
            if not isinstance(after, str):
                raise errors.InvalidRequest("the cursor is malformed")
        ordered = self._ordered_ids(query.user_id, query.sort_by, descending, query.limit + 1, after)
        # A page reads at most names.MAX_LIST_PAGE_READS memories (erased ones are skipped
        # after reading) and then continues after the last entry it examined: the index is exact.
        bound = names.MAX_LIST_PAGE_READS
        examined = self._examined(query, islice(ordered, bound), min(_FETCH_BATCH, bound))
        listed: list[dict[str, Any]] = []
        last_key, has_more, budget, reads = None, False, wire.PageBudget(), 0
        for order_key, memory in examined:
            reads += 1
            if memory is not None:
                public = memory.public()
                # The page also ends at the memory that would overflow the response (the first always fits).
                if len(listed) == query.limit or not (budget.take(public) or not listed):
                    has_more = True
                    break
                listed.append(public)
            last_key = order_key
            if reads == bound:
                # Another entry would need another read: the next page continues, if there is one
                # (`ordered` was read up to the bound only, so its next entry is the first unread).
                has_more = next(ordered, None) is not None
                break
        body: dict[str, Any] = {
            "memories": listed,
            "next_cursor": cursor.encode({"after": last_key}, cursor_key, scope) if has_more else None,
        }
        if query.include_total:
            # Filters need the memories themselves, so a count reads every candidate: asked for only.
            everything = self._ordered_ids(query.user_id, query.sort_by, descending, _FETCH_BATCH)
            body["total"] = sum(1 for _ in self._matching(query.model_copy(update={"cursor": None}), everything))
        return body

    def _all(self, user_id: str | None) -> Iterator[StoredMemory]:
        query = MemoryListQuery(user_id=user_id)
        ordered = self._ordered_ids(user_id, "updated_at", True, _FETCH_BATCH)
        return (memory for _, memory in self._matching(query, ordered))

    def user_memories(self, user_id: str) -> Iterator[StoredMemory]:
        """Every live memory of the user (for an export)."""
        return self._all(user_id)

    def topics(self, user_id: str | None = None, *, actor: Actor = ANONYMOUS) -> list[str]:
        found: set[str] = set()
        for memory in self._all(actor.lists_as(user_id)):
            found.update(topic for topic in memory.record.get("topics") or [] if isinstance(topic, str))
        return sorted(found)

    def stats(
        self, user_id: str | None, limit: int | None, page: int | None, *, actor: Actor = ANONYMOUS
    ) -> dict[str, Any]:
        """Per user: how many memories and when the latest was updated; newest first. Memories of
        no user are not counted (as in agno)."""
        user_id = actor.lists_as(user_id)
        per_user: dict[str, dict[str, Any]] = {}
        for memory in self._all(user_id):
            if memory.user_id is None:
                continue
            entry = per_user.setdefault(
                memory.user_id, {"user_id": memory.user_id, "total_memories": 0, "last_memory_updated_at": None}
            )
            entry["total_memories"] += 1
            latest = entry["last_memory_updated_at"]
            if memory.updated_at is not None and (latest is None or memory.updated_at > latest):
                entry["last_memory_updated_at"] = memory.updated_at
        ranked = sorted(
            per_user.values(), key=lambda entry: (entry["last_memory_updated_at"] or 0, entry["user_id"]), reverse=True
        )
        start = (page - 1) * limit if limit is not None and page is not None else 0
        window = ranked[start : start + limit] if limit is not None else ranked
        return {"stats": window, "total": len(ranked)}


def _cursor_scope(query: MemoryListQuery) -> str:
    fields = query.model_dump(exclude={"cursor", "limit", "include_total"})
    return "memories:" + hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()
