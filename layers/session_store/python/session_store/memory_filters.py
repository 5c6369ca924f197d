"""Which memories a list or search query selects: agno's SQL filters, applied to the memories the
index queries return (memories.py)."""

from __future__ import annotations

from typing import Any

from session_store import codec
from session_store.memory_items import StoredMemory
from session_store.memory_models import MemoryListQuery
from session_store.retention import is_expired


def _text(value: Any) -> str:
    """What a search looks in: the memory's text (or the JSON of a structured memory)."""
    return value if isinstance(value, str) else codec.dumps(value)


def matches(memory: StoredMemory, query: MemoryListQuery, now: int) -> bool:
    """agno's SQL filters: equal ids; every topic present (compared as SQL LIKE does, ignoring
    case); the search text anywhere in the memory, ignoring case."""
    record = memory.record
    if is_expired(memory.expires_at, now):
        return False
    if query.user_id is not None and record.get("user_id") != query.user_id:
        return False
    if query.agent_id is not None and record.get("agent_id") != query.agent_id:
        return False
    if query.team_id is not None and record.get("team_id") != query.team_id:
        return False
    if query.topics:
        stored = {topic.casefold() for topic in record.get("topics") or [] if isinstance(topic, str)}
        if any(topic.casefold() not in stored for topic in query.topics):
            return False
    if query.search is not None:
        return query.search.casefold() in _text(record.get("memory")).casefold()
    return True
