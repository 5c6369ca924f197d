"""Retries: 429/503/connection errors back off with full jitter and honour Retry-After; nothing else is retried."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from session_store_client import (
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
