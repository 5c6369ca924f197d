"""Real Agno agents for the turn-cost benchmark: an `agno.Agent` with a scripted model that calls
tools and answers in natural language, so the runs it stores have the shape, size and
compressibility of a production agent's (messages, tool calls and results, metrics).

Two run shapes, as `TURN_RUNS` names them:
- realistic: one tool call per turn (system, user, assistant tool call, tool result, answer: 5
  messages), about 7 KB of JSON;
- tool_heavy: nine tool calls per turn (21 messages), about 34 KB.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from agno.agent import Agent
from agno.models.base import Model
from agno.models.message import Message
from agno.models.response import ModelResponse

# run label -> (tool calls per turn, records each call returns)
TURN_RUNS = {"realistic": (1, 7), "tool_heavy": (9, 4)}

_SUBJECTS = (
    "the invoice for March",
    "the shipment to Lyon",
    "tomorrow's weather in Oslo",
    "the code review",
    "the budget meeting",
    "Anna's travel plan",
    "the quarterly summary",
    "the support ticket",
)
_VERBS = ("checked", "compared", "summarised", "looked up", "reconciled", "verified", "drafted", "reviewed")
_FILLER = (
    "Based on what you told me earlier and the records I found, here is what matters most. The figures "
    "match the previous statement except for two line items, which were booked twice. I recommend that "
    "we contact the supplier, ask for a corrected document, and keep the original for the audit trail. "
    "If you want, I can prepare a short message you can send, or set a reminder for next week so that "
    "nothing falls through the cracks. Let me know which option you prefer and I will take care of it."
)


def lookup_records(query: str, limit: int = 5) -> str:
    """Look up records about a subject in the company's systems."""
    rng = random.Random(query)
    rows = [
        {
            "id": f"rec-{rng.randrange(10**6):06d}",
            "subject": query,
            "amount": round(rng.uniform(10, 5000), 2),
            "status": rng.choice(("open", "paid", "disputed")),
            "updated": f"2026-0{rng.randrange(1, 10)}-1{rng.randrange(10)}",
            "note": rng.choice(_FILLER.split(". ")),
        }
        for _ in range(limit)
    ]
    return json.dumps({"query": query, "results": rows})


@dataclass
class ToolCallingModel(Model):
    """A model that calls `lookup_records` `tool_calls` times, then answers in prose."""

    id: str = "scripted-model"
    name: str | None = "ScriptedModel"
    provider: str | None = "Scripted"
    tool_calls: int = 1
    rows: int = 5
    seed: int = 0
    _calls_this_turn: int = field(default=0, repr=False)

    def _respond(self, messages: list[Message]) -> ModelResponse:
        rng = random.Random(f"{self.seed}-{len(messages)}")
        tools_done = sum(1 for message in messages[self._turn_start(messages) :] if message.role == "tool")
        if tools_done < self.tool_calls:
            subject = rng.choice(_SUBJECTS)
            return ModelResponse(
                role="assistant",
                content="",
                tool_calls=[
                    {
                        "id": f"call_{rng.getrandbits(64):016x}",
                        "type": "function",
                        "function": {
                            "name": "lookup_records",
                            "arguments": json.dumps({"query": subject, "limit": self.rows}),
                        },
                    }
                ],
                input_tokens=400 + len(messages) * 50,
                output_tokens=30,
                total_tokens=430 + len(messages) * 50,
            )
        opening = f"I {rng.choice(_VERBS)} {rng.choice(_SUBJECTS)} and {rng.choice(_SUBJECTS)}. "
        return ModelResponse(
            role="assistant",
            content=opening + _FILLER,
            input_tokens=600 + len(messages) * 50,
            output_tokens=180,
            total_tokens=780 + len(messages) * 50,
        )

    @staticmethod
    def _turn_start(messages: list[Message]) -> int:
        return max((index for index, message in enumerate(messages) if message.role == "user"), default=0)

    def _parse_provider_response(self, response: Any, **kwargs: Any) -> ModelResponse:
        return response

    def _parse_provider_response_delta(self, response: Any) -> ModelResponse:
        return response

    def invoke(self, messages: list[Message], *args: Any, **kwargs: Any) -> ModelResponse:
        return self._respond(messages)

    async def ainvoke(self, messages: list[Message], *args: Any, **kwargs: Any) -> ModelResponse:
        return self._respond(messages)

    def invoke_stream(self, messages: list[Message], *args: Any, **kwargs: Any) -> Iterator[ModelResponse]:
        yield self._respond(messages)

    async def ainvoke_stream(self, messages: list[Message], *args: Any, **kwargs: Any) -> AsyncIterator[ModelResponse]:
        yield self._respond(messages)


def agent(db: Any, run_label: str, session_id: str, user_id: str, seed: int = 0) -> Agent:
    """An agent as an application builds one: instructions and a tool. Without history in the
    context: agno would copy the history's messages into every run it stores, and how many is a
    setting (num_history_runs), not a property of the store."""
    return Agent(
        id="bench-agent",
        name="Bench agent",
        model=ToolCallingModel(tool_calls=TURN_RUNS[run_label][0], rows=TURN_RUNS[run_label][1], seed=seed),
        tools=[lookup_records],
        instructions="You are a careful assistant for a small company's back office. Use the tools.",
        db=db,
        session_id=session_id,
        user_id=user_id,
        telemetry=False,
    )


def question(turn: int) -> str:
    rng = random.Random(turn)
    return f"Turn {turn}: can you check {rng.choice(_SUBJECTS)} and tell me what changed since last time?"
