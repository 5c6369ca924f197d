"""agno's `db.get_run(run_id)` (no session named) from a process that never saw the run, on
SessionStoreDb and on agno's SqliteDb: real Agent, Team and Workflow turns written through one db
object, then read back through a fresh one (a second AgentOS replica, a restart).

Shared by the offline tests (the handlers in-process) and the e2e tests (the local runtime).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agno.db.base import BaseDb

from tests.support.agentos_parity import normalized
from tests.support.agno_scenarios import COMPONENT_BUILDERS, fresh_tag
from tests.support.fake_model import FakeModel

# The components are built without ids: agno names each at random, in each scenario differently.
_COMPONENT_IDS = ("agent_id", "team_id", "workflow_id")


def _normalized(run: Any) -> Any:
    """A run with what differs between two runs of one scenario masked: minted ids, clock times."""
    if run is None:
        return None
    value = run.to_dict()
    return normalized({key: "<component>" if key in _COMPONENT_IDS else item for key, item in value.items()})


def run_lookup_observations(writer: BaseDb, reader: Callable[[], BaseDb], tag: str) -> list[tuple[str, Any]]:
    """Turns written through `writer`; what fresh dbs from `reader()` answer for each run id."""
    run_ids: dict[str, str] = {}
    for kind, build in COMPONENT_BUILDERS.items():
        component = build(writer, f"{kind}-{tag}", FakeModel(replies=[f"{kind} answer"]))
        output = component.run(f"hello {kind}", user_id=f"user-{tag}")
        run_ids[kind] = output.run_id
    observed: list[tuple[str, Any]] = []
    for kind, run_id in run_ids.items():
        found = reader().get_run(run_id)
        observed.append((f"{kind} run from a fresh db", _normalized(found)))
        observed.append((f"{kind} run's type", type(found).__name__))
    observed.append(("missing run", reader().get_run(f"missing-{tag}")))
    # A deleted session's runs are gone for every process.
    writer.delete_session(f"agent-{tag}")
    observed.append(("run of a deleted session", reader().get_run(run_ids["agent"])))
    observed.append(("run of a session still there", _normalized(reader().get_run(run_ids["team"]))))
    return observed


def _differences(ours: Any, theirs: Any) -> Any:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return {
            key: (ours.get(key, "<absent>"), theirs.get(key, "<absent>"))
            for key in ours.keys() | theirs.keys()
            if ours.get(key, "<absent>") != theirs.get(key, "<absent>")
        }
    return ours, theirs


def assert_fresh_db_finds_runs_as_sqlite_does(
    make_ours: Callable[[], BaseDb], make_sqlite: Callable[[], BaseDb]
) -> None:
    tag = fresh_tag()
    expected = run_lookup_observations(make_sqlite(), make_sqlite, tag)
    actual = run_lookup_observations(make_ours(), make_ours, tag)
    assert [label for label, _ in actual] == [label for label, _ in expected]
    for (label, theirs), (_, ours) in zip(expected, actual, strict=True):
        assert ours == theirs, (label, _differences(ours, theirs))
    # Not vacuous: the runs were found, with their content.
    found = dict(actual)
    assert found["agent run from a fresh db"]["content"] == "agent answer"
    assert found["run of a deleted session"] is None
