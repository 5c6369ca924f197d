"""Record fidelity as properties: whatever JSON a client sends comes back equal."""

import json
import math
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import call, session_path

keys_strategy = st.text(min_size=0, max_size=12) | st.sampled_from(["a.b", "#", "$x", "with space", ""])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys_strategy, children, max_size=4),
    max_leaves=25,
)
json_objects = st.dictionaries(keys_strategy, json_values, max_size=5)


def same(a, b):
    """Equality that also tells 0.0 from -0.0 and 1 from 1.0 (JSON text keeps them apart)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def nested(depth):
    value = {"leaf": 0.1}
    for level in range(depth):
        value = {"level": level, "child": [value]}
    return value


def test_the_specified_edge_values_round_trip(table_name):
    data = {
        "floats": [0.1, 1e-300, -0.0, 5e-324, 1.7976931348623157e308, 123456.789e-3],
        "big": [2**53 + 1, -(2**63) - 7, 10**40],
        "unicode": "héllo wörld 🤖 \u2028 中文",
        "empty": ["", {}, []],
        "null": None,
        "odd keys": {"a.b": 1, "#c": 2, "$d": 3, "e f": 4, "": 5},
        "deep": nested(40),
    }
    run = {"run_id": "r1", **data}
    assert call("PUT", session_path("s1"), {"session_type": "agent", "session_data": data, "runs": [run]}).status == 201
    body = call("GET", session_path("s1")).json()
    assert same(body["session_data"], data) and same(body["runs"], [run])
    assert math.copysign(1, body["session_data"]["floats"][2]) == -1.0  # -0.0 stays negative


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session_data=json_objects, metadata=json_objects, run_payloads=st.lists(json_objects, max_size=4))
def test_any_json_round_trips(table_name, session_data, metadata, run_payloads):
    session_id = uuid.uuid4().hex
    runs = [{**payload, "run_id": f"run-{index}"} for index, payload in enumerate(run_payloads)]
    body = {"session_type": "agent", "session_data": session_data, "metadata": metadata, "runs": runs}
    assert call("PUT", session_path(session_id), body).status == 201
    stored = call("GET", session_path(session_id)).json()
    assert same(stored["session_data"], session_data)
    assert same(stored["metadata"], metadata)
    assert same(stored["runs"], runs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.integers(min_value=0, max_value=12), max_size=6), min_size=1, max_size=5))
def test_run_merge_keeps_first_write_order_and_latest_value(table_name, batches):
    """A model of the merge: order of first write, value of the last write, nothing lost."""
    session_id = uuid.uuid4().hex
    expected: dict[str, int] = {}
    for step, batch in enumerate(batches):
        runs = [{"run_id": f"r{number}", "step": step} for number in batch]
        for run in runs:
            expected.setdefault(run["run_id"], step)
            expected[run["run_id"]] = step
        body = {"session_type": "agent", "runs": runs} if step == 0 else {"runs": runs}
        assert call("PUT", session_path(session_id), body).status in (200, 201)
    stored = call("GET", session_path(session_id)).json()
    assert [(run["run_id"], run["step"]) for run in stored["runs"]] == list(expected.items())
    assert stored["run_count"] == len(expected)
