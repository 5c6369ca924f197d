"""The catalogue of bad input that test_errors.py does not cover, route by route: bodies over 6 MB,
out-of-range limits and timestamps, `#` in every id on every route, wrong JSON types everywhere,
unsupported precondition headers, and tampered cursors on both list routes. Every refusal is a
problem+json 4xx that changes nothing; no input yields a 5xx."""

import base64
import json

import pytest

from session_store import names, routes, wire
from tests.support.api import call, run_path, segment, session_path

AGENT = {"session_type": "agent", "agent_id": "agent-1", "user_id": "alice"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def assert_problem(response, *statuses):
    assert response.status in statuses, response.text
    assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == response.status
    assert "Traceback" not in response.text
    return problem


def snapshot(session_id="s1"):
    response = call("GET", session_path(session_id))
    return response.status, response.text


@pytest.fixture
def session(table_name):
    call("PUT", session_path("s1"), {**AGENT, "runs": [{"run_id": f"r{i}"} for i in range(3)]})
    return snapshot()


# --- bodies over 6 MB ----------------------------------------------------------------------------
OVER_LIMIT = wire.LAMBDA_PAYLOAD_BYTES + 1


@pytest.mark.parametrize(
    "method, path, headers",
    [
        ("PUT", session_path("s1"), {}),
        ("PUT", session_path("new"), {}),
        ("PATCH", session_path("s1"), MERGE_PATCH),
        ("PUT", run_path("s1", "big"), {}),
    ],
)
def test_a_body_over_6_mb_is_413_and_changes_nothing(session, method, path, headers):
    padding = "x" * (OVER_LIMIT - len('{"metadata":{"pad":""}}'))
    raw = json.dumps({"metadata": {"pad": padding}}, separators=(",", ":")).encode()
    assert len(raw) == OVER_LIMIT
    problem = assert_problem(call(method, path, raw_body=raw, headers=headers), 413)
    assert "6 MB" in problem["detail"]
    assert snapshot() == session
    assert call("GET", session_path("new")).status == 404


def test_multibyte_characters_count_as_bytes_toward_the_limit(session):
    # 1.6 M four-byte characters: under the limit in characters, over it in bytes.
    raw = json.dumps({"metadata": {"pad": "🤖" * 1_600_000}}, ensure_ascii=False).encode()
    assert len(raw.decode()) < wire.LAMBDA_PAYLOAD_BYTES < len(raw)
    assert_problem(call("PUT", session_path("s1"), raw_body=raw), 413)
    assert snapshot() == session


# --- out-of-range limits and timestamps --------------------------------------------------------
@pytest.mark.parametrize(
    "path, query",
    [
        ("/sessions", {"limit": 0}),
        ("/sessions", {"limit": 101}),
        ("/sessions", {"limit": -1}),
        ("/sessions", {"limit": 10**30}),
        ("/sessions", {"limit": "ten"}),
        ("/sessions", {"start_timestamp": -1}),
        ("/sessions", {"end_timestamp": 10_000_000_000}),
        ("/sessions", {"start_timestamp": 10**40}),
        ("/sessions", {"start_timestamp": "yesterday"}),
        ("/sessions", {"start_timestamp": 200, "end_timestamp": 100}),
        ("/sessions/s1/runs", {"limit": 0}),
        ("/sessions/s1/runs", {"limit": 101}),
        ("/sessions/s1/runs", {"limit": 1.5}),
        ("/sessions/s1", {"runs_limit": 0}),
        ("/sessions/s1", {"runs_limit": 10_001}),
        ("/sessions/s1", {"runs_limit": "all"}),
    ],
)
def test_out_of_range_limits_and_timestamps_are_422(session, path, query):
    assert_problem(call("GET", path, query=query), 422)


@pytest.mark.parametrize(
    "field, value",
    [
        ("created_at", -1),
        ("created_at", 10_000_000_000),
        ("created_at", 10**40),
        ("created_at", True),
        ("created_at", "2024-01-01"),
        ("expires_at", -1),
        ("expires_at", 10_000_000_000),
        ("expires_at", 1.0),
    ],
)
def test_out_of_range_timestamps_in_bodies_are_422(session, field, value):
    problem = assert_problem(call("PUT", session_path("s1"), {field: value}), 422)
    assert any(error["field"] == field for error in problem["errors"]), problem
    if field == "expires_at":
        assert_problem(call("PATCH", session_path("s1"), {field: value}, headers=MERGE_PATCH), 422)
    assert snapshot() == session


# --- `#` in every id on every route ----------------------------------------------------------------
# Unescaped, these would forge each other's keys (SESSION#a#b vs SESSION#a + #b, RUNID#...#b, ...).
HASHED_SESSIONS = ["a", "a#b", "a%23b", "a#RUN#b", "#"]
HASHED_RUNS = ["b", "#b", "b#", "RUN#b"]


def test_hash_in_every_id_on_every_route(table_name):
    for index, session_id in enumerate(HASHED_SESSIONS):
        body = {
            "session_type": "agent",
            "agent_id": f"agent#{index}",
            "user_id": f"user#{index}",
            "metadata": {"index": index},
        }
        assert call("PUT", session_path(session_id), body).status == 201
        for run_id in HASHED_RUNS:
            put = call("PUT", run_path(session_id, run_id), {"owner": session_id, "id": run_id})
            assert put.status == 201, put.text
    for index, session_id in enumerate(HASHED_SESSIONS):
        user, agent = f"user#{index}", f"agent#{index}"
        got = call("GET", session_path(session_id), query={"user_id": user}).json()
        assert got["session_id"] == session_id and got["metadata"] == {"index": index}
        assert [run["run_id"] for run in got["runs"]] == HASHED_RUNS
        assert all(run["owner"] == session_id for run in got["runs"])
        for run_id in HASHED_RUNS:
            run = call("GET", run_path(session_id, run_id), query={"user_id": user}).json()
            assert (run["owner"], run["id"]) == (session_id, run_id)
        page = call("GET", f"{session_path(session_id)}/runs", query={"user_id": user}).json()
        assert [run["owner"] for run in page["runs"]] == [session_id] * len(HASHED_RUNS)
        for query in (
            {"user_id": user},
            {"agent_id": agent},
            {"component_id": agent},
            {"user_id": user, "agent_id": agent},
        ):
            listed = call("GET", "/sessions", query=query).json()["sessions"]
            assert [s["session_id"] for s in listed] == [session_id], query
        patched = call(
            "PATCH",
            session_path(session_id),
            {"metadata": {"patched": True}},
            query={"user_id": user},
            headers=MERGE_PATCH,
        )
        assert patched.status == 200 and patched.json()["metadata"] == {"index": index, "patched": True}
    # Deleting one run and one session touches nothing of the others.
    assert call("DELETE", run_path("a#b", "#b"), query={"user_id": "user#1"}).status == 204
    assert call("DELETE", session_path("a%23b"), query={"user_id": "user#2"}).status == 204
    for session_id in HASHED_SESSIONS:
        response = call("GET", session_path(session_id))
        if session_id == "a%23b":
            assert response.status == 404
            continue
        expected = [r for r in HASHED_RUNS if (session_id, r) != ("a#b", "#b")]
        assert [run["run_id"] for run in response.json()["runs"]] == expected, session_id
        assert response.json()["run_count"] == len(expected)


# --- list queries: one model each, validated by Powertools -----------------------------------------
LIST_ROUTES = ["/sessions", "/sessions/s1/runs", "/memories"]


@pytest.mark.parametrize("path", LIST_ROUTES)
@pytest.mark.parametrize(
    "query, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": ["5", "6"]}, "limit"),
        ({"limit": ["5", "5"]}, "limit"),
        ({"cursor": ["a", "b"]}, "cursor"),
        ({"cursor": "c" * 2049}, "cursor"),
    ],
)
def test_a_bad_or_repeated_list_parameter_is_422_naming_it(session, path, query, field):
    problem = assert_problem(call("GET", path, query=query), 422)
    assert [(error["field"], error["location"]) for error in problem["errors"]] == [(field, "query")], problem


