"""GET /sessions and GET /sessions/{id}/runs: pages served by index queries, never a Scan.

A session list resolves to one or more index partitions (a user's sessions of each type, the
write shards of a type, …). Each partition is read in order, only as far as the page needs, and
the partitions are merged. Sort keys are unique (`<time>#<session id>`), so a cursor is simply
the last key returned and the next page starts strictly after it.
"""

from __future__ import annotations

import hashlib
import heapq
from itertools import islice
from typing import Any

from session_store import cursor, errors, keys, names
from session_store.items import StoredSession
from session_store.models import SESSION_TYPES, RunListQuery, SessionListQuery
from session_store.repository import SessionRepository
from session_store.retention import is_expired
from session_store.table import index_for

# include_runs: a listed session carries its runs when it has at most this many; a bigger one
# carries none (the client reads it on its own), so a page stays a bounded number of reads.
MAX_LISTED_RUNS_PER_SESSION = 20

_LOWEST = "0"
_HIGHEST = "\U0010ffff"


def _partitions(query: SessionListQuery) -> tuple[str, list[str]]:
    """The index scope and the partition keys that together hold exactly the matching sessions."""
    kind, component = query.component
    kinds = [kind] if kind else list(SESSION_TYPES)
    if query.user_id and component:
        return "user_component", [keys.user_component_partition(query.user_id, k, component) for k in kinds]
    if query.user_id:
        return "user", [keys.user_partition(query.user_id, k) for k in kinds]
    if component:
        return "component", [keys.component_partition(k, component) for k in kinds]
    return "type", [keys.type_partition(k, shard) for k in kinds for shard in range(names.TYPE_SHARDS)]


def _scope(query: SessionListQuery) -> str:
    """What a cursor is bound to: every filter and the order, not the page size."""
    fields = query.model_dump(exclude={"cursor", "limit", "include_total", "include_runs"})
    return "sessions:" + hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()


def _bounds(query: SessionListQuery) -> tuple[str, str]:
    low = keys.order_key_bound(query.start_timestamp, upper=False) if query.start_timestamp is not None else _LOWEST
    high = keys.order_key_bound(query.end_timestamp, upper=True) if query.end_timestamp is not None else _HIGHEST
    return low, high


def list_sessions(repository: SessionRepository, query: SessionListQuery, now: int, cursor_key: str) -> dict[str, Any]:
    scope, partitions = _partitions(query)
    index = index_for(scope, query.sort_by)
    descending = query.sort_order == "desc"
    low, high = _bounds(query)
    after = None
    if query.cursor:
        after = cursor.decode(query.cursor, cursor_key, _scope(query)).get("after")
        if not isinstance(after, str):
            raise errors.InvalidRequest("the cursor is malformed")
        low, high = (low, min(high, after)) if descending else (max(low, after), high)
    page_size = query.limit + 1
    streams = [
        repository.query_index(index, partition, (low, high), not descending, page_size, now,
                               query.session_name, exclude=after)
        for partition in partitions
    ]
    merged = heapq.merge(*streams, reverse=descending) if len(streams) > 1 else streams[0]
    sessions: list[dict[str, Any]] = []
    last_key: str | None = None
    has_more = False
    while len(sessions) < query.limit:
        batch = list(islice(merged, query.limit - len(sessions)))
        if not batch:
            break
        found = repository.batch_get_sessions([session_id for _, session_id in batch])
        for order_key, session_id in batch:
            last_key = order_key
            session = found.get(session_id)
            # The index is eventually consistent (and created-at indexes cannot filter): skip what
            # was deleted, has expired or does not match the name.
            if session is not None and _matches(session, query, now):
                sessions.append(_with_runs(repository, session) if query.include_runs else session.public())
    else:
        has_more = next(iter(merged), None) is not None
    page: dict[str, Any] = {
        "sessions": sessions,
        "next_cursor": cursor.encode({"after": last_key}, cursor_key, _scope(query)) if has_more and last_key else None,
    }
    if query.include_total:
        page["total"] = _total(repository, query, scope, partitions, now)
    return page


def _with_runs(repository: SessionRepository, session: StoredSession) -> dict[str, Any]:
    """The listed session with its runs, when it has few enough (see MAX_LISTED_RUNS_PER_SESSION)."""
    body = session.public()
    if session.run_count <= MAX_LISTED_RUNS_PER_SESSION:
        found, _ = repository.query_runs(session.session_id, session.incarnation, MAX_LISTED_RUNS_PER_SESSION, True, None)
        body["runs"] = [repository.decode_run(item) for item in found]
    return body


def _matches(session: StoredSession, query: SessionListQuery, now: int) -> bool:
    if is_expired(session.expires_at, now):
        return False
    if query.session_name:
        name = session.session_name()
        return name is not None and query.session_name.casefold() in name.casefold()
    return True


def _total(repository: SessionRepository, query: SessionListQuery, scope: str, partitions: list[str], now: int) -> int:
    """How many sessions match. A count grows with the matches, so it is only made when asked for.
    Counted on the updated-at index (which filters in the query) unless the bounds are on
    created_at, whose keys-only index must fetch the sessions to tell the expired ones."""
    if query.sort_by == "updated_at" or (query.start_timestamp is None and query.end_timestamp is None):
        index = index_for(scope, "updated_at")
        # Either the bounds are on updated_at, or there are none (_bounds gives the whole range).
        bounds = _bounds(query)
        return sum(repository.count_index(index, partition, bounds, now, query.session_name) for partition in partitions)
    index = index_for(scope, "created_at")
    total = 0
    for partition in partitions:
        stream = repository.query_index(index, partition, _bounds(query), True, 100, now, None)
        while batch := list(islice(stream, 100)):
            found = repository.batch_get_sessions([session_id for _, session_id in batch])
            total += sum(1 for session in found.values() if _matches(session, query, now))
    return total


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
    return {
        "runs": [repository.decode_run(item) for item in found],
        "next_cursor": cursor.encode({"after": last}, cursor_key, scope) if last else None,
    }
