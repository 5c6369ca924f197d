"""The steps of an erasure (erasure.py), one per item kind, run in order: the user's sessions with
their runs, memories, idempotency records. Each does one bounded batch and returns its progress
and where to resume."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from session_store import items, keys, names
from session_store.erasure_items import ErasureJob, Latest
from session_store.models import SESSION_TYPES
from session_store.user_repository import UserRepository

# Per invocation: at most this many of the user's sessions (each with its whole item collection),
# or this many idempotency records read. Bounded, so an invocation ends well within its timeout.
SESSIONS_PER_BATCH = 100
RECORDS_PER_BATCH = 500
# Sessions of a batch erased at once (boto3 clients are thread-safe); see docs/design.md for the
# measured rate.
ERASE_WORKERS = 8


def incarnation_erased(incarnation: str, latest: Latest | None) -> bool:
    return latest is not None and items.incarnation_started_at(incarnation) <= latest.cutoff


def memory_erased(stored_at: int | None, latest: Latest | None) -> bool:
    """A memory last stored at or before an erasure's cutoff is erased (the rule for sessions,
    with the store's write time in place of the incarnation's start)."""
    return latest is not None and (stored_at is None or stored_at <= latest.cutoff)


@dataclass
class Progress:
    counts: dict[str, int] = field(default_factory=dict)
    cursor: dict[str, Any] | None = None
    finished: bool = False

    def add(self, kind: str, amount: int = 1) -> None:
        if amount:
            self.counts[kind] = self.counts.get(kind, 0) + amount


class Step(Protocol):
    name: str

    def run(self, users: UserRepository, job: ErasureJob, cursor: dict[str, Any] | None) -> Progress: ...


class SessionsStep:
    """The user's sessions through the user's updated-at index partitions (one per type), each with
    its whole item collection: runs and run lookups of every erased incarnation, the S3 objects of
    offloaded runs, then the session item itself. Sessions updated after the cutoff are fresh
    incarnations (see the module's rule) and lie beyond the queried key range.

    Cursor: the type being read and the index key to continue after. When every type has been
    read, one more pass from the start (`sweep`) catches sessions whose index entries appeared late
    (a write that read no erasure and committed just after it started)."""

    name = "sessions"

    def run(self, users: UserRepository, job: ErasureJob, cursor: dict[str, Any] | None) -> Progress:
        cursor = dict(cursor or {"type": 0, "after": None, "sweep": False, "found": 0})
        progress = Progress()
        upper = keys.order_key_bound(job.cutoff, upper=True)
        kind = SESSION_TYPES[cursor["type"]]
        session_ids, after = users.user_sessions(job.user_id, kind, upper, cursor["after"], SESSIONS_PER_BATCH)
        with ThreadPoolExecutor(max_workers=ERASE_WORKERS) as pool:
            for erased in pool.map(lambda session_id: erase_session(users, job, session_id), session_ids):
                for name, amount in erased.counts.items():
                    progress.add(name, amount)
        cursor["found"] += len(session_ids)
        if after is not None:
            cursor["after"] = after
        elif cursor["type"] + 1 < len(SESSION_TYPES):
            cursor.update(type=cursor["type"] + 1, after=None)
        elif not cursor["sweep"] or cursor["found"]:
            # A full pass that found sessions is followed by another; a pass that finds none ends.
            cursor.update(type=0, after=None, sweep=True, found=0)
        else:
            progress.finished = True
        progress.cursor = cursor
        return progress


def erase_session(users: UserRepository, job: ErasureJob, session_id: str) -> Progress:
    """Delete every item of the session that belongs to an erased incarnation. The incarnation
    decides, not the moment: a fresh incarnation written concurrently began after the cutoff, so
    it is never touched, whatever the order of events."""
    progress = Progress()
    latest = Latest(job.erasure_id, job.status, job.cutoff)
    session = users.sessions.get_session(session_id)
    # A session item that is not the user's (the id was reused by someone else) keeps its own
    # incarnation's items; the user's older incarnations still go.
    keep = None
    if session is not None and (session.user_id != job.user_id or not incarnation_erased(session.incarnation, latest)):
        keep = session.incarnation
    doomed: list[str] = []
    objects: list[str] = []
    kinds: dict[str, int] = {}
    for item in users.collection(session_id):
        incarnation = keys.incarnation_of(item.sort_key)
        if incarnation in (None, keep) or not _valid(incarnation) or not incarnation_erased(incarnation, latest):
            continue
        doomed.append(item.sort_key)
        kinds[item.entity or "other"] = kinds.get(item.entity or "other", 0) + 1
        if item.object_key:
            objects.append(item.object_key)
    # Objects before the items that name them: a crash in between leaves items the next attempt
    # finds again, never an object nobody points at.
    users.sessions.payloads.delete_objects(objects)
    users.delete_items(session_id, doomed)
    progress.add("runs", kinds.get(names.ENTITY_RUN, 0))
    progress.add("run_lookups", kinds.get(names.ENTITY_RUN_LOOKUP, 0))
    progress.add("s3_objects", len(objects))
    if session is not None and keep is None and users.delete_session_item(session_id, session.incarnation):
        progress.add("sessions")
    return progress


def _valid(incarnation: str) -> bool:
    """An incarnation the store wrote (hex, with its start time): anything else is left alone."""
    try:
        items.incarnation_started_at(incarnation)
    except ValueError:
        return False
    return True


class MemoriesStep:
    """The user's memories, through their user partition of the updated-at index: each one last
    stored at or before the cutoff is deleted (conditionally: one rewritten since is kept)."""

    name = "memories"

    def run(self, users: UserRepository, job: ErasureJob, cursor: dict[str, Any] | None) -> Progress:
        progress = Progress()
        found, after = users.user_memories(job.user_id, (cursor or {}).get("after"), SESSIONS_PER_BATCH)
        for memory_id, stored_at in found:
            if (stored_at is None or stored_at <= job.cutoff) and users.delete_memory_stored_by(memory_id, job.cutoff):
                progress.add(self.name)
        progress.cursor = {"after": after}
        progress.finished = after is None
        return progress


class IdempotencyRecordsStep:
    """Idempotency-Key records whose stored response is one of the user's sessions. Records are
    keyed by a hash of (caller, key), not by user, so the step reads their one partition, which
    holds only the last hour's records (RECORD_SECONDS, then TTL), and decodes each response.
    Records without a response body (DELETE, PUT run: their body is rebuilt from the request) hold
    none of the user's data."""

    name = "idempotency_records"

    def run(self, users: UserRepository, job: ErasureJob, cursor: dict[str, Any] | None) -> Progress:
        from session_store import idempotency

        progress = Progress()
        records, after = users.idempotency_records((cursor or {}).get("after"), RECORDS_PER_BATCH)
        doomed = [
            record[names.SORT_KEY]["S"]
            for record in records
            if idempotency.response_user_id(record) == job.user_id and idempotency.recorded_at(record) <= job.cutoff
        ]
        users.delete_idempotency_records(doomed)
        progress.add(self.name, len(doomed))
        progress.cursor = {"after": after}
        progress.finished = after is None
        return progress