@pytest.mark.parametrize(
    "path, query, field",
    [
        ("/sessions", {"sort_order": ["asc", "desc"]}, "sort_order"),
        ("/sessions", {"include_runs": ["true", "true"]}, "include_runs"),
        ("/sessions/s1/runs", {"order": ["asc", "desc"]}, "order"),
        ("/memories", {"search": ["a", "b"]}, "search"),
        ("/sessions", {"agent_id": "a", "team_id": "t"}, "query"),  # a rule across fields
        ("/sessions", {"start_timestamp": 200, "end_timestamp": 100}, "query"),
    ],
)
def test_list_query_errors_name_the_parameter_or_the_query(session, path, query, field):
    problem = assert_problem(call("GET", path, query=query), 422)
    assert [(error["field"], error["location"]) for error in problem["errors"]] == [(field, "query")], problem


def test_a_list_parameter_may_repeat_and_unknown_parameters_are_ignored(session):
    call("PUT", "/memories/m1", {"memory": "x", "user_id": "alice", "topics": ["a", "b"]})
    listed = call("GET", "/memories", query={"topics": ["a", "b"], "unknown": ["1", "2"]})
    assert listed.status == 200 and [memory["memory_id"] for memory in listed.json()["memories"]] == ["m1"]
    for path in LIST_ROUTES:
        assert call("GET", path, query={"unknown": ["1", "2"], "limit": 1}).status == 200


