"""Agno's own DynamoDB adapter (agno.db.dynamo.DynamoDb), on the same DynamoDB Local, called the way
Agno calls it.

Agno 3.x keeps a session's runs in a runs table (one item per run, keyed by run_id, with a
session_id/created_at index), not inside the session item. A turn is what Agent does after a run:
upsert_session (the whole session object; its runs are not written with it) then upsert_run.
Population writes the very items those two methods write, built with Agno's own serializers, by
batch writes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from agno.db.base import SessionType
from agno.db.dynamo import DynamoDb
from agno.db.dynamo.utils import prepare_session_data, serialize_to_dynamo_item
from agno.db.utils import build_single_run_row
from agno.session import AgentSession, TeamSession, WorkflowSession

from bench.loader import put_all

SESSION_TABLE = "agno_sessions"
RUNS_TABLE = "agno_runs"
_SESSION_CLASSES = {"agent": AgentSession, "team": TeamSession, "workflow": WorkflowSession}


def agno_session(record: dict[str, Any]) -> Any:
    """The record as the Session object an Agent holds in memory (runs included). From a copy:
    Agno's from_dict pops fields (messages, metrics, …) out of the run dicts it is given."""
    return _SESSION_CLASSES[record["session_type"]].from_dict(copy.deepcopy(record))


def session_item(record: dict[str, Any]) -> dict[str, Any]:
    """What DynamoDb.upsert_session puts for a new session."""
    serialized = prepare_session_data(agno_session(record), include_runs=False)
    serialized["updated_at"] = serialized["created_at"]
    return serialize_to_dynamo_item(serialized)


def run_item(record: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """What DynamoDb.upsert_run puts for a new run."""
    row = build_single_run_row(
        run=run, session_id=record["session_id"], user_id=record["user_id"], run_index=run.get("run_index")
    )
    payload = {key: value for key, value in row.items() if value is not None}
    payload["run_data"] = json.dumps(payload["run_data"])
    return serialize_to_dynamo_item(payload)


class Agno:
    label = "agno"

    def __init__(self, client: Any) -> None:
        # The client is metered by the caller; Agno creates its tables on it, as AgentOS does.
        self.db = DynamoDb(db_client=client, session_table=SESSION_TABLE, runs_table=RUNS_TABLE)

    def create_table(self, _admin: Any) -> None:
        self.db._create_all_tables()  # what AgentOS calls at start-up

    def populate(self, loader: Any, sessions: list[dict[str, Any]]) -> int:
        written = put_all(loader, SESSION_TABLE, [session_item(record) for record in sessions])
        runs = [run_item(record, run) for record in sessions for run in record["runs"]]
        return written + put_all(loader, RUNS_TABLE, runs)

    # --- the measured actions ----------------------------------------------------------------------
    def list_recent(self, user_id: str, session_type: str, limit: int) -> list[str]:
        # As AgentOS lists a user's sessions: one page, newest first.
        page, _total = self.db.get_sessions(
            session_type=SessionType(session_type),
            user_id=user_id,
            limit=limit,
            page=1,
            sort_by="updated_at",
            sort_order="desc",
            deserialize=False,
        )
        return [session["session_id"] for session in page]

    def prepare_turn(self, session: dict[str, Any], new_run: dict[str, Any]) -> Callable[[], None]:
        """What Agent does after a run: upsert_session with the whole in-memory session (built
        here, outside the measurement: an Agent already holds it), then upsert_run."""
        in_memory = agno_session({**session, "runs": [*session["runs"], new_run]})

        def turn() -> None:
            if self.db.upsert_session(in_memory) is None:
                raise RuntimeError("Agno refused the session upsert")
            self.db.upsert_run(
                new_run,
                session_id=session["session_id"],
                user_id=session["user_id"],
                run_index=new_run.get("run_index"),
            )

        return turn

    def import_runs(self, loader: Any, session: dict[str, Any], runs: list[dict[str, Any]]) -> None:
        self.db.upsert_session(agno_session({**session, "runs": runs}))
        put_all(loader, RUNS_TABLE, [run_item(session, run) for run in runs])

    def recent_runs(self, session_id: str, count: int) -> list[dict[str, Any]]:
        stored = self.db.get_session(session_id, session_type=SessionType.AGENT, runs_limit=count, deserialize=False)
        return stored["runs"]

    def round_trip(self, session: dict[str, Any], run: dict[str, Any]) -> tuple[bool, str]:
        try:
            self.db.upsert_session(agno_session({**session, "runs": [run]}))
            self.db.upsert_run(
                run, session_id=session["session_id"], user_id=session["user_id"], run_index=run.get("run_index")
            )
        except Exception as error:  # what Agno's Agent does: log a warning, the run is not stored
            return False, f"upsert_run raised {type(error).__name__}: {error}"[:300]
        stored = self.db.get_run(run["run_id"], deserialize=False)
        if stored is None:
            return False, "get_run found nothing"
        intact = stored.get("run_data") == run
        return intact, "stored and read back intact" if intact else "read back different"
