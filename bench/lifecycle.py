"""Data lifecycle measurements: erasing a user and migrating an Agno database.

    .venv/bin/python -m bench.lifecycle           # 2,000 sessions x 10 runs erased; 500 sessions migrated
    .venv/bin/python -m bench.lifecycle --quick   # small sizes: a smoke test

- Erasure: a user's sessions are seeded with the service's own item-building code (batch-written,
  as bench/ours.py populates), then the erasure worker's batches run one after another in-process
  (what the stream mapping does, minus the stream's latency), metered on the repository's client.
  Reported: items erased per second, and write / read capacity per erased item.
- Migration: an Agno SqliteDb file is filled through Agno's own `upsert_sessions`, then imported
  with session-store's Importer through the API handlers in-process. Reported: sessions and runs
  per second, and the capacity per imported run.

Writes bench/results/lifecycle.json and prints a table (run by `make bench` after bench.run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.capacity import CapacityMeter
from bench.data import conversation
from bench.engines import local_s3
from bench.loader import loader_client, put_all, wait_for_table
from bench.ours import CollectingRepository, record_of, use_local_engines
from local_runtime.dynamodb_local import DynamoDBLocal
from session_store import erasure, names, runtime, table
from session_store.models import SessionWrite
from session_store.service import SessionService
from session_store.user_repository import UserRepository

TABLE_NAME = "bench_lifecycle"
BUCKET = "bench-lifecycle-payloads"
RESULTS = Path(__file__).parent / "results" / "lifecycle.json"


def user_sessions(user_id: str, sessions: int, runs: int, seed: int = 12, prefix: str = "") -> list[dict[str, Any]]:
    """Agno-shaped sessions of one user (bench/data.py's generator), `runs` runs each."""
    now = int(time.time()) - 86_400
    kinds = ("agent", "team", "workflow")
    return [
        conversation(
            random.Random(seed * 1_000_003 + number),
            f"{prefix}{user_id}-{number:05d}",
            kinds[number % 3],
            user_id,
            now + number,
            runs,
        )
        for number in range(sessions)
    ]


def small_sessions(user_id: str, sessions: int, runs: int) -> list[dict[str, Any]]:
    """Sessions with short runs (about 150 bytes each): for tests that count items, not bytes."""
    now = int(time.time()) - 86_400
    kinds = ("agent", "team", "workflow")
    return [
        {
            "session_id": f"{user_id}-{number:05d}",
            "session_type": kinds[number % 3],
            "user_id": user_id,
            "agent_id": "lifecycle-agent",
            "session_data": {"session_name": f"chat {number}"},
            "created_at": now,
            "runs": [
                {
                    "run_id": f"run-{turn}",
                    "user_id": user_id,
                    "content": f"turn {turn} of {number}",
                    "status": "COMPLETED",
                    "created_at": now + turn,
                }
                for turn in range(runs)
            ],
        }
        for number in range(sessions)
    ]


def session_items(table_name: str, sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items the service writes for these sessions (built by SessionService itself)."""
    collector = CollectingRepository(table_name)
    service = SessionService(collector, names.DEFAULT_RETENTION_DAYS)
    for session in sessions:
        service.upsert_session(session["session_id"], SessionWrite.model_validate(record_of(session, session["runs"])))
    return collector.items


def seed(endpoint: str, table_name: str, sessions: list[dict[str, Any]]) -> int:
    return put_all(loader_client(endpoint), table_name, session_items(table_name, sessions))


def write_agno_db(db: Any, rows: list[dict[str, Any]]) -> None:
    """Store sessions through Agno's own write path: upsert_sessions, then each run with upsert_run
    (Agno 3 keeps runs in a table of their own)."""
    from agno.session import AgentSession, TeamSession, WorkflowSession

    classes = {"agent": AgentSession, "team": TeamSession, "workflow": WorkflowSession}
    db.upsert_sessions(
        [classes[row["session_type"]].from_dict({**row, "runs": None}) for row in rows], preserve_updated_at=True
    )
    for row in rows:
        for index, run in enumerate(row["runs"]):
            db.upsert_run(run, session_id=row["session_id"], user_id=row.get("user_id"), run_index=index)


def measure_erasure(endpoint: str, sessions: int, runs: int, meter: CapacityMeter) -> dict[str, Any]:
    user = "erased-user"
    seeded = seed(endpoint, TABLE_NAME, user_sessions(user, sessions, runs))
    users = UserRepository(runtime.repository())
    job = erasure.start(users, user)
    before = meter.snapshot()
    started = time.perf_counter()
    batches = 0
    while (current := users.get_job(user, job.erasure_id)).status == erasure.RUNNING:
        erasure.advance(users, user, job.erasure_id, current.seq)
        batches += 1
    seconds = time.perf_counter() - started
    used = meter.snapshot() - before
    erased = sum(current.counts.get(kind, 0) for kind in ("sessions", "runs", "run_lookups"))
    return {
        "sessions": sessions,
        "runs_per_session": runs,
        "items_seeded": seeded,
        "status": current.status,
        "counts": current.counts,
        "batches": batches,
        "seconds": round(seconds, 2),
        "items_per_second": round(erased / seconds, 1),
        "wcu_per_erased_item": round(used.write / erased, 3),
        "rcu_per_erased_item": round(used.read / erased, 3),
    }


def measure_migration(sessions: int, runs: int, meter: CapacityMeter) -> dict[str, Any]:
    from agno.db.sqlite import SqliteDb

    from session_store_client.transfer import Importer, agno_sessions, open_agno_db
    from tests.support.inprocess_client import InProcessClient

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/agno.db"
        write_agno_db(SqliteDb(db_url=url), user_sessions("migrated-user", sessions, runs, prefix="m-"))
        records = list(agno_sessions(open_agno_db(url)))
    before = meter.snapshot()
    started = time.perf_counter()
    counts = Importer(InProcessClient(), workers=4).import_records(records)
    seconds = time.perf_counter() - started
    used = meter.snapshot() - before
    return {
        "sessions": counts.sessions_imported,
        "runs": counts.runs_sent,
        "seconds": round(seconds, 2),
        "sessions_per_second": round(counts.sessions_imported / seconds, 1),
        "runs_per_second": round(counts.runs_sent / seconds, 1),
        "wcu_per_run": round(used.write / max(counts.runs_sent, 1), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Erasure and migration measurements")
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args(argv)
    erase_size = (100, 5) if arguments.quick else (2_000, 10)
    migrate_size = (50, 5) if arguments.quick else (500, 10)
    meter = CapacityMeter()
    with DynamoDBLocal() as engine, local_s3(BUCKET) as s3_endpoint:
        os.environ.update({"POWERTOOLS_METRICS_DISABLED": "true", "AGNO_TELEMETRY": "false"})
        use_local_engines(TABLE_NAME, engine.endpoint_url, s3_endpoint, BUCKET)
        runtime.client_observers.append(lambda service, client: meter.attach(client) if service == "dynamodb" else None)
        admin = engine.client()
        admin.create_table(**table.create_table_request(TABLE_NAME))
        wait_for_table(admin, TABLE_NAME)
        results = {
            "erasure": measure_erasure(engine.endpoint_url, *erase_size, meter),
            "migration": measure_migration(*migrate_size, meter),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    erased, migrated = results["erasure"], results["migration"]
    print("| Data lifecycle | Value |\n|---|---:|")
    print(
        f"| Erasure: {erased['sessions']:,} sessions x {erased['runs_per_session']} runs, items erased per second "
        f"| {erased['items_per_second']:,} |"
    )
    print(f"| Erasure: WCU per erased item | {erased['wcu_per_erased_item']} |")
    print(f"| Erasure: RCU per erased item | {erased['rcu_per_erased_item']} |")
    print(f"| Migration from Agno SqliteDb: sessions per second | {migrated['sessions_per_second']:,} |")
    print(f"| Migration: runs per second | {migrated['runs_per_second']:,} |")
    print(f"| Migration: WCU per imported run | {migrated['wcu_per_run']} |")
    print("(bench/results/lifecycle.json)")
    return 0 if erased["status"] == erasure.DONE else 1


if __name__ == "__main__":
    raise SystemExit(main())
