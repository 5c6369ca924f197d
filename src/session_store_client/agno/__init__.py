"""agno integration: ``Agent(db=SessionStoreDb(base_url=...))`` or, for asyncio applications and
AgentOS, ``AsyncSessionStoreDb``. Needs the ``agno`` extra."""

from session_store_client.agno.agentos import without_unserved_domains
from session_store_client.agno.async_db import AsyncSessionStoreDb
from session_store_client.agno.db import SessionStoreDb
from session_store_client.agno.fallback import FallbackRequired

__all__ = ["AsyncSessionStoreDb", "FallbackRequired", "SessionStoreDb", "without_unserved_domains"]
