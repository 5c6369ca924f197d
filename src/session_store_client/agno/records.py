"""Translation between agno's session objects and the API's session records.

The API stores the columns of agno's SQL session table (session_id, session_type, the component
and user ids, the JSON object fields, created_at); ``updated_at`` is the server's clock and is
never sent. agno rows are built with exactly the keys the agno session class serializes, so a
``deserialize=False`` read looks like what agno's InMemoryDb returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import Any

from agno.db.utils import detect_session_type
from agno.session import AgentSession, Session, TeamSession, WorkflowSession

from session_store_client.models import SESSION_RECORD_FIELDS
from session_store_client.models import Session as StoredSession

SESSION_CLASSES = {"agent": AgentSession, "team": TeamSession, "workflow": WorkflowSession}


def enum_value(value: Enum | str | None) -> str | None:
    """agno passes enum members (SessionType, RunStatus) or plain strings; the API takes the string."""
    return value.value if isinstance(value, Enum) else value


def session_type_of(session: Session) -> str:
    for name, cls in SESSION_CLASSES.items():
        if isinstance(session, cls):
            return name
    raise TypeError(f"not an agno session: {type(session).__name__}")


def run_to_dict(run: Any) -> dict[str, Any]:
    return run if isinstance(run, dict) else run.to_dict()


def api_record(session: Session) -> dict[str, Any]:
    """The session's fields as the API stores them, without runs.

    Fields agno keeps outside its SQL schema (WorkflowSession.workflow_name) are not stored,
    exactly as agno's SQL adapters do not store them.
    """
    row = session.to_dict(include_runs=False)
    record = {name: row[name] for name in SESSION_RECORD_FIELDS if name in row}
    record["session_type"] = session_type_of(session)
    return record


def agno_row(stored: StoredSession | Mapping[str, Any], runs: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The agno row of a stored session: its session class's fields, ``session_type`` and ``runs``.

    The service fields (version, expires_at, run_count) are left out: agno has no place for them.
    """
    fields = stored.to_dict() if isinstance(stored, StoredSession) else dict(stored)
    session_type = detect_session_type(fields)
    session_class = SESSION_CLASSES.get(session_type, AgentSession)
    row = {field.name: fields.get(field.name) for field in dataclasses.fields(session_class) if field.name != "runs"}
    row["session_type"] = session_type
    row["runs"] = runs
    return row
