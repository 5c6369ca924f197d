"""How many sessions a list matches (GET /sessions?include_total=true), and the rules a listed
session meets (listing.py pages them)."""

from __future__ import annotations

from itertools import islice

from session_store import keys
from session_store.erasure import ErasureGate
from session_store.erasure_items import Latest
from session_store.items import StoredSession
from session_store.models import SessionListQuery
from session_store.repository import SessionRepository
from session_store.retention import is_expired
from session_store.table import index_for

LOWEST = "0"
HIGHEST = "\U0010ffff"


def bounds(query: SessionListQuery) -> tuple[str, str]:
    low = keys.order_key_bound(query.start_timestamp, upper=False) if query.start_timestamp is not None else LOWEST
    high = keys.order_key_bound(query.end_timestamp, upper=True) if query.end_timestamp is not None else HIGHEST
    return low, high


def matches(session: StoredSession, query: SessionListQuery, now: int) -> bool:
    if is_expired(session.expires_at, now):
        return False
    if query.session_name:
        name = session.session_name()
        return name is not None and query.session_name.casefold() in name.casefold()
    return True


def count_sessions(
    repository: SessionRepository,
    query: SessionListQuery,
    scope: str,
    partitions: list[str],
    now: int,
    gate: ErasureGate,
) -> int:
    """How many sessions match. A count grows with the matches, so it is only made when asked for.

    Counted on the updated-at index (which filters in the query) unless the bounds are on
    created_at, whose keys-only index must fetch the sessions to tell the expired ones. Entries
    that surely match are counted in the query; those whose trailing time or expiry leaves it
    open (within the index's slack of a bound or of expiring) are fetched and checked.

    A user's erased sessions are not counted, as they are not listed. Within one user's lists
    the erasure is a time bound: once an erasure has started, a write of the user's starts a
    fresh incarnation (erasure.py), so the sessions updated at or before its cutoff are exactly
    the erased ones. Lists of a type or a component hold many users and their index entries name
    none: those counts include a user's sessions until the erasure worker has deleted them
    (docs/design.md)."""
    erasures: dict[str, Latest | None] = {}
    if query.sort_by == "created_at" and (query.start_timestamp is not None or query.end_timestamp is not None):
        index = index_for(scope, "created_at")
        total = 0
        for partition in partitions:
            stream = repository.query_index(index, partition, bounds(query), True, 100, now, None)
            while batch := list(islice(stream, 100)):
                found = repository.batch_get_sessions([session_id for _, session_id in batch])
                erased = gate.erased_among(list(found.values()), erasures) if found else set()
                total += sum(
                    1 for session in found.values() if session.session_id not in erased and matches(session, query, now)
                )
        return total
    index = index_for(scope, "updated_at")
    slack = index.slack_seconds
    start, end = query.start_timestamp, query.end_timestamp  # on updated_at here, if any
    latest = gate.users.latest(query.user_id) if query.user_id else None
    if latest is not None:
        start = max(start, latest.cutoff + 1) if start is not None else latest.cutoff + 1
    bound = keys.order_key_bound
    sure_low = bound(start, upper=False) if start is not None else LOWEST
    sure_high = bound(end - slack, upper=True) if end is not None else HIGHEST
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
    erased = gate.erased_among(list(found.values()), erasures) if found else set()
    for session in found.values():
        in_bounds = (start is None or session.updated_at >= start) and (end is None or session.updated_at <= end)
        total += 1 if in_bounds and session.session_id not in erased and matches(session, query, now) else 0
    return total
