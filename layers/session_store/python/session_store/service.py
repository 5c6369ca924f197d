"""The session store's logic: upsert, read, patch and delete sessions and their runs.

Handlers call one method each; the repository is the only way out to DynamoDB. Writes read the
session item first (one consistent read), then write with conditions that hold only if nothing
that matters changed in between; a lost race is retried from the read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from session_store import errors, items, keys, names, writes
from session_store.erasure import ErasureGate
from session_store.expressions import Expression, all_of
from session_store.items import StoredSession
from session_store.models import (
    COMPONENT_FIELDS,
    ID_FIELDS,
    OBJECT_FIELDS,
    Identifier,
    Preconditions,
    SessionPatch,
    SessionType,
    SessionWrite,
)
from session_store.repository import ConditionFailed, SessionRepository
from session_store.retention import default_policy, expiry_after_write, is_expired
from session_store.user_repository import UserRepository

MAX_WRITE_ATTEMPTS = 8
_identifier = TypeAdapter(Identifier)


@dataclass
class UpsertResult:
    session: StoredSession
    created: bool
    new_run_ids: list[str]


def validate_identifier(value: str, field: str) -> str:
    try:
        return _identifier.validate_python(value)
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise errors.ValidationFailed(
            f"{field} is invalid: {message}", errors=[{"field": field, "location": "path", "message": message}]
        ) from None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class SessionService:
    def __init__(
        self,
        repository: SessionRepository,
        retention_days: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.repository = repository
        self.retention_days = retention_days
        # While a user is being erased, their older sessions read as gone (erasure.py).
        self.erasures = ErasureGate(UserRepository(repository))
        self._clock = clock
        self._sleep = sleep

    def now(self) -> int:
        return int(self._clock())

    # --- reads -------------------------------------------------------------------------------------
    def live_session(
        self, session_id: str, user_id: str | None = None, session_type: str | None = None
    ) -> StoredSession:
        """The session if it exists, has not expired and matches the filters; else 404."""
        session = self.repository.get_session(session_id)
        if (
            session is None
            or is_expired(session.expires_at, self.now())
            or (user_id is not None and session.user_id != user_id)
            or (session_type is not None and session.session_type != session_type)
            or self.erasures.erased(session)
        ):
            raise errors.NotFound(f"session {session_id!r} does not exist")
        return session

    def get_session(
        self,
        session_id: str,
        user_id: str | None = None,
        session_type: str | None = None,
        include_runs: bool = True,
        runs_limit: int | None = None,
    ) -> dict[str, Any]:
        session = self.live_session(session_id, user_id, session_type)
        body = session.public()
        if include_runs:
            if runs_limit is not None:
                # Read only the newest N (newest first), then put them back in chronological order.
                found, _ = self.repository.query_runs(session_id, session.incarnation, runs_limit, False, None)
                found.reverse()
            else:
                found, _ = self.repository.query_runs(session_id, session.incarnation, None, True, None)
            body["runs"] = [self.repository.decode_run(item) for item in found]
        return body

    # --- writes ------------------------------------------------------------------------------------
    def upsert_session(
        self,
        session_id: str,
        write: SessionWrite,
        preconditions: Preconditions | None = None,
        creation_defaults: dict[str, Any] | None = None,
    ) -> UpsertResult:
        """PUT semantics of SPEC section 3: sent fields replace, absent fields stay, runs merge."""
        validate_identifier(session_id, "session_id")
        if write.session_id is not None and write.session_id != session_id:
            raise errors.ValidationFailed(
                "session_id in the body differs from the path's",
                errors=[{"field": "session_id", "location": "body", "message": "must equal the path's session_id"}],
            )
        return self._with_retries(
            lambda: self._upsert_once(session_id, write, preconditions or Preconditions(), creation_defaults or {})
        )

    def _with_retries(self, attempt: Callable[[], Any]) -> Any:
        for number in range(MAX_WRITE_ATTEMPTS):
            try:
                return attempt()
            except (ConditionFailed, errors.ConcurrentUpdate):
                # Full jitter: concurrent writers of one session spread out instead of colliding again.
                self._sleep(random.uniform(0, min(0.02 * 2**number, 0.5)))
        raise errors.ServiceUnavailable("the session is being written by many writers at once; retry")

    def _upsert_once(
        self, session_id: str, write: SessionWrite, preconditions: Preconditions, defaults: dict[str, Any]
    ) -> UpsertResult:
        now = self.now()
        stored = self.repository.get_session(session_id)
        alive = stored if stored is not None and not is_expired(stored.expires_at, now) else None
        if alive is not None and self.erasures.erased(alive):
            alive = None  # an erased session: the write starts a fresh incarnation
        self._check_preconditions(session_id, alive, preconditions)
        if alive is not None and write.user_id is not None and alive.user_id not in (None, write.user_id):
            raise errors.Forbidden(f"session {session_id!r} belongs to another user")
        sent = set(write.model_fields_set)
        after = self._session_after(session_id, alive, stored, write, sent, defaults, now)
        runs = list({run["run_id"]: run for run in write.runs or []}.values())
        locations = (
            self.repository.run_locations(session_id, after.incarnation, [run["run_id"] for run in runs])
            if alive is not None and runs
            else {}
        )
        new_count = sum(1 for run in runs if run["run_id"] not in locations)
        groups, new_run_ids = writes.run_operations(
            session_id, after.incarnation, runs, locations, items.new_run_order_ids(new_count),
            self.repository.payloads,
        )
        after.run_count = (alive.run_count if alive else 0) + len(new_run_ids)
        if alive is None:
            self.erasures.check_new_incarnation(after.user_id, now)
            self._create(stored, after, groups)
        else:
            self._update(alive, after, sent, groups, new_run_ids, preconditions.if_match)
        return UpsertResult(session=after, created=alive is None, new_run_ids=new_run_ids)

    @staticmethod
    def _check_preconditions(session_id: str, alive: StoredSession | None, preconditions: Preconditions) -> None:
        if preconditions.create_only and alive is not None:
            raise errors.PreconditionFailed(f"session {session_id!r} already exists (If-None-Match: *)")
        if preconditions.if_match is not None and (alive is None or alive.version != preconditions.if_match):
            raise errors.PreconditionFailed(
                f"session {session_id!r} is not at version {preconditions.if_match} (If-Match)"
            )

    def _session_after(
        self,
        session_id: str,
        alive: StoredSession | None,
        stored: StoredSession | None,
        write: SessionWrite,
        sent: set[str],
        defaults: dict[str, Any],
        now: int,
    ) -> StoredSession:
        """The session as this write leaves it."""
        if alive is None:
            session_type = write.session_type or defaults.get("session_type")
            if session_type is None:
                raise errors.ValidationFailed(
                    f"session {session_id!r} does not exist, so session_type is required to create it",
                    errors=[{"field": "session_type", "location": "body", "message": "required on create"}],
                )
            record = {name: defaults.get(name) for name in (*ID_FIELDS, *OBJECT_FIELDS)}
            base = StoredSession(
                session_id=session_id,
                session_type=session_type,
                incarnation=items.new_incarnation(),
                version=(stored.version if stored else 0) + 1,
                run_count=0,
                created_at=write.created_at if write.created_at is not None else now,
                updated_at=now,
                expiry_policy=default_policy(self.retention_days),
                expires_at=None,
                record=record,
            )
        else:
            base = replace(alive, record=dict(alive.record), version=alive.version + 1, updated_at=now)
            if "session_type" in sent and write.session_type is not None:
                base.session_type = write.session_type
        for name in (*ID_FIELDS, *OBJECT_FIELDS):
            if name in sent and not (name == "user_id" and write.user_id is None):
                base.record[name] = getattr(write, name)
        if "expires_at" in sent:
            base.expiry_policy = "never" if write.expires_at is None else "pinned"
        pinned = write.expires_at if "expires_at" in sent else (alive.expires_at if alive else None)
        base.expires_at = expiry_after_write(base.expiry_policy, pinned, now, self.retention_days)
        return base

    def _create(self, replaced: StoredSession | None, after: StoredSession, groups: list) -> None:
        chunks = writes.chunk(groups)
        # Runs first, the session item last: until it is written, nothing of the import is visible.
        for chunk in chunks[:-1]:
            self.repository.transact([op for group in chunk for op in group])
        self.repository.transact([writes.session_put(after, replaced), *[op for g in chunks[-1] for op in g]])

    def _update(
        self, before: StoredSession, after: StoredSession, sent: set[str], groups: list,
        new_run_ids: list[str], if_match: int | None,
    ) -> None:
        chunks = writes.chunk(groups)
        written_new = 0
        for index, chunk in enumerate(chunks[:-1]):
            added = sum(1 for group in chunk if len(group) == 2)  # a new run is a run and its lookup
            counters = writes.counters_update(before, added, after.updated_at, if_match if index == 0 else None)
            self.repository.transact([counters, *[op for group in chunk for op in group]])
            written_new += added
            after.version += 1
        final = writes.session_update(before, after, sent, len(new_run_ids) - written_new,
                                      if_match if len(chunks) == 1 else None)
        self.repository.transact([final, *[op for group in chunks[-1] for op in group]])

    def patch_session(
        self, session_id: str, patch: SessionPatch, preconditions: Preconditions, user_id: str | None = None
    ) -> StoredSession:
        """RFC 7396 merge of the object fields, as an upsert of the merged values."""
        validate_identifier(session_id, "session_id")

        def attempt() -> StoredSession:
            current = self.live_session(session_id, user_id)
            merged: dict[str, Any] = {}
            for name in patch.model_fields_set:
                if name == "expires_at":
                    merged[name] = patch.expires_at
                else:
                    merged[name] = merge_patch(current.record.get(name), getattr(patch, name))
            write = SessionWrite(**merged)
            if preconditions.if_match is not None:
                return self._upsert_once(session_id, write, preconditions, {}).session
            try:
                # The merge was computed from `current`: write it only onto that version.
                return self._upsert_once(session_id, write, Preconditions(if_match=current.version), {}).session
            except errors.PreconditionFailed as error:
                raise errors.ConcurrentUpdate("the session changed during the patch") from error

        return self._with_retries(attempt)

    def delete_session(self, session_id: str, user_id: str | None = None, if_match: int | None = None) -> None:
        """Delete the session item; the stream cascade removes its runs (see handlers/cascade.py)."""
        validate_identifier(session_id, "session_id")

        def attempt() -> None:
            session = self.live_session(session_id, user_id)
            if if_match is not None and session.version != if_match:
                raise errors.PreconditionFailed(f"session {session_id!r} is not at version {if_match}")
            expression = Expression()
            condition = all_of(
                expression.equals_or_absent("incarnation", items.s(session.incarnation)),
                expression.equals_or_absent("version", items.n(session.version)),
            )
            self.repository.delete_session(session_id, condition, expression)

        self._with_retries(attempt)

    # --- runs -----------------------------------------------------------------------------------
    def put_run(
        self, session_id: str, run_id: str, run: dict[str, Any], session_type: SessionType | None,
        preconditions: Preconditions,
    ) -> UpsertResult:
        """Create or replace one run; a missing session is created from the run's ids."""
        validate_identifier(run_id, "run_id")
        if run.get("run_id", run_id) != run_id:
            raise errors.ValidationFailed(
                "run_id in the body differs from the path's",
                errors=[{"field": "run_id", "location": "body", "message": "must equal the path's run_id"}],
            )
        run = {**run, "run_id": run_id} if "run_id" not in run else run
        ids = {name: run.get(name) for name in ID_FIELDS if isinstance(run.get(name), str) and run.get(name)}
        for name, value in ids.items():
            validate_identifier(value, f"run.{name}")
        derived_type = next((kind for kind, name in COMPONENT_FIELDS.items() if kind != "agent" and ids.get(name)),
                            "agent")
        defaults = {**ids, "session_type": session_type or derived_type}
        write = SessionWrite(runs=[run], user_id=ids.get("user_id"))
        return self.upsert_session(session_id, write, preconditions, defaults)

    def get_run(self, session_id: str, run_id: str, user_id: str | None = None) -> dict[str, Any]:
        session = self.live_session(session_id, user_id)
        location = self.repository.run_locations(session_id, session.incarnation, [run_id]).get(run_id)
        item = self.repository.get_run_item(session_id, location) if location else None
        if item is None:
            raise errors.NotFound(f"run {run_id!r} does not exist in session {session_id!r}")
        return self.repository.decode_run(item)

    def delete_run(self, session_id: str, run_id: str, user_id: str | None = None,
                   if_match: int | None = None) -> None:
        def attempt() -> None:
            session = self.live_session(session_id, user_id)
            if if_match is not None and session.version != if_match:
                raise errors.PreconditionFailed(f"session {session_id!r} is not at version {if_match}")
            location = self.repository.run_locations(session_id, session.incarnation, [run_id]).get(run_id)
            if location is None:
                raise errors.NotFound(f"run {run_id!r} does not exist in session {session_id!r}")
            now = self.now()
            after = replace(session, updated_at=now, version=session.version + 1)
            after.expires_at = expiry_after_write(session.expiry_policy, session.expires_at, now, self.retention_days)
            update = writes.session_update(session, after, set(), -1, if_match)
            run_key = {names.PARTITION_KEY: items.s(keys.session_pk(session_id)), names.SORT_KEY: items.s(location)}
            lookup_key = items.run_lookup_key(session_id, session.incarnation, run_id)
            self.repository.transact([
                update,
                {"Delete": {"Key": run_key}},
                {"Delete": {"Key": lookup_key, "ConditionExpression": "attribute_exists(sk)"}},
            ])

        self._with_retries(attempt)
