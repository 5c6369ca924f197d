"""Upserts: one write of a session and some of its runs, in one transaction when it fits, else as
a new session's staged import or an existing one's large update under a lease (writes.py).

Writes read the session item first (one consistent read), then write with conditions that hold
only if nothing that matters changed in between; a lost race is retried from the read.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from session_store import errors, items, large_updates, wire, writes
from session_store.auth import ANONYMOUS, Actor
from session_store.items import StoredSession
from session_store.models import ID_FIELDS, OBJECT_FIELDS, Preconditions, SessionWrite
from session_store.retention import default_policy, expiry_after_write, is_expired
from session_store.service_base import ServiceBase


@dataclass
class UpsertResult:
    session: StoredSession
    created: bool
    new_run_ids: list[str]


def refuse_foreign_owner(session_id: str, owner: str | None, named: list[tuple[str, str, Any]]) -> None:
    """On every write path, a write that names a user_id other than the session's owner (the
    stored one, or the one this write gives a new session) changes nothing and is a 403. `named`
    holds (field, location, user_id) for each place a write names a user: the body's user_id, each
    run's user_id, the `?user_id=` of the request."""
    if owner is None:
        return
    for field, location, user_id in named:
        if user_id is not None and user_id != owner:
            raise errors.Forbidden(
                f"session {session_id!r} belongs to another user: {field} names another owner",
                errors=[{"field": field, "location": location, "message": "is not the session's owner"}],
            )


def _refuse_foreign_runs(session_id: str, runs: list[dict[str, Any]], field: str) -> None:
    """A run is stored under the session it is written to: one naming another session (Agno's
    RunOutput carries a session_id) would be served as that session's from this one (422), and
    every run must be readable once stored (413, see wire.py)."""
    for index, run in enumerate(runs):
        where = f"{field}.{index}" if field == "runs" else field
        if "session_id" in run and run["session_id"] is not None and run["session_id"] != session_id:
            raise errors.ValidationFailed(
                "a run names another session than the one it is written to",
                errors=[
                    {
                        "field": f"{where}.session_id".removeprefix("body."),
                        "location": "body",
                        "message": "must be null or equal the path's session_id",
                    }
                ],
            )
        wire.refuse_unservable_run(run, where)


