"""SessionStoreDb: an agno BaseDb that keeps sessions and runs in the Session Store.

Reads and writes mirror agno's InMemoryDb (the same rows, filters, order and totals); the
differences the HTTP API imposes are listed in session_store_client/README.md.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Iterable
from typing import Any, Literal

from agno.db.base import BaseDb, SessionType
from agno.db.in_memory.utils import apply_sorting
from agno.db.utils import deserialize_run, deserialize_session, filter_context_runs, get_run_type, validate_pagination
from agno.session import Session
from agno.utils.log import log_debug

from session_store_client._json import batches_under
from session_store_client.agno.fallback import SchemaVersions, delegate_to_fallback, hide_tables_without_fallback
from session_store_client.agno.known_runs import KnownRuns, run_digest
from session_store_client.agno.memories import MemoryMethods
from session_store_client.agno.paging import read_window
from session_store_client.agno.records import agno_row, api_record, enum_value, run_to_dict
from session_store_client.agno.session_copies import SessionCopies
from session_store_client.auth import TokenSource
from session_store_client.client import SessionStoreClient
from session_store_client.errors import Forbidden, NotFound, PreconditionFailed, ResponseTooLarge
from session_store_client.models import Session as StoredSession
from session_store_client.models import SessionPage

# Runs per session upsert are grouped so each request stays under the API's 6 MB body limit,
# with room for the session's own fields.
RUN_BYTES_PER_REQUEST = 5 * 1024 * 1024
# A rename is read-then-conditional-write; a busy session may move on between the two.
RENAME_ATTEMPTS = 3
SERVER_SORT_FIELDS = (None, "updated_at", "created_at")

Row = dict[str, Any]


def db_id_for(base_url: str) -> str:
    """The same id in every process that talks to the same store: AgentOS replicas agree on it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/")))


