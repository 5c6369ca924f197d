"""SessionStoreClient: every route of the Session Store HTTP API, with typed results."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping
from typing import Any, Literal, cast

import httpx

from session_store_client.auth import BearerToken, SigV4Signer, TokenSource
from session_store_client.errors import ResponseTooLarge, RunNotFound, SessionNotFound
from session_store_client.memories import MemoryMethods
from session_store_client.models import ApiModel, Run, RunPage, RunWithSession, Session, SessionPage
from session_store_client.retry import RetryPolicy
from session_store_client.transport import MAX_PAGE_SIZE, Transport, every_item, parse, path

MERGE_PATCH_CONTENT_TYPE = "application/merge-patch+json"
NDJSON_CONTENT_TYPE = "application/x-ndjson"

Record = Mapping[str, Any] | Session
RunRecord = Mapping[str, Any] | Run


def _as_dict(value: Mapping[str, Any] | ApiModel) -> dict[str, Any]:
    return value.to_dict() if isinstance(value, ApiModel) else dict(value)


def _write_headers(
    if_match: str | None, idempotency_key: str | None, create_only: bool = False
) -> dict[str, str | None]:
    return {
        "If-Match": if_match,
        "If-None-Match": "*" if create_only else None,
        "Idempotency-Key": idempotency_key,
    }


class SessionStoreClient(MemoryMethods):
    """A client of the Session Store API.

    ``auth="iam"`` signs every request with SigV4 (service ``execute-api``) using botocore's
    default credential chain; ``auth="jwt"`` sends ``token`` (a JWT, or a callable returning the
    current one) as a bearer token (a stack deployed with auth=jwt, or ``make local AUTH=jwt``);
    ``auth=None`` sends unsigned requests (the local runtime).
    ``http`` is the ``httpx.Client`` to send through (proxies, transports); one is made if absent.
    Requests answered 429 or 503, and requests that got no answer, are retried with exponential
    backoff and full jitter, honouring ``Retry-After``; other errors raise a
    :class:`~session_store_client.errors.SessionStoreError` subclass at once.
    """

    def __init__(
        self,
        base_url: str,
        auth: Literal["iam", "jwt"] | None = None,
        region: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        retry_policy: RetryPolicy | None = None,
        token: TokenSource | None = None,
        http: httpx.Client | None = None,
    ):
        if auth not in (None, "iam", "jwt"):
            raise ValueError(f"auth must be 'iam', 'jwt' or None, not {auth!r}")
        if token is not None and auth != "jwt":
            raise ValueError("token=... is for auth='jwt'")
        signer: SigV4Signer | BearerToken | None = None
        if auth == "iam":
            signer = SigV4Signer.from_default_chain(base_url, region)
        elif auth == "jwt":
            signer = BearerToken(token)  # type: ignore[arg-type]  # refused there when None
        self._transport = Transport(
            base_url,
            signer=signer,
            retry_policy=retry_policy or RetryPolicy(max_retries=max_retries),
            http=http or httpx.Client(timeout=timeout),
        )

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> SessionStoreClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- Sessions -------------------------------------------------------------------------------

    def put_session(
        self,
        session_id: str,
        record: Record,
        *,
        if_match: str | None = None,
        create_only: bool = False,
        idempotency_key: str | None = None,
    ) -> Session:
        """Create or update a session (PUT /sessions/{id}); the answer carries no runs.

        Fields absent from ``record`` keep their stored values; ``runs`` are merged by run_id, so
        sending only the runs that changed is enough. ``response_meta.created`` tells a creation.
        """
        response = self._transport.request(
            "PUT",
            path("sessions", session_id),
            body=_as_dict(record),
            headers=_write_headers(if_match, idempotency_key, create_only),
        )
        return parse(Session, response)

    def get_session(
        self,
        session_id: str,
        *,
        user_id: str | None = None,
        session_type: str | None = None,
        runs_limit: int | None = None,
        include_runs: bool = True,
    ) -> Session:
        """Read a session with its runs (only the newest ``runs_limit``, in chronological order).

        A session too large for one response is read again without runs, and its runs fetched
        page by page: callers always get the whole answer.
        """
        session = self._read_session(session_id, user_id, session_type, runs_limit, include_runs, None)
        assert session is not None  # only a conditional read can answer "not modified"
        return session

    def get_session_if_changed(
        self,
        session_id: str,
        etag: str,
        *,
        user_id: str | None = None,
        session_type: str | None = None,
    ) -> Session | None:
        """The session with all its runs, or None when it is still at ``etag`` (the server then
        read only the session item: a 304). For a process that keeps a copy of the session."""
        return self._read_session(session_id, user_id, session_type, None, True, etag)

    def _read_session(
        self,
        session_id: str,
        user_id: str | None,
        session_type: str | None,
        runs_limit: int | None,
        include_runs: bool,
        if_none_match: str | None,
    ) -> Session | None:
        query = {"user_id": user_id, "session_type": session_type, "runs_limit": runs_limit}
        try:
            response = self._transport.request(
                "GET",
                path("sessions", session_id),
                query={**query, "include_runs": None if include_runs else False},
                headers={"If-None-Match": if_none_match},
                not_found=SessionNotFound,
            )
            if response.status == 304:
                return None
        except ResponseTooLarge:
            response = self._transport.request(
                "GET", path("sessions", session_id), query={**query, "include_runs": False}, not_found=SessionNotFound
            )
            session = parse(Session, response)
            session.runs = self._newest_runs(session_id, runs_limit)
            return session
        return parse(Session, response)

    def _newest_runs(self, session_id: str, limit: int | None) -> list[Run]:
        if limit is None:
            return list(self.iter_runs(session_id))
        newest_first = self.iter_runs(session_id, order="desc", page_size=min(limit, MAX_PAGE_SIZE))
        return list(itertools.islice(newest_first, limit))[::-1]

    def patch_session(
        self,
        session_id: str,
        patch: Mapping[str, Any],
        *,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> Session:
        """Apply a JSON Merge Patch (RFC 7396): a null removes a key, objects merge recursively."""
        response = self._transport.request(
            "PATCH",
            path("sessions", session_id),
            body=dict(patch),
            headers=_write_headers(if_match, idempotency_key),
            content_type=MERGE_PATCH_CONTENT_TYPE,
            not_found=SessionNotFound,
        )
        return parse(Session, response)

    def rename_session(self, session_id: str, session_name: str, *, if_match: str | None = None) -> Session:
        return self.patch_session(session_id, {"session_data": {"session_name": session_name}}, if_match=if_match)

    def delete_session(
        self,
        session_id: str,
        *,
        user_id: str | None = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self._transport.request(
            "DELETE",
            path("sessions", session_id),
            query={"user_id": user_id},
            headers=_write_headers(if_match, idempotency_key),
            not_found=SessionNotFound,
        )

    def list_sessions(
        self,
        *,
        user_id: str | None = None,
        component_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        workflow_id: str | None = None,
        session_type: str | None = None,
        session_name: str | None = None,
        start_timestamp: int | None = None,
        end_timestamp: int | None = None,
        sort_by: Literal["updated_at", "created_at"] | None = None,
        sort_order: Literal["desc", "asc"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include_total: bool = False,
        include_runs: bool = False,
    ) -> SessionPage:
        """One page of sessions (without runs), newest first unless asked otherwise.

        ``start_timestamp``/``end_timestamp`` are inclusive bounds on the ``sort_by`` field.
        """
        query = {
            "user_id": user_id,
            "component_id": component_id,
            "agent_id": agent_id,
            "team_id": team_id,
            "workflow_id": workflow_id,
            "session_type": session_type,
            "session_name": session_name,
            "start_timestamp": start_timestamp,
            "end_timestamp": end_timestamp,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "limit": limit,
            "cursor": cursor,
            "include_total": True if include_total else None,
            # Each session with its runs when it has at most 20 (else without "runs": read it alone).
            "include_runs": True if include_runs else None,
        }
        return parse(SessionPage, self._transport.request("GET", path("sessions"), query=query))

    def iter_sessions(self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[Session]:
        """Every session matching ``filters`` (the keyword arguments of ``list_sessions``), page by page."""
        return every_item(self.list_sessions, "sessions", page_size, **filters)

    # --- Runs -----------------------------------------------------------------------------------

    def put_run(
        self,
        session_id: str,
        run: RunRecord,
        *,
        session_type: str | None = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> Run:
        """Create or replace one run (creating the session from the run's ids if it is missing).

        ``response_meta.etag`` is the session's new version.
        """
        body = _as_dict(run)
        run_id = body.get("run_id")
        if not isinstance(run_id, str):
            raise ValueError("a run needs a string run_id")
        response = self._transport.request(
            "PUT",
            path("sessions", session_id, "runs", run_id),
            query={"session_type": session_type},
            body=body,
            headers=_write_headers(if_match, idempotency_key),
        )
        return parse(Run, response)

    def get_run(self, session_id: str, run_id: str) -> Run:
        response = self._transport.request("GET", path("sessions", session_id, "runs", run_id), not_found=RunNotFound)
        return parse(Run, response)

    def get_run_by_id(self, run_id: str, *, user_id: str | None = None) -> RunWithSession:
        """The run of this id in whichever session holds it (``session_id`` names it): the most
        recently updated one when several do. Found through an eventually consistent index: a run
        written a moment ago may raise ``RunNotFound`` for a moment; another user's run raises it too."""
        response = self._transport.request(
            "GET", path("runs", run_id), query={"user_id": user_id}, not_found=RunNotFound
        )
        return parse(RunWithSession, response)

    def delete_run(
        self,
        session_id: str,
        run_id: str,
        *,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self._transport.request(
            "DELETE",
            path("sessions", session_id, "runs", run_id),
            headers=_write_headers(if_match, idempotency_key),
            not_found=RunNotFound,
        )

    def list_runs(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> RunPage:
        """One page of a session's runs, in first-write order (``order="desc"``: newest first)."""
        response = self._transport.request(
            "GET",
            path("sessions", session_id, "runs"),
            query={"limit": limit, "cursor": cursor, "order": order},
            not_found=SessionNotFound,
        )
        return parse(RunPage, response)

    def iter_runs(
        self, session_id: str, *, order: Literal["asc", "desc"] = "asc", page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[Run]:
        return every_item(self.list_runs, "runs", page_size, session_id=session_id, order=order)

    # --- a user's data ---------------------------------------------------------------------------
    def export_user(self, user_id: str, target: str | os.PathLike[str]) -> int:
        """Write all of a user's data to ``target`` as JSON Lines (GET /users/{id}/export, one
        record per line with its ``kind``), following the 303 to a staged file when the export
        is too large for a response. Returns the number of lines written."""
        response = self._transport.fetch(path("users", user_id, "export"), NDJSON_CONTENT_TYPE)
        if response.status_code == 303:
            # A presigned S3 URL: it carries its own authorization, so it is fetched unsigned.
            response = self._transport.http.get(response.headers["Location"]).raise_for_status()
        content = response.content
        with open(target, "wb") as sink:
            sink.write(content)
        return sum(1 for line in content.splitlines() if line.strip())

    def erase_user(self, user_id: str) -> dict[str, Any]:
        """Start erasing all of a user's data (DELETE /users/{id}); returns ``erasure_id`` and ``status``.
        Idempotent: while an erasure runs, the same erasure is returned."""
        return cast(dict[str, Any], self._transport.request("DELETE", path("users", user_id)).body)

    def get_erasure(self, user_id: str, erasure_id: str) -> dict[str, Any]:
        """An erasure's receipt: ``status`` (running, done, failed), ``counts`` per item kind, times."""
        return cast(dict[str, Any], self._transport.request("GET", path("users", user_id, "erasures", erasure_id)).body)

    def openapi(self) -> dict[str, Any]:
        """The API's OpenAPI 3 document."""
        return cast(dict[str, Any], self._transport.request("GET", path("openapi.json")).body)
