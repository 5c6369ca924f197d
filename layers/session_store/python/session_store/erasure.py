"""Erasing a user: `DELETE /users/{user_id}` starts a job, a stream-driven worker carries it out.

The rule (docs/design.md, "Erasing a user"):
- An erasure has a cutoff: the Unix second it started. Every session incarnation of the user that
  began at or before the cutoff is *erased*: reads and lists answer as if it were gone at once
  (the gate below), and the worker deletes it with its runs, run lookups and offloaded payloads.
- Writes for the user go on: a write to an erased session starts a fresh incarnation (as after
  expiry), which the erasure never touches. During the cutoff second itself, a write that would
  start an incarnation for the user is refused with 503 and Retry-After (a fresh incarnation must
  begin after the cutoff), so "began at or before the cutoff" is exact.
- The job item (user_repository.ErasureJob) is the whole state: the current step, its cursor and
  the counts so far. Each save bumps `seq`; its stream record invokes the worker, which does one
  bounded batch and saves again. A record whose seq is not the job's latest is ignored, so a
  redelivered record never runs a batch twice; a failure is retried by the next save, and after
  MAX_FAILURES the job is `failed` (alarmed on) and `DELETE /users/{id}` resumes it.

Steps, one per item kind, run in order (sessions with their runs, memories, idempotency records);
each returns when its batch budget is spent.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from session_store import errors, items, keys, names
from session_store.items import StoredSession
from session_store.user_repository import ErasureJob, Latest, UserRepository

RUNNING, DONE, FAILED = "running", "done", "failed"
# A failing batch is retried this many times (each retry is the next save's stream record), then
# the job is failed and alarmed on. Backoff doubles from 1 s: about half a minute in all.
MAX_FAILURES = 5
# Per invocation: at most this many of the user's sessions (each with its whole item collection),
# or this many idempotency records read. Bounded, so an invocation ends well within its timeout.
SESSIONS_PER_BATCH = 100
RECORDS_PER_BATCH = 500
# Sessions of a batch erased at once (boto3 clients are thread-safe); see docs/design.md for the
# measured rate.
ERASE_WORKERS = 8


def new_erasure_id(now_ms: int) -> str:
    """Time-ordered (hex milliseconds) and unguessable."""
    return f"{now_ms:012x}{secrets.token_hex(6)}"


def incarnation_erased(incarnation: str, latest: Latest | None) -> bool:
    return latest is not None and items.incarnation_started_at(incarnation) <= latest.cutoff


def memory_erased(stored_at: int | None, latest: Latest | None) -> bool:
    """A memory last stored at or before an erasure's cutoff is erased (the rule for sessions,
    with the store's write time in place of the incarnation's start)."""
    return latest is not None and (stored_at is None or stored_at <= latest.cutoff)


# --- the gate: what reads and writes consult ----------------------------------------------------
class ErasureGate:
    """Answers "is this session erased?" for the request paths (one GetItem of the user's latest
    erasure, only for sessions that have a user)."""

    def __init__(self, users: UserRepository) -> None:
        self.users = users

    def erased(self, session: StoredSession) -> bool:
        user = session.user_id
        return bool(user) and incarnation_erased(session.incarnation, self.users.latest(user))

    def erased_among(self, sessions: list[StoredSession]) -> set[str]:
        """Session ids of a list page that are erased (one BatchGetItem for the page's users)."""
        users = sorted({session.user_id for session in sessions if session.user_id})
        latest = self.users.latest_of(users) if users else {}
        return {session.session_id for session in sessions
                if session.user_id in latest and incarnation_erased(session.incarnation, latest[session.user_id])}

    def check_new_incarnation(self, user_id: str | None, now: int) -> None:
        """A write is about to start an incarnation for `user_id`: refuse it within the cutoff second."""
        if not user_id:
            return
        latest = self.users.latest(user_id)
        if latest is not None and latest.status == RUNNING and now <= latest.cutoff:
            raise errors.ServiceUnavailable(f"user {user_id!r} is being erased; retry in a second")


# --- starting one ------------------------------------------------------------------------------------
def start(users: UserRepository, user_id: str, clock: Callable[[], float] = time.time) -> ErasureJob:
    """Start an erasure of the user, or return the one already running (idempotent); a failed one
    is resumed where it stopped."""
    for _ in range(8):
        latest = users.latest(user_id)
        if latest is not None and latest.status in (RUNNING, FAILED):
            job = users.get_job(user_id, latest.erasure_id)
            if job is None:
                raise errors.ServiceUnavailable("the erasure is being started; retry")
            if job.status == FAILED:
                resumed = _replace(job, status=RUNNING, failures=0, last_error=None, seq=job.seq + 1)
                try:
                    users.save_job(resumed, job.seq)
                except errors.Conflict:
                    continue
                return resumed
            return job
        now = clock()
        job = ErasureJob(user_id=user_id, erasure_id=new_erasure_id(int(now * 1000)), status=RUNNING,
                         cutoff=int(now), started_at=int(now))
        try:
            users.start_job(job, latest)
        except errors.Conflict:
            continue  # another request started (or finished) one meanwhile: read it again
        return job
    raise errors.ServiceUnavailable("the erasure is being started by many requests at once; retry")


def _replace(job: ErasureJob, **changes: Any) -> ErasureJob:
    return ErasureJob(**{**job.__dict__, "counts": dict(job.counts), **changes})


# --- the steps ---------------------------------------------------------------------------------
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
        kind = names.SESSION_TYPES[cursor["type"]]
        session_ids, after = users.user_sessions(job.user_id, kind, upper, cursor["after"], SESSIONS_PER_BATCH)
        with ThreadPoolExecutor(max_workers=ERASE_WORKERS) as pool:
            for erased in pool.map(lambda session_id: erase_session(users, job, session_id), session_ids):
                for name, amount in erased.counts.items():
                    progress.add(name, amount)
        cursor["found"] += len(session_ids)
        if after is not None:
            cursor["after"] = after
        elif cursor["type"] + 1 < len(names.SESSION_TYPES):
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
        incarnation = _incarnation_of(item.sort_key)
        if incarnation is None or incarnation == keep or not incarnation_erased(incarnation, latest):
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


def _incarnation_of(sort_key: str) -> str | None:
    """RUN#<incarnation>#... and RUNID#<incarnation>#... (incarnations are hex: no separator)."""
    prefix, _, rest = sort_key.partition(names.KEY_SEPARATOR)
    if f"{prefix}{names.KEY_SEPARATOR}" not in (names.RUN_PREFIX, names.RUN_LOOKUP_PREFIX):
        return None
    incarnation = rest.partition(names.KEY_SEPARATOR)[0]
    try:
        items.incarnation_started_at(incarnation)
    except ValueError:
        return None
    return incarnation


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
        doomed = [record[names.SORT_KEY]["S"] for record in records
                  if idempotency.response_user_id(record) == job.user_id
                  and idempotency.recorded_at(record) <= job.cutoff]
        users.delete_idempotency_records(doomed)
        progress.add(self.name, len(doomed))
        progress.cursor = {"after": after}
        progress.finished = after is None
        return progress


STEPS: tuple[Step, ...] = (SessionsStep(), MemoriesStep(), IdempotencyRecordsStep())
COUNT_KINDS = ("sessions", "runs", "run_lookups", "s3_objects", "memories", "idempotency_records")


# --- the worker ---------------------------------------------------------------------------------------
def advance(
    users: UserRepository,
    user_id: str,
    erasure_id: str,
    seq: int,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_failed: Callable[[ErasureJob], None] = lambda job: None,
) -> str:
    """Act on one stream record of a job: run one batch of its current step and save the progress
    (whose stream record triggers the next batch). Returns what happened, for the log."""
    job = users.get_job(user_id, erasure_id)
    if job is None or job.status != RUNNING or job.seq != seq:
        return "stale"
    try:
        progress = STEPS[job.step].run(users, job, job.cursor)
    except Exception as error:  # noqa: BLE001 - any failure is retried, then reported on the job
        failures = job.failures + 1
        failed = failures >= MAX_FAILURES
        if not failed:
            sleep(min(2.0 ** (failures - 1), 8.0))
        after = _replace(job, failures=failures, last_error=f"{type(error).__name__}: {error}", seq=seq + 1,
                         status=FAILED if failed else RUNNING)
        _save(users, after, seq)
        if failed:
            on_failed(after)
        return "failed" if failed else "retrying"
    counts = dict(job.counts)
    for kind, amount in progress.counts.items():
        counts[kind] = counts.get(kind, 0) + amount
    after = _replace(job, counts=counts, cursor=progress.cursor, seq=seq + 1, failures=0, last_error=None)
    if progress.finished:
        after.step, after.cursor = job.step + 1, None
        if after.step == len(STEPS):
            after.status, after.finished_at = DONE, int(clock())
            after.counts = {kind: counts.get(kind, 0) for kind in COUNT_KINDS} | counts
    _save(users, after, seq)
    return after.status


def _save(users: UserRepository, job: ErasureJob, expected_seq: int) -> None:
    try:
        users.save_job(job, expected_seq)
    except errors.Conflict:
        pass  # another delivery of the same record got there first: its save stands


def job_of_record(record: dict[str, Any]) -> tuple[str, str, int] | None:
    """(user id, erasure id, seq) of a stream record of a running job; None for anything else."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    if image.get("entity", {}).get("S") != names.ENTITY_ERASURE or image.get("status", {}).get("S") != RUNNING:
        return None
    return image["user_id"]["S"], image["erasure_id"]["S"], int(image["seq"]["N"])


def describe(job: ErasureJob) -> str:
    return json.dumps(job.receipt(), sort_keys=True)
