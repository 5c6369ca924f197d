"""SessionStoreDb on the local runtime answers the same BaseDb calls as agno's InMemoryDb, and a
long conversation writes O(1) runs per turn."""

from __future__ import annotations

import pytest

from tests.support import agno_scenarios

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _no_agno_telemetry(monkeypatch):
    monkeypatch.setenv("AGNO_TELEMETRY", "false")


def test_same_calls_give_the_same_results_as_in_memory_db(local_api_url):
    """Records, order, filters, pagination and totals, call by call (see parity_observations)."""
    agno_scenarios.assert_parity_with_in_memory_db(local_api_url)


def test_a_200_turn_conversation_sends_one_run_per_turn(local_api_url):
    agno_scenarios.assert_one_run_sent_per_turn(local_api_url, turns=200)


def test_a_fresh_db_finds_a_run_by_id_as_sqlite_db_does(local_api_url, tmp_path):
    from agno.db.sqlite import SqliteDb

    from session_store_client.agno import SessionStoreDb
    from tests.support import agno_run_lookup

    sqlite_file = str(tmp_path / "agno.db")
    agno_run_lookup.assert_fresh_db_finds_runs_as_sqlite_does(
        lambda: SessionStoreDb(base_url=local_api_url), lambda: SqliteDb(db_file=sqlite_file)
    )
