"""`make smoke URL=... [AUTH=iam|jwt]`: check a deployed Session Store end to end.

`python -m session_store_client.smoke URL [--auth iam|jwt|none] [--token TOKEN]` creates, reads,
lists, pages, patches and deletes sessions under a unique prefix, checks that a bad request gets a
problem+json 4xx, removes what it wrote (also when a step fails), prints a pass/fail table and exits
1 if any step failed. With --auth jwt the token comes from --token or $SESSION_STORE_TOKEN.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

import httpx

from session_store_client.client import SessionStoreClient
from session_store_client.errors import SessionNotFound, SessionStoreError

TOKEN_VARIABLE = "SESSION_STORE_TOKEN"
PAGE_SIZE = 2
SESSIONS = 3  # more than one page of PAGE_SIZE


@dataclass
class Step:
    name: str
    passed: bool
    detail: str


class Smoke:
    def __init__(self, client: SessionStoreClient, user_id: str):
        self.client = client
        self.prefix = f"smoke-{uuid.uuid4().hex[:12]}"
        # In JWT mode the API scopes every request to the token's subject, so sessions name it.
        self.user_id = user_id or self.prefix
        self.ids = [f"{self.prefix}-{index}" for index in range(SESSIONS)]
        self.steps: list[Step] = []

    def step(self, name: str, check: Callable[[], str]) -> bool:
        try:
            detail = check()
            self.steps.append(Step(name, True, detail))
            return True
        except Exception as error:  # noqa: BLE001 - every failure is a row of the table
            self.steps.append(Step(name, False, f"{type(error).__name__}: {error}"[:160]))
            return False

    def run(self) -> bool:
        try:
            self.step("create sessions", self._create)
            self.step("read a session with its run", self._read)
            self.step("list the user's sessions", self._list)
            self.step(f"page through them ({PAGE_SIZE} a page)", self._page)
            self.step("patch a session (merge patch)", self._patch)
            self.step("bad request -> problem+json 4xx", self._bad_request)
            self.step("delete a session", self._delete)
        finally:
            self.step("clean up", self._clean_up)
        return all(step.passed for step in self.steps)

    def _create(self) -> str:
        for session_id in self.ids:
            self.client.put_session(
                session_id,
                {
                    "session_type": "agent",
                    "agent_id": f"{self.prefix}-agent",
                    "user_id": self.user_id,
                    "session_data": {"session_name": session_id},
                    "runs": [{"run_id": "run-1", "user_id": self.user_id, "content": "smoke test"}],
                },
            )
        return f"{len(self.ids)} sessions under {self.prefix}"

    def _read(self) -> str:
        session = self.client.get_session(self.ids[0])
        assert session.session_id == self.ids[0], session.session_id
        assert [run.run_id for run in session.runs or []] == ["run-1"], session.runs
        return f"version {session.version}, {session.run_count} run"

    def _list(self) -> str:
        page = self.client.list_sessions(user_id=self.user_id, agent_id=f"{self.prefix}-agent", limit=100)
        found = {summary.session_id for summary in page.sessions}
        assert set(self.ids) <= found, f"missing {sorted(set(self.ids) - found)}"
        return f"{len(found)} listed"

    def _page(self) -> str:
        seen: list[str] = []
        pages, cursor = 0, None
        while True:
            page = self.client.list_sessions(
                user_id=self.user_id, agent_id=f"{self.prefix}-agent", limit=PAGE_SIZE, cursor=cursor
            )
            pages += 1
            seen.extend(summary.session_id for summary in page.sessions)
            cursor = page.next_cursor
            if cursor is None or pages > SESSIONS:
                break
        assert sorted(seen) == sorted(self.ids), seen
        return f"{len(seen)} sessions in {pages} pages"

    def _patch(self) -> str:
        self.client.patch_session(self.ids[0], {"session_data": {"session_name": "renamed by smoke"}})
        name = (self.client.get_session(self.ids[0]).session_data or {}).get("session_name")
        assert name == "renamed by smoke", name
        return "session_name changed"

    def _bad_request(self) -> str:
        # A raw request, so the client's own validation cannot stop it first; signed like the rest.
        transport = self.client._transport
        url = f"{transport.base_url}/sessions/{self.ids[0]}"
        headers = {"Content-Type": "application/json"}
        payload = b"{not json"
        if transport.signer is not None:
            headers = transport.signer.sign("PUT", url, headers, payload)
        response = httpx.put(url, content=payload, headers=headers, timeout=30)
        problem = response.json()
        content_type = response.headers.get("Content-Type", "")
        assert 400 <= response.status_code < 500, response.status_code
        assert content_type.startswith("application/problem+json"), content_type
        assert {"type", "title", "status", "detail"} <= set(problem), problem
        return f"{response.status_code} {problem['type']}"

    def _delete(self) -> str:
        self.client.delete_session(self.ids[-1])
        try:
            self.client.get_session(self.ids[-1])
        except SessionNotFound:
            return "404 afterwards"
        raise AssertionError("the session is still readable")

    def _clean_up(self) -> str:
        removed = 0
        for session_id in self.ids:
            try:
                self.client.delete_session(session_id)
                removed += 1
            except SessionNotFound:
                pass
        return f"{removed} left to remove, all gone"


def print_table(steps: list[Step], out: TextIO = sys.stdout) -> None:
    width = max(len(step.name) for step in steps)
    for step in steps:
        print(f"{'PASS' if step.passed else 'FAIL'}  {step.name.ljust(width)}  {step.detail}", file=out)
    failed = sum(not step.passed for step in steps)
    print(f"{len(steps) - failed} passed, {failed} failed", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the API's base URL (the stack's ApiUrl output)")
    parser.add_argument("--auth", choices=("iam", "jwt", "none"), default="iam")
    parser.add_argument("--token", help=f"auth=jwt: the token (default: ${TOKEN_VARIABLE})")
    parser.add_argument("--user-id", default="", help="the user the sessions belong to (jwt: the token's sub)")
    args = parser.parse_args(argv)
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if args.auth == "jwt" and not token:
        parser.error(f"--auth jwt needs --token or ${TOKEN_VARIABLE}")
    try:
        client = SessionStoreClient(
            args.url, auth=None if args.auth == "none" else args.auth, token=token if args.auth == "jwt" else None
        )
    except (ValueError, SessionStoreError) as error:
        print(f"cannot create the client: {error}", file=sys.stderr)
        return 2
    smoke = Smoke(client, args.user_id or (_subject(token) if args.auth == "jwt" else ""))
    passed = smoke.run()
    print_table(smoke.steps)
    return 0 if passed else 1


def _subject(token: str | None) -> str:
    """The `sub` of a JWT (read, not verified: the API verifies it)."""
    import base64
    import json

    try:
        payload = (token or "").split(".")[1]
        return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])
    except (IndexError, ValueError, KeyError):
        return ""


if __name__ == "__main__":
    sys.exit(main())
