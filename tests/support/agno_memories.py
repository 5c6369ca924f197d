"""Agno memory scenarios, run on any agno db: the same steps on SessionStoreDb and on agno's
SqliteDb must give the same memories."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

from agno.agent import Agent
from agno.run.base import RunStatus
from agno.team import Team

from tests.support.fake_model import MemoryWritingModel

# What a memory row is compared on: everything but its id and clock times.
COMPARED = ("memory", "topics", "user_id", "agent_id", "team_id", "input", "feedback")


def comparable(rows: list[Any]) -> list[dict[str, Any]]:
    dicts = [row if isinstance(row, dict) else row.__dict__ for row in rows]
    return sorted(({key: row.get(key) for key in COMPARED} for row in dicts), key=repr)


def agent_remembers(db: Any, user_id: str, session_id: str) -> list[dict[str, Any]]:
    """An Agent with update_memory_on_run=True runs twice; every run completes and the model
    is called; returns the user's memories as stored."""
    model = MemoryWritingModel(replies=["Nice to meet you, Alice"])
    agent = Agent(
        id="memory-agent",
        model=model,
        db=db,
        user_id=user_id,
        session_id=session_id,
        update_memory_on_run=True,
        add_memories_to_context=True,
        telemetry=False,
    )
    for text in ("My name is Alice", "What is my name?"):
        output = agent.run(text)
        assert output.status == RunStatus.completed, output.content
        assert output.content == "Nice to meet you, Alice"
    # The second run's prompt carries the first run's memory.
    assert any("Alice" in text for text in model.texts_sent())
    return comparable(db.get_user_memories(user_id=user_id))


def agentic_team_remembers(db: Any, user_id: str, session_id: str) -> list[dict[str, Any]]:
    model = MemoryWritingModel(memories=[("Likes green tea", ["drinks"])], replies=["Noted"])
    member = Agent(id="member", name="member", model=MemoryWritingModel(replies=["member"]), telemetry=False)
    team = Team(
        id="memory-team",
        members=[member],
        model=model,
        db=db,
        user_id=user_id,
        session_id=session_id,
        enable_agentic_memory=True,
        telemetry=False,
    )
    output = team.run("I like green tea")
    assert output.status == RunStatus.completed, output.content
    return comparable(db.get_user_memories(user_id=user_id))


def read_in_a_fresh_process(base_url: str, user_id: str) -> list[str]:
    """The memories' texts as a new interpreter reads them through SessionStoreDb."""
    program = textwrap.dedent(f"""
        from session_store_client.agno import SessionStoreDb
        for memory in SessionStoreDb(base_url={base_url!r}).get_user_memories(user_id={user_id!r}):
            print(memory.memory)
    """)
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "AGNO_TELEMETRY": "false"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()
