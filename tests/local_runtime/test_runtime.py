"""The local runtime end to end, serving the hand-written fixture stack (fake handlers), so that its
own behaviour is pinned down independently of the real functions: what a function receives, what
the client gets back, the stream cascade, TTL expiry, restarts, and shutdown."""

from __future__ import annotations

import copy
import gzip
import json
import re
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from local_runtime.dynamodb_local import REPO_ROOT, make_client
from session_store import wire

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

FIXTURE_DIR = Path(__file__).parent / "local_fixture"
TEMPLATE_PATH = FIXTURE_DIR / "SessionStoreFixture.template.json"
MAX_BODY = wire.LAMBDA_PAYLOAD_BYTES
GATEWAY_MAX_BODY = 10 * 1024 * 1024
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def echo(runtime, path: str, **kwargs) -> dict:
    response = requests.request(kwargs.pop("method", "GET"), runtime.url + path, timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def assert_gateway_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["X-Request-Id"] == response.headers["x-amzn-RequestId"]
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert "Traceback" not in response.text
    return body


def items_of(runtime, pk: str) -> list[dict]:
    return runtime.dynamodb().query(
        TableName="fixture_sessions", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )["Items"]


def cascade_records(runtime, pk: str) -> list[dict]:
    return [
        json.loads(item["record"]["S"]) for item in items_of(runtime, "CASCADE") if item["sk"]["S"].startswith(pk + "#")
    ]


def test_the_function_receives_a_rest_proxy_event_and_a_lambda_context(fixture_runtime):
    answer = echo(fixture_runtime, "/echo/a%2Fb/c%20d?tag=x&tag=y", headers={"X-Trace": "t1"})
    event = answer["event"]
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/echo/{proxy+}", "/echo/a%2Fb/c%20d", "GET")
    assert event["pathParameters"] == {"proxy": "a%2Fb/c%20d"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"]}
    assert event["headers"]["X-Trace"] == "t1"
    # The path the client asked for: the local server serves the API at the root, not under /v1.
    assert event["requestContext"]["path"] == "/echo/a%2Fb/c%20d"
    assert event["requestContext"]["stage"] == "v1"
    context = answer["context"]
    assert context["function_name"] == "SessionStoreFixture-EchoFunction"
    assert context["memory_limit_in_mb"] == "512"
    assert context["invoked_function_arn"].endswith(":function:SessionStoreFixture-EchoFunction")
    assert 0 < context["remaining_ms"] <= 10_000  # the function's Timeout


def test_functions_share_one_resolved_environment_pointing_at_the_local_stand_ins(fixture_runtime):
    environment = echo(fixture_runtime, "/echo")["environment"]
    assert environment["SESSION_TABLE_NAME"] == "fixture_sessions"
    assert environment["DYNAMODB_ENDPOINT_URL"] == fixture_runtime.dynamodb_endpoint
    assert environment["S3_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert environment["PAYLOAD_BUCKET_NAME"] == "sessionstorefixture-bucket"
    assert environment["TABLE_ARN"].endswith(":table/fixture_sessions")
    assert environment["CURSOR_SIGNING_KEY"] == "local-00000000-0000-4000-8000-000000000000"
    assert environment["POWERTOOLS_TRACE_DISABLED"] == environment["POWERTOOLS_METRICS_DISABLED"] == "true"
    assert (environment["AWS_REGION"], environment["AWS_ACCESS_KEY_ID"]) == ("us-east-1", "local")


def test_packages_come_from_the_venv_and_the_pure_layer_only(fixture_runtime):
    modules = echo(fixture_runtime, "/echo")["modules"]
    # The aarch64 dependency layer (native_layer) is skipped; its `requests` would refuse to import.
    assert "native_layer" not in modules["requests"] and "site-packages" in modules["requests"]
    assert Path(modules["session_store"]).is_relative_to(REPO_ROOT / "layers" / "session_store" / "python")


def test_the_response_is_translated_back_to_http(fixture_runtime):
    response = requests.get(fixture_runtime.url + "/echo", timeout=30)
    assert response.headers["X-Multi"] == "a, b"  # multiValueHeaders, repeated on the wire
    assert response.headers["X-Single"] == "one"  # in both lists: sent once
    binary = requests.get(fixture_runtime.url + "/echo?binary=1", timeout=30)
    assert binary.content == bytes(range(256))
    assert binary.headers["Content-Type"] == "application/octet-stream"


def test_large_responses_are_compressed_as_the_api_configures(fixture_runtime):
    raw = requests.get(fixture_runtime.url + "/echo", headers={"Accept-Encoding": "gzip"}, timeout=30, stream=True)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw.raw.read()))["event"]["path"] == "/echo"
    small = requests.get(fixture_runtime.url + "/echo?big=10", headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert "Content-Encoding" not in small.headers  # under MinimumCompressionSize
    plain = requests.get(fixture_runtime.url + "/echo", headers={"Accept-Encoding": "identity"}, timeout=30)
    assert "Content-Encoding" not in plain.headers


def test_what_api_gateway_answers_itself(fixture_runtime):
    url = fixture_runtime.url
    body = assert_gateway_problem(requests.get(url + "/nowhere", timeout=30), 404)
    # The template's RESOURCE_NOT_FOUND gateway response shapes it.
    assert body["type"].endswith("gateway-RESOURCE_NOT_FOUND")
    assert_gateway_problem(requests.get(url + "/items", timeout=30), 404)  # the resource has no GET
    assert_gateway_problem(requests.put(url + "/items/special", timeout=30), 404)  # a literal resource wins
    # Function failures: DEFAULT_5XX of the template sets 500 for every 5XX answer.
    for query in ("raise=1", "malformed=1", f"big={MAX_BODY + 1}"):
        assert_gateway_problem(requests.get(f"{url}/echo?{query}", timeout=60), 500)


def test_a_body_over_the_lambda_payload_limit_is_refused_without_invoking(fixture_runtime):
    """Lambda's 6 MB counts the whole proxy event; API Gateway's own limit is 10 MB on the body."""
    url = fixture_runtime.url + "/echo?size=1"
    fits = MAX_BODY - 64 * 1024  # leaves room for the event around it
    assert requests.post(url, data=b"x" * fits, timeout=60).json() == {"bytes": fits, "isBase64Encoded": False}
    # The body alone is within 6 MiB, the event around it is not: the invoke fails, with 413.
    invoke_too_large = requests.post(url, data=b"x" * MAX_BODY, timeout=60)
    assert_gateway_problem(invoke_too_large, 413)
    # A body that escapes to more than twice its size in the event's JSON string.
    assert_gateway_problem(requests.post(url, data=b'"' * (MAX_BODY // 2 + 1024), timeout=60), 413)

    def chunks():  # no Content-Length: the limits hold for a chunked body too
        for _ in range(7):
            yield b"y" * (1024 * 1024)

    assert_gateway_problem(requests.post(url, data=chunks(), timeout=60), 413)
    # Over API Gateway's 10 MB the body is not even read to the end.
    assert_gateway_problem(requests.post(url, data=b"z" * (GATEWAY_MAX_BODY + 1), timeout=60), 413)
    binary = requests.post(url, data=b"\xff" * 10, timeout=30).json()
    assert binary == {"bytes": 10, "isBase64Encoded": True}


def test_parallel_requests_each_get_their_own_answer(fixture_runtime):
    def call(index: int) -> tuple[int, dict]:
        answer = echo(fixture_runtime, f"/echo/id-{index}%2F{index}?sleep=0.02")
        return index, answer["event"]

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(call, range(64)))
    for index, event in results:
        assert event["pathParameters"] == {"proxy": f"id-{index}%2F{index}"}
    assert len({event["requestContext"]["requestId"] for _, event in results}) == 64


def test_deleting_a_parent_removes_its_children_through_the_stream(fixture_runtime, eventually):
    url = fixture_runtime.url
    assert requests.put(url + "/items/parent%231", json={"children": 3}, timeout=30).status_code == 201
    assert len(items_of(fixture_runtime, "ITEM#parent#1")) == 4
    assert requests.delete(url + "/items/parent%231", timeout=30).status_code == 204
    assert eventually(lambda: items_of(fixture_runtime, "ITEM#parent#1") == [])
    (record,) = cascade_records(fixture_runtime, "ITEM#parent#1")
    assert record["eventName"] == "REMOVE" and "userIdentity" not in record
    assert record["dynamodb"]["OldImage"]["item_id"] == {"S": "parent#1"}
    assert requests.get(url + "/items/parent%231", timeout=30).status_code == 404


def test_an_expired_parent_is_swept_and_cascaded_with_the_ttl_identity(fixture_runtime, eventually):
    url = fixture_runtime.url
    expires_at = int(time.time()) + 2
    assert requests.put(url + "/items/short-lived", json={"children": 2, "expires_at": expires_at}, timeout=30).ok
    assert requests.put(url + "/items/in-the-past", json={"children": 1, "expires_at": expires_at - 60}, timeout=30).ok
    assert requests.put(url + "/items/long-lived", json={"expires_at": expires_at + 3600}, timeout=30).ok
    for pk in ("ITEM#short-lived", "ITEM#in-the-past"):
        assert eventually(lambda pk=pk: items_of(fixture_runtime, pk) == [], timeout=30), pk
        (record,) = cascade_records(fixture_runtime, pk)
        assert record["userIdentity"] == TTL_IDENTITY
    assert len(items_of(fixture_runtime, "ITEM#long-lived")) == 1


def test_a_data_directory_keeps_table_and_bucket_across_restarts(start_runtime, tmp_path):
    arguments = ("--template", str(TEMPLATE_PATH), "--data-dir", str(tmp_path / "data"))
    first = start_runtime(*arguments)
    assert requests.put(first.url + "/items/kept", json={"children": 1}, timeout=30).status_code == 201
    s3 = make_client("s3", _s3_endpoint(first))
    s3.put_object(Bucket="sessionstorefixture-bucket", Key="payloads/kept/ü #1.json.gz", Body=b"\x1f\x8b payload")
    assert first.stop() == 0

    second = start_runtime(*arguments)
    assert requests.get(second.url + "/items/kept", timeout=30).json() == {
        "item_id": "kept",
        "sort_keys": ["CHILD#0000", "META"],
    }
    s3 = make_client("s3", _s3_endpoint(second))
    body = s3.get_object(Bucket="sessionstorefixture-bucket", Key="payloads/kept/ü #1.json.gz")["Body"].read()
    assert body == b"\x1f\x8b payload"
    assert "reusing table fixture_sessions" in second.log()


def test_sigterm_stops_the_runtime_and_everything_it_started(start_runtime):
    runtime = start_runtime("--template", str(TEMPLATE_PATH), "--in-memory")
    assert runtime.stop(signal.SIGTERM) == 0
    assert "Session Store stopped." in runtime.log()
    assert not _answers(runtime.dynamodb_endpoint) and not _answers(runtime.url)


def test_dynamodb_local_does_not_outlive_a_killed_runtime(start_runtime):
    runtime = start_runtime("--template", str(TEMPLATE_PATH), "--in-memory")
    runtime.process.send_signal(signal.SIGKILL)  # the runtime only, no cleanup code runs
    runtime.process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while _answers(runtime.dynamodb_endpoint) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _answers(runtime.dynamodb_endpoint)


def test_functions_disagreeing_on_a_variable_stop_the_start(start_runtime, tmp_path):
    template = json.loads(TEMPLATE_PATH.read_text())
    for resource in template["Resources"].values():  # the copy lives elsewhere: absolute asset paths
        metadata = resource.get("Metadata", {})
        if "aws:asset:path" in metadata:
            metadata["aws:asset:path"] = str((FIXTURE_DIR / metadata["aws:asset:path"]).resolve())
    items = template["Resources"]["ItemsFunction"]["Properties"]
    items["Environment"] = copy.deepcopy(items["Environment"])
    items["Environment"]["Variables"]["RETENTION_DAYS"] = "7"
    path = tmp_path / "Conflict.template.json"
    path.write_text(json.dumps(template))
    with pytest.raises(RuntimeError, match=r"exited with 1[\s\S]*RETENTION_DAYS"):
        start_runtime("--template", str(path), "--in-memory")


def _s3_endpoint(runtime) -> str:
    return re.search(r"moto S3 on (http://\S+)\)", runtime.log()).group(1)


def _answers(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False
