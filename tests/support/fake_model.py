"""An offline agno model for tests: canned replies, and a record of every message list it was sent.

agno's ``Model`` declares six abstract methods (sync and async, plain and streaming invocation,
and the two provider-response parsers); this model implements all of them without a network.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from agno.models.base import Model
from agno.models.message import Message
from agno.models.response import ModelResponse


@dataclass
class SentMessage:
    role: str
    content: Any


@dataclass
class FakeModel(Model):
    id: str = "fake-model"
    name: str | None = "FakeModel"
    provider: str | None = "Fake"
    # Replies are served in order; the last one repeats once the list is exhausted.
    replies: list[str] = field(default_factory=lambda: ["OK"])
    # One entry per invocation: the messages the model was sent, in order.
    calls: list[list[SentMessage]] = field(default_factory=list)

    def _next_reply(self, messages: list[Message]) -> str:
        self.calls.append([SentMessage(role=m.role, content=m.content) for m in messages])
        return self.replies[min(len(self.calls), len(self.replies)) - 1]

    def _parse_provider_response(self, response: Any, **kwargs) -> ModelResponse:
        return ModelResponse(role="assistant", content=response)

    def _parse_provider_response_delta(self, response: Any) -> ModelResponse:
        return ModelResponse(role="assistant", content=response)

    def invoke(self, messages: list[Message], *args, **kwargs) -> ModelResponse:
        return self._parse_provider_response(self._next_reply(messages))

    async def ainvoke(self, messages: list[Message], *args, **kwargs) -> ModelResponse:
        return self.invoke(messages)

    def invoke_stream(self, messages: list[Message], *args, **kwargs) -> Iterator[ModelResponse]:
        yield self._parse_provider_response_delta(self._next_reply(messages))

    async def ainvoke_stream(self, messages: list[Message], *args, **kwargs) -> AsyncIterator[ModelResponse]:
        yield self._parse_provider_response_delta(self._next_reply(messages))

    def texts_sent(self, call_index: int = -1) -> list[str]:
        """The text content of every message of one invocation (the last by default)."""
        return [str(m.content) for m in self.calls[call_index] if m.content is not None]


@dataclass
class MemoryWritingModel(FakeModel):
    """A FakeModel that, offered agno's memory tools, first calls ``add_memory`` with each of
    ``memories`` (text, topics), then answers with its replies as FakeModel does."""

    memories: list[Any] = field(default_factory=lambda: [("The user's name is Alice", ["name"])])

    def invoke(self, messages: list[Message], *args, **kwargs) -> ModelResponse:
        tools = kwargs.get("tools") or []
        offered = {(tool.get("function") or {}).get("name") for tool in tools if isinstance(tool, dict)}
        first_step = not any(m.role == "tool" for m in messages)
        if "update_user_memory" in offered and first_step:  # agentic memory: delegate the task
            self.calls.append([SentMessage(role=m.role, content=m.content) for m in messages])
            arguments = json.dumps({"task": "remember: " + "; ".join(text for text, _ in self.memories)})
            return ModelResponse(
                role="assistant",
                tool_calls=[
                    {
                        "id": "call-task",
                        "type": "function",
                        "function": {"name": "update_user_memory", "arguments": arguments},
                    }
                ],
            )
        if "add_memory" in offered and first_step:
            self.calls.append([SentMessage(role=m.role, content=m.content) for m in messages])
            calls = [
                {
                    "id": f"call-{index}",
                    "type": "function",
                    "function": {"name": "add_memory", "arguments": json.dumps({"memory": text, "topics": topics})},
                }
                for index, (text, topics) in enumerate(self.memories)
            ]
            return ModelResponse(role="assistant", tool_calls=calls)
        return super().invoke(messages, *args, **kwargs)

    async def ainvoke(self, messages: list[Message], *args, **kwargs) -> ModelResponse:
        return self.invoke(messages, *args, **kwargs)
