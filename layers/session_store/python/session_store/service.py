"""The session store's logic, the one object handlers call: sessions (here), their runs
(run_service.py), upserts (upsert.py) and what they all stand on (service_base.py). The repository
is the only way out to DynamoDB; the service builds no item and no condition (writes.py does).
"""

from __future__ import annotations

from typing import Any

from session_store import errors, listing, writes
from session_store.auth import ANONYMOUS, Actor
from session_store.items import StoredSession
from session_store.models import Preconditions, SessionListQuery, SessionPatch, SessionWrite
from session_store.results import NotModified
from session_store.run_service import RunOperations
from session_store.service_base import MAX_READ_ATTEMPTS, MAX_WRITE_ATTEMPTS
from session_store.upsert import UpsertResult, refuse_foreign_owner

__all__ = ["MAX_WRITE_ATTEMPTS", "SessionService", "UpsertResult", "merge_patch"]


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


class SessionService(RunOperations):
    def get_session(
        self,
        session_id: str,
        user_id: str | None = None,
        session_type: str | None = None,
        include_runs: bool = True,
        runs_limit: int | None = None,
        cached_versions: frozenset[int] | str | None = None,
        *,
        actor: Actor = ANONYMOUS,
    ) -> dict[str, Any] | NotModified:
        """The session with its runs; `NotModified` when `cached_versions` (the caller's
        If-None-Match: versions, or "*" for any) names its version, having read the session item only."""
        for attempt in range(MAX_READ_ATTEMPTS):
            session = self.live_session(session_id, actor.reads_as(user_id), session_type)
            if cached_versions is not None and (cached_versions == "*" or session.version in cached_versions):
                return NotModified(session.version)
            body = session.public()
            if not include_runs:
                return body
            if runs_limit is not None:
                # Read only the newest N (newest first), then put them back in chronological order.
                found, _ = self.repository.query_runs(session_id, session.incarnation, runs_limit, False, None)
                found.reverse()
            else:
                found, _ = self.repository.query_runs(session_id, session.incarnation, None, True, None)
            # Fewer runs than the session counts: a large update may have published a new
            # incarnation since the session item was read, and the cascade be removing the runs
            # read under the old one. Read again, rather than return part of a version.
            if (
                len(found) >= min(session.run_count, runs_limit or session.run_count)
                or attempt == MAX_READ_ATTEMPTS - 1
            ):
                body["runs"] = [self.repository.decode_run(item) for item in found]
                return body
        raise AssertionError("unreachable: the last attempt returns")

    def patch_session(
        self,
        session_id: str,
        patch: SessionPatch,
        preconditions: Preconditions,
        user_id: str | None = None,
        *,
        actor: Actor = ANONYMOUS,
    ) -> StoredSession:
        """RFC 7396 merge of the object fields, as an upsert of the merged values. `user_id` names
        the owner the request expects: another owner's session is a 403, as on every write."""
        user_id = actor.writes_as(user_id)

        def attempt() -> StoredSession:
            current = self.live_session(session_id)
            refuse_foreign_owner(session_id, current.user_id, [("user_id", "query", user_id)])
            merged: dict[str, Any] = {}
            for name in patch.model_fields_set:
                if name == "expires_at":
                    merged[name] = patch.expires_at
                else:
                    merged[name] = merge_patch(current.record.get(name), getattr(patch, name))
            write = SessionWrite(**merged)
            if preconditions.if_match is not None:
                return self._upsert_once(session_id, write, preconditions, {}, None, user_id).session
            try:
                # The merge was computed from `current`: write it only onto that version.
                return self._upsert_once(
                    session_id, write, Preconditions(if_match=current.version), {}, None, user_id
                ).session
            except errors.PreconditionFailed as error:
                raise errors.Conflict("the session changed during the patch") from error

        return self._with_retries(attempt)

    def delete_session(
        self, session_id: str, user_id: str | None = None, if_match: int | None = None, *, actor: Actor = ANONYMOUS
    ) -> None:
        """Delete the session item; the stream cascade removes its runs (see handlers/cascade.py)."""

        def attempt() -> None:
            session = self.live_session(session_id, actor.reads_as(user_id), if_match=if_match)
            self.repository.delete_session(writes.session_delete(session_id, session.incarnation, session.version))

        self._with_retries(attempt)

    def list_sessions(self, query: SessionListQuery, *, actor: Actor = ANONYMOUS) -> dict[str, Any]:
        scoped = query.model_copy(update={"user_id": actor.lists_as(query.user_id)})
        return listing.list_sessions(self.repository, scoped, self.now(), self.cursor_key)