# --- invalid ids in the path of every route --------------------------------------------------------
# Every path id is an Identifier (1 to 256 characters, no control characters) on every operation,
# reads and deletes included: one type on the handlers' path parameters, validated by Powertools.
ROUTES_WITH_IDS = [route for route in routes.ROUTES if route.path_parameters]
BAD_IDS = {"too long": "x" * 257, "a control character": "bad\u0000id"}
BODIES = {
    routes.PUT_SESSION: {"session_type": "agent"},
    routes.PATCH_SESSION: {"metadata": {}},
    routes.PUT_RUN: {},
    routes.PUT_MEMORY: {"memory": "m"},
}


def _path_with(route, bad_name, bad_value):
    path = route.path
    for name in route.path_parameters:
        path = path.replace("{" + name + "}", segment(bad_value if name == bad_name else "s1"))
    return path


@pytest.mark.parametrize("bad", BAD_IDS.values(), ids=BAD_IDS.keys())
@pytest.mark.parametrize(
    "route, name",
    # erasure_id is no client's id but the server's (at most 64 characters): an odd one is not found.
    [(route, name) for route in ROUTES_WITH_IDS for name in route.path_parameters if name != "erasure_id"],
    ids=lambda value: value.function if isinstance(value, routes.Route) else value,
)
def test_an_invalid_id_in_the_path_is_422_on_every_route(session, route, name, bad):
    headers = MERGE_PATCH if route.method == "PATCH" else None
    response = call(route.method, _path_with(route, name, bad), BODIES.get(route), headers=headers)
    problem = assert_problem(response, 422)
    assert problem["type"] == names.PROBLEM_TYPE_BASE + "validation-failed"
    assert {"field": name, "location": "path"} in [
        {"field": error["field"], "location": error["location"]} for error in problem["errors"]
    ], problem
    assert snapshot() == session


@pytest.mark.parametrize("odd", ["a#b", "%", "ünï 🤖"])
@pytest.mark.parametrize("route", ROUTES_WITH_IDS, ids=lambda route: route.function)
def test_any_other_character_in_a_path_id_is_served_never_a_5xx(session, route, odd):
    headers = MERGE_PATCH if route.method == "PATCH" else None
    path = route.path
    for name in route.path_parameters:
        path = path.replace("{" + name + "}", segment(odd))
    response = call(route.method, path, BODIES.get(route), headers=headers)
    assert response.status < 500, response.text
    problem = response.json() if response.status >= 400 else {}
    assert all(error["location"] != "path" for error in problem.get("errors") or []), response.text


