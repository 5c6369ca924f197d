"""Concurrency over HTTP against the local runtime (the synthesized stack on DynamoDB Local).

The runtime runs one event at a time per function, as Lambda runs one per execution environment,
so writers race through different functions at once (PUT session, PUT run, PATCH, DELETE run),
each on its own connection, and the races are settled by DynamoDB's conditions:
- 32 writers appending distinct runs to one session lose none, in one stable order;
- writers sharing one If-Match: exactly one wins, the others get 412 and write nothing;
- retries of one request under one Idempotency-Key write it once.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from urllib.parse import quote

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

WRITERS = 32
TIMEOUT = 30


def session_url(base: str, session_id: str) -> str:
    return f"{base}/sessions/{quote(session_id, safe='')}"


def run_url(base: str, session_id: str, run_id: str) -> str:
    return f"{session_url(base, session_id)}/runs/{quote(run_id, safe='')}"


def together(count: int, work: Callable[[requests.Session, int], requests.Response]) -> list[requests.Response]:
    """Run `work` in `count` threads released at once, each with its own HTTP session."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        with requests.Session() as http:
            barrier.wait()
            try:
                results[index] = work(http, index)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(result, requests.Response) for result in results), results
    return results


@pytest.fixture
def session_id(local_api_url) -> str:
    sid = f"race#{uuid.uuid4().hex[:8]}"
    created = requests.put(
        session_url(local_api_url, sid), json={"session_type": "agent", "user_id": "alice"}, timeout=TIMEOUT
    )
    assert created.status_code == 201, created.text
    return sid


PATCHERS = 4


def test_32_concurrent_appenders_lose_no_run_and_agree_on_one_order(local_api_url, session_id):
    """With merge patches among them: each function reads its own request, however many run at
    once (Powertools kept the current event process-wide, and a PATCH once read a PUT's body)."""

    def append(http: requests.Session, index: int) -> requests.Response:
        if index >= WRITERS:
            return http.patch(
                session_url(local_api_url, session_id),
                json={"metadata": {f"w{index}": index}},
                headers={"Content-Type": "application/merge-patch+json"},
                timeout=TIMEOUT,
            )
        run = {"run_id": f"run-{index:02d}", "writer": index, "content": "x" * (index * 37)}
        if index % 2:  # half through the run route, half through the session route (another function)
            return http.put(run_url(local_api_url, session_id, run["run_id"]), json=run, timeout=TIMEOUT)
        return http.put(session_url(local_api_url, session_id), json={"runs": [run]}, timeout=TIMEOUT)

    responses = together(WRITERS + PATCHERS, append)
    assert sorted(r.status_code for r in responses) == [200] * (WRITERS // 2 + PATCHERS) + [201] * (WRITERS // 2), [
        (r.status_code, r.text) for r in responses if r.status_code not in (200, 201)
    ]

    first = requests.get(session_url(local_api_url, session_id), timeout=TIMEOUT).json()
    second = requests.get(session_url(local_api_url, session_id), timeout=TIMEOUT).json()
    order = [run["run_id"] for run in first["runs"]]
    assert sorted(order) == [f"run-{index:02d}" for index in range(WRITERS)]
    assert [run["run_id"] for run in second["runs"]] == order
    assert first["run_count"] == WRITERS and first["version"] == 1 + WRITERS + PATCHERS
    assert first["metadata"] == {f"w{index}": index for index in range(WRITERS, WRITERS + PATCHERS)}
    for run in first["runs"]:
        assert run["content"] == "x" * (run["writer"] * 37)
    # Paging the runs (another function, another query) gives the same order.
    paged, cursor = [], None
    while True:
        query = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{session_url(local_api_url, session_id)}/runs", params=query, timeout=TIMEOUT).json()
        paged += [run["run_id"] for run in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == order


@pytest.mark.parametrize("round_number", range(3))
def test_writers_sharing_one_if_match_let_exactly_one_win(local_api_url, session_id, round_number):
    seed = requests.put(run_url(local_api_url, session_id, "existing"), json={"v": 0}, timeout=TIMEOUT)
    etag = seed.headers["ETag"]
    version = int(etag.strip('"'))

    def conditional_write(http: requests.Session, index: int) -> requests.Response:
        headers = {"If-Match": etag}
        kind = index % 4
        if kind == 0:
            return http.put(
                session_url(local_api_url, session_id),
                json={"metadata": {"winner": index}},
                headers=headers,
                timeout=TIMEOUT,
            )
        if kind == 1:
            return http.patch(
                session_url(local_api_url, session_id),
                json={"metadata": {"winner": index}},
                headers={**headers, "Content-Type": "application/merge-patch+json"},
                timeout=TIMEOUT,
            )
        if kind == 2:
            return http.put(
                run_url(local_api_url, session_id, f"conditional-{round_number}-{index}"),
                json={"winner": index},
                headers=headers,
                timeout=TIMEOUT,
            )
        return http.delete(run_url(local_api_url, session_id, "existing"), headers=headers, timeout=TIMEOUT)

    responses = together(12, conditional_write)
    statuses = [response.status_code for response in responses]
    winners = [index for index, status in enumerate(statuses) if status < 300]
    assert len(winners) == 1, statuses
    assert all(status == 412 for index, status in enumerate(statuses) if index not in winners), statuses
    for index, response in enumerate(responses):
        if index not in winners:
            assert response.headers["Content-Type"] == "application/problem+json"

    after = requests.get(session_url(local_api_url, session_id), timeout=TIMEOUT).json()
    assert after["version"] == version + 1
    (winner,) = winners
    run_ids = [run["run_id"] for run in after["runs"]]
    losers_runs = [f"conditional-{round_number}-{i}" for i in range(12) if i % 4 == 2 and i != winner]
    assert not set(losers_runs) & set(run_ids)
    assert ("existing" in run_ids) == (winner % 4 != 3)
    assert after["run_count"] == len(run_ids)
    if winner % 4 in (0, 1):
        assert after["metadata"] == {"winner": winner}


def test_concurrent_retries_under_one_idempotency_key_write_once(local_api_url, session_id):
    key = f"retry-{uuid.uuid4().hex}"
    before = requests.get(session_url(local_api_url, session_id), timeout=TIMEOUT).json()["version"]

    def retry(http: requests.Session, index: int) -> requests.Response:
        return http.put(
            run_url(local_api_url, session_id, "once"),
            json={"content": "once"},
            headers={"Idempotency-Key": key},
            timeout=TIMEOUT,
        )

    responses = together(8, retry)
    executed = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(executed) == 1 and len(executed) + len(replayed) + len(in_progress) == len(responses)
    for response in replayed:
        assert (response.status_code, response.text, response.headers["ETag"]) == (
            201,
            executed[0].text,
            executed[0].headers["ETag"],
        )
    for response in in_progress:
        assert response.headers["Retry-After"]
    after = requests.get(session_url(local_api_url, session_id), timeout=TIMEOUT).json()
    assert after["version"] == before + 1 and [run["run_id"] for run in after["runs"]] == ["once"]


def test_a_short_soak_loses_no_acknowledged_write(local_api_url, tmp_path):
    """The soak of `make soak` (bench/soak.py), for seconds instead of minutes, in `make test`."""
    from bench import soak

    output = tmp_path / "soak.json"
    assert soak.main(["--url", local_api_url, "--duration", "8", "--threads", "4", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    assert result["requests"] > 20 and result["errors"] == 0
    assert result["writes"]["acknowledged_runs"] > 0 and result["writes"]["lost_writes"] == 0
    assert result["latency"]["p99_ms"] > 0
