"""GET /sessions: pages served by index queries, never a Scan (run_pages.py pages a session's runs).

A session list resolves to one or more index partitions (a user's sessions of each type, the
write shards of a type, …). Each partition is read in order, only as far as the page needs, and
the partitions are merged. Sort keys are unique (`<time>#<session id>`), so a cursor is simply
the last key returned and the next page starts strictly after it.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator
from itertools import islice
from typing import Any

from session_store import cursor, errors, keys, names, wire
from session_store.erasure import ErasureGate
from session_store.items import StoredSession
from session_store.models import SESSION_TYPES, SessionListQuery
from session_store.repository import SessionRepository
from session_store.retention import is_expired
from session_store.table import index_for
from session_store.user_repository import UserRepository

_LOWEST = "0"
_HIGHEST = "\U0010ffff"
_FETCH_LIMIT = 100  # BatchGetItem's keys per call


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


def _real_key(session: StoredSession, sort_by: str) -> str:
    """Where a session belongs in a list: its own time (not its index entry's) and id."""
    return keys.order_key(session.updated_at if sort_by == "updated_at" else session.created_at, session.session_id)


class _Entries:
    """The merged index entries of a list, read one at a time with a look at the next."""

    def __init__(self, streams: list[Iterator[tuple[str, str]]], descending: bool) -> None:
        merged = heapq.merge(*streams, reverse=descending) if len(streams) > 1 else streams[0]
        self._entries = iter(merged)
        self._next: tuple[str, str] | None = next(self._entries, None)

    def peek(self) -> str | None:
        """The index key of the next entry, None when there is none."""
        return self._next[0] if self._next else None

    def take(self) -> tuple[str, str]:
        taken = self._next
        assert taken is not None
        self._next = next(self._entries, None)
        return taken


def _ahead_of(key: str, entry_key: str | None, slack: int, descending: bool) -> bool:
    """Whether a session at real key `key` lists before every session whose entry is not yet read,
    the next of which is at `entry_key`. An entry's time trails its session's by at most `slack`
    seconds (0: exact): descending, unread sessions are at most `entry time + slack`; ascending,
    at least their entry's key."""
    if entry_key is None:
        return True
    if not descending:
        return key <= entry_key
    bound = entry_key if slack == 0 else keys.order_key_bound(keys.order_key_time(entry_key) + slack, upper=True)
    return key >= bound


def list_sessions(repository: SessionRepository, query: SessionListQuery, now: int, cursor_key: str) -> dict[str, Any]:
    """One page in exact order of the sessions' own times.

    Entries of an updated-at index may trail their sessions' updated_at (table.py): the page reads
    entries in index order, fetches their sessions, and lists a session only once no unread entry
    can list before it; the extra reads are the sessions whose entries lie within the slack of the
    page's boundary. Created-at entries are exact, and the same loop lists them as it reads."""
    scope, partitions = _partitions(query)
    index = index_for(scope, query.sort_by)
    descending = query.sort_order == "desc"
    slack = index.slack_seconds
    low, high = _bounds(query)  # on the sessions' own keys
    after = None
    if query.cursor:
        after = cursor.decode(query.cursor, cursor_key, _scope(query)).get("after")
        if not isinstance(after, str):
            raise errors.InvalidRequest("the cursor is malformed")
    index_low, index_high = low, high
    if query.start_timestamp is not None and slack:
        index_low = keys.order_key_bound(query.start_timestamp - slack, upper=False)
    if after is not None:
        if descending:
            index_high = min(index_high, after)  # an entry's key never exceeds its session's
        else:
            index_low = max(
                index_low,
                after if slack == 0 else keys.order_key_bound(keys.order_key_time(after) - slack, upper=False),
            )
    page_size = query.limit + 1
    entries = _Entries(
        [
            repository.query_index(
                index, partition, (index_low, index_high), not descending, page_size, now, query.session_name
            )
            for partition in partitions
        ],
        descending,
    )

    def wanted(key: str, session: StoredSession) -> bool:
        beyond_cursor = after is None or (key < after if descending else key > after)
        return beyond_cursor and low <= key <= high and _matches(session, query, now)

    candidates: dict[str, StoredSession] = {}  # real key -> session, read but not yet listed
    listed: list[dict[str, Any]] = []
    seen: set[str] = set()
    last_key: str | None = None
    budget = wire.PageBudget()
    full = False  # the next session would not fit in the response: the page ends before it
    while len(listed) < query.limit and not full:
        for key in sorted(candidates, reverse=descending):
            if len(listed) == query.limit or not _ahead_of(key, entries.peek(), slack, descending):
                break
            # Runs are read only for sessions that make the page, not for every candidate.
            listed_session = _listed(repository, candidates[key], query.include_runs, budget, first=not listed)
            if listed_session is None:
                full = True
                break
            del candidates[key]
            listed.append(listed_session)
            last_key = key
        if full or len(listed) == query.limit or entries.peek() is None:
            break
        needed = query.limit - len(listed)
        ranked = sorted(candidates, reverse=descending)
        batch: list[tuple[str, str]] = []
        if len(ranked) >= needed:
            # Enough candidates, but an unread entry might still list before the last one needed:
            # read every such entry (the slack window), nothing further.
            boundary = ranked[needed - 1]
            while (
                entries.peek() is not None
                and not _ahead_of(boundary, entries.peek(), slack, descending)
                and len(batch) < _FETCH_LIMIT
            ):
                batch.append(entries.take())
        else:
            while entries.peek() is not None and len(batch) < min(needed - len(ranked), _FETCH_LIMIT):
                batch.append(entries.take())
        fresh = [session_id for _, session_id in batch if session_id not in seen]
        seen.update(fresh)
        found = repository.batch_get_sessions(fresh) if fresh else {}
        erased = ErasureGate(UserRepository(repository)).erased_among(list(found.values())) if found else set()
        for session_id in fresh:
            session = found.get(session_id)
            # The index is eventually consistent (and created-at indexes cannot filter): skip what
            # was deleted, has expired or does not match.
            if (
                session is not None
                and session_id not in erased
                and wanted(key := _real_key(session, query.sort_by), session)
            ):
                candidates[key] = session
    has_more = bool(candidates) or entries.peek() is not None
    page: dict[str, Any] = {
        "sessions": listed,
        "next_cursor": cursor.encode({"after": last_key}, cursor_key, _scope(query)) if has_more and last_key else None,
    }
    if query.include_total:
        page["total"] = _total(repository, query, scope, partitions, now)
    return page


def _listed(
    repository: SessionRepository, session: StoredSession, include_runs: bool, budget: wire.PageBudget, first: bool
) -> dict[str, Any] | None:
    """The session as the page lists it, or None when it does not fit in what the page has left.
    A session whose runs do not fit is listed without them, as one with too many runs is (the
    client reads them on their own). The first session is always listed: its fields alone fit a
    response (wire.refuse_unservable_session refused any that would not when it was written)."""
    if include_runs:
        with_runs = _with_runs(repository, session)
        if budget.take(with_runs):
            return with_runs
    bare = session.public()
    return bare if budget.take(bare) or first else None


def _with_runs(repository: SessionRepository, session: StoredSession) -> dict[str, Any]:
    """The listed session with its runs, when it has few enough (see names.MAX_LISTED_RUNS_PER_SESSION)."""
    body = session.public()
    if session.run_count <= names.MAX_LISTED_RUNS_PER_SESSION:
        found, _ = repository.query_runs(
            session.session_id, session.incarnation, names.MAX_LISTED_RUNS_PER_SESSION, True, None
        )
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
    created_at, whose keys-only index must fetch the sessions to tell the expired ones. Entries
    that surely match are counted in the query; those whose trailing time or expiry leaves it
    open (within the index's slack of a bound or of expiring) are fetched and checked."""
    if query.sort_by == "created_at" and (query.start_timestamp is not None or query.end_timestamp is not None):
        index = index_for(scope, "created_at")
        total = 0
        for partition in partitions:
            stream = repository.query_index(index, partition, _bounds(query), True, 100, now, None)
            while batch := list(islice(stream, 100)):
                found = repository.batch_get_sessions([session_id for _, session_id in batch])
                total += sum(1 for session in found.values() if _matches(session, query, now))
        return total
    index = index_for(scope, "updated_at")
    slack = index.slack_seconds
    start, end = query.start_timestamp, query.end_timestamp  # on updated_at here, if any
    bound = keys.order_key_bound
    sure_low = bound(start, upper=False) if start is not None else _LOWEST
    sure_high = bound(end - slack, upper=True) if end is not None else _HIGHEST
    open_ranges: list[tuple[str, str]] = []  # entries that may or may not match: every one is fetched
    if sure_low <= sure_high:
        if start is not None:
            open_ranges.append((bound(start - slack, upper=False), bound(start - 1, upper=True)))
        if end is not None:
            open_ranges.append((bound(end - slack + 1, upper=False), bound(end, upper=True)))
    else:
        open_ranges.append((bound((start or 0) - slack, upper=False), bound(end or 0, upper=True)))
    open_ids: set[str] = set()
    total = 0
    for partition in partitions:
        if sure_low <= sure_high:
            total += repository.count_index(index, partition, (sure_low, sure_high), now, query.session_name)
            # Surely within the bounds, but perhaps expiring within the slack: check each.
            open_ids.update(
                session_id
                for _, session_id in repository.query_index(
                    index, partition, (sure_low, sure_high), True, 100, now, query.session_name, expiring_by=now
                )
            )
        for low, high in open_ranges:
            open_ids.update(
                session_id
                for _, session_id in repository.query_index(
                    index, partition, (low, high), True, 100, now, query.session_name
                )
            )
    found = repository.batch_get_sessions(sorted(open_ids)) if open_ids else {}
    for session in found.values():
        in_bounds = (start is None or session.updated_at >= start) and (end is None or session.updated_at <= end)
        total += 1 if in_bounds and _matches(session, query, now) else 0
    return total
