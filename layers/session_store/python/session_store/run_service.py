"""Operations on single runs of a session, and its run listing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from session_store import errors, names, run_pages, writes
from session_store.auth import ANONYMOUS, Actor
from session_store.items import StoredSession
from session_store.models import COMPONENT_FIELDS, ID_FIELDS, Preconditions, RunListQuery, SessionType, SessionWrite
from session_store.retention import expiry_after_write
from session_store.service_base import validate_identifier
from session_store.upsert import UpsertResult, Upserts


class RunOperations(Upserts):
    def put_run(
        self,
        session_id: str,
        run_id: str,
        run: dict[str, Any],
        session_type: SessionType | None,
        preconditions: Preconditions,
        user_id: str | None = None,
        *,
        actor: Actor = ANONYMOUS,
    ) -> UpsertResult:
        """Create or replace one run; a missing session is created from the run's ids."""
        actor.run_owner(run)
        if run.get("run_id", run_id) != run_id:
            raise errors.ValidationFailed(
                "run_id in the body differs from the path's",
                errors=[{"field": "run_id", "location": "body", "message": "must equal the path's run_id"}],
            )
        run = {**run, "run_id": run_id} if "run_id" not in run else run
        ids = {name: value for name in ID_FIELDS if isinstance(value := run.get(name), str) and value}
        for name, value in ids.items():
            validate_identifier(value, f"run.{name}")
        derived_type = next(
            (kind for kind, name in COMPONENT_FIELDS.items() if kind != "agent" and ids.get(name)), "agent"
        )
        defaults = {**ids, "session_type": session_type or derived_type}
        write = SessionWrite(runs=[run], user_id=ids.get("user_id"))
        return self.upsert_session(session_id, write, preconditions, defaults, user_id, runs_field="body", actor=actor)

    def get_run(
        self, session_id: str, run_id: str, user_id: str | None = None, *, actor: Actor = ANONYMOUS
    ) -> dict[str, Any]:
        session = self.live_session(session_id, actor.reads_as(user_id))
        return self._read_run(session, run_id)

    def get_run_by_id(self, run_id: str, user_id: str | None = None, *, actor: Actor = ANONYMOUS) -> dict[str, Any]:
        """The run of this id in the session that holds it, found through the run-id index, with
        `session_id` set to that session (a run's own session_id is null or that id already: the
        store refuses runs naming another). The session is read consistently and checked exactly as
        GET /sessions/{session_id}/runs/{run_id} checks it; another user's run is a 404, like a
        missing one. Run ids are the client's, so several live sessions may hold one: the most
        recently updated wins (then the smallest session id), as SqliteDb's runs table, keyed by
        run_id, holds the last write of a run id."""
        validate_identifier(run_id, "run_id")
        user_id = actor.reads_as(user_id)
        holders = self.repository.run_holders(run_id, names.MAX_RUN_ID_HOLDERS + 1)
        if len(holders) > names.MAX_RUN_ID_HOLDERS:
            raise errors.ValidationFailed(
                f"more than {names.MAX_RUN_ID_HOLDERS} sessions hold a run {run_id!r}: read it by its session "
                "(GET /sessions/{session_id}/runs/{run_id})",
                errors=[{"field": "run_id", "location": "path", "message": "held by too many sessions to look up"}],
            )
        sessions = self.repository.batch_get_sessions([session_id for session_id, _ in holders], consistent=True)
        # A lookup of another incarnation (expired, deleted, replaced by a large update) is not the session's.
        candidates = [
            session
            for session_id, incarnation in dict.fromkeys(holders)
            if (session := sessions.get(session_id)) is not None
            and session.incarnation == incarnation
            and self.visible(session, user_id)
        ]
        for session in sorted(candidates, key=lambda held: (-held.updated_at, held.session_id)):
            try:
                run = self._read_run(session, run_id)
            except errors.NotFound:
                continue  # deleted since the index named it
            return {**run, "session_id": session.session_id}
        raise errors.NotFound(f"run {run_id!r} does not exist")

    def _read_run(self, session: StoredSession, run_id: str) -> dict[str, Any]:
        """The run `run_id` of a live session, through its lookup (strongly consistent), else 404."""
        session_id = session.session_id
        location = self.repository.run_locations(session_id, session.incarnation, [run_id]).get(run_id)
        item = self.repository.get_run_item(session_id, location) if location else None
        if item is None:
            raise errors.NotFound(f"run {run_id!r} does not exist in session {session_id!r}")
        return self.repository.decode_run(item)

    def delete_run(
        self,
        session_id: str,
        run_id: str,
        user_id: str | None = None,
        if_match: int | None = None,
        *,
        actor: Actor = ANONYMOUS,
    ) -> None:
        user_id = actor.reads_as(user_id)

        def attempt() -> None:
            session = self.live_session(session_id, user_id, if_match=if_match)
            location = self.repository.run_locations(session_id, session.incarnation, [run_id]).get(run_id)
            if location is None:
                raise errors.NotFound(f"run {run_id!r} does not exist in session {session_id!r}")
            now = self.now()
            after = replace(session, updated_at=now, version=session.version + 1)
            after.expires_at = expiry_after_write(session.expiry_policy, session.expires_at, now, self.retention_days)
            after = writes.with_index_time(session, after, now)
            self.repository.transact(writes.run_deletion(session, after, run_id, location, if_match))

        self._with_retries(attempt)

    def list_runs(
        self, session_id: str, query: RunListQuery, user_id: str | None = None, *, actor: Actor = ANONYMOUS
    ) -> tuple[dict[str, Any], int]:
        """A page of the session's runs, and the session's version (the page's ETag)."""
        session = self.live_session(session_id, actor.reads_as(user_id))
        page = run_pages.list_runs(self.repository, session_id, session.incarnation, query, self.cursor_key)
        return page, session.version
