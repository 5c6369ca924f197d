"""SessionStoreDb on the local runtime answers the same BaseDb calls as agno's InMemoryDb, and a
long conversation writes O(1) runs per turn."""

from __future__ import annotations

import pytest
from agno.db.in_memory import InMemoryDb

from session_store_client.agno import SessionStoreDb
from tests.support import agno_scenarios

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _no_agno_telemetry(monkeypatch):
    monkeypatch.setenv("AGNO_TELEMETRY", "false")


def test_same_calls_give_the_same_results_as_in_memory_db(local_api_url):
    """Records, order, filters, pagination and totals, call by call (see parity_observations)."""
    tag = agno_scenarios.fresh_tag()
    expected = agno_scenarios.parity_observations(InMemoryDb(), tag)
    actual = agno_scenarios.parity_observations(SessionStoreDb(base_url=local_api_url), tag)
    assert [label for label, _ in actual] == [label for label, _ in expected]
    for (label, theirs), (_, ours) in zip(expected, actual):
        assert ours == theirs, label


def test_a_200_turn_conversation_sends_one_run_per_turn(local_api_url):
    sent = agno_scenarios.runs_sent_per_turn(local_api_url, turns=200)
    assert all(len(run_ids) == 1 for run_ids in sent), [len(run_ids) for run_ids in sent]
    assert len({run_id for run_ids in sent for run_id in run_ids}) == 200
