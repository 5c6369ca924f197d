"""Retries: 429/503/connection errors back off with full jitter and honour Retry-After; nothing else is retried."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from session_store_client import (
    AsyncSessionStoreClient,
    RetryPolicy,
    ServiceUnavailable,
    SessionStoreClient,
    SessionStoreConnectionError,
    SessionStoreError,
    TooManyRequests,
)
from session_store_client.retry import parse_retry_after
from tests.support.scripted_server import Reply

pytest_plugins = ["tests.support.fixtures"]

SESSION = {"session_id": "s1", "session_type": "agent", "version": 1}


def test_503_then_success_backs_off_exponentially_with_jitter(scripted, sleeps):
    client, server = scripted(
        Reply.problem(503, "Service Unavailable"),
        Reply.problem(503, "Service Unavailable"),
        Reply(200, SESSION),
        base_delay=0.1,
    )
    assert client.get_session("s1").session_id == "s1"
    assert len(server.requests) == 3
    # Full jitter: random() (0.5 here) times the doubling ceiling 0.1, 0.2.
    assert sleeps == pytest.approx([0.05, 0.1])


def test_retry_after_seconds_is_waited_exactly(scripted, sleeps):
    throttled = Reply.problem(429, "Too Many Requests", headers={"Retry-After": "3"})
    client, server = scripted(throttled, Reply(200, SESSION))
    client.get_session("s1")
    assert sleeps == [3.0]
    assert len(server.requests) == 2


def test_retry_after_http_date_is_honoured(scripted, sleeps):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    client, _ = scripted(Reply(503, {"title": "busy"}, headers={"Retry-After": when}), Reply(200, SESSION))
    client.get_session("s1")
    assert 3.0 <= sleeps[0] <= 5.0


def test_retry_after_beyond_the_longest_wait_stops_retrying(scripted, sleeps):
    client, server = scripted(Reply(429, {"title": "slow down"}, headers={"Retry-After": "600"}), max_delay=20)
    with pytest.raises(TooManyRequests):
        client.get_session("s1")
    assert len(server.requests) == 1
    assert sleeps == []


def test_gives_up_after_max_retries_with_the_last_answer(scripted, sleeps):
    client, server = scripted(Reply.problem(503, "Service Unavailable", "DynamoDB is throttling"), max_retries=3)
    with pytest.raises(ServiceUnavailable) as raised:
        client.get_session("s1")
    assert len(server.requests) == 4
    assert len(sleeps) == 3
    assert raised.value.detail == "DynamoDB is throttling"
    assert raised.value.request_id == "req-4"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 413, 422, 500, 502])
def test_other_errors_are_never_retried(scripted, sleeps, status):
    client, server = scripted(Reply.problem(status, "Nope"), Reply(200, SESSION))
    with pytest.raises(SessionStoreError) as raised:
        client.put_session("s1", {"session_type": "agent"})
    assert raised.value.status == status
    assert len(server.requests) == 1
    assert sleeps == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_errors_are_retried_then_reported(sleeps):
    policy = RetryPolicy(max_retries=2, sleep=sleeps, random=lambda: 1.0, base_delay=0.5)
    client = SessionStoreClient(f"http://127.0.0.1:{_closed_port()}", retry_policy=policy)
    with pytest.raises(SessionStoreConnectionError) as raised:
        client.get_session("s1")
    assert raised.value.status is None
    assert sleeps == [0.5, 1.0]


def test_backoff_ceiling_doubles_up_to_the_cap():
    policy = RetryPolicy(max_retries=10, base_delay=1.0, max_delay=5.0, random=lambda: 0.999)
    waits = [policy.delay_before_retry(attempt) for attempt in range(5)]
    assert waits == pytest.approx([0.999, 1.998, 3.996, 4.995, 4.995])
    assert policy.delay_before_retry(10) is None


def test_jitter_spans_zero_to_the_ceiling():
    assert RetryPolicy(base_delay=2.0, random=lambda: 0.0).delay_before_retry(1) == 0.0
    assert RetryPolicy(base_delay=2.0, random=lambda: 0.25).delay_before_retry(1) == 1.0


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("0", 0.0),
        ("7", 7.0),
        (" 12 ", 12.0),
        ("soon", None),
        ("-1", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_date_in_the_future():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_retry_after("Tue, 01 Jan 2030 00:00:30 GMT", now=now) == 30.0


# The sync and the async client share one retry loop: the same script of answers gives the same
# attempts, the same waits and the same outcome through either.
RETRY_SCRIPTS = {
    "503, Retry-After, no answer, then 200": ([503, (429, "2"), ConnectionError, 200], 4, "s1"),
    "503 until the retries run out": ([503] * 4, 3, ServiceUnavailable),
    "no answer until the retries run out": ([ConnectionError] * 3, 2, SessionStoreConnectionError),
    "Retry-After beyond the longest wait": ([(429, "600")], 4, TooManyRequests),
}


def _scripted_handler(script, requests):
    def answer(request):
        requests.append(request)
        step = script[min(len(requests), len(script)) - 1]
        if step is ConnectionError:
            raise httpx.ConnectError("refused", request=request)
        status, retry_after = step if isinstance(step, tuple) else (step, None)
        headers = {"Retry-After": retry_after} if retry_after else {}
        return httpx.Response(status, json={**SESSION, "title": "busy"}, headers=headers)

    return answer


def _run_sync(script, max_retries):
    requests, sleeps = [], []
    policy = RetryPolicy(max_retries=max_retries, sleep=sleeps.append, random=lambda: 0.5, base_delay=0.1)
    http = httpx.Client(transport=httpx.MockTransport(_scripted_handler(script, requests)))
    client = SessionStoreClient("http://store.test", retry_policy=policy, http=http)
    try:
        outcome = client.get_session("s1").session_id
    except SessionStoreError as error:
        outcome = type(error)
    return outcome, len(requests), sleeps


def _run_async(script, max_retries, monkeypatch):
    requests, sleeps = [], []

    async def sleep(delay):
        sleeps.append(delay)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    policy = RetryPolicy(max_retries=max_retries, random=lambda: 0.5, base_delay=0.1)
    client = AsyncSessionStoreClient("http://store.test", retry_policy=policy)
    client._transport.http = httpx.AsyncClient(transport=httpx.MockTransport(_scripted_handler(script, requests)))

    async def scenario():
        async with client:
            try:
                return (await client.get_session("s1")).session_id
            except SessionStoreError as error:
                return type(error)

    return asyncio.run(scenario()), len(requests), sleeps


@pytest.mark.parametrize("name", RETRY_SCRIPTS)
def test_the_async_client_retries_exactly_as_the_sync_client(monkeypatch, name):
    script, max_retries, expected = RETRY_SCRIPTS[name]
    sync = _run_sync(script, max_retries)
    assert sync[0] == expected
    assert _run_async(script, max_retries, monkeypatch) == sync
    if name.startswith("503, Retry-After"):
        # Jitter 0.5 of the ceilings 0.1 and 0.4; the server's Retry-After as given.
        assert sync[1:] == (4, pytest.approx([0.05, 2.0, 0.2]))
