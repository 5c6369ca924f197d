"""Pydantic models of what clients send: the Agno session record, runs and list queries.

Record values (session_data, runs, …) are validated only for shape and passed through untouched,
so that every JSON value a client sends comes back equal.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from session_store import names

MAX_TIMESTAMP = 9_999_999_999  # the widest Unix second the ten-digit index sort keys hold
SessionType = Literal["agent", "team", "workflow"]
SESSION_TYPES: tuple[str, ...] = get_args(SessionType)
OBJECT_FIELDS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
COMPONENT_FIELDS = {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}
ID_FIELDS = ("user_id", *COMPONENT_FIELDS.values())


def _without_control_characters(value: str) -> str:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must not contain control characters")
    return value


Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=256), AfterValidator(_without_control_characters)
]
Timestamp = Annotated[int, Field(strict=True, ge=0, le=MAX_TIMESTAMP)]
JsonObject = dict[str, Any]


def _run_with_valid_id(run: dict[str, Any]) -> dict[str, Any]:
    run_id = run.get("run_id")
    if not isinstance(run_id, str):
        raise ValueError("a run must have a string run_id")
    if not 1 <= len(run_id) <= 256:
        raise ValueError("run_id must have 1 to 256 characters")
    _without_control_characters(run_id)
    return run


Run = Annotated[dict[str, Any], AfterValidator(_run_with_valid_id)]


class _ObjectFields(BaseModel):
    """The record's JSON-object fields: what PUT replaces and PATCH merges."""

    model_config = ConfigDict(extra="forbid")

    session_data: JsonObject | None = None
    agent_data: JsonObject | None = None
    team_data: JsonObject | None = None
    workflow_data: JsonObject | None = None
    metadata: JsonObject | None = None
    summary: JsonObject | None = None


class SessionWrite(_ObjectFields):
    """The body of PUT /sessions/{id}: any subset of the Agno session record.

    Absent fields keep their stored values (model_fields_set tells which were sent). The service
    fields version, run_count and updated_at are accepted, so a client may send back what it read,
    and ignored: the server owns them.
    """

    session_id: Identifier | None = None
    session_type: SessionType | None = None
    agent_id: Identifier | None = None
    team_id: Identifier | None = None
    workflow_id: Identifier | None = None
    user_id: Identifier | None = None
    runs: list[Run] | None = None
    created_at: Timestamp | None = None
    expires_at: Timestamp | None = Field(
        default=None, description="Unix seconds to pin expiry, null for never; absent keeps the policy"
    )
    updated_at: int | None = Field(default=None, description="ignored: the server's clock")
    version: int | None = Field(default=None, description="ignored: the server's counter")
    run_count: int | None = Field(default=None, description="ignored: the server's count")

    def sent(self, field: str) -> bool:
        return field in self.model_fields_set


class SessionPatch(_ObjectFields):
    """The body of PATCH /sessions/{id}: a JSON Merge Patch (RFC 7396) of the object fields."""

    expires_at: Timestamp | None = None


class SessionListQuery(BaseModel):
    """The filters, order and page of GET /sessions: its query parameters, validated by Powertools."""

    model_config = ConfigDict(extra="forbid")

    user_id: Identifier | None = None
    component_id: Identifier | None = None
    agent_id: Identifier | None = None
    team_id: Identifier | None = None
    workflow_id: Identifier | None = None
    session_type: SessionType | None = None
    session_name: str | None = Field(default=None, max_length=256)
    start_timestamp: int | None = Field(default=None, ge=0, le=MAX_TIMESTAMP)
    end_timestamp: int | None = Field(default=None, ge=0, le=MAX_TIMESTAMP)
    sort_by: Literal["updated_at", "created_at"] = "updated_at"
    sort_order: Literal["asc", "desc"] = "desc"
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)
    include_total: bool = False
    include_runs: bool = Field(
        default=False,
        description=f"each session with its runs when it has at most {names.MAX_LISTED_RUNS_PER_SESSION}",
    )

    @model_validator(mode="after")
    def _one_component_filter(self) -> SessionListQuery:
        given = {kind: getattr(self, field) for kind, field in COMPONENT_FIELDS.items() if getattr(self, field)}
        if len(given) + (self.component_id is not None) > 1:
            raise ValueError("give at most one of component_id, agent_id, team_id, workflow_id")
        if given:
            ((kind, _),) = given.items()
            if self.session_type not in (None, kind):
                raise ValueError(f"{COMPONENT_FIELDS[kind]} filters {kind} sessions, not {self.session_type}")
        if (
            self.start_timestamp is not None
            and self.end_timestamp is not None
            and self.start_timestamp > self.end_timestamp
        ):
            raise ValueError("start_timestamp must not be after end_timestamp")
        return self

    @property
    def component(self) -> tuple[str | None, str | None]:
        """(kind or None when any kind, component id) of the component filter, if any."""
        for kind, field in COMPONENT_FIELDS.items():
            if getattr(self, field):
                return kind, getattr(self, field)
        return self.session_type, self.component_id


class RunListQuery(BaseModel):
    """The page and order of GET /sessions/{session_id}/runs."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)
    order: Literal["asc", "desc"] = "asc"


class Preconditions(BaseModel):
    """If-Match / If-None-Match of a conditional write."""

    if_match: int | None = None
    create_only: bool = False
