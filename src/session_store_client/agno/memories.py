"""The memory methods of agno's BaseDb over the Session Store's memory routes, with the results
agno's SqliteDb gives (same rows, filters, order, totals and quirks)."""

from __future__ import annotations

import functools
import time
import uuid
from typing import Any, Literal

from agno.db.in_memory.utils import apply_sorting
from agno.db.schemas.memory import UserMemory
from agno.db.utils import validate_pagination

from session_store_client.agno.paging import read_window
from session_store_client.client import SessionStoreClient
from session_store_client.errors import Forbidden, NotFound
from session_store_client.memories import MEMORY_FIELDS

Row = dict[str, Any]
# SqliteDb's memory columns, in its order: the rows agno's callers (AgentOS) receive.
MEMORY_COLUMNS = (
    "memory_id",
    "memory",
    "input",
    "agent_id",
    "team_id",
    "user_id",
    "topics",
    "feedback",
    "created_at",
    "updated_at",
)
SERVER_SORT_FIELDS: tuple[Literal["updated_at", "created_at"], ...] = ("updated_at", "created_at")


def memory_row(stored: Any) -> Row:
    data = stored.to_dict() if hasattr(stored, "to_dict") else dict(stored)
    return {column: data.get(column) for column in MEMORY_COLUMNS}


def memory_body(memory: UserMemory, updated_at: int | None) -> Row:
    body: Row = {name: getattr(memory, name) for name in MEMORY_FIELDS if name != "updated_at"}
    if updated_at is not None:
        body["updated_at"] = updated_at
    return body


class MemoryMethods:
    """Mixed into SessionStoreDb; ``self.client`` is a SessionStoreClient."""

    client: SessionStoreClient

    def _memory_result(self, row: Row, deserialize: bool | None) -> UserMemory | Row:
        return UserMemory.from_dict(row) if deserialize else row

    def upsert_user_memory(self, memory: UserMemory, deserialize: bool | None = True) -> UserMemory | Row | None:
        """Create or replace; None (as agno's adapters for sessions) when it is another user's."""
        return self._put_memory(memory, None, deserialize)

    def upsert_memories(
        self, memories: list[UserMemory], deserialize: bool | None = True, preserve_updated_at: bool = False
    ) -> list[UserMemory | Row]:
        """Each memory in turn; as SqliteDb's bulk path, updated_at is now unless preserved."""
        now = int(time.time())
        upserted = (
            self._put_memory(memory, memory.updated_at if preserve_updated_at else now, deserialize)
            for memory in memories
            if memory is not None
        )
        return [result for result in upserted if result is not None]

    def _put_memory(
        self, memory: UserMemory, updated_at: int | None, deserialize: bool | None
    ) -> UserMemory | Row | None:
        if memory.memory_id is None:
            memory.memory_id = str(uuid.uuid4())
        try:
            stored = self.client.put_memory(memory.memory_id, memory_body(memory, updated_at))
        except Forbidden:
            return None
        return self._memory_result(memory_row(stored), deserialize)

    def get_user_memory(
        self, memory_id: str, deserialize: bool | None = True, user_id: str | None = None
    ) -> UserMemory | Row | None:
        try:
            stored = self.client.get_memory(memory_id, user_id=user_id)
        except NotFound:
            return None
        return self._memory_result(memory_row(stored), deserialize)

    def delete_user_memory(self, memory_id: str, user_id: str | None = None) -> None:
        try:
            self.client.delete_memory(memory_id, user_id=user_id)
        except NotFound:
            pass

    def delete_user_memories(self, memory_ids: list[str], user_id: str | None = None) -> None:
        if memory_ids:
            self.client.delete_memories(list(memory_ids), user_id=user_id)

    def clear_memories(self) -> None:
        """Every memory, page by page (administrative: its cost grows with the store)."""
        while True:
            page = self.client.list_memories(limit=100)
            if not page.memories:
                return
            self.client.delete_memories([memory.memory_id for memory in page.memories])

    def get_all_memory_topics(self, user_id: str | None = None) -> list[str]:
        return list(self.client.memory_topics(user_id=user_id))

    def get_user_memories(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: list[str] | None = None,
        search_content: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        deserialize: bool | None = True,
    ) -> list[UserMemory] | tuple[list[Row], int]:
        """As SqliteDb: filters, then sort (none: creation order), then the page. The server sorts
        and pages by updated_at and created_at; other sort fields read every match and sort here."""
        validate_pagination(limit, page)
        filters: dict[str, Any] = {
            "user_id": user_id,
            "agent_id": agent_id,
            "team_id": team_id,
            "topics": list(topics) if topics else None,
            "search": search_content or None,
        }
        offset = (page - 1) * limit if limit is not None and page is not None else 0
        if sort_by in SERVER_SORT_FIELDS or sort_by not in MEMORY_COLUMNS:
            # No (or an unknown) sort field: SqliteDb leaves rows in insertion order, i.e. creation.
            server_sort: Literal["updated_at", "created_at"] = "created_at"
            server_order: Literal["desc", "asc"] = "asc"
            if sort_by in SERVER_SORT_FIELDS:
                server_sort, server_order = sort_by, "asc" if sort_order == "asc" else "desc"
            list_page = functools.partial(
                self.client.list_memories, **filters, sort_by=server_sort, sort_order=server_order
            )
            listed, total = read_window(list_page, "memories", offset, limit, want_total=not deserialize)
            rows = [memory_row(memory) for memory in listed]
        else:
            every = [
                memory_row(memory)
                for memory in self.client.iter_memories(**filters, sort_by="created_at", sort_order="asc")
            ]
            total = len(every)
            rows = apply_sorting(every, sort_by, sort_order)
            rows = rows[offset : offset + limit] if limit is not None else rows
        if not rows:
            return [] if deserialize else ([], 0)  # SqliteDb's answer for an empty page, total or not
        if not deserialize:
            return rows, total or 0
        return [UserMemory.from_dict(row) for row in rows]

    def get_user_memory_stats(
        self, limit: int | None = None, page: int | None = None, user_id: str | None = None
    ) -> tuple[list[Row], int]:
        validate_pagination(limit, page)
        stats = self.client.memory_stats(user_id=user_id, limit=limit, page=page if limit is not None else None)
        if not stats.stats:
            return [], 0
        return [dict(entry) for entry in stats.stats], stats.total
