"""The runs routes: PUT/GET/DELETE one run, paging through runs."""

from tests.support.api import call, run_path, session_path


def test_put_run_creates_the_session_from_the_run_ids(table_name):
    response = call(
        "PUT", run_path("s1", "r1"), {"run_id": "r1", "team_id": "team-9", "user_id": "bob", "content": "x"}
    )
    assert response.status == 201, response.text
    session = call("GET", session_path("s1")).json()
    assert session["session_type"] == "team"
    assert session["team_id"] == "team-9" and session["user_id"] == "bob"
    assert session["runs"] == [{"run_id": "r1", "team_id": "team-9", "user_id": "bob", "content": "x"}]


def test_put_run_replaces_in_place_with_200(table_name):
    for run_id in ("a", "b", "c"):
        call("PUT", run_path("s1", run_id), {"v": 1})
    replaced = call("PUT", run_path("s1", "b"), {"v": 2})
    assert replaced.status == 200
    runs = call("GET", session_path("s1")).json()["runs"]
    assert runs == [{"v": 1, "run_id": "a"}, {"v": 2, "run_id": "b"}, {"v": 1, "run_id": "c"}]
    assert call("GET", run_path("s1", "b")).json() == {"v": 2, "run_id": "b"}


def test_run_id_in_the_body_must_match_the_path(table_name):
    assert call("PUT", run_path("s1", "r1"), {"run_id": "r2"}).status == 422
    assert call("GET", session_path("s1")).status == 404


def test_delete_run(table_name):
    call("PUT", run_path("s1", "a"), {})
    call("PUT", run_path("s1", "b"), {})
    assert call("DELETE", run_path("s1", "a")).status == 204
    assert call("GET", run_path("s1", "a")).status == 404
    assert call("DELETE", run_path("s1", "a")).status == 404
    session = call("GET", session_path("s1")).json()
    assert [r["run_id"] for r in session["runs"]] == ["b"] and session["run_count"] == 1
    # A deleted run written again is a new run, appended at the end.
    call("PUT", run_path("s1", "a"), {})
    assert [r["run_id"] for r in call("GET", session_path("s1")).json()["runs"]] == ["b", "a"]


def test_paging_through_runs_in_both_orders(table_name):
    call("PUT", session_path("s1"), {"session_type": "agent", "runs": [{"run_id": f"r{i:02d}"} for i in range(25)]})
    for order, expected in (
        ("asc", [f"r{i:02d}" for i in range(25)]),
        ("desc", [f"r{i:02d}" for i in reversed(range(25))]),
    ):
        seen, cursor = [], None
        while True:
            query = {"limit": 10, "order": order, **({"cursor": cursor} if cursor else {})}
            page = call("GET", "/sessions/s1/runs", query=query)
            assert page.status == 200, page.text
            seen += [run["run_id"] for run in page.json()["runs"]]
            cursor = page.json()["next_cursor"]
            if not cursor:
                break
        assert seen == expected


def test_runs_of_a_missing_session_are_404(table_name):
    assert call("GET", "/sessions/nope/runs").status == 404
    assert call("GET", run_path("nope", "r")).status == 404
    assert call("DELETE", run_path("nope", "r")).status == 404
