"""What the client puts on the wire (paths, queries, headers, bodies) and what it gives back."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_store_client import PreconditionFailed, Run, Session, SessionStoreClient
from tests.support.json_values import ODD_IDS, same_json
from tests.support.scripted_server import Reply

pytest_plugins = ["tests.support.fixtures"]

SESSION = {"session_id": "x", "session_type": "agent", "version": 3}


@pytest.mark.parametrize("session_id, expected_path", ODD_IDS.items())
def test_ids_are_percent_encoded_as_one_segment(scripted, session_id, expected_path):
    client, server = scripted(Reply(200, SESSION), Reply(201, {"run_id": session_id}))
    client.get_session(session_id)
    client.put_run(session_id, {"run_id": session_id})
    assert server.requests[0].raw_path == expected_path
    assert server.requests[1].raw_path == f"{expected_path}/runs/{expected_path.removeprefix('/sessions/')}"


@pytest.mark.parametrize("session_id", ODD_IDS)
def test_odd_ids_round_trip_through_the_api(api_url, session_id):
    client = SessionStoreClient(api_url)
    client.put_session(session_id, {"session_type": "agent", "runs": [{"run_id": session_id}]})
    read = client.get_session(session_id)
    assert read.session_id == session_id
    assert client.get_run(session_id, session_id).run_id == session_id
    assert [s.session_id for s in client.iter_sessions()] == [session_id]


def test_query_values_are_encoded_for_sigv4(scripted):
    client, server = scripted(Reply(200, {"sessions": [], "next_cursor": None, "total": 0}))
    client.list_sessions(user_id="a b&c=d", session_name="ü", sort_by="created_at", limit=5, include_total=True)
    assert server.requests[0].query == (
        "user_id=a%20b%26c%3Dd&session_name=%C3%BC&sort_by=created_at&limit=5&include_total=true"
    )


def test_absent_parameters_are_left_out(scripted):
    client, server = scripted(Reply(200, SESSION))
    client.get_session("x")
    client.get_session("x", include_runs=False, runs_limit=3)
    assert server.requests[0].query == ""
    assert server.requests[1].query == "runs_limit=3&include_runs=false"


def test_conditional_and_idempotent_writes_send_their_headers(scripted):
    client, server = scripted(Reply(200, SESSION))
    client.put_session("x", {"session_type": "agent"}, create_only=True, idempotency_key="k-1")
    client.patch_session("x", {"session_data": {"session_name": None}}, if_match='"3"')
    client.delete_session("x", user_id="u", if_match='"4"')
    put, patch, delete = server.requests
    assert put.headers["If-None-Match"] == "*" and put.headers["Idempotency-Key"] == "k-1"
    assert "If-Match" not in put.headers
    assert patch.headers["If-Match"] == '"3"'
    assert patch.headers["Content-Type"] == "application/merge-patch+json"
    assert patch.json() == {"session_data": {"session_name": None}}
    assert delete.headers["If-Match"] == '"4"' and delete.query == "user_id=u"


def test_conditional_write_on_a_moved_version_fails(api_url):
    client = SessionStoreClient(api_url)
    first = client.put_session("x", {"session_type": "agent"})
    client.rename_session("x", "moved on", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        client.rename_session("x", "stale", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        client.put_session("x", {"session_type": "agent"}, create_only=True)
    assert client.get_session("x").session_data == {"session_name": "moved on"}


def test_put_reports_creation_etag_and_request_id(api_url):
    client = SessionStoreClient(api_url)
    created = client.put_session("x", {"session_type": "agent"})
    updated = client.put_session("x", {"metadata": {"k": 1}})
    assert created.response_meta.created and not updated.response_meta.created
    assert updated.response_meta.etag == '"2"' == updated.etag
    # The function's request id (one per invocation), as the API's response header carries it.
    ids = {created.response_meta.request_id, updated.response_meta.request_id}
    assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)
    run = client.put_run("x", {"run_id": "r1"})
    assert run.response_meta.created and run.response_meta.etag == '"3"'


def test_iterators_follow_cursors(api_url):
    client = SessionStoreClient(api_url)
    for index in range(7):
        client.put_session(f"s{index}", {"session_type": "agent", "created_at": 1000 + index, "user_id": "u"})
    client.put_session("s0", {"runs": [{"run_id": f"r{index}"} for index in range(5)]})
    ids = [s.session_id for s in client.iter_sessions(page_size=3, user_id="u", sort_by="created_at", sort_order="asc")]
    assert ids == [f"s{index}" for index in range(7)]
    assert [run.run_id for run in client.iter_runs("s0", page_size=2)] == ["r0", "r1", "r2", "r3", "r4"]
    assert [run.run_id for run in client.iter_runs("s0", order="desc", page_size=2)] == ["r4", "r3", "r2", "r1", "r0"]
    page = client.list_sessions(user_id="u", limit=2, include_total=True)
    assert page.total == 7 and len(page.sessions) == 2 and page.next_cursor


def test_runs_merge_by_run_id_in_first_write_order(api_url):
    client = SessionStoreClient(api_url)
    client.put_session("x", {"session_type": "agent", "runs": [{"run_id": "a", "v": 1}, {"run_id": "b", "v": 1}]})
    client.put_session("x", {"runs": [{"run_id": "c", "v": 1}, {"run_id": "a", "v": 2}]})
    assert [run.to_dict() for run in client.get_session("x").runs] == [
        {"run_id": "a", "v": 2},
        {"run_id": "b", "v": 1},
        {"run_id": "c", "v": 1},
    ]
    assert [run.run_id for run in client.get_session("x", runs_limit=2).runs] == ["b", "c"]


# --- Fidelity: JSON values come back exactly -----------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(value=json_values, key=st.text())
def test_models_keep_json_exactly(value, key):
    raw = {"session_id": "s", "session_data": {key: value}, "extra field": value, "runs": [{"run_id": "r", key: value}]}
    assert same_json(Session.model_validate(raw).to_dict(), raw)
    run = {"run_id": "r", "model_config": value}  # a key that is also a pydantic attribute name
    assert same_json(Run.model_validate(run).to_dict(), run)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_values_survive_the_wire(api_url, value):
    client = SessionStoreClient(api_url)
    record = {"session_type": "agent", "metadata": {"v": value}, "runs": [{"run_id": "r", "v": value}]}
    client.put_session("fidelity", record)
    read = client.get_session("fidelity")
    assert same_json(read.metadata, {"v": value})
    assert same_json(read.runs[0].to_dict(), {"run_id": "r", "v": value})


def test_edge_values_survive_the_wire(api_url):
    deep: dict = {}
    cursor = deep
    for _ in range(40):
        cursor["level"] = {}
        cursor = cursor["level"]
    value = {
        "floats": [0.1, 1e-300, 5e-324, 1.7976931348623157e308, -0.0],
        "ints": [2**53 + 1, -(2**63), 10**30],
        "keys": {"a.b": 1, "#": 2, "$x": 3, "with space": 4, "": 5},
        "empty": [{}, [], ""],
        "deep": deep,
        "unicode": "ü🙂\u2028",
    }
    client = SessionStoreClient(api_url)
    client.put_session("edge", {"session_type": "agent", "session_data": value, "runs": [{"run_id": "r", **value}]})
    read = client.get_session("edge")
    assert same_json(read.session_data, value)
    assert same_json(read.runs[0].to_dict(), {"run_id": "r", **value})


def test_values_json_cannot_spell_are_refused_before_sending(scripted):
    client, server = scripted(Reply(200, SESSION))
    with pytest.raises(ValueError):
        client.put_session("x", {"metadata": {"bad": float("nan")}})
    assert server.requests == []


def test_auth_must_be_iam_or_none():
    with pytest.raises(ValueError):
        SessionStoreClient("http://127.0.0.1:1", auth="basic")
