"""The agno scenarios of the e2e tests, run offline against the in-memory fake of the API.

They prove the adapter end to end (real client, real HTTP, real agno components) before the
local runtime exists; tests/e2e runs the very same scenarios against it.
"""

from __future__ import annotations

import pytest
from tests.support import agno_scenarios

pytest_plugins = ["tests.support.fixtures"]

pytestmark = pytest.mark.usefixtures("no_agno_telemetry")


@pytest.mark.parametrize("kind", ["agent", "team", "workflow"])
def test_history_reaches_a_new_component(fake_api_url, kind):
    agno_scenarios.assert_history_reaches_a_new_component(fake_api_url, kind)


def test_same_calls_give_the_same_results_as_in_memory_db(fake_api_url):
    agno_scenarios.assert_parity_with_in_memory_db(fake_api_url)


def test_a_long_conversation_sends_one_run_per_turn(fake_api_url):
    agno_scenarios.assert_one_run_sent_per_turn(fake_api_url, turns=60)
