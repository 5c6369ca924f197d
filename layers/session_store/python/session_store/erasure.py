"""Erasing a user: `DELETE /users/{user_id}` starts a job, a stream-driven worker carries it out.

The rule (docs/design.md, "Erasing a user"):
- An erasure has a cutoff: the Unix second it started. Every session incarnation of the user that
  began at or before the cutoff is *erased*: reads and lists answer as if it were gone at once
  (the gate below), and the worker deletes it with its runs, run lookups and offloaded payloads.
- Writes for the user go on: a write to an erased session starts a fresh incarnation (as after
  expiry), which the erasure never touches. During the cutoff second itself, a write that would
  start an incarnation for the user is refused with 503 and Retry-After (a fresh incarnation must
  begin after the cutoff), so "began at or before the cutoff" is exact.
- The job item (erasure_items.ErasureJob) is the whole state: the current step, its cursor and
  the counts so far. Each save bumps `seq`; its stream record invokes the worker, which does one
  bounded batch and saves again. A record whose seq is not the job's latest is ignored, so a
  redelivered record never runs a batch twice; a failure is retried by the next save, and after
  MAX_FAILURES the job is `failed` (alarmed on) and `DELETE /users/{id}` resumes it.

Steps (erasure_steps.py), one per item kind, run in order (sessions with their runs, memories,
idempotency records); each returns when its batch budget is spent.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from session_store import errors, names
from session_store.erasure_items import ErasureJob as ErasureJob  # the job is what the worker reports on
from session_store.erasure_items import Latest
from session_store.erasure_steps import (
    IdempotencyRecordsStep,
    MemoriesStep,
    SessionsStep,
    Step,
    incarnation_erased,
)
from session_store.items import StoredSession
from session_store.user_repository import UserRepository

RUNNING, DONE, FAILED = "running", "done", "failed"
# A failing batch is retried this many times (each retry is the next save's stream record), then
# the job is failed and alarmed on. Backoff doubles from 1 s: about half a minute in all.
MAX_FAILURES = 5


def new_erasure_id(now_ms: int) -> str:
    """Time-ordered (hex milliseconds) and unguessable."""
    return f"{now_ms:012x}{secrets.token_hex(6)}"


# --- the gate: what reads and writes consult ----------------------------------------------------
class ErasureGate:
    """Answers "is this session erased?" for the request paths (one GetItem of the user's latest
    erasure, only for sessions that have a user)."""

    def __init__(self, users: UserRepository) -> None:
        self.users = users

    def erased(self, session: StoredSession) -> bool:
        user = session.user_id
        if not user:  # a session without a user belongs to no erasure
            return False
        return incarnation_erased(session.incarnation, self.users.latest(user))

    def erased_among(self, sessions: list[StoredSession], known: dict[str, Latest | None] | None = None) -> set[str]:
        """Session ids of a list page that are erased (one BatchGetItem for the users not in
        `known`, which remembers each user's latest erasure, or None, across a page's batches)."""
        known = {} if known is None else known
        unknown = sorted({session.user_id for session in sessions if session.user_id} - known.keys())
        if unknown:
            found = self.users.latest_of(unknown)
            known.update({user: found.get(user) for user in unknown})
        return {
            session.session_id
            for session in sessions
            if session.user_id and incarnation_erased(session.incarnation, known[session.user_id])
        }

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
        job = ErasureJob(
            user_id=user_id,
            erasure_id=new_erasure_id(int(now * 1000)),
            status=RUNNING,
            cutoff=int(now),
            started_at=int(now),
        )
        try:
            users.start_job(job, latest)
        except errors.Conflict:
            continue  # another request started (or finished) one meanwhile: read it again
        return job
    raise errors.ServiceUnavailable("the erasure is being started by many requests at once; retry")


def _replace(job: ErasureJob, **changes: Any) -> ErasureJob:
    return ErasureJob(**{**job.__dict__, "counts": dict(job.counts), **changes})


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
        after = _replace(
            job,
            failures=failures,
            last_error=f"{type(error).__name__}: {error}",
            seq=seq + 1,
            status=FAILED if failed else RUNNING,
        )
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