# --- wrong JSON types on every route -------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path", [("PUT", "/sessions/s1"), ("PATCH", "/sessions/s1"), ("PUT", "/sessions/s1/runs/r9")]
)
@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b'{"metadata": "\xe9"}', b"\x8f\x00"])
def test_a_body_that_is_not_utf8_is_400(session, method, path, raw):
    # API Gateway hands such bodies over base64-encoded; decoding them must not be a 500.
    assert_problem(call(method, path, raw_body=raw, headers=MERGE_PATCH if method == "PATCH" else None), 400)
    assert snapshot() == session


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'"text"',
        b"42",
        b"null",
        b"true",
        b'{"session_type": 7}',
        b'[{"session_type": "agent"}]',
        b'[{"metadata": {}}]',
        b'{"session_type": "agent", "metadata": [1]}',
        b'{"session_type": "agent", "summary": "s"}',
        b'{"session_type": "agent", "agent_id": 5}',
        b'{"session_type": "agent", "runs": [[]]}',
        b'{"session_type": "agent", "runs": [{"run_id": null}]}',
        b'{"session_type": "agent", "runs": ["r1"]}',
    ],
)
def test_wrong_json_types_on_put_session(session, raw):
    assert_problem(call("PUT", session_path("s1"), raw_body=raw), 400, 422)
    assert_problem(call("PUT", session_path("new"), raw_body=raw), 400, 422)
    assert snapshot() == session and call("GET", session_path("new")).status == 404


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'"text"',
        b"42",
        b"null",
        b'{"metadata": [1]}',
        b'{"session_data": 3}',
        b'{"expires_at": "soon"}',
        b'{"runs": []}',
        b'{"user_id": "mallory"}',
    ],
)
def test_wrong_json_types_on_patch(session, raw):
    assert_problem(call("PATCH", session_path("s1"), raw_body=raw, headers=MERGE_PATCH), 400, 422)
    assert snapshot() == session


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'"text"',
        b"42",
        b"null",
        b"[{}]",
        b'[{"run_id": "r9"}]',
        b'{"run_id": 7}',
        b'{"run_id": "other"}',
        b'{"agent_id": "bad\\u0000id"}',
    ],
)
def test_wrong_json_types_on_put_run(session, raw):
    assert_problem(call("PUT", run_path("s1", "r9"), raw_body=raw), 400, 422)
    assert_problem(call("PUT", run_path("new", "r9"), raw_body=raw), 400, 422)
    assert snapshot() == session and call("GET", session_path("new")).status == 404


@pytest.mark.parametrize(
    "method, path, query",
    [
        ("GET", "/sessions/s1", {"include_runs": "maybe"}),
        ("GET", "/sessions/s1", {"session_type": "robot"}),
        ("GET", "/sessions/s1", {"user_id": "bad\x07id"}),
        ("GET", "/sessions", {"sort_by": "name"}),
        ("GET", "/sessions", {"sort_order": "sideways"}),
        ("GET", "/sessions", {"include_total": "perhaps"}),
        ("GET", "/sessions", {"agent_id": "a", "team_id": "t"}),
        ("GET", "/sessions", {"agent_id": "a", "session_type": "team"}),
        ("GET", "/sessions", {"session_name": "n" * 257}),
        ("GET", "/sessions/s1/runs", {"order": "random"}),
        ("GET", "/sessions/s1/runs/r0", {"user_id": "x" * 257}),
        ("DELETE", "/sessions/s1", {"user_id": ""}),
        ("DELETE", "/sessions/s1/runs/r0", {"user_id": "bad\x00id"}),
        ("PATCH", "/sessions/s1", {"user_id": "\x1b"}),
        ("PUT", "/sessions/s1/runs/r9", {"session_type": "robot"}),
    ],
)
def test_wrong_query_types_on_every_route(session, method, path, query):
    body = {"metadata": {}} if method in ("PATCH", "PUT") else None
    headers = MERGE_PATCH if method == "PATCH" else None
    assert_problem(call(method, path, body, query=query, headers=headers), 422)
    assert snapshot() == session


