"""PUT / GET / PATCH / DELETE /sessions/{id} against DynamoDB Local, through the handlers."""

import time

from tests.support.api import call, session_path

AGENT = {"session_type": "agent", "agent_id": "agent-1", "user_id": "alice"}


def put(session_id, body, **kwargs):
    return call("PUT", session_path(session_id), body, **kwargs)


def get(session_id, **query):
    return call("GET", session_path(session_id), query=query or None)


def test_create_returns_201_then_update_200_with_absent_fields_kept(table_name):
    first = put("s1", {**AGENT, "session_data": {"session_name": "one"}, "metadata": {"k": 1}})
    assert first.status == 201
    assert "runs" not in first.json()
    second = put("s1", {"metadata": {"k": 2}})
    assert second.status == 200
    body = get("s1").json()
    assert body["session_data"] == {"session_name": "one"}
    assert body["metadata"] == {"k": 2}
    assert body["agent_id"] == "agent-1" and body["user_id"] == "alice"
    assert body["version"] == 2 and second.etag == '"2"'


def test_created_at_is_kept_on_create_and_never_changes_after(table_name):
    put("s1", {**AGENT, "created_at": 1_000})
    put("s1", {"created_at": 2_000, "metadata": {}})
    body = get("s1").json()
    assert body["created_at"] == 1_000
    assert body["updated_at"] >= int(time.time()) - 5


def test_created_at_defaults_to_the_server_clock(table_name):
    before = int(time.time())
    body = put("s1", AGENT).json()
    assert before <= body["created_at"] <= int(time.time())


def test_session_type_is_required_on_create(table_name):
    response = put("s1", {"agent_id": "a"})
    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "session_type"
    assert get("s1").status == 404


def test_body_session_id_must_equal_the_path(table_name):
    response = put("s1", {**AGENT, "session_id": "other"})
    assert response.status == 422
    assert get("s1").status == 404


def test_runs_merge_by_run_id_new_appended_known_replaced_in_place_others_kept(table_name):
    put("s1", {**AGENT, "runs": [{"run_id": "a", "v": 1}, {"run_id": "b", "v": 1}, {"run_id": "c", "v": 1}]})
    put("s1", {"runs": [{"run_id": "d", "v": 1}, {"run_id": "b", "v": 2}]})
    body = get("s1").json()
    assert body["runs"] == [
        {"run_id": "a", "v": 1},
        {"run_id": "b", "v": 2},
        {"run_id": "c", "v": 1},
        {"run_id": "d", "v": 1},
    ]
    assert body["run_count"] == 4


def test_runs_limit_returns_the_newest_n_in_chronological_order(table_name):
    put("s1", {**AGENT, "runs": [{"run_id": f"r{i}"} for i in range(10)]})
    body = get("s1", runs_limit=3).json()
    assert [run["run_id"] for run in body["runs"]] == ["r7", "r8", "r9"]
    assert "runs" not in get("s1", include_runs="false").json()


def test_user_and_type_filters_on_get_hide_other_sessions(table_name):
    put("s1", AGENT)
    assert get("s1", user_id="alice").status == 200
    assert get("s1", user_id="mallory").status == 404
    assert get("s1", session_type="team").status == 404
    assert get("s1", session_type="agent").status == 200


def test_write_naming_another_owner_is_403_and_changes_nothing(table_name):
    put("s1", {**AGENT, "metadata": {"v": 1}})
    refused = put("s1", {"user_id": "mallory", "metadata": {"v": 2}})
    assert refused.status == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert get("s1").json()["metadata"] == {"v": 1}


def test_delete_then_get_is_404_and_recreate_starts_empty(table_name):
    put("s1", {**AGENT, "runs": [{"run_id": "old"}]})
    assert call("DELETE", session_path("s1"), query={"user_id": "mallory"}).status == 404
    assert call("DELETE", session_path("s1")).status == 204
    assert get("s1").status == 404
    assert call("DELETE", session_path("s1")).status == 404
    recreated = put("s1", {**AGENT, "runs": [{"run_id": "new"}]})
    assert recreated.status == 201
    assert [run["run_id"] for run in get("s1").json()["runs"]] == ["new"]


def test_patch_is_a_json_merge_patch_of_object_fields(table_name):
    put("s1", {**AGENT, "session_data": {"session_name": "old", "session_state": {"a": 1, "b": 2}}})
    response = call(
        "PATCH",
        session_path("s1"),
        {"session_data": {"session_name": "new", "session_state": {"b": None, "c": 3}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status == 200, response.text
    assert get("s1").json()["session_data"] == {"session_name": "new", "session_state": {"a": 1, "c": 3}}


def test_if_match_and_if_none_match(table_name):
    created = put("s1", AGENT)
    assert put("s1", AGENT, headers={"If-None-Match": "*"}).status == 412
    assert put("s1", {"metadata": {"x": 1}}, headers={"If-Match": '"99"'}).status == 412
    assert get("s1").json()["metadata"] is None
    ok = put("s1", {"metadata": {"x": 1}}, headers={"If-Match": created.etag})
    assert ok.status == 200 and ok.etag == '"2"'
    assert call("DELETE", session_path("s1"), headers={"If-Match": '"1"'}).status == 412
    assert call("DELETE", session_path("s1"), headers={"If-Match": '"2"'}).status == 204


def test_every_response_carries_a_request_id(table_name):
    for response in (put("s1", AGENT), get("s1"), get("missing"), put("s1", {"session_type": "bogus"})):
        assert response.headers.get("X-Request-Id")
