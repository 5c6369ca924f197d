"""Issue 14 through the local runtime: `make smoke` against it, Lambda's invocation limit, the
OpenAPI servers entry, and JWT mode (`make local AUTH=jwt`) keeping each caller to its own sessions."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from local_runtime.dynamodb_local import REPO_ROOT
from local_runtime.jwt_auth import issue_token
from session_store import names
from session_store_client import SessionStoreClient
from session_store_client.errors import SessionNotFound

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

TIMEOUT = 60


def smoke(url: str, *arguments: str) -> subprocess.CompletedProcess:
    """What `make smoke URL=... AUTH=...` runs."""
    return subprocess.run(
        [sys.executable, "-m", "session_store_client.smoke", url, *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_smoke_passed(result: subprocess.CompletedProcess, url: str) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "8 passed, 0 failed", result.stdout
    assert all(line.startswith("PASS  ") for line in lines[:-1]), result.stdout
    return re.search(r"under (smoke-[0-9a-f]+)", result.stdout).group(1)


def test_smoke_passes_against_the_local_runtime_and_cleans_up(local_api_url):
    prefix = assert_smoke_passed(smoke(local_api_url, "--auth", "none"), local_api_url)
    client = SessionStoreClient(local_api_url)
    assert client.list_sessions(agent_id=f"{prefix}-agent").sessions == []
    for index in range(3):
        with pytest.raises(SessionNotFound):
            client.get_session(f"{prefix}-{index}")


def test_smoke_fails_loudly_when_the_api_is_not_there():
    result = smoke("http://127.0.0.1:9", "--auth", "none")
    assert result.returncode == 1
    assert "FAIL  create sessions" in result.stdout and result.stdout.strip().endswith("failed")


def test_a_request_over_lambdas_invocation_limit_is_a_problem_413(local_api_url):
    # 6 MiB of body is within the function's own check but not within the invoke with its event.
    body = b'{"session_type": "agent", "session_data": {"blob": "' + b"x" * (6 * 1024 * 1024 - 100) + b'"}}'
    response = requests.put(
        f"{local_api_url}/sessions/too-big", data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
    problem = response.json()
    assert (problem["type"], problem["status"]) == (f"{names.PROBLEM_TYPE_BASE}payload-too-large", 413)
    assert requests.get(f"{local_api_url}/sessions/too-big", timeout=TIMEOUT).status_code == 404


def test_the_local_openapi_document_names_the_root_as_server(local_api_url):
    document = requests.get(f"{local_api_url}/openapi.json", timeout=TIMEOUT).json()
    assert document["servers"] == [{"url": "/"}]
    page = requests.get(f"{local_api_url}/docs", timeout=TIMEOUT).text
    assert re.search(r'"servers":\s*\[\s*\{\s*"url":\s*"/"\s*\}', page)


# --- JWT mode ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jwt_api_url(start_runtime, tmp_path_factory) -> str:
    runtime = start_runtime("--in-memory", "--cdk-out", str(tmp_path_factory.mktemp("cdk-out-jwt")), "--auth", "jwt")
    return runtime.url


def test_jwt_mode_refuses_a_request_without_a_valid_token(jwt_api_url):
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer " + issue_token("alice", lifetime_seconds=-10)},
    ):
        response = requests.get(f"{jwt_api_url}/sessions", headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401, headers
        assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
        assert response.json()["type"] == f"{names.PROBLEM_TYPE_BASE}gateway-UNAUTHORIZED"


def test_jwt_mode_keeps_each_caller_to_its_own_sessions(jwt_api_url):
    alice = SessionStoreClient(jwt_api_url, auth="jwt", token=lambda: issue_token("alice"))
    bob = SessionStoreClient(jwt_api_url, auth="jwt", token=issue_token("bob"))
    alice.put_session("alices-chat", {"session_type": "agent", "agent_id": "a", "user_id": "alice"})
    assert alice.get_session("alices-chat").user_id == "alice"
    with pytest.raises(SessionNotFound):
        bob.get_session("alices-chat")
    assert [s.session_id for s in bob.list_sessions().sessions] == []
    assert "alices-chat" in [s.session_id for s in alice.list_sessions().sessions]
    with pytest.raises(SessionNotFound):
        bob.delete_session("alices-chat")
    assert alice.get_session("alices-chat").session_id == "alices-chat"


def test_smoke_with_a_token_passes_in_jwt_mode(jwt_api_url):
    assert_smoke_passed(smoke(jwt_api_url, "--auth", "jwt", "--token", issue_token("smoke-user")), jwt_api_url)
