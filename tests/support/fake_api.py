"""An in-memory stand-in for the Session Store HTTP API (spec section 3), for offline tests.

It lets the client and the agno adapter run whole agent conversations without the local runtime.
It follows the contract's semantics (upsert with runs merged by run_id, ownership, filters,
sorting with ties broken by session id, cursors, If-Match, problem details, X-Request-Id) and
keeps nothing but Python dicts. The e2e tests run the same scenarios against the real runtime.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from werkzeug.wrappers import Request, Response

from tests.support.http_server import path_segments

from session_store.service import merge_patch

SERVICE_FIELDS = ("version", "expires_at", "run_count")
OBJECT_FIELDS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
STRING_FIELDS = ("agent_id", "team_id", "workflow_id", "user_id")
SESSION_TYPES = ("agent", "team", "workflow")
PROBLEM_BASE = "/problems/"


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, errors: Optional[List[Dict[str, str]]] = None):
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors


def _sort_value(session: Dict[str, Any], sort_by: str) -> int:
    value = session.get(sort_by)
    if value is None and sort_by == "updated_at":
        value = session.get("created_at")
    return value or 0


class FakeSessionStoreApi:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.sessions: Dict[str, Dict[str, Any]] = {}  # session_id -> record without runs
        self.runs: Dict[str, List[Dict[str, Any]]] = {}  # session_id -> runs in first-write order
        self._request_ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        request_id = f"fake-{next(self._request_ids)}"
        try:
            with self._lock:
                status, body, headers = self._route(request, path_segments(environ))
            response = Response(
                b"" if body is None else json.dumps(body).encode(), status=status, content_type="application/json"
            )
            for name, value in headers.items():
                response.headers[name] = value
        except Problem as problem:
            body = {"type": PROBLEM_BASE + problem.title.lower().replace(" ", "-"), "title": problem.title,
                    "status": problem.status, "detail": problem.detail}
            if problem.errors:
                body["errors"] = problem.errors
            response = Response(json.dumps(body), status=problem.status, content_type="application/problem+json")
        response.headers["X-Request-Id"] = request_id
        return response(environ, start_response)

    def _route(self, request: Request, segments: List[str]) -> Tuple[int, Any, Dict[str, str]]:
        method = request.method
        if segments == ["sessions"] and method == "GET":
            return self.list_sessions(request)
        if len(segments) == 2 and segments[0] == "sessions":
            handler = {"PUT": self.put_session, "GET": self.get_session, "PATCH": self.patch_session,
                       "DELETE": self.delete_session}.get(method)
            if handler:
                return handler(request, segments[1])
        if len(segments) == 3 and segments[0] == "sessions" and segments[2] == "runs" and method == "GET":
            return self.list_runs(request, segments[1])
        if len(segments) == 4 and segments[0] == "sessions" and segments[2] == "runs":
            handler = {"PUT": self.put_run, "GET": self.get_run, "DELETE": self.delete_run}.get(method)
            if handler:
                return handler(request, segments[1], segments[3])
        raise Problem(404, "Not Found", f"no route {method} /{'/'.join(segments)}")

    # --- Helpers --------------------------------------------------------------------------------

    @staticmethod
    def _body(request: Request) -> Dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            raise Problem(400, "Bad Request", "the body is not JSON")
        if not isinstance(body, dict):
            raise Problem(422, "Validation Failed", "the body must be a JSON object")
        return body

    def _view(self, session_id: str, runs: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
        view = copy.deepcopy(self.sessions[session_id])
        view["run_count"] = len(self.runs[session_id])
        if runs is not None:
            view["runs"] = copy.deepcopy(runs)
        return view

    def _etag(self, session_id: str) -> Dict[str, str]:
        return {"ETag": f'"{self.sessions[session_id]["version"]}"'}

    def _check_preconditions(self, request: Request, session_id: str) -> None:
        if_match = request.headers.get("If-Match")
        if if_match is not None:
            if session_id not in self.sessions or if_match != self._etag(session_id)["ETag"]:
                raise Problem(412, "Precondition Failed", "the session has another version")
        if request.headers.get("If-None-Match") == "*" and session_id in self.sessions:
            raise Problem(412, "Precondition Failed", "the session exists")

    def _visible(self, session_id: str, user_id: Optional[str] = None, session_type: Optional[str] = None) -> None:
        stored = self.sessions.get(session_id)
        if (
            stored is None
            or (user_id is not None and stored.get("user_id") != user_id)
            or (session_type is not None and stored.get("session_type") != session_type)
        ):
            raise Problem(404, "Not Found", "no such session")

    def _merge_runs(self, session_id: str, runs: List[Any]) -> None:
        stored = self.runs[session_id]
        positions = {run["run_id"]: index for index, run in enumerate(stored)}
        for run in runs:
            if not isinstance(run, dict) or not isinstance(run.get("run_id"), str):
                errors = [{"field": "runs", "message": "each run needs a string run_id"}]
                raise Problem(422, "Validation Failed", "bad run", errors)
            if run["run_id"] in positions:
                stored[positions[run["run_id"]]] = copy.deepcopy(run)
            else:
                positions[run["run_id"]] = len(stored)
                stored.append(copy.deepcopy(run))

    def _write(self, session_id: str, fields: Dict[str, Any], runs: List[Any]) -> bool:
        """Upsert; True when the session was created."""
        now = int(self.clock())
        stored = self.sessions.get(session_id)
        owner = stored.get("user_id") if stored else None
        if owner is not None and fields.get("user_id") not in (None, owner):
            raise Problem(403, "Forbidden", "the session belongs to another user")
        created = stored is None
        if created:
            if fields.get("session_type") not in SESSION_TYPES:
                raise Problem(422, "Validation Failed", "session_type is required",
                              [{"field": "session_type", "message": "required on create"}])
            stored = {"session_id": session_id, "created_at": fields.get("created_at") or now, "version": 0,
                      "expires_at": None}
            self.sessions[session_id] = stored
            self.runs[session_id] = []
        for name, value in fields.items():
            if name in ("session_id", "created_at", "updated_at", "runs") or name in SERVICE_FIELDS:
                continue
            if name == "session_type" and not created:
                continue
            stored[name] = copy.deepcopy(value)
        stored["updated_at"] = now
        stored["version"] += 1
        self._merge_runs(session_id, runs)
        return created

    # --- Sessions -------------------------------------------------------------------------------

    def put_session(self, request: Request, session_id: str):
        body = self._body(request)
        if body.get("session_id", session_id) != session_id:
            raise Problem(422, "Validation Failed", "session_id differs from the path",
                          [{"field": "session_id", "message": "must equal the path's"}])
        self._check_preconditions(request, session_id)
        created = self._write(session_id, body, body.get("runs") or [])
        return (201 if created else 200), self._view(session_id), self._etag(session_id)

    def get_session(self, request: Request, session_id: str):
        args = request.args
        self._visible(session_id, args.get("user_id"), args.get("session_type"))
        runs = self.runs[session_id]
        if args.get("runs_limit"):
            runs = runs[-int(args["runs_limit"]):]
        include_runs = args.get("include_runs", "true") != "false"
        return 200, self._view(session_id, runs if include_runs else None), self._etag(session_id)

    def patch_session(self, request: Request, session_id: str):
        self._visible(session_id)
        self._check_preconditions(request, session_id)
        stored = self.sessions[session_id]
        for name, value in self._body(request).items():
            if name in OBJECT_FIELDS:
                stored[name] = copy.deepcopy(merge_patch(stored.get(name), value))  # the service's own RFC 7396
        stored["updated_at"] = int(self.clock())
        stored["version"] += 1
        return 200, self._view(session_id), self._etag(session_id)

    def delete_session(self, request: Request, session_id: str):
        self._visible(session_id, request.args.get("user_id"))
        self._check_preconditions(request, session_id)
        del self.sessions[session_id], self.runs[session_id]
        return 204, None, {}

    def list_sessions(self, request: Request):
        args = request.args
        sort_by = args.get("sort_by", "updated_at")
        descending = args.get("sort_order", "desc") == "desc"
        limit = int(args.get("limit", 20))
        if not 1 <= limit <= 100:
            raise Problem(400, "Bad Request", "limit must be 1..100")
        matches = []
        for session in self.sessions.values():
            component = args.get("component_id")
            name = ((session.get("session_data") or {}).get("session_name") or "").lower()
            value = _sort_value(session, sort_by)
            if (
                (args.get("user_id") is None or session.get("user_id") == args["user_id"])
                and (component is None or component in (session.get(f"{kind}_id") for kind in SESSION_TYPES))
                and all(args.get(key) is None or session.get(key) == args[key]
                        for key in ("agent_id", "team_id", "workflow_id", "session_type"))
                and (args.get("session_name") is None or args["session_name"].lower() in name)
                and (args.get("start_timestamp") is None or value >= int(args["start_timestamp"]))
                and (args.get("end_timestamp") is None or value <= int(args["end_timestamp"]))
            ):
                matches.append(session)
        matches.sort(key=lambda s: (_sort_value(s, sort_by), s["session_id"]), reverse=descending)
        offset = int(args.get("cursor", 0))
        page = matches[offset : offset + limit]
        body: Dict[str, Any] = {
            "sessions": [self._view(s["session_id"]) for s in page],
            "next_cursor": str(offset + limit) if offset + limit < len(matches) else None,
        }
        if args.get("include_total") == "true":
            body["total"] = len(matches)
        return 200, body, {}

    # --- Runs -----------------------------------------------------------------------------------

    def put_run(self, request: Request, session_id: str, run_id: str):
        run = self._body(request)
        if run.setdefault("run_id", run_id) != run_id:
            raise Problem(422, "Validation Failed", "run_id differs from the path",
                          [{"field": "run_id", "message": "must equal the path's"}])
        self._check_preconditions(request, session_id)
        fields: Dict[str, Any] = {} if run.get("user_id") is None else {"user_id": run["user_id"]}
        if session_id not in self.sessions:  # created from the run's ids
            inferred_type = next((kind for kind in SESSION_TYPES if run.get(f"{kind}_id")), None)
            fields["session_type"] = request.args.get("session_type") or inferred_type
            fields.update({f"{kind}_id": run.get(f"{kind}_id") for kind in SESSION_TYPES})
        known = any(r["run_id"] == run_id for r in self.runs.get(session_id, []))
        self._write(session_id, fields, [run])
        return (200 if known else 201), run, self._etag(session_id)

    def _run_position(self, session_id: str, run_id: str) -> int:
        self._visible(session_id)
        for index, run in enumerate(self.runs[session_id]):
            if run["run_id"] == run_id:
                return index
        raise Problem(404, "Not Found", "no such run")

    def get_run(self, request: Request, session_id: str, run_id: str):
        return 200, self.runs[session_id][self._run_position(session_id, run_id)], self._etag(session_id)

    def delete_run(self, request: Request, session_id: str, run_id: str):
        del self.runs[session_id][self._run_position(session_id, run_id)]
        self.sessions[session_id]["version"] += 1
        return 204, None, {}

    def list_runs(self, request: Request, session_id: str):
        self._visible(session_id)
        runs = self.runs[session_id]
        if request.args.get("order", "asc") == "desc":
            runs = runs[::-1]
        limit = int(request.args.get("limit", 20))
        offset = int(request.args.get("cursor", 0))
        return 200, {"runs": runs[offset : offset + limit],
                     "next_cursor": str(offset + limit) if offset + limit < len(runs) else None}, {}
