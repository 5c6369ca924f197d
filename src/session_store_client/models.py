"""Typed results of the API, as pydantic v2 models that never alter the JSON they hold.

Every model keeps fields it does not declare (``extra="allow"``), so a field added by a newer
server survives a read-modify-write through this client. Validation is strict: a value of the
wrong JSON type is an error, never a silent conversion. Record payloads (``session_data``, runs'
fields, ...) are typed ``Any`` inside, so floats, ints beyond 2^53, deep nesting and odd keys come
back exactly as the server sent them. ``to_dict()`` gives back the JSON object as received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, ConfigDict, PrivateAttr


@dataclass(frozen=True)
class ResponseMeta:
    """What the HTTP response said besides its body."""

    status: int
    etag: Optional[str]
    request_id: Optional[str]

    @property
    def created(self) -> bool:
        return self.status == 201


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    _response_meta: Optional[ResponseMeta] = PrivateAttr(default=None)

    @property
    def response_meta(self) -> Optional[ResponseMeta]:
        """Status, ETag and request id of the response this came from (None when built by hand)."""
        return self._response_meta

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object as received: declared fields the server did not send are left out."""
        return self.model_dump(exclude_unset=True)


class Run(ApiModel):
    """One run: a JSON object with a string ``run_id``; every other field is kept as sent."""

    run_id: str


class Session(ApiModel):
    """A session record (agno's schema) plus the service fields ``version``, ``expires_at``, ``run_count``."""

    session_id: str
    session_type: Optional[str] = None
    agent_id: Optional[str] = None
    team_id: Optional[str] = None
    workflow_id: Optional[str] = None
    user_id: Optional[str] = None
    session_data: Optional[Dict[str, Any]] = None
    agent_data: Optional[Dict[str, Any]] = None
    team_data: Optional[Dict[str, Any]] = None
    workflow_data: Optional[Dict[str, Any]] = None
    metadata: Optional[Dict[str, Any]] = None
    summary: Optional[Dict[str, Any]] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    version: Optional[int] = None
    expires_at: Optional[int] = None
    run_count: Optional[int] = None
    # Present on GET /sessions/{id} unless include_runs=false; lists and writes omit it.
    runs: Optional[List[Run]] = None

    @property
    def etag(self) -> Optional[str]:
        """The value for ``If-Match`` to write only over this version."""
        return f'"{self.version}"' if self.version is not None else None


class SessionPage(ApiModel):
    sessions: List[Session]
    next_cursor: Optional[str] = None
    # Only when the list was asked with include_total=true.
    total: Optional[int] = None


class RunPage(ApiModel):
    runs: List[Run]
    next_cursor: Optional[str] = None


class UserMemory(ApiModel):
    """A user memory in agno's ``UserMemory`` schema, plus the service field ``expires_at``."""

    memory_id: str
    memory: Any = None
    topics: Optional[List[str]] = None
    user_id: Optional[str] = None
    agent_id: Optional[str] = None
    team_id: Optional[str] = None
    input: Optional[str] = None
    feedback: Optional[str] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    expires_at: Optional[int] = None


class MemoryPage(ApiModel):
    memories: List[UserMemory]
    next_cursor: Optional[str] = None
    total: Optional[int] = None


class MemoryStats(ApiModel):
    stats: List[Dict[str, Any]]
    total: int
