"""The agno scenarios of the e2e tests, run against the API's handlers in-process on DynamoDB Local.

They prove the adapter end to end (real client, real HTTP, real handlers, real agno components)
without starting the local runtime; tests/e2e runs the very same scenarios against it.
"""

from __future__ import annotations

import pytest

from tests.support import agno_scenarios

pytest_plugins = ["tests.support.fixtures"]

pytestmark = pytest.mark.usefixtures("no_agno_telemetry")


@pytest.mark.parametrize("kind", ["agent", "team", "workflow"])
def test_history_reaches_a_new_component(api_url, kind):
    agno_scenarios.assert_history_reaches_a_new_component(api_url, kind)


def test_same_calls_give_the_same_results_as_in_memory_db(api_url):
    agno_scenarios.assert_parity_with_in_memory_db(api_url)


def test_a_long_conversation_sends_one_run_per_turn(api_url):
    agno_scenarios.assert_one_run_sent_per_turn(api_url, turns=60)


def test_a_fresh_db_finds_a_run_by_id_as_sqlite_db_does(api_url, tmp_path):
    from agno.db.sqlite import SqliteDb

    from session_store_client.agno import SessionStoreDb
    from tests.support import agno_run_lookup

    sqlite_file = str(tmp_path / "agno.db")
    agno_run_lookup.assert_fresh_db_finds_runs_as_sqlite_does(
        lambda: SessionStoreDb(base_url=api_url), lambda: SqliteDb(db_file=sqlite_file)
    )


def test_a_fresh_async_db_finds_a_run_by_id(api_url):
    import asyncio

    from agno.run.agent import RunOutput

    from session_store_client.agno import AsyncSessionStoreDb, SessionStoreDb

    tag = agno_scenarios.fresh_tag()
    SessionStoreDb(base_url=api_url).upsert_run(
        RunOutput(run_id=f"run-{tag}", agent_id="a", session_id=f"s-{tag}", content="stored"), session_id=f"s-{tag}"
    )
    found = asyncio.run(AsyncSessionStoreDb(base_url=api_url).get_run(f"run-{tag}"))
    assert (found.session_id, found.content) == (f"s-{tag}", "stored")
    assert asyncio.run(AsyncSessionStoreDb(base_url=api_url).get_run(f"missing-{tag}")) is None


@pytest.mark.parametrize("adapter", ["sync", "async"])
def test_agentos_refuses_another_agents_run_in_a_fresh_app_as_with_sqlite(api_url, tmp_path, adapter):
    """AgentOS's run gate reads `db.get_run(run_id)` in a fresh app (tests/support/agentos_parity.py)."""
    from agno.db.sqlite import SqliteDb

    from session_store_client.agno import AsyncSessionStoreDb, SessionStoreDb
    from tests.support import agentos_parity

    sqlite_file = str(tmp_path / "agno.db")
    expected = agentos_parity.cancel_answers(lambda: SqliteDb(db_file=sqlite_file))
    adapter_class = SessionStoreDb if adapter == "sync" else AsyncSessionStoreDb
    ours = agentos_parity.cancel_answers(lambda: adapter_class(base_url=api_url))
    assert ours == expected
    assert expected["another agent's run"][0] == 404  # not vacuous: the run was found and refused