@pytest.mark.parametrize(
    "method, path",
    [
        ("PUT", "/sessions/s1"),
        ("PATCH", "/sessions/s1"),
        ("DELETE", "/sessions/s1"),
        ("PUT", "/sessions/s1/runs/r0"),
        ("DELETE", "/sessions/s1/runs/r0"),
    ],
)
@pytest.mark.parametrize("if_match", ['W/"1"', "*", '"1", "2"', "1", '"-1"', '"1e3"', '"' + "9" * 30 + '"', ""])
def test_if_match_other_than_one_strong_etag_is_412_on_every_write(session, method, path, if_match):
    # W/"1" would name the current version weakly: If-Match compares strongly (RFC 9110 13.1.1).
    body = {"metadata": {"x": 1}} if method in ("PUT", "PATCH") else None
    headers = {"If-Match": if_match, **(MERGE_PATCH if method == "PATCH" else {})}
    assert_problem(call(method, path, body, headers=headers), 412)
    assert snapshot() == session


@pytest.mark.parametrize("value", ['"1"', "W/*", "**", "abc"])
def test_if_none_match_other_than_star_is_400_not_ignored(session, value):
    problem = assert_problem(
        call("PUT", session_path("s1"), {"metadata": {"x": 1}}, headers={"If-None-Match": value}), 400
    )
    assert problem["errors"][0]["field"] == "if-none-match"
    assert snapshot() == session


# --- tampered cursors ------------------------------------------------------------------------------
def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def _tampered(cursor: str) -> list[str]:
    payload, signature = cursor.split(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps({"after": "9999999999#zzz"}).encode()).decode().rstrip("=")
    return [
        _flip(cursor, 0),  # payload
        _flip(cursor, len(cursor) - 2),  # signature
        payload,  # signature dropped
        f"{forged_payload}.{signature}",  # a chosen position under the old signature
        f"{payload}.{signature}.{signature}",
        "not-a-cursor",
        "",
        "%%%%.%%%%",
        cursor[::-1],
    ]


@pytest.fixture
def pages(table_name):
    for index in range(3):
        body = {**AGENT, "runs": [{"run_id": f"r{i}"} for i in range(3)]}
        call("PUT", session_path(f"s{index}"), body)
    sessions = call("GET", "/sessions", query={"user_id": "alice", "limit": 1}).json()["next_cursor"]
    runs = call("GET", "/sessions/s0/runs", query={"limit": 1}).json()["next_cursor"]
    assert sessions and runs
    return sessions, runs


def test_tampered_session_cursors_are_400(pages):
    sessions_cursor, runs_cursor = pages
    query = {"user_id": "alice", "limit": 1}
    assert call("GET", "/sessions", query={**query, "cursor": sessions_cursor}).status == 200
    for cursor in [*_tampered(sessions_cursor), runs_cursor]:
        if cursor == "":
            continue  # an empty cursor is no cursor: the first page
        assert_problem(call("GET", "/sessions", query={**query, "cursor": cursor}), 400)
    # A genuine cursor reused with other filters or order is refused too: it is bound to its query.
    for other in ({"agent_id": "agent-1"}, {"sort_order": "asc"}, {"sort_by": "created_at"}, {"user_id": "bob"}):
        assert_problem(call("GET", "/sessions", query={**query, **other, "cursor": sessions_cursor}), 400)


def test_tampered_run_cursors_are_400(pages):
    sessions_cursor, runs_cursor = pages
    assert call("GET", "/sessions/s0/runs", query={"limit": 1, "cursor": runs_cursor}).status == 200
    for cursor in [*_tampered(runs_cursor), sessions_cursor]:
        if cursor == "":
            continue
        assert_problem(call("GET", "/sessions/s0/runs", query={"limit": 1, "cursor": cursor}), 400)
    # Bound to its session and order: not valid for another session's runs or the other direction.
    assert_problem(call("GET", "/sessions/s1/runs", query={"limit": 1, "cursor": runs_cursor}), 400)
    assert_problem(call("GET", "/sessions/s0/runs", query={"limit": 1, "order": "desc", "cursor": runs_cursor}), 400)
