"""The agno scenarios of the e2e tests, run offline against the in-memory fake of the API.

They prove the adapter end to end (real client, real HTTP, real agno components) before the
local runtime exists; tests/e2e runs the very same scenarios against it.
"""

from __future__ import annotations

import pytest
from agno.db.in_memory import InMemoryDb

from session_store_client.agno import SessionStoreDb
from tests.support import agno_scenarios

pytest_plugins = ["tests.support.fixtures"]

pytestmark = pytest.mark.usefixtures("no_agno_telemetry")


@pytest.mark.parametrize("kind", ["agent", "team", "workflow"])
def test_history_reaches_a_new_component(fake_api_url, kind):
    agno_scenarios.assert_history_reaches_a_new_component(fake_api_url, kind)


def test_same_calls_give_the_same_results_as_in_memory_db(fake_api_url):
    tag = agno_scenarios.fresh_tag()
    expected = agno_scenarios.parity_observations(InMemoryDb(), tag)
    actual = agno_scenarios.parity_observations(SessionStoreDb(base_url=fake_api_url), tag)
    assert [label for label, _ in actual] == [label for label, _ in expected]
    for (label, theirs), (_, ours) in zip(expected, actual):
        assert ours == theirs, label


def test_a_long_conversation_sends_one_run_per_turn(fake_api_url):
    sent = agno_scenarios.runs_sent_per_turn(fake_api_url, turns=60)
    assert all(len(run_ids) == 1 for run_ids in sent), [len(run_ids) for run_ids in sent]
    assert len({run_id for run_ids in sent for run_id in run_ids}) == 60
