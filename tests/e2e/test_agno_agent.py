"""agno components keep their history in the local runtime through SessionStoreDb.

``local_api_url`` (tests/support/local_runtime_fixtures.py) starts the local runtime. The scenarios live in
tests/support/agno_scenarios.py and also run offline against a fake of the API.
"""

from __future__ import annotations

import pytest

from tests.support import agno_scenarios

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _no_agno_telemetry(monkeypatch):
    monkeypatch.setenv("AGNO_TELEMETRY", "false")


@pytest.mark.parametrize("kind", ["agent", "team", "workflow"])
def test_history_reaches_a_new_component(local_api_url, kind):
    """A first component runs "My name is Alice"; a new one on the same session sends the model a
    history holding it, and get_session() returns both stored runs."""
    agno_scenarios.assert_history_reaches_a_new_component(local_api_url, kind)
