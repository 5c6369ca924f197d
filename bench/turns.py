"""Turn cost: a whole agent turn as Agno performs it, priced by AWS's rules (bench/pricing.py).

A turn is `Agent.run` of a real `agno.Agent` (bench/agent_runs.py: a scripted model calling tools
and answering in prose): Agno reads the session (`get_session`, every run), then writes it
(`upsert_session`) and its new run (`upsert_run`). Ours goes through `SessionStoreDb` and the API
functions in-process (tests/support/inprocess.py); Agno's through its `DynamoDb`, on the same
DynamoDB Local. Each turn number N is measured on a session seeded with N - 1 runs captured from
the same agent, in two process shapes:

- cold: a new db object (and Agent) for the turn, as in a fresh Lambda container;
- warm: the db object already served this session (here: it read it once before the turn, as its
  previous turn would have left it), as in a long-running agent server.

The measured turn's run is deleted again between the shapes, so both measure turn N exactly.
Seeding writes each system's own items with batch writes, on an unpriced client; ours are built
by the service, with the session's clock at seeding time, so the measured turn comes within
minutes of the previous write, as a conversation's turns do (an updated-at index move is priced
in docs/design.md, "Turn cost").
"""

from __future__ import annotations

import copy
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agno.db.base import SessionType
from agno.db.dynamo import DynamoDb
from agno.db.in_memory import InMemoryDb

from bench import agent_runs
from bench.agno_adapter import RUNS_TABLE, SESSION_TABLE, agno_session, run_item
from bench.loader import put_all
from bench.ours import TABLE_NAME, CollectingRepository, record_of
from bench.pricing import Priced, Pricer, usd_per_million
from session_store.models import SessionWrite
from session_store.service import SessionService
from session_store.table import UPDATED_INDEX_SLACK_SECONDS
from session_store_client.agno import SessionStoreDb
from tests.support.api import call, run_path
from tests.support.inprocess import in_process_client

SHAPES = ("warm", "cold")
USER = "turn-user"
CAPTURED_RUNS = 6  # distinct runs captured per shape of run; seeded sessions cycle through them


