"""Typed results of the API, as pydantic v2 models that never alter the JSON they hold.

Every model keeps fields it does not declare (``extra="allow"``), so a field added by a newer
server survives a read-modify-write through this client. Validation is strict: a value of the
wrong JSON type is an error, never a silent conversion. Record payloads (``session_data``, runs'
fields, ...) are typed ``Any`` inside, so floats, ints beyond 2^53, deep nesting and odd keys come
back exactly as the server sent them. ``to_dict()`` gives back the JSON object as received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

# The fields of Agno's session schema the store keeps from a client, runs aside (and updated_at,
# which is the server's clock).
SESSION_RECORD_FIELDS = (
    "session_id",
    "session_type",
    "agent_id",
    "team_id",
    "workflow_id",
    "user_id",
    "session_data",
    "agent_data",
    "team_data",
    "workflow_data",
    "metadata",
    "summary",
    "created_at",
)
# The same without the id, which the request's path carries.
SESSION_BODY_FIELDS = SESSION_RECORD_FIELDS[1:]


@dataclass(frozen=True)
class ResponseMeta:
    """What the HTTP response said besides its body."""

    status: int
    etag: str | None
    request_id: str | None

    @property
    def created(self) -> bool:
        return self.status == 201


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    _response_meta: ResponseMeta | None = PrivateAttr(default=None)

    @property
    def response_meta(self) -> ResponseMeta | None:
        """Status, ETag and request id of the response this came from (None when built by hand)."""
        return self._response_meta

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as received: declared fields the server did not send are left out."""
        return self.model_dump(exclude_unset=True)


class Run(ApiModel):
    """One run: a JSON object with a string ``run_id``; every other field is kept as sent."""

    run_id: str


class RunWithSession(Run):
    """A run found by its id alone (``get_run_by_id``), with the ``session_id`` of its session."""

    session_id: str


class Session(ApiModel):
    """A session record (agno's schema) plus the service fields ``version``, ``expires_at``, ``run_count``."""

    session_id: str
    session_type: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    workflow_id: str | None = None
    user_id: str | None = None
    session_data: dict[str, Any] | None = None
    agent_data: dict[str, Any] | None = None
    team_data: dict[str, Any] | None = None
    workflow_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    created_at: int | None = None
    updated_at: int | None = None
    version: int | None = None
    expires_at: int | None = None
    run_count: int | None = None
    # Present on GET /sessions/{id} unless include_runs=false; lists and writes omit it.
    runs: list[Run] | None = None

    @property
    def etag(self) -> str | None:
        """The value for ``If-Match`` to write only over this version."""
        return f'"{self.version}"' if self.version is not None else None


class SessionPage(ApiModel):
    sessions: list[Session]
    next_cursor: str | None = None
    # Only when the list was asked with include_total=true.
    total: int | None = None


class RunPage(ApiModel):
    runs: list[Run]
    next_cursor: str | None = None


class UserMemory(ApiModel):
    """A user memory in agno's ``UserMemory`` schema, plus the service field ``expires_at``."""

    memory_id: str
    memory: Any = None
    topics: list[str] | None = None
    user_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    input: str | None = None
    feedback: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    expires_at: int | None = None


class MemoryPage(ApiModel):
    memories: list[UserMemory]
    next_cursor: str | None = None
    total: int | None = None


class MemoryStats(ApiModel):
    stats: list[dict[str, Any]]
    total: int
