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
from typing import Any

from session_store import cursor, errors, keys, names, wire
from session_store.dynamodb import BATCH_GET_LIMIT
from session_store.erasure import ErasureGate
from session_store.erasure_items import Latest
from session_store.items import StoredSession
from session_store.list_totals import bounds, count_sessions, matches
from session_store.models import SESSION_TYPES, SessionListQuery
from session_store.repository import SessionRepository
from session_store.table import index_for
from session_store.user_repository import UserRepository


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
    low, high = bounds(query)  # on the sessions' own keys
    after, resume = _position(query, cursor_key)
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
    if resume is not None:  # every entry up to it was read: its session listed or passed over
        if descending:
            index_high = min(index_high, resume)
        else:
            index_low = max(index_low, resume)
    page_size = query.limit + 1
    entries = _Entries(
        [
            repository.query_index(
                index, partition, (index_low, index_high), not descending, page_size, now, query.session_name, resume
            )
            for partition in partitions
        ],
        descending,
    )

    def wanted(key: str, session: StoredSession) -> bool:
        beyond_cursor = after is None or (key < after if descending else key > after)
        return beyond_cursor and low <= key <= high and matches(session, query, now)

    candidates: dict[str, StoredSession] = {}  # real key -> session, read but not yet listed
    listed: list[dict[str, Any]] = []
    seen: set[str] = set()
    last_key: str | None = None
    last_entry: str | None = None  # the index key of the last entry read
    passed_over = 0  # sessions read that this page cannot list
    stopped = False  # the page stopped reading at its bound (names.MAX_LIST_PAGE_READS)
    in_order: str | None = None
    may_stop = True
    erasures: dict[str, Latest | None] = {}  # each user's latest erasure, read once per page
    gate = ErasureGate(UserRepository(repository))
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
        if may_stop and passed_over >= names.MAX_LIST_PAGE_READS and len(candidates) <= query.limit - len(listed):
            # The page stops reading (one that read on could read through, e.g., an erased user's
            # thousands of sessions, past the function's deadline): it lists what it holds, and
            # the next page resumes after the last entry read (see _position). Only if all of it
            # fits in the response: a session left out would never be read again.
            room_before = budget.left
            held: list[tuple[str, dict[str, Any]]] = []
            for key in sorted(candidates, reverse=descending):
                body = _listed(repository, candidates[key], query.include_runs, budget, first=not listed and not held)
                if body is None:
                    break
                held.append((key, body))
            if len(held) == len(candidates):
                in_order = last_key  # what it listed before in exact order: the next page lists beyond it
                for key, body in held:
                    del candidates[key]
                    listed.append(body)
                    last_key = key
                stopped = True
                break
            budget.left, may_stop = room_before, False  # reads on, as a page whose waiting sessions do not fit
        needed = query.limit - len(listed)
        ranked = sorted(candidates, reverse=descending)
        batch: list[tuple[str, str]] = []
        # A batch never reads past the bound, so that a page can stop at it.
        room = min(BATCH_GET_LIMIT, max(names.MAX_LIST_PAGE_READS - passed_over, 1))
        if len(ranked) >= needed:
            # Enough candidates, but an unread entry might still list before the last one needed:
            # read every such entry (the slack window), nothing further.
            boundary = ranked[needed - 1]
            while (
                entries.peek() is not None
                and not _ahead_of(boundary, entries.peek(), slack, descending)
                and len(batch) < room
            ):
                batch.append(entries.take())
        else:
            # Once the page passes sessions over, more of them are likely: read a full batch.
            wanted_now = room if passed_over else min(needed - len(ranked), room)
            while entries.peek() is not None and len(batch) < wanted_now:
                batch.append(entries.take())
        if batch:
            last_entry = batch[-1][0]
        fresh = [session_id for _, session_id in batch if session_id not in seen]
        seen.update(fresh)
        found = repository.batch_get_sessions(fresh) if fresh else {}
        erased = gate.erased_among(list(found.values()), erasures) if found else set()
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
            else:
                passed_over += 1
    has_more = bool(candidates) or entries.peek() is not None
    position: dict[str, Any] = {}
    if stopped:
        position = {"after": in_order or after, "resume": last_entry}
    elif last_key is not None:
        position = {"after": last_key, "resume": resume}
    page: dict[str, Any] = {
        "sessions": listed,
        "next_cursor": cursor.encode(position, cursor_key, _scope(query)) if has_more and position else None,
    }
    if query.include_total:
        page["total"] = count_sessions(repository, query, scope, partitions, now, gate)
    return page


def _position(query: SessionListQuery, cursor_key: str) -> tuple[str | None, str | None]:
    """Where a cursor continues: `after` the last session listed in exact order (its real key)
    and, once a page has stopped at its read bound, `resume`: after the last index entry that page
    read.

    Every session has one entry, and every entry up to `resume` was read by an earlier page: its
    session was listed or passed over. Every session listed in exact order lists before any whose
    entry was unread then, so the pages after list those beyond `after` from the entries beyond
    `resume`: each session once, none lost. A stopped page also lists the sessions it holds without
    waiting for entries it has not read, so a session updated within the index's slack of them can
    come one page later than its exact place (an updated-at list only, after a page stopped)."""
    if not query.cursor:
        return None, None
    position = cursor.decode(query.cursor, cursor_key, _scope(query))
    after, resume = position.get("after"), position.get("resume")
    if not all(isinstance(value, str | None) for value in (after, resume)) or (after is None and resume is None):
        raise errors.InvalidRequest("the cursor is malformed")
    return after, resume


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
