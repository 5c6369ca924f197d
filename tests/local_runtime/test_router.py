"""Route matching as API Gateway REST does it: on encoded segments, literals first."""

from __future__ import annotations

import pytest

from local_runtime.router import PathDecodeError, Router
from local_runtime.stack import ApiMethod

ROUTER = Router(
    [
        ApiMethod("GET", "/", "Root"),
        ApiMethod("GET", "/sessions", "List"),
        ApiMethod("PUT", "/sessions/{session_id}", "PutSession"),
        ApiMethod("GET", "/sessions/{session_id}", "GetSession"),
        ApiMethod("GET", "/sessions/special", "Special"),
        ApiMethod("GET", "/sessions/{session_id}/runs/{run_id}", "GetRun"),
        ApiMethod("GET", "/sessions/special/stats", "Stats"),
        ApiMethod("ANY", "/files/{path+}", "Files"),
    ]
)


def route(method: str, path: str):
    match = ROUTER.match(method, path)
    return None if match is None else (match.method.function_id, match.resource_path, match.path_parameters)


def test_an_encoded_slash_stays_inside_one_segment():
    assert route("GET", "/sessions/a%2Fb/runs/r%2F1") == (
        "GetRun",
        "/sessions/{session_id}/runs/{run_id}",
        {"session_id": "a/b", "run_id": "r/1"},
    )
    assert route("GET", "/sessions/a/b") is None


def test_parameters_are_decoded_as_utf8():
    assert route("PUT", "/sessions/%23hash%20space%E2%82%AC%25") == (
        "PutSession",
        "/sessions/{session_id}",
        {"session_id": "#hash space€%"},
    )


def test_literal_segments_win_over_parameters():
    assert route("GET", "/sessions/special") == ("Special", "/sessions/special", None)
    assert route("GET", "/sessions/other") == ("GetSession", "/sessions/{session_id}", {"session_id": "other"})


def test_the_resource_is_chosen_before_the_method():
    # /sessions/special exists without PUT: API Gateway does not fall back to {session_id}.
    assert route("PUT", "/sessions/special") is None


def test_a_dead_end_behind_a_literal_backtracks_to_the_parameter():
    assert route("GET", "/sessions/special/runs/r1") == (
        "GetRun",
        "/sessions/{session_id}/runs/{run_id}",
        {"session_id": "special", "run_id": "r1"},
    )
    assert route("GET", "/sessions/special/stats") == ("Stats", "/sessions/special/stats", None)


def test_greedy_parameters_take_the_rest_still_encoded_and_any_matches_every_method():
    assert route("DELETE", "/files/a/b%20c") == ("Files", "/files/{path+}", {"path": "a/b%20c"})
    assert route("GET", "/files") is None


def test_root_unknown_paths_and_empty_segments():
    assert route("GET", "/") == ("Root", "/", None)
    assert route("POST", "/") is None
    assert route("GET", "/nowhere") is None
    assert route("GET", "/sessions/") is None
    assert route("GET", "/sessions//runs/x") is None
    assert route("get", "/sessions") == ("List", "/sessions", None)


def test_invalid_utf8_in_a_parameter_is_an_error():
    with pytest.raises(PathDecodeError):
        ROUTER.match("GET", "/sessions/%FF")


def test_conflicting_definitions_are_refused():
    with pytest.raises(ValueError, match="two methods"):
        Router([ApiMethod("GET", "/a", "A"), ApiMethod("GET", "/a", "B")])
    with pytest.raises(ValueError, match="sibling parameters"):
        Router([ApiMethod("GET", "/a/{x}", "A"), ApiMethod("PUT", "/a/{y}", "B")])


def test_routes_lists_every_method():
    assert ("ANY", "/files/{path+}") in ROUTER.routes()
    assert len(ROUTER.routes()) == 8
