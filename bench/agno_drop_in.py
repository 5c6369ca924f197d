"""Agno drop-in measurements (issue 11), on the local runtime over HTTP, added to
bench/results/latest.json under "agno_drop_in":

- async_loop_stall_ms: 8 concurrent ``Agent.arun`` turns on one event loop, with a heartbeat task
  ticking every 2 ms; the longest gap between ticks (target: under 20 ms) with
  AsyncSessionStoreDb, and the same with the sync SessionStoreDb for comparison
  (``sync_loop_stall_ms``: agno then calls the store on the loop itself).
  ``in_memory_loop_stall_ms``: agno's InMemoryDb, no I/O, is the floor on this machine.
- agentos_sessions_page_requests: HTTP requests to the store for one AgentOS sessions page of 20
  agent sessions (GET /sessions).

    .venv/bin/python -m bench.agno_drop_in
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.soak import LocalRuntime

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
HEARTBEAT_SECONDS = 0.002
CONCURRENT_TURNS = 8
PAGE = 20
STALL_TARGET_MS = 20.0


def _agent(db: Any, index: int, conversation: str = "page") -> Any:
    from agno.agent import Agent

    sys.path.insert(0, str(ROOT))
    from tests.support.fake_model import FakeModel

    return Agent(
        id="bench-agent",
        model=FakeModel(replies=["ok"]),
        db=db,
        user_id="bench-user",
        session_id=f"bench-{conversation}-{index}",
        add_history_to_context=True,
        telemetry=False,
    )


async def _longest_gap(db: Any) -> float:
    gaps = [0.0]
    done = asyncio.Event()

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(HEARTBEAT_SECONDS)
            now = time.perf_counter()
            gaps.append(now - last - HEARTBEAT_SECONDS)
            last = now

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.05)
    # A new conversation per round: every round measures the same turn, not a growing session.
    conversation = uuid.uuid4().hex[:8]
    agents = [_agent(db, index, conversation) for index in range(CONCURRENT_TURNS)]
    await asyncio.gather(*(agent.arun("hello") for agent in agents))
    done.set()
    await beat
    return max(gaps) * 1000


def loop_stall_ms(base_url: str) -> dict[str, float]:
    """Worst gap of 3 rounds after a warm-up round (imports, connection pools), per db, each db on
    one event loop. agno's InMemoryDb (no I/O at all) gives the floor: agno's own work on the loop
    and the machine's scheduling."""
    from agno.db.in_memory import InMemoryDb

    from session_store_client.agno import AsyncSessionStoreDb, SessionStoreDb

    async def rounds(db: Any) -> float:
        await _longest_gap(db)
        return max([await _longest_gap(db) for _ in range(3)])

    results = {}
    for name, make in (
        ("async_loop_stall_ms", lambda: AsyncSessionStoreDb(base_url=base_url)),
        ("sync_loop_stall_ms", lambda: SessionStoreDb(base_url=base_url)),
        ("in_memory_loop_stall_ms", InMemoryDb),
    ):
        results[name] = round(asyncio.run(rounds(make())), 1)
    return results


def sessions_page_requests(base_url: str) -> int:
    from agno.os import AgentOS
    from fastapi.testclient import TestClient

    from session_store_client.agno import SessionStoreDb

    db = SessionStoreDb(base_url=base_url)
    for index in range(PAGE + 5):
        db.client.put_session(
            f"bench-page-{index}",
            {
                "session_type": "agent",
                "agent_id": "bench-agent",
                "user_id": "page-user",
                "runs": [{"run_id": f"r-{index}", "content": "hi"}],
            },
        )
    counted = []
    db.client._transport.http.event_hooks["response"].append(lambda response: counted.append(response.url))
    app = AgentOS(agents=[_agent(db, 0)], telemetry=False).get_app()
    with TestClient(app) as client:
        counted.clear()
        response = client.get(
            "/sessions", params={"type": "agent", "user_id": "page-user", "limit": PAGE, "db_id": db.id}
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == PAGE
    return len(counted)


def main() -> int:
    os.environ.setdefault("AGNO_TELEMETRY", "false")
    runtime = LocalRuntime().start()
    try:
        measured: dict[str, Any] = loop_stall_ms(runtime.url)
        measured["agentos_sessions_page_requests"] = sessions_page_requests(runtime.url)
    finally:
        runtime.stop()
    measured["async_loop_stall_target_ms"] = STALL_TARGET_MS
    measured["async_loop_stall_ok"] = measured["async_loop_stall_ms"] < STALL_TARGET_MS
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["agno_drop_in"] = measured
    results.update({key: measured[key] for key in ("async_loop_stall_ms", "agentos_sessions_page_requests")})
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(measured, indent=2))
    return 0 if measured["async_loop_stall_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