class Upserts(ServiceBase):
    def upsert_session(
        self,
        session_id: str,
        write: SessionWrite,
        preconditions: Preconditions | None = None,
        creation_defaults: dict[str, Any] | None = None,
        user_id: str | None = None,
        runs_field: str = "runs",
        *,
        actor: Actor = ANONYMOUS,
    ) -> UpsertResult:
        """PUT semantics: sent fields replace, absent fields stay, runs merge by run_id.
        `user_id`: the owner the request names (`?user_id=`), checked like the body's. The actor's
        subject, when it has one, is the owner the write gives the session."""
        if write.session_id is not None and write.session_id != session_id:
            raise errors.ValidationFailed(
                "session_id in the body differs from the path's",
                errors=[{"field": "session_id", "location": "body", "message": "must equal the path's session_id"}],
            )
        _refuse_foreign_runs(session_id, write.runs or [], runs_field)
        owner, named_owner = actor.writes_as(write.user_id), actor.writes_as(user_id)
        return self._with_retries(
            lambda: self._upsert_once(
                session_id,
                write,
                preconditions or Preconditions(),
                creation_defaults or {},
                owner,
                named_owner,
                runs_field,
            )
        )

    def _upsert_once(
        self,
        session_id: str,
        write: SessionWrite,
        preconditions: Preconditions,
        defaults: dict[str, Any],
        owner: str | None,
        named_owner: str | None = None,
        runs_field: str = "runs",
    ) -> UpsertResult:
        """One attempt. `owner`: the user_id the write gives the session (the body's, or the actor's)."""
        now = self.now()
        stored = self.repository.get_session(session_id)
        alive = stored if stored is not None and not is_expired(stored.expires_at, now) else None
        if alive is not None and self.erasures.erased(alive):
            alive = None  # an erased session: the write starts a fresh incarnation
        if alive is not None and alive.lease_until is not None and alive.lease_until >= now:
            raise errors.Conflict("a large update of the session is being written")
        self._check_preconditions(session_id, alive, preconditions)
        sent = set(write.model_fields_set) | ({"user_id"} if owner is not None else set())
        after = self._session_after(session_id, alive, stored, write, owner, sent, defaults, now)
        stored_owner = alive.user_id if alive is not None and alive.user_id is not None else after.user_id
        refuse_foreign_owner(
            session_id,
            stored_owner,
            [
                ("user_id", "body", owner),
                ("user_id", "query", named_owner),
                *(
                    (f"{runs_field}.{index}.user_id" if runs_field == "runs" else "user_id", "body", run.get("user_id"))
                    for index, run in enumerate(write.runs or [])
                ),
            ],
        )
        wire.refuse_unservable_session(after.public())
        runs = list({run["run_id"]: run for run in write.runs or []}.values())
        locations = (
            self.repository.run_locations(session_id, after.incarnation, [run["run_id"] for run in runs])
            if alive is not None and runs
            else {}
        )
        new_count = sum(1 for run in runs if run["run_id"] not in locations)
        groups, new_run_ids = writes.run_operations(
            session_id,
            after.incarnation,
            runs,
            locations,
            items.new_run_order_ids(new_count),
            self.repository.payloads,
        )
        after.run_count = (alive.run_count if alive else 0) + len(new_run_ids)
        if alive is None:
            self.erasures.check_new_incarnation(after.user_id, now)
            self._create(stored, after, groups)
        elif len(writes.chunk(groups)) == 1:
            self.repository.transact(
                [
                    writes.session_update(alive, after, sent, len(new_run_ids), preconditions.if_match),
                    *[operation for group in groups for operation in group],
                ]
            )
        else:
            # Its payloads are written again under the new incarnation: these are nobody's.
            self.repository.discard_payloads(op for group in groups for op in group)
            new_run_ids = self._update_large(alive, after, sent, runs, preconditions.if_match)
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
        owner: str | None,
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
            if name == "user_id":
                if owner is not None:
                    base.record[name] = owner
            elif name in sent:
                base.record[name] = getattr(write, name)
        if "expires_at" in sent:
            base.expiry_policy = "never" if write.expires_at is None else "pinned"
        pinned = write.expires_at if "expires_at" in sent else (alive.expires_at if alive else None)
        base.expires_at = expiry_after_write(base.expiry_policy, pinned, now, self.retention_days)
        return writes.with_index_time(alive, base, now)

    def _create(self, replaced: StoredSession | None, after: StoredSession, groups: list[list[dict[str, Any]]]) -> None:
        chunks = writes.chunk(groups)
        # Runs first, the session item last: until it is written, nothing of the import is visible.
        for chunk in chunks[:-1]:
            self.repository.transact([op for group in chunk for op in group])
        self.repository.transact([writes.session_put(after, replaced), *[op for g in chunks[-1] for op in g]])

    def _update_large(
        self,
        before: StoredSession,
        after: StoredSession,
        sent: set[str],
        runs: list[dict[str, Any]],
        if_match: int | None,
    ) -> list[str]:
        """An update too large for one transaction, made atomic (large_updates.py): under
        the session's lease, every run is written under a new incarnation, and one update of the
        session item publishes them all (one version step). Until then readers see the session as
        it was; if the write fails, they never see any of it."""
        session_id, token, now = before.session_id, secrets.token_hex(8), after.updated_at
        self.repository.update_session(large_updates.take_lease(before, token, now, if_match))
        incarnation = items.new_incarnation()
        try:
            existing, _ = self.repository.query_runs(session_id, before.incarnation, None, True, None)
            known = {item["run_id"]["S"] for item in existing}
            new_run_ids = [run["run_id"] for run in runs if run["run_id"] not in known]
            groups, total = large_updates.rebuilt_runs(
                session_id,
                incarnation,
                existing,
                runs,
                items.new_run_order_ids(len(new_run_ids)),
                self.repository.payloads,
            )
            for chunk in writes.chunk(groups):
                held = large_updates.lease_held(session_id, token)
                self.repository.transact([held, *[operation for group in chunk for operation in group]])
            after.incarnation, after.run_count = incarnation, total
            self.repository.transact(
                [writes.session_update(before, after, sent, total - before.run_count, if_match, lease_token=token)]
            )
        except Exception:
            self._abandon(session_id, token, incarnation)
            raise
        return new_run_ids

    def _abandon(self, session_id: str, token: str, incarnation: str) -> None:
        """After a failed large update: unless it was published after all (a timeout can hide
        that), remove what it wrote and release the lease, so that a retry can start at once.
        Best effort: should this fail too, the runs stay invisible (no session item names their
        incarnation) and the lease lapses after large_updates.LEASE_SECONDS."""
        # Any failure here is swallowed on purpose: the caller re-raises the write's own error.
        try:
            current = self.repository.get_session(session_id)
            if current is not None and current.incarnation == incarnation:
                return
            self.repository.update_session(large_updates.release_lease(session_id, token))
        except Exception:  # noqa: BLE001 - best effort, see above
            return
        try:
            self.repository.purge_incarnation(session_id, incarnation)
        except Exception:  # noqa: BLE001 - best effort, see above
            return
