"""The synthesized stack served by the local runtime (what `make local` runs), driven over HTTP:
every route, the stream cascade, TTL expiry, restarts with a data directory, and routing that
comes from the template."""

from __future__ import annotations

import copy
import json
import time
import uuid
from urllib.parse import quote

import pytest
import requests

from session_store import keys, routes

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

TIMEOUT = 30


def url_of(base: str, session_id: str, *rest: str) -> str:
    return "/".join([f"{base}/sessions/{quote(session_id, safe='')}", *(quote(p, safe="") for p in rest)])


def new_id(prefix: str = "e2e") -> str:
    # `/`, `#`, `%` and a space: every one must survive the trip through the path.
    return f"{prefix}/{uuid.uuid4().hex[:8]}#a%b c"


def partition(dynamodb, table: str, session_id: str) -> list[dict]:
    return dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.session_pk(session_id)}},
        ConsistentRead=True,
    )["Items"]


def sort_keys(items: list[dict]) -> list[tuple[str, str | None]]:
    """What is left of a partition, for failure messages."""
    return [(item["sk"]["S"], item.get("expires_at", {}).get("N")) for item in items]


def put_session(base: str, session_id: str, **fields) -> requests.Response:
    body = {"session_type": "agent", "agent_id": "agent-1", "user_id": "alice", **fields}
    return requests.put(url_of(base, session_id), json=body, timeout=TIMEOUT)


def test_put_then_get_round_trips_a_session_with_its_runs(local_api_url):
    session_id = new_id()
    runs = [
        {"run_id": "r1", "content": "λ", "metrics": {"f": 0.1, "big": 2**60}},
        {"run_id": "r2", "nested": {"a.b#c": []}},
    ]
    created = put_session(local_api_url, session_id, session_data={"session_name": "First"}, runs=runs)
    assert created.status_code == 201, created.text
    assert created.headers["X-Request-Id"]
    assert created.json()["session_id"] == session_id and "runs" not in created.json()

    read = requests.get(url_of(local_api_url, session_id), timeout=TIMEOUT)
    assert read.status_code == 200
    body = read.json()
    assert body["session_id"] == session_id
    assert body["runs"] == runs
    assert body["session_data"] == {"session_name": "First"}
    assert read.headers["ETag"] == f'"{body["version"]}"'

    updated = put_session(local_api_url, session_id, metadata={"k": "v"})
    assert updated.status_code == 200 and updated.json()["metadata"] == {"k": "v"}


def test_patch_renames_and_list_finds_the_session(local_api_url):
    session_id, user = new_id(), f"user-{uuid.uuid4().hex[:8]}"
    assert put_session(local_api_url, session_id, user_id=user, session_data={"session_name": "Old"}).status_code == 201
    patched = requests.patch(
        url_of(local_api_url, session_id), json={"session_data": {"session_name": "Renamed"}}, timeout=TIMEOUT
    )
    assert patched.status_code == 200, patched.text
    listed = requests.get(
        f"{local_api_url}/sessions", params={"user_id": user, "include_total": "true"}, timeout=TIMEOUT
    )
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [s["session_id"] for s in page["sessions"]] == [session_id]
    assert page["sessions"][0]["session_data"]["session_name"] == "Renamed"
    assert "runs" not in page["sessions"][0]
    assert page["total"] == 1


def test_runs_routes(local_api_url):
    session_id = new_id()
    assert put_session(local_api_url, session_id).status_code == 201
    for run_id in ("r/1", "r#2", "r 3"):
        created = requests.put(
            url_of(local_api_url, session_id, "runs", run_id), json={"run_id": run_id, "n": 1}, timeout=TIMEOUT
        )
        assert created.status_code == 201, created.text
    replaced = requests.put(
        url_of(local_api_url, session_id, "runs", "r/1"), json={"run_id": "r/1", "n": 2}, timeout=TIMEOUT
    )
    assert replaced.status_code == 200
    page = requests.get(url_of(local_api_url, session_id, "runs"), timeout=TIMEOUT).json()
    assert [run["run_id"] for run in page["runs"]] == ["r/1", "r#2", "r 3"]  # first-write order kept
    one = requests.get(url_of(local_api_url, session_id, "runs", "r/1"), timeout=TIMEOUT)
    assert one.status_code == 200 and one.json()["n"] == 2
    assert requests.delete(url_of(local_api_url, session_id, "runs", "r#2"), timeout=TIMEOUT).status_code == 204
    assert requests.get(url_of(local_api_url, session_id, "runs", "r#2"), timeout=TIMEOUT).status_code == 404


def test_api_documents_are_served(local_api_url):
    document = requests.get(f"{local_api_url}/openapi.json", timeout=TIMEOUT)
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.")
    docs = requests.get(f"{local_api_url}/docs", timeout=TIMEOUT)
    assert docs.status_code == 200 and "text/html" in docs.headers["Content-Type"]


