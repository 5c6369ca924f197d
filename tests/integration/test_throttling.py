"""Throttling, injected below botocore's retry layer: DynamoDB Local answers everything else.

A `before-send` hook answers chosen calls with DynamoDB's own throttling error instead of sending
them, so botocore's standard retry mode sees a real throttling response: it retries with backoff
(three retries, runtime.py), and when the throttling outlasts the retries the API answers 503 with
Retry-After and problem+json, never a 500, having written nothing.
"""

import json

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from session_store import idempotency, names, runtime
from session_store.settings import current_settings
from tests.support.api import call, run_path, session_path

AGENT = {"session_type": "agent", "agent_id": "agent-1", "user_id": "alice"}
DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"
# botocore's max_attempts counts retries: the first attempt plus that many (runtime.py).
MAX_ATTEMPTS = 1 + runtime._RETRIES["max_attempts"]


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_):
        yield self._data


def dynamodb_error(code: str, **fields) -> AWSResponse:
    body = json.dumps({"__type": DYNAMODB_ERROR + code, "message": f"injected {code}", **fields}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected"}
    return AWSResponse("https://dynamodb.injected", 400, headers, _Body(body))


class Throttle:
    """Answers the next `times` calls of `operation` on `client` with `error`; counts attempts."""

    def __init__(self, client, operation: str, error, times: int = 10**6) -> None:
        self.attempts = 0
        self._left = times
        self._error = error
        client.meta.events.register(f"before-send.dynamodb.{operation}", self)

    def __call__(self, **_):
        self.attempts += 1
        if self._left > 0:
            self._left -= 1
            return self._error()
        return None  # send it to DynamoDB Local


@pytest.fixture
def backoffs(monkeypatch):
    """The delays botocore's retry handler sleeps between attempts (recorded, not slept)."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", slept.append)
    return slept


def assert_retry_later(response):
    assert response.status == 503, response.text
    assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
    assert int(response.headers["Retry-After"]) >= 1
    problem = response.json()
    assert problem["status"] == 503 and problem["type"].endswith("service-unavailable")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_a_brief_throttle_is_absorbed_by_botocores_retries(table_name, backoffs, code):
    call("PUT", session_path("s1"), AGENT)
    throttle = Throttle(runtime.repository()._client, "GetItem", lambda: dynamodb_error(code), times=MAX_ATTEMPTS - 1)
    response = call("GET", session_path("s1"))
    assert response.status == 200
    # The throttled read retried until it landed, then the erasure gate read the user's marker once.
    assert throttle.attempts == MAX_ATTEMPTS + 1
    # Exponential backoff with jitter: each delay at most twice the ceiling of the one before.
    assert len(backoffs) == MAX_ATTEMPTS - 1
    assert all(0 <= delay <= 2**number for number, delay in enumerate(backoffs))


def test_a_lasting_read_throttle_is_503_with_retry_after(table_name, backoffs):
    call("PUT", session_path("s1"), AGENT)
    throttle = Throttle(
        runtime.repository()._client, "GetItem", lambda: dynamodb_error("ProvisionedThroughputExceededException")
    )
    assert_retry_later(call("GET", session_path("s1")))
    # Bounded by the attempts and their recorded (never slept) backoffs, not by a wall clock that a
    # loaded machine stretches.
    assert throttle.attempts == MAX_ATTEMPTS and len(backoffs) == MAX_ATTEMPTS - 1
    assert sum(backoffs) <= sum(2**number for number in range(MAX_ATTEMPTS - 1))


def test_a_lasting_write_throttle_is_503_and_writes_nothing(table_name, backoffs):
    call("PUT", session_path("s1"), {**AGENT, "metadata": {"v": 1}})
    client = runtime.repository()._client
    throttle = Throttle(client, "TransactWriteItems", lambda: dynamodb_error("ThrottlingException"))
    assert_retry_later(call("PUT", session_path("s1"), {"metadata": {"v": 2}}))
    assert_retry_later(call("PUT", run_path("s1", "r1"), {"x": 1}))
    assert throttle.attempts == 2 * MAX_ATTEMPTS
    client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", throttle)
    body = call("GET", session_path("s1")).json()
    assert body["metadata"] == {"v": 1} and body["version"] == 1 and body["runs"] == []


def test_a_transaction_cancelled_by_throttling_is_503(table_name, backoffs):
    call("PUT", session_path("s1"), AGENT)
    cancelled = lambda: dynamodb_error(  # noqa: E731
        "TransactionCanceledException",
        CancellationReasons=[{"Code": "ThrottlingError", "Message": "Throughput exceeds the limit"}, {"Code": "None"}],
    )
    Throttle(runtime.repository()._client, "TransactWriteItems", cancelled)
    assert_retry_later(call("PUT", run_path("s1", "r1"), {"x": 1}))


def test_a_throttled_list_is_503(table_name, backoffs):
    call("PUT", session_path("s1"), AGENT)
    Throttle(runtime.repository()._client, "Query", lambda: dynamodb_error("ThrottlingException"))
    assert_retry_later(call("GET", "/sessions", query={"user_id": "alice"}))
    assert_retry_later(call("GET", "/sessions/s1/runs"))


def test_a_throttled_idempotency_record_is_503_and_nothing_is_written(table_name, backoffs):
    settings = current_settings()
    records = idempotency._store(settings.table_name, settings.dynamodb_endpoint).client
    throttle = Throttle(records, "PutItem", lambda: dynamodb_error("ProvisionedThroughputExceededException"))
    assert_retry_later(call("PUT", session_path("s1"), AGENT, headers={idempotency.HEADER: "k1"}))
    assert throttle.attempts == MAX_ATTEMPTS
    records.meta.events.unregister("before-send.dynamodb.PutItem", throttle)
    assert call("GET", session_path("s1")).status == 404
    # The key was never recorded, so the retry the 503 asked for runs normally.
    assert call("PUT", session_path("s1"), AGENT, headers={idempotency.HEADER: "k1"}).status == 201


def test_no_call_starts_that_would_outlive_the_invocation(table_name, monkeypatch):
    """A table that accepts connections but stops answering must give a 503 from the function,
    never a function (or API Gateway) timeout: no attempt starts without time left to finish.
    Proven by counting what reached the network (a wall-clock bound flaked on a loaded machine)."""
    from tests.support import api

    class NearlyOutOfTime(api.FakeContext):
        def get_remaining_time_in_millis(self) -> int:
            return 2_000  # less than one attempt's connect + read timeout

    sent = []
    send = botocore.endpoint.Endpoint._send
    monkeypatch.setattr(
        botocore.endpoint.Endpoint, "_send", lambda self, request: sent.append(request) or send(self, request)
    )
    monkeypatch.setattr(api, "FakeContext", NearlyOutOfTime)
    response = api.call("GET", api.session_path("s1"))
    assert response.status == 503 and response.headers.get("Retry-After")
    assert sent == []


def test_an_invocation_s_deadline_ends_with_the_invocation(table_name, monkeypatch):
    """The deadline binds only the calls of its own invocation: once the handler returns, code on
    the same thread (the next event's set-up, a test calling the service) is not refused because
    that invocation's time has run out."""
    from tests.support import api

    class SpentAfterReturning(api.FakeContext):
        remaining_ms = 10_000

        def get_remaining_time_in_millis(self) -> int:
            return self.remaining_ms

    monkeypatch.setattr(api, "FakeContext", SpentAfterReturning)
    assert api.call("GET", api.session_path("s1")).status == 404
    SpentAfterReturning.remaining_ms = 0
    assert runtime.repository().get_session("s1") is None


def test_a_keyed_write_that_runs_out_of_time_is_a_503_not_a_500(table_name, monkeypatch):
    """The invocation's time runs out after the idempotency record is saved: the write is refused,
    and so is Powertools' clean-up of the record. The client must get the retryable 503, not the
    500 that Powertools' wrapped persistence error would give, and nothing is written."""
    from tests.support import api

    class RunsOutAfterTheRecord(api.FakeContext):
        remaining_ms = 10_000

        def get_remaining_time_in_millis(self) -> int:
            return self.remaining_ms

    send = botocore.endpoint.Endpoint._send

    def send_then_run_out(self, request):
        response = send(self, request)
        if b"PutItem" in request.headers.get("X-Amz-Target", b""):  # the in-progress record
            RunsOutAfterTheRecord.remaining_ms = 0
        return response

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_send", send_then_run_out)
    monkeypatch.setattr(api, "FakeContext", RunsOutAfterTheRecord)
    response = call("PUT", session_path("s1"), AGENT, headers={idempotency.HEADER: "k1"})
    assert response.status == 503, response.text
    assert response.headers.get("Retry-After")
    assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
    RunsOutAfterTheRecord.remaining_ms = 10_000
    assert call("GET", session_path("s1")).status == 404
