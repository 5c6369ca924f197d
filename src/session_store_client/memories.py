"""The user-memory routes of the client (mixed into SessionStoreClient)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal, cast

from session_store_client.errors import MemoryNotFound
from session_store_client.models import MemoryPage, MemoryStats, UserMemory
from session_store_client.transport import MAX_PAGE_SIZE, Transport, every_item, parse, path

MEMORY_FIELDS = ("memory", "topics", "user_id", "agent_id", "team_id", "input", "feedback", "created_at", "updated_at")


class MemoryMethods:
    _transport: Transport

    def put_memory(self, memory_id: str, memory: Mapping[str, Any]) -> UserMemory:
        """Create (``response_meta.created``) or replace a memory; fields absent are cleared, except
        ``user_id`` (an owner never changes) and ``created_at`` (kept from the creation)."""
        body = {name: memory[name] for name in MEMORY_FIELDS if name in memory}
        response = self._transport.request("PUT", path("memories", memory_id), body=body)
        return parse(UserMemory, response)

    def get_memory(self, memory_id: str, *, user_id: str | None = None) -> UserMemory:
        response = self._transport.request(
            "GET", path("memories", memory_id), query={"user_id": user_id}, not_found=MemoryNotFound
        )
        return parse(UserMemory, response)

    def delete_memory(self, memory_id: str, *, user_id: str | None = None) -> None:
        self._transport.request(
            "DELETE", path("memories", memory_id), query={"user_id": user_id}, not_found=MemoryNotFound
        )

    def delete_memories(self, memory_ids: list[str], *, user_id: str | None = None) -> list[str]:
        """Delete the memories that exist (and are ``user_id``'s); returns their ids."""
        deleted: list[str] = []
        for start in range(0, len(memory_ids), MAX_PAGE_SIZE):
            body: dict[str, Any] = {"memory_ids": memory_ids[start : start + MAX_PAGE_SIZE]}
            if user_id is not None:
                body["user_id"] = user_id
            deleted += self._transport.request("POST", path("memory-deletions"), body=body).body["deleted"]
        return deleted

    def list_memories(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: list[str] | None = None,
        search: str | None = None,
        sort_by: Literal["updated_at", "created_at"] | None = None,
        sort_order: Literal["desc", "asc"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_total: bool = False,
    ) -> MemoryPage:
        query = {
            "user_id": user_id,
            "agent_id": agent_id,
            "team_id": team_id,
            "topics": list(topics) if topics else None,
            "search": search or None,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "limit": limit,
            "cursor": cursor,
            "include_total": True if include_total else None,
        }
        return parse(MemoryPage, self._transport.request("GET", path("memories"), query=query))

    def iter_memories(self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[UserMemory]:
        return every_item(self.list_memories, "memories", page_size, **filters)

    def memory_topics(self, *, user_id: str | None = None) -> list[str]:
        body = self._transport.request("GET", path("memory-topics"), query={"user_id": user_id}).body
        return cast(list[str], body["topics"])

    def memory_stats(
        self, *, user_id: str | None = None, limit: int | None = None, page: int | None = None
    ) -> MemoryStats:
        query = {"user_id": user_id, "limit": limit, "page": page}
        return parse(MemoryStats, self._transport.request("GET", path("memory-stats"), query=query))
