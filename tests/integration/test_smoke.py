from tests.support.api import call, run_path, session_path


def test_put_then_get_round_trips(table_name):
    record = {
        "session_type": "agent",
        "agent_id": "a1",
        "user_id": "u1",
        "session_data": {"x": 0.1},
        "runs": [{"run_id": "r1", "content": "hi"}],
    }
    created = call("PUT", session_path("s#1"), record)
    assert created.status == 201, created.text
    got = call("GET", session_path("s#1"))
    assert got.status == 200, got.text
    body = got.json()
    assert body["runs"] == [{"run_id": "r1", "content": "hi"}]
    assert body["session_data"] == {"x": 0.1}
    assert got.etag == '"1"'
    listed = call("GET", "/sessions", query={"user_id": "u1"})
    assert listed.status == 200, listed.text
    assert [s["session_id"] for s in listed.json()["sessions"]] == ["s#1"]
    run = call("PUT", run_path("s#1", "r2"), {"content": "second"})
    assert run.status == 201, run.text
    assert [r["run_id"] for r in call("GET", session_path("s#1")).json()["runs"]] == ["r1", "r2"]


def test_the_no_scan_guard_is_armed(table_name):
    import pytest

    from session_store import runtime
    from tests.conftest import ScanOnRequestPath

    with pytest.raises(ScanOnRequestPath):
        runtime.repository()._client.scan(TableName=table_name)
