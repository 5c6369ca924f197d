"""The AgentOS parity suite's driver: one AgentOS app per agno db, the same scenario on each, and
every route the AgentOS UI calls, answered and normalized for comparison."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient

from tests.support.fake_model import MemoryWritingModel

USER = "parity-user"
SESSION = "parity-session"
# Values that differ between two stores by construction: ids minted at random, clock times.
_VOLATILE_SUFFIXES = ("_id", "_at", "_time", "time", "date", "duration", "latency", "_token", "_ms")


def normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: "<volatile>" if _volatile(key) else normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [normalized(item) for item in value]
        return sorted(items, key=repr) if all(isinstance(item, dict) for item in items) else items
    return value


def _volatile(key: str) -> bool:
    return key == "id" or key.endswith(_VOLATILE_SUFFIXES) and key not in ("user_id", "agent_id", "session_id")


def build_app(db: Any, is_async: bool = False) -> tuple[TestClient, Any]:
    from agno.agent import Agent
    from agno.os import AgentOS

    agent = Agent(
        id="parity-agent",
        name="parity-agent",
        model=MemoryWritingModel(replies=["Hello Alice"]),
        db=db,
        user_id=USER,
        session_id=SESSION,
        update_memory_on_run=True,
        add_history_to_context=True,
        telemetry=False,
    )
    for text in ("My name is Alice", "What is my name?"):
        if is_async:
            asyncio.run(agent.arun(text))
        else:
            agent.run(text)
    from session_store_client.agno import without_unserved_domains

    agent_os = AgentOS(agents=[agent], telemetry=False)
    return TestClient(without_unserved_domains(agent_os.get_app(), agent_os)), agent


def ui_requests(client: TestClient, db_id: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, query) of each page the AgentOS UI loads, the ids taken from the app's own answers."""
    query = {"db_id": db_id}
    runs = client.get(f"/sessions/{SESSION}/runs", params={**query, "type": "agent"}).json()
    memories = client.get("/memories", params={**query, "user_id": USER}).json()
    run_id = runs[0]["run_id"] if isinstance(runs, list) and runs else "missing"
    memory_id = memories["data"][0]["memory_id"] if isinstance(memories, dict) and memories.get("data") else "missing"
    return _labelled(
        [
            ("GET", "/config", {}),
            ("GET", "/sessions", {**query, "type": "agent"}),
            (
                "GET",
                "/sessions",
                {**query, "type": "agent", "user_id": USER, "sort_by": "created_at", "sort_order": "asc"},
            ),
            ("GET", "/sessions", {**query, "type": "team"}),
            ("GET", f"/sessions/{SESSION}", {**query, "type": "agent"}),
            ("GET", f"/sessions/{SESSION}/runs", {**query, "type": "agent"}),
            ("GET", f"/sessions/{SESSION}/runs/{run_id}", {**query, "type": "agent"}),
            ("GET", "/sessions/nope", {**query, "type": "agent"}),
            ("GET", "/memories", {**query, "user_id": USER}),
            ("GET", "/memories", {**query}),
            ("GET", "/memories", {**query, "user_id": USER, "limit": 1, "page": 2}),
            ("GET", "/memories", {**query, "topics": "name", "search_content": "alice"}),
            ("GET", f"/memories/{memory_id}", {**query, "user_id": USER}),
            ("GET", "/memories/nope", {**query}),
            ("GET", "/memory_topics", {**query}),
            ("GET", "/user_memory_stats", {**query}),
            ("GET", "/metrics", {**query}),
            ("GET", "/eval-runs", {**query}),
            ("GET", "/traces", {**query}),
            ("GET", "/trace_session_stats", {**query}),
            ("POST", f"/databases/{db_id}/migrate", {}),
        ],
        {db_id: "<db>", run_id: "<run>", memory_id: "<memory>"},
    )


def _labelled(
    requests: list[tuple[str, str, dict[str, Any]]], ids: dict[str, str]
) -> list[tuple[str, str, str, dict[str, Any]]]:
    labelled = []
    for method, path, query in requests:
        label = path
        for value, placeholder in ids.items():
            label = label.replace(value, placeholder)
        shown = sorted((key, value) for key, value in query.items() if key != "db_id")
        labelled.append((f"{method} {label} {shown}", method, path, query))
    return labelled


def answers(client: TestClient, db_id: str) -> dict[str, tuple[int, Any]]:
    found = {}
    for key, method, path, query in ui_requests(client, db_id):
        response = client.request(method, path, params=query)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        found[key] = (response.status_code, body)
    return found
