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


# --- A run named by its id alone: AgentOS's per-component run gate --------------------------------
# With authorization on, POST /agents/{agent_id}/runs/{run_id}/cancel first checks that the run
# belongs to the path's agent, reading it with `db.get_run(run_id)` (no session). The app here is a
# fresh one (a second replica): only a db that finds runs by id refuses another agent's run.
_RBAC_SECRET = "agentos-parity-secret-of-32-bytes!"


def cancel_answers(make_db: Any) -> dict[str, tuple[int, Any]]:
    """Cancel answers of a fresh AgentOS app for a run agent-a wrote through another db object:
    through agent-b's route (another agent's run), agent-a's, and an unknown run id."""
    import time

    import jwt
    from agno.agent import Agent
    from agno.os import AgentOS
    from agno.os.config import AuthorizationConfig

    from tests.support.fake_model import FakeModel

    def agents(db: Any) -> list[Any]:
        return [
            Agent(id=agent_id, name=agent_id, model=FakeModel(replies=["hi"]), db=db, telemetry=False)
            for agent_id in ("agent-a", "agent-b")
        ]

    writer = agents(make_db())[0]
    if hasattr(writer.db, "sync_db"):
        run_id = asyncio.run(writer.arun("hello", session_id="cancel-session", user_id=USER)).run_id
    else:
        run_id = writer.run("hello", session_id="cancel-session", user_id=USER).run_id
    config = AuthorizationConfig(verification_keys=[_RBAC_SECRET], algorithm="HS256")
    app = AgentOS(agents=agents(make_db()), telemetry=False, authorization=True, authorization_config=config)
    client = TestClient(app.get_app())
    claims = {"sub": "operator", "scopes": ["agents:agent-a:run", "agents:agent-b:run"], "aud": "agno"}
    token = jwt.encode({**claims, "exp": int(time.time()) + 600}, _RBAC_SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    found = {}
    for label, agent_id, target in (
        ("another agent's run", "agent-b", run_id),
        ("the agent's own run", "agent-a", run_id),
        ("an unknown run", "agent-b", "unknown-run"),
    ):
        response = client.post(f"/agents/{agent_id}/runs/{target}/cancel", headers=headers)
        found[label] = (response.status_code, response.json())
    return found
