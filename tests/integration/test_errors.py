"""A test per error status, and the catalogue of bad input: problem+json, nothing changed, no 500."""

import pytest

from session_store import codec
from tests.support.api import call, run_path, session_path

AGENT = {"session_type": "agent"}


def assert_problem(response, status):
    assert response.status == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == status
    assert "Traceback" not in response.text
    return problem


def test_malformed_json_is_400(table_name):
    assert_problem(call("PUT", session_path("s1"), raw_body=b'{"session_type": "agent",'), 400)
    assert call("GET", session_path("s1")).status == 404


@pytest.mark.parametrize(
    "raw",
    [
        b"NaN",
        b'{"session_type":"agent","metadata":{"x":1e999}}',
        b'{"session_type":"agent","metadata":{"x":' + b"9" * 5000 + b"}}",
    ],
)
def test_json_outside_what_round_trips_is_refused(table_name, raw):
    assert call("PUT", session_path("s1"), raw_body=raw).status in (400, 422)
    assert call("GET", session_path("s1")).status == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"session_type": "robot"}, "session_type"),
        ({"session_type": "agent", "session_data": "text"}, "session_data"),
        ({"session_type": "agent", "runs": {"run_id": "x"}}, "runs"),
        ({"session_type": "agent", "runs": [{"no_id": 1}]}, "runs.0"),
        ({"session_type": "agent", "runs": [{"run_id": 7}]}, "runs.0"),
        ({"session_type": "agent", "created_at": "yesterday"}, "created_at"),
        ({"session_type": "agent", "created_at": 1.5}, "created_at"),
        ({"session_type": "agent", "expires_at": -5}, "expires_at"),
        ({"session_type": "agent", "user_id": "bad\u0000id"}, "user_id"),
        ({"session_type": "agent", "user_id": "x" * 257}, "user_id"),
        ({"session_type": "agent", "unknown_field": 1}, "unknown_field"),
        ([1, 2, 3], None),
    ],
)
def test_wrong_types_are_422_naming_the_field(table_name, body, field):
    problem = assert_problem(call("PUT", session_path("s1"), body), 422)
    if field:
        assert any(error["field"] == field for error in problem["errors"]), problem["errors"]
    assert call("GET", session_path("s1")).status == 404


@pytest.mark.parametrize("session_id", ["bad\u0007id", "x" * 257])
def test_invalid_ids_in_the_path_are_422(table_name, session_id):
    assert_problem(call("PUT", session_path(session_id), AGENT), 422)
    assert_problem(call("PUT", run_path("ok", session_id), {}), 422)


def test_hash_and_odd_characters_in_every_id_never_collide(table_name):
    odd = ["a#b", "a", "a%23b", "#", "%", "a b/c?d", "ünï 🤖", "RUN#x", "META"]
    for index, session_id in enumerate(odd):
        body = {
            **AGENT,
            "user_id": f"u#{index}",
            "agent_id": session_id,
            "runs": [{"run_id": run_id, "n": index} for run_id in odd],
        }
        assert call("PUT", session_path(session_id), body).status == 201
    for index, session_id in enumerate(odd):
        body = call("GET", session_path(session_id)).json()
        assert body["session_id"] == session_id and body["user_id"] == f"u#{index}"
        assert [run["run_id"] for run in body["runs"]] == odd
        assert all(run["n"] == index for run in body["runs"])
        listed = call("GET", "/sessions", query={"agent_id": session_id}).json()["sessions"]
        assert [s["session_id"] for s in listed] == [session_id]
        assert call("GET", run_path(session_id, "a#b")).json()["n"] == index


def test_404_403_412_problems(table_name):
    assert_problem(call("GET", session_path("nope")), 404)
    call("PUT", session_path("s1"), {**AGENT, "user_id": "owner"})
    assert_problem(call("PUT", session_path("s1"), {"user_id": "intruder"}), 403)
    assert_problem(call("PUT", session_path("s1"), {}, headers={"If-Match": '"7"'}), 412)
    assert_problem(call("PUT", session_path("s1"), {}, headers={"If-Match": "garbage"}), 412)


def test_a_run_too_large_for_an_item_without_a_bucket_is_413_and_nothing_is_written(table_name):
    import os

    huge = {"run_id": "big", "blob": os.urandom(600_000).hex()}  # incompressible, > 380 KB gzipped
    problem = assert_problem(call("PUT", session_path("s1"), {**AGENT, "runs": [huge]}), 413)
    assert "big" in problem["detail"]
    assert call("GET", session_path("s1")).status == 404


def test_unsupported_content_type_is_415(table_name):
    response = call("PUT", session_path("s1"), AGENT, headers={"Content-Type": "text/plain"})
    assert_problem(response, 415)


def test_merge_patch_with_bad_body(table_name):
    call("PUT", session_path("s1"), AGENT)
    assert_problem(call("PATCH", session_path("s1"), raw_body=b"{oops"), 400)
    assert_problem(call("PATCH", session_path("s1"), {"session_data": 5}), 422)
    assert_problem(call("PATCH", session_path("missing"), {"metadata": {}}), 404)


def test_codec_refuses_non_json_numbers():
    with pytest.raises(ValueError):
        codec.loads("Infinity")


def test_the_longest_ids_of_the_widest_characters_fit_every_key(table_name):
    """256 four-byte characters escape to 1,024 bytes: more than a sort key holds beside a prefix."""
    widest = "🤖" * 256
    body = {**AGENT, "user_id": widest, "agent_id": widest, "runs": [{"run_id": widest, "n": 1}]}
    assert call("PUT", session_path(widest), body).status == 201
    assert call("GET", run_path(widest, widest)).json() == {"run_id": widest, "n": 1}
    listed = call("GET", "/sessions", query={"user_id": widest, "agent_id": widest}).json()["sessions"]
    assert [s["session_id"] for s in listed] == [widest]
