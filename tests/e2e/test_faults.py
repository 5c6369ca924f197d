"""DynamoDB going away mid-run, in-process: the handlers run against a private DynamoDB Local (on
disk, -sharedDb) that is stopped while a writer is busy, then restarted from its files.

While DynamoDB is gone every request answers 503 with Retry-After within a few seconds, well inside
the functions' 10 s timeout, never a 500; after the restart every acknowledged write is there, and
no write is half-visible: each request's runs are all there or none is, and every session's
run_count equals the runs it holds.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest

from local_runtime.dynamodb_local import DynamoDBLocal
from session_store import idempotency, names, runtime, table
from tests.support.api import call, run_path, session_path

# The functions' timeout (cdk/session_store_stack/functions.py): an answer must come before it.
FUNCTION_TIMEOUT_SECONDS = 10
SESSIONS = [f"fault-{index}#{uuid.uuid4().hex[:4]}" for index in range(4)]
LARGE_IMPORT_RUNS = 50  # more than one transaction holds (49 new runs): two chunks, published last


@pytest.fixture
def disk_dynamodb(tmp_path, monkeypatch):
    """Starts (and restarts) DynamoDB Local on files under tmp_path; points the functions at it."""
    data_dir = tmp_path / "dynamodb"
    name = f"faults_{uuid.uuid4().hex[:8]}"
    engines: list[DynamoDBLocal] = []

    def start() -> DynamoDBLocal:
        # One process per database files: a second engine on the same files while the first still
        # runs would let the stale one overwrite the other's writes (a lost acknowledged write).
        for running in engines:
            running.stop()
        engine = DynamoDBLocal(data_dir=data_dir).start()
        engines.append(engine)
        monkeypatch.setenv(names.ENV_DYNAMODB_ENDPOINT, engine.endpoint_url)
        runtime.reset()
        return engine

    monkeypatch.setenv(names.ENV_TABLE_NAME, name)
    monkeypatch.setenv(names.ENV_RETENTION_DAYS, "30")
    monkeypatch.delenv(names.ENV_PAYLOAD_BUCKET, raising=False)
    for variable, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
    ):
        monkeypatch.setenv(variable, value)
    first = start()
    first.client().create_table(**table.create_table_request(name))
    yield start
    for engine in engines:
        engine.stop()
    runtime.reset()


# botocore's standard retry mode sleeps at most 2**n s before retry n (runtime._RETRIES: 3 retries).
# (Read at import: botocore's Config consumes that dict's keys once a client is built.)
RETRIES = runtime._RETRIES["max_attempts"]
MAX_BACKOFF_SECONDS = sum(2**number for number in range(RETRIES))


@pytest.fixture
def backoffs(monkeypatch):
    """The delays botocore's retries sleep, recorded instead of slept. How fast a 503 comes is
    then the function's own schedule (attempts and backoff, which the deadline guard keeps inside
    the invocation on Lambda: see test_throttling), not a wall clock that a loaded machine
    stretches past any bound (it did: 9.3 s against a 9 s bound under a load average of 12)."""
    import botocore.endpoint

    slept: list[float] = []

    class RecordedSleeps:  # botocore.endpoint's `time`, with only its sleeps recorded
        sleep = staticmethod(slept.append)

        def __getattr__(self, name):
            return getattr(time, name)

    monkeypatch.setattr(botocore.endpoint, "time", RecordedSleeps())
    return slept


def crash(engine: DynamoDBLocal) -> None:
    """Stop the engine under the writer's feet. SIGTERM, not SIGKILL: DynamoDB Local (unlike
    DynamoDB) acknowledges a TransactWriteItems before its files have it, and measurably drops the
    last acknowledged transaction when killed outright, which would test the engine, not us."""
    os.killpg(engine.process.pid, signal.SIGTERM)
    engine.process.wait(timeout=30)


class Writer(threading.Thread):
    """Writes runs, one request at a time (a function serves one event at a time), recording every
    request, its answer and how long it took, until told to stop."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.requests: list[dict] = []
        self.stop_after_failures: int | None = None
        self.failures_after_kill = 0
        self.crashed = threading.Event()

    def run(self) -> None:
        number = 0
        while self.failures_after_kill < (self.stop_after_failures or 10**9):
            number += 1
            session_id = SESSIONS[number % len(SESSIONS)]
            if number % 3 == 0:  # several runs in one upsert: one transaction, all or nothing
                runs = [{"run_id": f"n{number}-{k}", "n": number} for k in range(3)]
                request = ("PUT", session_path(session_id), {"session_type": "agent", "runs": runs}, {})
            elif number % 3 == 1:
                runs = [{"run_id": f"n{number}", "n": number}]
                request = ("PUT", run_path(session_id, runs[0]["run_id"]), {"n": number}, {})
            else:  # the same, under an Idempotency-Key (its record is written around the run)
                runs = [{"run_id": f"n{number}", "n": number}]
                request = (
                    "PUT",
                    run_path(session_id, runs[0]["run_id"]),
                    {"n": number},
                    {idempotency.HEADER: f"key-{number}"},
                )
            method, path, body, headers = request
            started = time.monotonic()
            response = call(method, path, body, headers=headers)
            self.requests.append(
                {
                    "session_id": session_id,
                    "runs": runs,
                    "response": response,
                    "seconds": time.monotonic() - started,
                    "after_kill": self.crashed.is_set(),
                }
            )
            if self.crashed.is_set() and response.status >= 500:
                self.failures_after_kill += 1


