"""AsyncSessionStoreClient against the local runtime: the sync client's answers, awaited."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from session_store_client import AsyncSessionStoreClient, MemoryNotFound, SessionNotFound, SessionStoreClient
from tests.support.json_values import ODD_IDS

pytestmark = pytest.mark.e2e


def test_every_route_answers_as_the_sync_client(local_api_url):
    sync = SessionStoreClient(local_api_url)
    prefix = uuid.uuid4().hex[:8]

    async def scenario():
        async with AsyncSessionStoreClient(local_api_url) as client:
            for odd in ODD_IDS:
                session_id = f"{prefix}{odd}"
                created = await client.put_session(
                    session_id, {"session_type": "agent", "user_id": prefix, "runs": [{"run_id": odd, "x": 0.1}]}
                )
                assert created.response_meta.created
                assert (await client.get_session(session_id)).to_dict() == sync.get_session(session_id).to_dict()
                assert (await client.get_run(session_id, odd)).to_dict() == {"run_id": odd, "x": 0.1}
            listed = [s.session_id async for s in client.iter_sessions(user_id=prefix, page_size=2)]
            assert listed == [s.session_id for s in sync.iter_sessions(user_id=prefix)]
            renamed = await client.rename_session(f"{prefix}{next(iter(ODD_IDS))}", "named")
            assert renamed.session_data == {"session_name": "named"}
            memory = await client.put_memory(f"{prefix}-m", {"memory": "likes tea", "user_id": prefix})
            assert memory.to_dict() == sync.get_memory(f"{prefix}-m").to_dict()
            assert await client.memory_topics(user_id=prefix) == []
            assert await client.delete_memories([f"{prefix}-m"]) == [f"{prefix}-m"]
            with pytest.raises(MemoryNotFound):
                await client.get_memory(f"{prefix}-m")
            with pytest.raises(SessionNotFound):
                await client.get_session(f"{prefix}-missing")
            # Concurrent requests share the pool.
            results = await asyncio.gather(
                *(client.get_session(f"{prefix}{odd}", include_runs=False) for odd in ODD_IDS)
            )
            assert len(results) == len(ODD_IDS)

    asyncio.run(scenario())