def test_gateway_answers_are_problem_details(local_api_url):
    missing = requests.get(f"{local_api_url}/no/such/route", timeout=TIMEOUT)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert missing.headers["X-Request-Id"]
    too_large = requests.put(
        url_of(local_api_url, new_id()),
        data=b"x" * (6 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert too_large.status_code == 413
    assert too_large.json()["status"] == 413


def test_deleting_a_session_removes_its_runs_through_the_stream_cascade(
    local_api_url, local_dynamodb, local_table_name, eventually
):
    session_id = new_id()
    runs = [{"run_id": f"r{i}", "text": "x" * 100} for i in range(5)]
    assert put_session(local_api_url, session_id, runs=runs).status_code == 201
    assert len(partition(local_dynamodb, local_table_name, session_id)) > 1  # the session and its runs
    assert requests.delete(url_of(local_api_url, session_id), timeout=TIMEOUT).status_code == 204
    assert requests.get(url_of(local_api_url, session_id), timeout=TIMEOUT).status_code == 404
    assert eventually(lambda: partition(local_dynamodb, local_table_name, session_id) == [], timeout=60), sort_keys(
        partition(local_dynamodb, local_table_name, session_id)
    )


def test_an_expired_session_is_swept_and_its_runs_cascaded(local_api_url, local_dynamodb, local_table_name, eventually):
    session_id = new_id()
    expires_at = int(time.time()) + 3
    created = put_session(local_api_url, session_id, expires_at=expires_at, runs=[{"run_id": "r1"}, {"run_id": "r2"}])
    assert created.status_code == 201, created.text
    assert created.json()["expires_at"] == expires_at
    assert eventually(lambda: partition(local_dynamodb, local_table_name, session_id) == [], timeout=60), sort_keys(
        partition(local_dynamodb, local_table_name, session_id)
    )
    assert requests.get(url_of(local_api_url, session_id), timeout=TIMEOUT).status_code == 404


def test_a_restart_with_a_data_directory_keeps_the_data(local_runtime, local_assembly, start_runtime, tmp_path):
    arguments = ("--no-synth", "--cdk-out", str(local_assembly), "--data-dir", str(tmp_path / "data"))
    first = start_runtime(*arguments)
    session_id = new_id()
    assert put_session(first.url, session_id, runs=[{"run_id": "kept"}]).status_code == 201
    before = requests.get(url_of(first.url, session_id), timeout=TIMEOUT).json()
    assert first.stop() == 0

    second = start_runtime(*arguments)
    after = requests.get(url_of(second.url, session_id), timeout=TIMEOUT)
    assert after.status_code == 200
    assert after.json() == before


def test_routing_follows_the_template(local_runtime, local_assembly, start_runtime):
    """A copy of the synthesized template, changed: the server follows the copy, not routes.py."""
    template_path = next(local_assembly.glob("*.template.json"))
    template = json.loads(template_path.read_text())
    resources = template["Resources"]

    def method_for(method: str, path: str) -> str:
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::ApiGateway::Method" and resource["Properties"]["HttpMethod"] == method:
                resource_id = resource["Properties"]["ResourceId"].get("Ref")
                if resource_id and _path_of(resources, resource_id) == path:
                    return logical_id
        raise AssertionError(f"no {method} {path} in the template")

    docs_function = resources[method_for("GET", routes.OPENAPI_DOCUMENT.path)]["Properties"]["Integration"]["Uri"]
    # 1. A method removed from the template is not served, though its handler exists.
    del resources[method_for("DELETE", routes.SESSION)]
    # 2. A method rewired to another function is served by that function (api_docs serves every route).
    get_session = resources[method_for("GET", routes.SESSION)]["Properties"]
    get_session["Integration"]["Uri"] = copy.deepcopy(docs_function)
    # 3. An extra resource and method reach the function they name.
    session_resource = next(
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::ApiGateway::Resource" and _path_of(resources, lid) == routes.SESSION
    )
    resources["ExtraResource"] = {
        "Type": "AWS::ApiGateway::Resource",
        "Properties": {
            "ParentId": {"Ref": session_resource},
            "PathPart": "extra",
            "RestApiId": get_session["RestApiId"],
        },
    }
    resources["ExtraMethod"] = copy.deepcopy(resources[method_for("GET", routes.SESSION)])
    resources["ExtraMethod"]["Properties"]["ResourceId"] = {"Ref": "ExtraResource"}
    modified = local_assembly / "Modified.template.json"  # next to the assets it refers to
    modified.write_text(json.dumps(template))

    runtime = start_runtime("--template", str(modified), "--in-memory")
    session_id = new_id()
    assert put_session(runtime.url, session_id).status_code == 201

    deleted = requests.delete(url_of(runtime.url, session_id), timeout=TIMEOUT)
    assert deleted.status_code == 404 and deleted.headers["Content-Type"] == "application/problem+json"
    read = requests.get(url_of(runtime.url, session_id), timeout=TIMEOUT)
    assert read.status_code == 200 and read.json()["session_id"] == session_id
    extra = requests.get(url_of(runtime.url, session_id, "extra"), timeout=TIMEOUT)
    original = requests.get(url_of(local_runtime.url, session_id, "extra"), timeout=TIMEOUT)
    # The function answered the extra route (its own "no such route"), the original stack's gateway did not.
    assert extra.status_code == original.status_code == 404
    assert extra.json()["type"] != original.json()["type"]
    log = runtime.log()
    assert "GET /sessions/" in log and "FunctionsApiDocs" in _log_line(log, "GET", "/extra")
    assert "gateway" in _log_line(log, "DELETE", "")


def _path_of(resources: dict, logical_id: str) -> str:
    properties = resources[logical_id]["Properties"]
    parent = properties["ParentId"].get("Ref")
    prefix = _path_of(resources, parent) if parent else ""
    return f"{prefix}/{properties['PathPart']}"


def _log_line(log: str, method: str, contains: str) -> str:
    return next(line for line in log.splitlines() if f"local_runtime.api: {method} " in line and contains in line)