@delegate_to_fallback(BaseDb)
class SessionStoreDb(MemoryMethods, SchemaVersions, BaseDb):
    """agno storage backed by the Session Store API: ``Agent(db=SessionStoreDb(base_url=...))``.

    Give either ``base_url`` (with ``auth="iam"`` to sign requests, and optionally ``region``; or
    ``auth="jwt"`` with ``token``, a JWT or a callable returning the current one) or a ready ``client``.
    Sessions, runs and user memories live in the store; every other agno domain goes to
    ``fallback`` (any agno db) if given (see fallback.py). The db id is derived from the base URL
    unless ``id`` is given.
    """

    def __init__(
        self,
        base_url: str | None = None,
        auth: Literal["iam", "jwt"] | None = None,
        region: str | None = None,
        client: SessionStoreClient | None = None,
        id: str | None = None,
        token: TokenSource | None = None,
        fallback: BaseDb | None = None,
    ):
        if client is None:
            if base_url is None:
                raise ValueError("SessionStoreDb needs base_url=... or client=...")
            client = SessionStoreClient(base_url, auth=auth, region=region, token=token)
        super().__init__(id=id or db_id_for(client.base_url))
        self.client = client
        self.fallback = fallback
        hide_tables_without_fallback(self)
        self._known_runs = KnownRuns()
        self._copies = SessionCopies()

    def close(self) -> None:
        self.client.close()
        if self.fallback is not None:
            self.fallback.close()

    def table_exists(self, table_name: str) -> bool:
        # Sessions, runs and memories are this db's own "tables"; agno's OS probes before using one.
        if table_name in (self.session_table_name, self.runs_table_name, self.memory_table_name):
            return True
        return self.fallback.table_exists(table_name) if self.fallback is not None else False

    # --- Sessions -------------------------------------------------------------------------------

    def get_session(
        self,
        session_id: str,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        deserialize: bool | None = True,
        runs_limit: int | None = None,
    ) -> Session | Row | None:
        """The session, or None when missing, expired or another user's (of another type, it comes
        back as the asked type's class, as SqliteDb does).

        With ``runs_limit=N`` only the newest N context runs are attached (member runs and
        skipped statuses dropped first, as agno's history does); the server reads only those.
        Without it, a session this process holds a current copy of costs the server one small
        read (see session_copies.py).
        """
        # As SqliteDb: session_type chooses the session class, it does not filter.
        if runs_limit is None:
            whole = self._read_whole(session_id, user_id, None)
            if whole is None:
                return None
            stored, runs = whole
            return self._deliver(agno_row(stored, runs or None), session_type, deserialize)
        try:
            stored = self.client.get_session(
                session_id, user_id=user_id, runs_limit=runs_limit if runs_limit > 0 else None
            )
        except NotFound:
            return None
        runs = [run.to_dict() for run in stored.runs or []]
        return self._deliver(
            agno_row(stored, self._context_window(stored, runs, runs_limit)), session_type, deserialize
        )

    def _read_whole(
        self, session_id: str, user_id: str | None, session_type: str | None
    ) -> tuple[StoredSession, list[Row]] | None:
        """The session and all its runs: from this process's copy when the server says it is current."""
        copy = self._copies.get(session_id)
        try:
            if copy is not None:
                fresh = self.client.get_session_if_changed(
                    session_id, copy.etag, user_id=user_id, session_type=session_type
                )
                if fresh is None:
                    return copy.session, copy.run_dicts()
            else:
                fresh = self.client.get_session(session_id, user_id=user_id, session_type=session_type)
        except NotFound:
            self._copies.forget(session_id)
            return None
        kept = self._copies.keep(fresh)
        return kept.session, kept.run_dicts()

    def _context_window(self, stored: StoredSession, runs: list[Row], runs_limit: int) -> list[Row]:
        window = filter_context_runs(runs)
        if runs_limit <= 0:
            # agno slices [-0:], which keeps every run; the session was read whole for it.
            return window
        if len(window) < runs_limit and len(runs) < (stored.run_count or 0):
            # Some of the newest runs are not context runs: walk back until N are found.
            newest_first = (run.to_dict() for run in self.client.iter_runs(stored.session_id, order="desc"))
            context_runs = (run for run in newest_first if filter_context_runs([run]))
            window = list(itertools.islice(context_runs, runs_limit))[::-1]
        return window[-runs_limit:]

    def get_sessions(
        self,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        component_id: str | None = None,
        session_name: str | None = None,
        start_timestamp: int | None = None,
        end_timestamp: int | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        deserialize: bool | None = True,
        include_runs: bool = True,
    ) -> list[Session] | tuple[list[Row], int]:
        """Sessions matching every filter; ``(rows, total)`` when ``deserialize=False``.

        As in agno, the timestamps bound ``created_at``. The server sorts and pages whenever it
        can (sort by updated_at or created_at, and timestamps only with created_at order); other
        combinations read every match and sort here. With ``include_runs`` the list carries the runs
        of sessions that have few (one request per page); a session with many costs a read of its own.
        """
        validate_pagination(limit, page)
        filters: dict[str, Any] = {
            "user_id": user_id,
            "component_id": component_id,
            "session_type": enum_value(session_type),
            "session_name": session_name,
            "start_timestamp": start_timestamp,
            "end_timestamp": end_timestamp,
        }
        offset = (page - 1) * limit if page is not None and limit is not None else 0
        bounded = start_timestamp is not None or end_timestamp is not None
        if sort_by in SERVER_SORT_FIELDS and not (bounded and sort_by == "updated_at"):
            # As in agno's adapters, any order but "asc" is descending.
            server_order = None if sort_order is None else ("asc" if sort_order == "asc" else "desc")
            arguments = dict(filters, sort_by="created_at" if bounded else sort_by, sort_order=server_order)
            list_page = functools.partial(self._list_sessions, arguments, include_runs)
            listed, total = read_window(list_page, "sessions", offset, limit, want_total=not deserialize)
            listed_rows = [session.to_dict() for session in listed]
        else:
            every_match = self.client.iter_sessions(
                **filters, sort_by="created_at" if bounded else None, include_runs=include_runs
            )
            listed_rows = apply_sorting([session.to_dict() for session in every_match], sort_by, sort_order)
            total = len(listed_rows)
            listed_rows = listed_rows[offset : offset + limit] if limit is not None else listed_rows

        rows = [agno_row(row, self._listed_runs(row) if include_runs else None) for row in listed_rows]
        if not deserialize:
            for row in rows:
                self._remember_runs(row["session_id"], row["runs"] or [])
            return rows, total or 0
        return [self._session_of(row, session_type) for row in rows]

    def _list_sessions(self, arguments: dict[str, Any], include_runs: bool, **page: Any) -> SessionPage:
        try:
            return self.client.list_sessions(**arguments, **page, include_runs=include_runs)
        except ResponseTooLarge:  # runs too big for one response: list without, read each alone
            return self.client.list_sessions(**arguments, **page)

    def _listed_runs(self, row: Row) -> list[Row] | None:
        """A listed session's runs: from the list when the server attached them (sessions with few
        runs; the AgentOS sessions page is then one request), else read on their own."""
        if "runs" in row:
            runs = row["runs"] or []
        else:
            try:
                runs = self.client.get_session(row["session_id"]).runs or []
            except NotFound:  # deleted between the list and this read
                return None
        return [run_to_dict(run) for run in runs] or None

    def rename_session(
        self,
        session_id: str,
        session_type: SessionType | None,
        session_name: str,
        user_id: str | None = None,
        deserialize: bool | None = True,
    ) -> Session | Row | None:
        """Set ``session_data.session_name`` (a merge patch) when the session matches type and user.

        The patch is conditional on the version just read, so the runs returned with the renamed
        session are exactly the stored ones.
        """
        for attempt in range(RENAME_ATTEMPTS):
            try:
                current = self.client.get_session(session_id, user_id=user_id, session_type=enum_value(session_type))
                renamed = self.client.rename_session(session_id, session_name, if_match=current.etag)
            except NotFound:
                return None
            except PreconditionFailed:
                self._copies.forget(session_id)
                if attempt == RENAME_ATTEMPTS - 1:
                    raise
                continue
            self._copies.forget(session_id)
            row = agno_row(renamed, [run.to_dict() for run in current.runs or []] or None)
            return self._deliver(row, session_type, deserialize)
        return None  # unreachable: the last attempt returns or raises

    def upsert_session(self, session: Session, deserialize: bool | None = True) -> Session | Row | None:
        """Write the session's fields and the runs that changed since this process last saw them.

        Returns None, like agno's adapters, when the session belongs to another user.
        """
        record = api_record(session)
        session_id = record["session_id"]
        runs = [run_to_dict(run) for run in session.runs or []]
        # The API identifies runs by run_id; agno always sets one, so a run without is not stored.
        digests = {run["run_id"]: run_digest(run) for run in runs if isinstance(run.get("run_id"), str)}
        changed = [
            run
            for run in runs
            if isinstance(run_id := run.get("run_id"), str)
            and not self._known_runs.is_current(session_id, run_id, digests[run_id])
        ]
        try:
            for batch in batches_under(changed, RUN_BYTES_PER_REQUEST):
                stored = self.client.put_session(session_id, {**record, "runs": batch} if batch else record)
                self._copies.advance(stored, batch)
        except Forbidden:
            log_debug(f"Session {session_id} belongs to another user; not written")
            return None
        self._known_runs.remember(session_id, digests)

        # As agno's adapters do: the stored row, with the caller's own runs attached.
        row = agno_row(stored, None)
        if not deserialize:
            row["runs"] = runs
            return row
        upserted = deserialize_session(None, row)
        upserted.runs = session.runs
        return upserted

    def upsert_sessions(
        self, sessions: list[Session], deserialize: bool | None = True, preserve_updated_at: bool = False
    ) -> list[Session | Row]:
        """Upsert each session in turn. ``updated_at`` is always the server's clock, so
        ``preserve_updated_at`` cannot be honoured."""
        upserted = (self.upsert_session(session, deserialize=deserialize) for session in sessions if session)
        return [result for result in upserted if result is not None]

    def delete_session(self, session_id: str, user_id: str | None = None) -> bool:
        self._known_runs.forget_session(session_id)
        self._copies.forget(session_id)
        try:
            self.client.delete_session(session_id, user_id=user_id)
        except NotFound:
            return False
        return True

    def delete_sessions(self, session_ids: list[str], user_id: str | None = None) -> None:
        for session_id in session_ids:
            self.delete_session(session_id, user_id=user_id)

    # --- Runs -----------------------------------------------------------------------------------
    # The API addresses a run within its session; agno's get_run/delete_run name only the run.
    # Those find the session among the runs this process has read or written (or take
    # session_id=... directly). get_run then asks the store (GET /runs/{run_id}) for a run it
    # cannot place; delete_run treats such a run as missing.

    def upsert_run(
        self,
        run: Any,
        session_id: str,
        user_id: str | None = None,
        run_index: int | None = None,
    ) -> None:
        """Write one run, unless the store already holds exactly this run from this process.

        agno saves the session (carrying the new run) and then the run: the second write is
        skipped. ``run_index`` is not stored: the server keeps runs in first-write order.
        """
        run_dict = run_to_dict(run)
        run_id = run_dict.get("run_id")
        if run_id is None:
            raise ValueError("Run must have a run_id")
        digest = run_digest(run_dict)
        if self._known_runs.is_current(session_id, run_id, digest):
            return
        # No session_type: should the session be missing, the server takes it from the run's ids.
        self._copies.forget(session_id)  # the answer is the run, not the session: read it whole next time
        self.client.put_run(session_id, run_dict)
        self._known_runs.remember(session_id, {run_id: digest})

    def get_run(self, run_id: str, deserialize: bool | None = True, session_id: str | None = None) -> Any | None:
        """The run, from its session when this process knows it (one request, and no wait for the
        store's run-id index, which a run written a moment ago may not have reached yet), else
        found by its id alone (another process or replica wrote it), as SqliteDb finds any run."""
        session_id = session_id or self._known_runs.session_of(run_id)
        try:
            if session_id is not None:
                run = self.client.get_run(session_id, run_id).to_dict()
            else:
                found = self.client.get_run_by_id(run_id)
                session_id, run = found.session_id, found.to_dict()
        except NotFound:
            return None
        self._remember_runs(session_id, [run])
        return deserialize_run(get_run_type(run), run) if deserialize else run

    def get_runs(
        self,
        session_id: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        workflow_id: str | None = None,
        status: Any | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        deserialize: bool | None = True,
    ) -> list[Any] | tuple[list[Row], int]:
        """Runs matching every filter, ordered and paged as InMemoryDb does.

        With ``session_id`` this reads that session's runs; without it, every run of every
        session (of ``user_id`` if given) — an administrative scan whose cost grows with the store.
        """
        validate_pagination(limit, page)
        wanted = {"agent_id": agent_id, "team_id": team_id, "workflow_id": workflow_id, "status": enum_value(status)}
        matches = [
            (position, run)
            for sid in self._sessions_to_scan(session_id, user_id)
            for position, run in enumerate(self._session_runs(sid))
            if all(value is None or run.get(key) == value for key, value in wanted.items())
        ]
        total = len(matches)
        if sort_by is not None:
            rows = apply_sorting([run for _, run in matches], sort_by, sort_order)
        else:
            # InMemoryDb's default order: position within the session, then creation time.
            rows = [run for _, run in sorted(matches, key=lambda match: (match[0], match[1].get("created_at") or 0))]
        if limit is not None:
            start = (page - 1) * limit if page is not None else 0
            rows = rows[start : start + limit]
        if not deserialize:
            return rows, total
        return [deserialize_run(get_run_type(run), run) for run in rows]

    def _sessions_to_scan(self, session_id: str | None, user_id: str | None) -> Iterable[str]:
        if session_id is None:
            return (session.session_id for session in self.client.iter_sessions(user_id=user_id))
        if user_id is not None:
            try:
                self.client.get_session(session_id, user_id=user_id, include_runs=False)
            except NotFound:
                return ()
        return (session_id,)

    def _session_runs(self, session_id: str) -> list[Row]:
        try:
            runs = [run.to_dict() for run in self.client.iter_runs(session_id)]
        except NotFound:
            return []
        self._remember_runs(session_id, runs)
        return runs

    def delete_run(self, run_id: str, session_id: str | None = None) -> bool:
        session_id = session_id or self._known_runs.session_of(run_id)
        if session_id is None:
            log_debug(f"Run {run_id}: no session known for it in this process; pass session_id=")
            return False
        self._known_runs.forget_run(session_id, run_id)
        self._copies.forget(session_id)
        try:
            self.client.delete_run(session_id, run_id)
        except NotFound:
            return False
        return True

    def delete_runs(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            self.delete_run(run_id)

    # --- Helpers --------------------------------------------------------------------------------

    def _deliver(self, row: Row, session_type: SessionType | None, deserialize: bool | None) -> Session | Row:
        """The row or its session object, remembering its runs as the caller now holds them."""
        if not deserialize:
            self._remember_runs(row["session_id"], row["runs"] or [])
            return row
        return self._session_of(row, session_type)

    def _session_of(self, row: Row, session_type: SessionType | None) -> Session:
        """The row's session object, remembering its runs as the caller now holds them."""
        session = deserialize_session(session_type, row)
        # Digests of the run objects' own serialization: that is what the next upsert compares.
        self._remember_runs(row["session_id"], session.runs or [])
        return session

    def _remember_runs(self, session_id: str, runs: Iterable[Any]) -> None:
        run_dicts = map(run_to_dict, runs)
        digests = {run["run_id"]: run_digest(run) for run in run_dicts if isinstance(run.get("run_id"), str)}
        if digests:
            self._known_runs.remember(session_id, digests)
