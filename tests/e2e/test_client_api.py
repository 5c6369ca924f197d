"""SessionStoreClient against the local runtime: odd ids, JSON fidelity, conditional writes, errors.

``local_api_url`` (tests/support/local_runtime_fixtures.py) is shared by many tests, so every id carries a fresh
tag and every list is filtered by a user of its own.
"""

from __future__ import annotations

import uuid

import pytest

from session_store_client import (
    Forbidden,
    PreconditionFailed,
    SessionNotFound,
    SessionStoreClient,
    ValidationFailed,
)
from tests.support.json_values import ODD_IDS, same_json

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(local_api_url) -> SessionStoreClient:
    return SessionStoreClient(local_api_url)


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:12]


@pytest.mark.parametrize("odd_id", list(ODD_IDS))
def test_odd_ids_round_trip(client, tag, odd_id):
    session_id, user_id = f"{odd_id}{tag}", f"user-{tag}"
    created = client.put_session(
        session_id, {"session_type": "agent", "user_id": user_id, "runs": [{"run_id": odd_id}]}
    )
    assert created.response_meta.created and created.response_meta.request_id
    assert client.get_session(session_id).session_id == session_id
    assert client.get_run(session_id, odd_id).run_id == odd_id
    assert [s.session_id for s in client.iter_sessions(user_id=user_id)] == [session_id]
    client.delete_run(session_id, odd_id)
    client.delete_session(session_id)
    with pytest.raises(SessionNotFound):
        client.get_session(session_id)


@pytest.mark.parametrize("dot_id", [".", ".."])
def test_dot_segment_ids_are_literal_ids(client, dot_id):
    # Untagged on purpose: only the exact ids "." and ".." are dot-segments.
    client.put_session(dot_id, {"session_type": "agent", "metadata": {"id": dot_id}})
    assert client.get_session(dot_id).metadata == {"id": dot_id}
    client.delete_session(dot_id)


def test_json_values_come_back_exactly(client, tag):
    deep: dict = {}
    cursor = deep
    for _ in range(40):
        cursor["level"] = {}
        cursor = cursor["level"]
    value = {
        "floats": [0.1, 1e-300, 5e-324, 1.7976931348623157e308],
        "ints": [2**53 + 1, -(2**63), 10**30],
        "keys": {"a.b": 1, "#": 2, "$x": 3, "with space": 4, "": 5},
        "empty": [{}, [], ""],
        "deep": deep,
        "unicode": "ü🙂",
    }
    session_id = f"fidelity-{tag}"
    client.put_session(session_id, {"session_type": "agent", "session_data": value, "runs": [{"run_id": "r", **value}]})
    read = client.get_session(session_id)
    assert same_json(read.session_data, value)
    assert same_json(read.runs[0].to_dict(), {"run_id": "r", **value})


def test_conditional_writes(client, tag):
    session_id = f"conditional-{tag}"
    first = client.put_session(session_id, {"session_type": "agent"})
    client.rename_session(session_id, "renamed", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        client.rename_session(session_id, "stale", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        client.put_session(session_id, {"session_type": "agent"}, create_only=True)
    assert client.get_session(session_id).session_data == {"session_name": "renamed"}


def test_errors_carry_problem_details(client, tag):
    with pytest.raises(ValidationFailed) as raised:
        client.put_session(f"untyped-{tag}", {"agent_id": "a"})
    assert any(error["field"] == "session_type" for error in raised.value.errors)
    assert raised.value.request_id

    client.put_session(f"owned-{tag}", {"session_type": "agent", "user_id": f"alice-{tag}"})
    with pytest.raises(Forbidden):
        client.put_session(f"owned-{tag}", {"user_id": f"bob-{tag}"})
    with pytest.raises(SessionNotFound):
        client.get_session(f"owned-{tag}", user_id=f"bob-{tag}")


def test_runs_page_in_first_write_order(client, tag):
    session_id, user_id = f"runs-{tag}", f"user-{tag}"
    client.put_session(session_id, {"session_type": "agent", "user_id": user_id, "runs": [{"run_id": "r"}]})
    for index in range(5):
        client.put_run(session_id, {"run_id": f"x{index}"})
    client.put_run(session_id, {"run_id": "x1", "replaced": True})
    assert [run.run_id for run in client.iter_runs(session_id, page_size=2)] == ["r", "x0", "x1", "x2", "x3", "x4"]
    assert [run.run_id for run in client.iter_runs(session_id, order="desc", page_size=4)][:2] == ["x4", "x3"]
    assert [run.run_id for run in client.get_session(session_id, runs_limit=2).runs] == ["x3", "x4"]
    assert client.get_run(session_id, "x1").to_dict() == {"run_id": "x1", "replaced": True}
    page = client.list_sessions(user_id=user_id, include_total=True)
    assert page.total == 1 and page.sessions[0].run_count == 6


# Characters JSON escapes (and the proxy JSON escapes again): a body under 6 MB may not fit once
# it is a string inside the Lambda event or result (issue 15).
ESCAPE_HEAVY = '"\\\n\x01\u00e9\U0001f916 '


@pytest.mark.parametrize("megabytes", [1, 3, 4.7, 5.9])
def test_an_escape_heavy_run_is_readable_through_every_route_or_refused_up_front(client, local_api_url, tag, megabytes):
    import json

    import requests

    from session_store_client import PayloadTooLarge

    content = ESCAPE_HEAVY * int(megabytes * 1024 * 1024 / len(json.dumps(ESCAPE_HEAVY, ensure_ascii=False)))
    for route in ("run", "session"):
        session_id = f"escapes-{route}-{tag}"
        run = {"run_id": "big", "content": content}
        try:
            if route == "run":
                assert client.put_run(session_id, run).content == content
            else:
                client.put_session(session_id, {"session_type": "agent", "runs": [run]})
        except PayloadTooLarge as refused:
            assert refused.status == 413
            assert requests.get(f"{local_api_url}/sessions/{session_id}", timeout=60).status_code == 404
            continue
        assert client.get_run(session_id, "big").content == content
        assert [r.content for r in client.iter_runs(session_id)] == [content]
        assert [r.content for r in client.get_session(session_id).runs] == [content]  # pages if it must
        whole = requests.get(f"{local_api_url}/sessions/{session_id}", timeout=60)
        assert whole.status_code in (200, 413), whole.text[:300]
        if whole.status_code == 413:
            assert "/runs" in whole.json()["detail"]
        one = requests.get(f"{local_api_url}/sessions/{session_id}/runs/big", timeout=60)
        assert one.status_code == 200 and one.json()["content"] == content
