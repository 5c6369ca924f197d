"""The benchmark's data: Agno-shaped sessions and runs, the same for both systems.

Runs have the shape agno's RunOutput.to_dict() gives (checked against a real Agent run with a
fake model): ids, content, messages with ids and timestamps, metrics, status. Text is drawn from a
small vocabulary with a seeded generator, so every run of the benchmark writes the same bytes.
"""

from __future__ import annotations

import base64
import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

USERS = 50
RUNS_PER_SESSION = 3
# Session types as agents use them: mostly single agents, some teams, a few workflows.
TYPE_WEIGHTS = {"agent": 0.8, "team": 0.15, "workflow": 0.05}
COMPONENTS_PER_TYPE = 5
_WORDS = (
    "the agent reads a session and its runs then answers with context from earlier turns about "
    "invoices shipping weather code review travel plans budgets meetings and summaries"
).split()
COMPONENT_FIELD = {"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=words))


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def user_id(index: int) -> str:
    return f"user-{index:03d}"


# Users are not alike: a few have many sessions, most have a few (Zipf-like weights).
USER_WEIGHTS = [1 / math.sqrt(rank + 1) for rank in range(USERS)]


def list_user(sessions: list[dict[str, Any]], kind: str, page: int) -> str:
    """The user the list benchmark pages through: the one with the fewest sessions of `kind` that
    still fills a page (with a margin) in `sessions`, i.e. an active user, not the heaviest one."""
    counts = Counter(session["user_id"] for session in sessions if session["session_type"] == kind)
    full = [(count, user) for user, count in counts.items() if count >= page + page // 4]
    if not full:
        raise ValueError(f"no user has {page + page // 4} {kind} sessions among {len(sessions)}")
    return min(full)[1]


def _run_metrics(kind: str, number: int) -> dict[str, Any]:
    if kind == "workflow":  # WorkflowRunOutput keeps per-step metrics
        return {"steps": {}, "duration": 2.37}
    return {
        "input_tokens": 310 + number,
        "output_tokens": 290,
        "total_tokens": 600 + number,
        "time_to_first_token": 0.41,
        "duration": 2.37,
    }


def run(rng: random.Random, session: dict[str, Any], number: int, created_at: int) -> dict[str, Any]:
    """One turn: a user message and an assistant reply of 150 words (the reply is kept twice, as
    `content` and as the assistant message: about 3.5 KB of JSON)."""
    run_id = _id(rng)
    question, answer = _text(rng, 40), _text(rng, 150)
    kind = session["session_type"]
    component = {COMPONENT_FIELD[kind]: session[COMPONENT_FIELD[kind]]}
    return {
        "run_id": run_id,
        **component,
        "agent_name" if kind == "agent" else f"{kind}_name": session[COMPONENT_FIELD[kind]],
        "session_id": session["session_id"],
        "user_id": session["user_id"],
        "content": answer,
        "content_type": "str",
        "model": "gpt-4.1-mini",
        "model_provider": "OpenAI",
        "created_at": created_at,
        "status": "COMPLETED",
        "run_index": number,
        "metrics": _run_metrics(kind, number),
        "messages": [
            {
                "id": _id(rng),
                "role": "user",
                "content": question,
                "from_history": False,
                "stop_after_tool_call": False,
                "created_at": created_at,
            },
            {
                "id": _id(rng),
                "role": "assistant",
                "content": answer,
                "from_history": False,
                "stop_after_tool_call": False,
                "metrics": {"input_tokens": 310, "output_tokens": 290},
                "created_at": created_at,
            },
        ],
        "tools": [],
        "input": {"input_content": question},
    }


def session(rng: random.Random, number: int, created_at: int, runs: int = RUNS_PER_SESSION) -> dict[str, Any]:
    """A session record as Agno's AgentSession/TeamSession/WorkflowSession.to_dict() gives it."""
    kind = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
    user = rng.choices(range(USERS), weights=USER_WEIGHTS)[0]
    return conversation(rng, f"session-{number:06d}", kind, user_id(user), created_at, runs)


def conversation(
    rng: random.Random, session_id: str, kind: str, user: str, created_at: int, runs: int
) -> dict[str, Any]:
    component = f"{kind}-{rng.randrange(COMPONENTS_PER_TYPE)}"
    record: dict[str, Any] = {
        "session_id": session_id,
        "session_type": kind,
        "agent_id": None,
        "team_id": None,
        "workflow_id": None,
        "user_id": user,
        "session_data": {
            "session_name": _text(rng, 5),
            "session_state": {"current_user_id": user, "current_session_id": session_id, "topic": _text(rng, 3)},
            "session_metrics": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
        },
        f"{kind}_data": {
            "name": component,
            f"{kind}_id": component,
            "model": {"id": "gpt-4.1-mini", "provider": "OpenAI"},
        },
        "metadata": {"channel": rng.choice(["web", "slack", "api"])},
        "summary": None,
        "created_at": created_at,
        "updated_at": created_at,
    }
    record[COMPONENT_FIELD[kind]] = component
    record["runs"] = [run(rng, record, index, created_at + index) for index in range(runs)]
    return record


def incompressible(size: int, seed: int) -> str:
    """`size` characters that gzip cannot shrink much (base64 of random bytes: about 75%)."""
    data = random.Random(seed).randbytes(size * 3 // 4 + 3)
    return base64.b64encode(data).decode()[:size]


def big_run(session: dict[str, Any], size: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    record = run(rng, session, 0, session["created_at"])
    record["content"] = incompressible(size, seed)
    return record


@dataclass(frozen=True)
class Population:
    """The sessions of one table size, generated in order (a larger size extends a smaller one)."""

    seed: int = 6

    def sessions(self, start: int, stop: int, now: int) -> list[dict[str, Any]]:
        result = []
        for number in range(start, stop):
            rng = random.Random(self.seed * 1_000_003 + number)
            # Spread over the last 30 days, older sessions first.
            created_at = now - 30 * 86_400 + number * 97 % (30 * 86_400)
            result.append(session(rng, number, created_at))
        return result
