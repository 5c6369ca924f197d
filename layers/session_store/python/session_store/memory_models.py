"""Pydantic models of the user-memory routes: what clients send, and (for the OpenAPI document)
what the functions answer. A memory is Agno's `UserMemory`; `memory` may be any JSON value (agno
stores it in a JSON column) and comes back equal."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from session_store.models import Identifier, Timestamp

MAX_TOPICS = 100
MAX_DELETIONS = 100


class MemoryWrite(BaseModel):
    """The body of PUT /memories/{memory_id}: Agno's UserMemory fields.

    On creation `created_at` is kept when sent (imports keep their history), else the server's
    clock. `updated_at` is honoured only when sent (agno's `preserve_updated_at`); otherwise a new
    memory gets its created_at and an update the server's clock, as agno's SQL adapters do.
    """

    model_config = ConfigDict(extra="forbid")

    memory: Any = Field(description="the memory: usually text, any JSON value is kept")
    memory_id: Identifier | None = Field(default=None, description="if present, must equal the path's")
    topics: list[str] | None = Field(default=None, max_length=MAX_TOPICS)
    user_id: Identifier | None = None
    agent_id: Identifier | None = None
    team_id: Identifier | None = None
    input: str | None = None
    feedback: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class MemoryListQuery(BaseModel):
    """The filters, order and page of GET /memories: its query parameters, validated by Powertools."""

    model_config = ConfigDict(extra="forbid")

    user_id: Identifier | None = None
    agent_id: Identifier | None = None
    team_id: Identifier | None = None
    topics: list[str] | None = Field(default=None, max_length=MAX_TOPICS, description="every one must be present")
    search: str | None = Field(default=None, min_length=1, max_length=256, description="text within the memory")
    sort_by: Literal["updated_at", "created_at"] = "updated_at"
    sort_order: Literal["asc", "desc"] = "desc"
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)
    include_total: bool = False


class MemoryDeletion(BaseModel):
    """The body of POST /memory-deletions."""

    model_config = ConfigDict(extra="forbid")

    memory_ids: list[Identifier] = Field(min_length=1, max_length=MAX_DELETIONS)
    user_id: Identifier | None = None


# --- documented responses --------------------------------------------------------------------------


class MemoryDocument(BaseModel):
    memory_id: str
    memory: Any
    topics: list[str] | None
    user_id: str | None
    agent_id: str | None
    team_id: str | None
    input: str | None
    feedback: str | None
    created_at: int
    updated_at: int | None
    expires_at: int | None = Field(description="Unix seconds; null when the memory never expires")


class MemoryPage(BaseModel):
    memories: list[MemoryDocument]
    next_cursor: str | None
    total: int | None = Field(default=None, description="only with include_total=true")


class MemoryTopics(BaseModel):
    topics: list[str] = Field(description="every topic of the matching memories, sorted")


class UserMemoryStats(BaseModel):
    user_id: str
    total_memories: int
    last_memory_updated_at: int | None


class MemoryStatsPage(BaseModel):
    stats: list[UserMemoryStats] = Field(description="users by their latest memory update, newest first")
    total: int


class DeletedMemories(BaseModel):
    deleted: list[str] = Field(description="the ids that were deleted (the others did not exist or match)")
