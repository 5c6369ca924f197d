"""This project, measured through the code the API runs: its handlers, invoked in-process with
API Gateway REST proxy events (tests/support/api.call), on a table made by session_store.table.

Population goes through the service's own write path too (SessionService.upsert_session builds
every item) but writes the items with batch writes instead of one transaction per session: the
table is fresh, so the transactions' conditions would all hold, and 10,000 transactions take
DynamoDB Local minutes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from bench.capacity import CapacityMeter
from bench.loader import put_all, wait_for_table
from local_runtime.dynamodb_local import LOCAL_CREDENTIALS, LOCAL_REGION
from session_store import names, runtime, table
from session_store.models import SessionWrite
from session_store.payloads import PayloadStore
from session_store.repository import SessionRepository
from session_store.service import SessionService
from session_store_client.models import SESSION_BODY_FIELDS
from tests.support.api import call, run_path, session_path

TABLE_NAME = "bench_session_store"
POPULATION_RETENTION_DAYS = 365
# The session fields the project's Agno adapter sends with every turn (everything but the runs
# it already stored).
RECORD_FIELDS = SESSION_BODY_FIELDS


class CollectingRepository(SessionRepository):
    """The service's repository for populating a fresh table: no session exists yet, and each
    transaction's items are kept to be batch-written instead of being written one transaction at a
    time (in a fresh table every condition would hold)."""

    def __init__(self, table_name: str = TABLE_NAME) -> None:
        super().__init__(client=None, table_name=table_name, payloads=PayloadStore())
        self.items: list[dict[str, Any]] = []

    def get_session(self, session_id: str) -> None:
        return None

    def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        return {}  # the only other read, the user's erasure state: none in a fresh table

    def transact(self, operations: list[dict[str, Any]]) -> None:
        for operation in operations:
            ((kind, body),) = operation.items()
            if kind != "Put":
                raise AssertionError(f"creating a session should only put items, not {kind}")
            self.items.append(body["Item"])


def use_local_engines(table_name: str, dynamodb_endpoint: str, s3_endpoint: str, bucket: str) -> None:
    """Point the service's own dependencies (session_store.runtime) at the local engines."""
    os.environ.update(
        {
            names.ENV_TABLE_NAME: table_name,
            names.ENV_DYNAMODB_ENDPOINT: dynamodb_endpoint,
            names.ENV_S3_ENDPOINT: s3_endpoint,
            names.ENV_PAYLOAD_BUCKET: bucket,
            names.ENV_RETENTION_DAYS: str(names.DEFAULT_RETENTION_DAYS),
            # DynamoDB Local keeps one database per access key: the same keys as the loader's.
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": LOCAL_REGION,
            "AWS_DEFAULT_REGION": LOCAL_REGION,
        }
    )
    runtime.reset()


def record_of(session: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {**{name: session.get(name) for name in RECORD_FIELDS}, "runs": runs}


class Ours:
    label = "ours"

    def __init__(self, dynamodb_endpoint: str, s3_endpoint: str, bucket: str, meter: CapacityMeter) -> None:
        self._meter = meter
        runtime.client_observers.append(self._observe)
        use_local_engines(TABLE_NAME, dynamodb_endpoint, s3_endpoint, bucket)

    def _observe(self, service_name: str, client: Any) -> None:
        if service_name == "dynamodb":
            self._meter.attach(client)

    def create_table(self, admin: Any) -> None:
        admin.create_table(**table.create_table_request(TABLE_NAME))
        wait_for_table(admin, TABLE_NAME)

    def populate(self, loader: Any, sessions: list[dict[str, Any]]) -> int:
        collector = CollectingRepository()
        for session in sessions:
            # Each session written at its own last-update time, as a table filled over months is
            # (lists order by it), kept for a year so that none of them expires during the bench.
            service = SessionService(collector, POPULATION_RETENTION_DAYS, clock=lambda: session["updated_at"])
            service.upsert_session(
                session["session_id"], SessionWrite.model_validate(record_of(session, session["runs"]))
            )
        return put_all(loader, TABLE_NAME, collector.items)

    # --- the measured actions: each one API request ---------------------------------------------
    def list_recent(self, user_id: str, session_type: str, limit: int) -> list[str]:
        response = _ok(
            call("GET", "/sessions", query={"user_id": user_id, "session_type": session_type, "limit": limit})
        )
        return [session["session_id"] for session in response.json()["sessions"]]

    def prepare_turn(self, session: dict[str, Any], new_run: dict[str, Any]) -> Callable[[], None]:
        """What the project's Agno adapter sends for a turn: the session's fields and only the new
        run (it knows which runs the store already holds)."""
        path, body = session_path(session["session_id"]), record_of(session, [new_run])
        return lambda: _ok(call("PUT", path, body))

    def import_runs(self, _loader: Any, session: dict[str, Any], runs: list[dict[str, Any]]) -> None:
        """One import request: the service splits it into transactions."""
        _ok(call("PUT", session_path(session["session_id"]), record_of(session, runs)))

    def recent_runs(self, session_id: str, count: int) -> list[dict[str, Any]]:
        return _ok(call("GET", session_path(session_id), query={"runs_limit": count})).json()["runs"]

    def recent_runs_page(self, session_id: str, count: int) -> list[dict[str, Any]]:
        path = session_path(session_id) + "/runs"
        return _ok(call("GET", path, query={"order": "desc", "limit": count})).json()["runs"]

    def round_trip(self, session: dict[str, Any], run: dict[str, Any]) -> tuple[bool, str]:
        """Store a session holding `run` as the adapter would, read the run back, compare."""
        stored = call("PUT", session_path(session["session_id"]), record_of(session, [run]))
        if stored.status not in (200, 201):
            return False, f"PUT answered {stored.status}: {stored.text[:200]}"
        read = call("GET", run_path(session["session_id"], run["run_id"]))
        if read.status != 200:
            return False, f"GET answered {read.status}: {read.text[:200]}"
        intact = read.json() == run
        return intact, "stored and read back intact" if intact else "read back different"


def _ok(response: Any) -> Any:
    if response.status not in (200, 201):
        raise RuntimeError(f"the API answered {response.status}: {response.text[:300]}")
    return response
