"""A session is not bounded by its runs: 2,000 runs round-trip, and the 2,000th costs what the first did."""

import time

from tests.support.api import call, call_retrying, run_path, session_path


def write_units(capacity, action):
    before = capacity.snapshot().write
    response = action()
    assert response.status in (200, 201), response.text
    return capacity.snapshot().write - before


def run(number):
    return {"run_id": f"run-{number:05d}", "content": f"turn {number}", "metrics": {"tokens": number, "ms": 0.5}}


def test_two_thousand_runs_round_trip_and_writes_stay_flat(table_name, capacity):
    first = write_units(capacity, lambda: call("PUT", run_path("big", run(1)["run_id"]), run(1)))
    # An import of 1,998 runs in one request: split into transactions under the 100-item limit.
    imported = call_retrying("PUT", session_path("big"), {"runs": [run(n) for n in range(2, 2000)]})
    assert imported.status == 200, imported.text
    # A new second, so the write moves the session in the updated-at indexes: the dearest case.
    time.sleep(1.1)
    last = write_units(capacity, lambda: call("PUT", run_path("big", run(2000)["run_id"]), run(2000)))

    assert first > 0 and last > 0
    assert last <= first * 1.2, (first, last)

    body = call("GET", session_path("big")).json()
    assert body["run_count"] == 2000
    assert body["runs"] == [run(n) for n in range(1, 2001)]


def test_reading_the_newest_runs_reads_only_those(table_name, capacity):
    written = call_retrying("PUT", session_path("s"), {"session_type": "agent", "runs": [run(n) for n in range(300)]})
    assert written.status in (200, 201), written.text
    before = capacity.snapshot().read
    recent = call("GET", session_path("s"), query={"runs_limit": 5}).json()["runs"]
    assert [r["run_id"] for r in recent] == [run(n)["run_id"] for n in range(295, 300)]
    assert capacity.snapshot().read - before <= 3  # session item + one small query, not 300 runs