@dataclass(frozen=True)
class Captured:
    session: dict[str, Any]  # the session row as Agno stores it, without runs
    runs: list[dict[str, Any]]

    def seeded_runs(self, session_id: str, count: int) -> list[dict[str, Any]]:
        """`count` runs for `session_id`: the captured ones again, each with fresh ids, in order."""
        rng = random.Random(count)
        runs = []
        for index in range(count):
            run = copy.deepcopy(self.runs[index % len(self.runs)])
            run.update(
                run_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), session_id=session_id, run_index=index
            )
            for message in run.get("messages") or []:
                message["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            runs.append(run)
        return runs


def capture(run_label: str) -> Captured:
    """Runs of a real Agent with an in-memory db: what each store is then asked to keep."""
    db = InMemoryDb()
    agent = agent_runs.agent(db, run_label, "capture", USER)
    for turn in range(CAPTURED_RUNS):
        agent.run(agent_runs.question(turn))
    row = db.get_session("capture", session_type=SessionType.AGENT, deserialize=False)
    runs = row.pop("runs")
    return Captured(row, runs)


def describe(captured: Captured) -> dict[str, Any]:
    sizes = [len(json.dumps(run)) for run in captured.runs]
    return {
        "run_json_bytes": round(sum(sizes) / len(sizes)),
        "messages_per_run": len(captured.runs[0].get("messages") or []),
        "tool_calls_per_run": len(captured.runs[0].get("tools") or []),
    }


class _OursTurns:
    label = "ours"

    def seed(
        self, loader: Any, captured: Captured, session_id: str, runs: list[dict[str, Any]], seconds_ago: int = 0
    ) -> None:
        collector = CollectingRepository()
        service = SessionService(collector, 30, clock=lambda: time.time() - seconds_ago)
        record = record_of({**captured.session, "session_id": session_id}, runs)
        service.upsert_session(session_id, SessionWrite.model_validate(record))
        put_all(loader, TABLE_NAME, collector.items)

    def new_db(self) -> Any:
        client, _ = in_process_client()
        return SessionStoreDb(client=client)

    def remove_run(self, session_id: str, run_id: str) -> None:
        if call("DELETE", run_path(session_id, run_id)).status != 204:
            raise RuntimeError(f"could not remove run {run_id} after measuring")


class _AgnoTurns:
    label = "agno"

    def __init__(self, client: Any) -> None:
        self._client = client

    def seed(self, loader: Any, captured: Captured, session_id: str, runs: list[dict[str, Any]]) -> None:
        record = {**captured.session, "session_id": session_id, "runs": runs}
        DynamoDb(db_client=self._client, session_table=SESSION_TABLE, runs_table=RUNS_TABLE).upsert_session(
            agno_session(record)
        )
        put_all(loader, RUNS_TABLE, [run_item(record, run) for run in runs])

    def new_db(self) -> Any:
        return DynamoDb(db_client=self._client, session_table=SESSION_TABLE, runs_table=RUNS_TABLE)

    def remove_run(self, _session_id: str, run_id: str) -> None:
        if not self.new_db().delete_run(run_id):
            raise RuntimeError(f"could not remove run {run_id} after measuring")


def measure(
    pricer: Pricer, loader: Any, agno_client: Any, turn_numbers: tuple[int, ...], log: Callable[[str], None]
) -> dict[str, Any]:
    """turn_cost.<run>.<shape>.<system>_t<N> = {rru, wru, usd_per_million}, and what each was."""
    costs: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    calls: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    for run_label in agent_runs.TURN_RUNS:
        captured = capture(run_label)
        runs[run_label] = describe(captured)
        log(f"turn cost, {run_label} runs: {runs[run_label]}")
        per_shape: dict[str, dict[str, Any]] = {shape: {} for shape in SHAPES}
        for system in (_OursTurns(), _AgnoTurns(agno_client)):
            for number in turn_numbers:
                session_id = f"{system.label}-{run_label}-turn-{number}-{uuid.uuid4().hex[:6]}"
                if number > 1:
                    system.seed(loader, captured, session_id, captured.seeded_runs(session_id, number - 1))
                for shape in ("cold", "warm"):
                    # Turn 1 creates its session: each shape gets its own.
                    sid = f"{session_id}-{shape}" if number == 1 else session_id
                    db = system.new_db()
                    if shape == "warm" and number > 1:
                        db.get_session(sid, session_type=SessionType.AGENT, user_id=USER)  # its previous turn
                    agent = agent_runs.agent(db, run_label, sid, USER, seed=number)
                    pricer.take()
                    started = time.perf_counter()
                    output = agent.run(agent_runs.question(number))
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    priced: Priced = pricer.take()
                    if output.status.value != "COMPLETED":
                        raise RuntimeError(f"{system.label} {run_label} turn {number}: {output.status}")
                    key = f"{system.label}_t{number}"
                    per_shape[shape][key] = {
                        "rru": priced.rru,
                        "wru": priced.wru,
                        "usd_per_million": usd_per_million(priced.rru, priced.wru),
                    }
                    calls[f"{run_label}.{shape}.{key}"] = {**priced.calls, "ms": round(elapsed_ms, 1)}
                    log(
                        f"turn cost {run_label}/{shape}/{key}: {priced.rru:g} RRU, {priced.wru:g} WRU, "
                        f"${usd_per_million(priced.rru, priced.wru):g}/M [{priced.calls}]"
                    )
                    if number > 1 and shape == "cold":
                        system.remove_run(sid, output.run_id)
        costs[run_label] = per_shape
        moved[run_label] = _turn_moving_index_entries(pricer, loader, captured, run_label, turn_numbers[1])
        log(f"turn cost {run_label}/warm/ours_t{turn_numbers[1]}, index entries moving: {moved[run_label]}")
    return {
        "turn_cost": costs,
        "turn_cost_calls": calls,
        "turn_cost_runs": runs,
        "turn_cost_index_move": {
            "turn": turn_numbers[1],
            "previous_write_seconds_ago": UPDATED_INDEX_SLACK_SECONDS,
            "ours_warm": moved,
        },
    }


def _turn_moving_index_entries(
    pricer: Pricer, loader: Any, captured: Captured, run_label: str, number: int
) -> dict[str, float]:
    """Our warm turn `number` when the previous write was UPDATED_INDEX_SLACK_SECONDS ago: this one
    moves the session's updated-at index entries (at most once per that many seconds)."""
    ours = _OursTurns()
    session_id = f"ours-{run_label}-moving-{number}-{uuid.uuid4().hex[:6]}"
    ours.seed(
        loader,
        captured,
        session_id,
        captured.seeded_runs(session_id, number - 1),
        seconds_ago=UPDATED_INDEX_SLACK_SECONDS,
    )
    db = ours.new_db()
    db.get_session(session_id, session_type=SessionType.AGENT, user_id=USER)
    agent = agent_runs.agent(db, run_label, session_id, USER, seed=number)
    pricer.take()
    agent.run(agent_runs.question(number))
    priced = pricer.take()
    return {"rru": priced.rru, "wru": priced.wru, "usd_per_million": usd_per_million(priced.rru, priced.wru)}
