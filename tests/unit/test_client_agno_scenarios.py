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
