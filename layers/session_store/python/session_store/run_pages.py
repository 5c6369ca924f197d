"""GET /sessions/{id}/runs: a session's runs page by page, one query of its run items in order."""

from __future__ import annotations

from typing import Any

from session_store import cursor, errors, names, wire
from session_store.models import RunListQuery
from session_store.repository import SessionRepository


def list_runs(
    repository: SessionRepository, session_id: str, incarnation: str, query: RunListQuery, cursor_key: str
) -> dict[str, Any]:
    scope = f"runs:{query.order}:{session_id}:{incarnation}"
    after = None
    if query.cursor:
        after = cursor.decode(query.cursor, cursor_key, scope).get("after")
        if not isinstance(after, str):
            raise errors.InvalidRequest("the cursor is malformed")
    found, last = repository.query_runs(session_id, incarnation, query.limit, query.order == "asc", after)
    runs: list[dict[str, Any]] = []
    budget, last_in_page = wire.PageBudget(), None
    for item in found:
        run = repository.decode_run(item)
        if not budget.take(run) and runs:
            # The page shrinks to what one response can carry (every run fits alone: see wire.py);
            # the cursor continues after the last run it holds.
            last = last_in_page
            break
        runs.append(run)
        last_in_page = item[names.SORT_KEY]["S"]
    return {
        "runs": runs,
        "next_cursor": cursor.encode({"after": last}, cursor_key, scope) if last else None,
    }