def test_dynamodb_killed_mid_run_gives_503s_then_loses_no_acknowledged_write(disk_dynamodb, backoffs):
    engine = disk_dynamodb()
    writer = Writer()
    writer.stop_after_failures = 4
    writer.start()
    deadline = time.monotonic() + 60
    while len([r for r in writer.requests if r["response"].status < 300]) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    writer.crashed.set()
    crash(engine)
    writer.join(timeout=120)
    assert not writer.is_alive()

    before = [r for r in writer.requests if not r["after_kill"]]
    during = [r for r in writer.requests if r["after_kill"]]
    # A loaded machine can make DynamoDB Local slower than the read timeout even before the stop:
    # that too must be a 503, and nothing else but a success.
    assert all(r["response"].status in (200, 201, 503) for r in before), [r["response"].text for r in before]
    # Once DynamoDB is gone: 503 with Retry-After and a problem body, fast; never a 500.
    failed = [r for r in during if r["response"].status >= 300]
    assert len(failed) >= 4
    for record in failed:
        response = record["response"]
        assert response.status == 503, response.text
        assert int(response.headers["Retry-After"]) >= 1
        assert response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
    assert all(0 <= delay <= 2**RETRIES for delay in backoffs), backoffs

    disk_dynamodb()  # a new process on the same files
    acknowledged = [r for r in writer.requests if r["response"].status in (200, 201)]
    for session_id in SESSIONS:
        response = call("GET", session_path(session_id))
        if response.status == 404:
            assert not any(r["session_id"] == session_id for r in acknowledged)
            continue
        session = response.json()
        stored = {run["run_id"]: run for run in session["runs"]}
        assert session["run_count"] == len(stored), session_id  # the counters match the runs
        for record in writer.requests:
            if record["session_id"] != session_id:
                continue
            present = [run["run_id"] in stored for run in record["runs"]]
            assert all(present) or not any(present), record  # a request is all there or not at all
            if record in acknowledged:
                assert all(present), record
                for run in record["runs"]:
                    assert stored[run["run_id"]]["n"] == run["n"]


def test_a_large_import_interrupted_between_its_transactions_is_invisible(disk_dynamodb, backoffs):
    """Runs are written first and the session item that makes them visible last: a crash between
    the chunks leaves nothing a reader can see."""
    engine = disk_dynamodb()
    client = runtime.repository()._client
    transactions = []

    def crash_before_the_second(**_):
        transactions.append(1)
        if len(transactions) == 2:
            crash(engine)

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", crash_before_the_second)
    runs = [{"run_id": f"r{k}"} for k in range(LARGE_IMPORT_RUNS)]
    response = call("PUT", session_path("half"), {"session_type": "agent", "runs": runs})
    assert response.status == 503 and response.headers["Retry-After"]
    assert sum(backoffs) <= MAX_BACKOFF_SECONDS < FUNCTION_TIMEOUT_SECONDS, backoffs

    disk_dynamodb()
    assert call("GET", session_path("half")).status == 404
    listed = call("GET", "/sessions").json()["sessions"]
    assert listed == []
    # The retries the 503 asked for complete the import (a retry whose transaction DynamoDB Local
    # committed after the client's read timeout leaves the next one an update: 200).
    for _ in range(5):
        retried = call("PUT", session_path("half"), {"session_type": "agent", "runs": runs})
        if retried.status != 503:
            break
        time.sleep(int(retried.headers["Retry-After"]))
    assert retried.status in (200, 201), retried.text
    body = call("GET", session_path("half")).json()
    assert body["run_count"] == LARGE_IMPORT_RUNS and len(body["runs"]) == LARGE_IMPORT_RUNS
