"""Every write is atomic, whatever its size: one request is one version step, readers see
all of a write or none of it, a failed write leaves nothing visible and its retry succeeds. On
DynamoDB Local; large updates are written under a new incarnation and published at once
(large_updates.py)."""

from __future__ import annotations

import threading

import pytest

from session_store import errors, runtime
from session_store.models import SessionWrite
from session_store.service import SessionService
from tests.integration.test_throttling import MAX_ATTEMPTS, dynamodb_error
from tests.support.api import call, session_path

LARGE = 2_000
SMALL_WRITERS = 4
WRITES_EACH = 6


def _service() -> SessionService:
    return SessionService(runtime.repository(), 30)


def _until_written(write):
    """Retry what the API would answer 503 with Retry-After (a client retries those)."""
    for _ in range(200):
        try:
            return write()
        except errors.ServiceUnavailable:
            continue
    raise AssertionError("never written")


def _large_runs() -> list[dict]:
    return [{"run_id": f"big-{n:04d}", "n": n} for n in range(LARGE)]


def test_a_large_update_racing_small_writers_is_one_step_seen_whole_or_not_at_all(table_name):
    service = _service()
    service.upsert_session("s", SessionWrite(session_type="agent", runs=[{"run_id": f"old-{n}"} for n in range(5)]))
    start_version = service.get_session("s")["version"]
    observations: list[tuple[int, int, list[str]]] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def read() -> None:
        reader = _service()
        while not stop.is_set():
            body = reader.get_session("s")
            observations.append((body["version"], body["run_count"], [run["run_id"] for run in body["runs"]]))

    def small(writer: int) -> None:
        try:
            own = _service()
            for number in range(WRITES_EACH):
                run = {"run_id": f"w{writer}-{number}"}
                _until_written(lambda: own.upsert_session("s", SessionWrite(runs=[run])))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    def large() -> None:
        try:
            big = _service()
            replaced = [{"run_id": "old-2", "replaced": True}]
            _until_written(lambda: big.upsert_session("s", SessionWrite(runs=[*_large_runs(), *replaced])))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=small, args=(index,)) for index in range(SMALL_WRITERS)]
    writers.append(threading.Thread(target=large))
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=600)
    stop.set()
    reader.join(timeout=60)
    assert not failures, failures

    final = service.get_session("s")
    ids = [run["run_id"] for run in final["runs"]]
    assert final["version"] == start_version + SMALL_WRITERS * WRITES_EACH + 1  # one step per request
    assert final["run_count"] == len(ids) == 5 + LARGE + SMALL_WRITERS * WRITES_EACH
    assert sorted(ids) == sorted({*ids})
    assert ids[:5] == [f"old-{n}" for n in range(5)]  # first-write order kept, the replaced run in place
    assert final["runs"][2] == {"run_id": "old-2", "replaced": True}
    big = [run_id for run_id in ids if run_id.startswith("big-")]
    assert big == [f"big-{n:04d}" for n in range(LARGE)]
    # Every read saw the large update whole or not at all, its runs and its count together. (A
    # read is the session item, then the runs: small writes landing in between add their runs.)
    for version, run_count, seen in observations:
        big_seen = sum(run_id.startswith("big-") for run_id in seen)
        assert big_seen in (0, LARGE), version
        assert (big_seen == LARGE) == (run_count >= LARGE), version
        assert {f"old-{n}" for n in range(5)} <= set(seen), version


class _FailOneTransaction:
    """Fails every attempt of the `nth` TransactWriteItems on the service's client (botocore's
    retries included), as DynamoDB would under a lasting throttle; other calls go through."""

    def __init__(self, nth: int) -> None:
        self._seen = 0
        self._nth = nth
        self._failures_left = MAX_ATTEMPTS
        self._client = runtime.repository()._client
        self._client.meta.events.register("before-send.dynamodb.TransactWriteItems", self)

    def __call__(self, **_):
        self._seen += 1
        if self._seen >= self._nth and self._failures_left > 0:
            self._failures_left -= 1
            return dynamodb_error("ThrottlingException")
        return None

    def remove(self) -> None:
        self._client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", self)


@pytest.mark.parametrize("retry_with", ["If-Match", "Idempotency-Key"])
def test_a_fault_between_chunks_leaves_nothing_visible_and_the_retry_succeeds(table_name, retry_with, monkeypatch):
    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _: None)  # botocore's backoff, not waited
    created = call("PUT", session_path("s"), {"session_type": "agent", "runs": [{"run_id": "first"}]})
    headers = {"If-Match": created.etag} if retry_with == "If-Match" else {"Idempotency-Key": "import-1"}
    body = {"runs": _large_runs()}
    fault = _FailOneTransaction(nth=3)  # two chunks land, the third never does
    try:
        failed = call("PUT", session_path("s"), body, headers=headers)
    finally:
        fault.remove()
    assert failed.status == 503 and failed.headers["Retry-After"]
    after_failure = call("GET", session_path("s"))
    assert after_failure.etag == created.etag
    assert [run["run_id"] for run in after_failure.json()["runs"]] == ["first"]
    assert call("GET", "/sessions/s/runs", query={"limit": 100}).json()["runs"] == [{"run_id": "first"}]

    retried = call("PUT", session_path("s"), body, headers=headers)
    assert retried.status == 200, retried.text
    assert retried.etag == f'"{int(created.etag.strip(chr(34))) + 1}"'
    stored = call("GET", session_path("s")).json()
    assert stored["run_count"] == LARGE + 1
    assert [run["run_id"] for run in stored["runs"]] == ["first", *[run["run_id"] for run in body["runs"]]]
