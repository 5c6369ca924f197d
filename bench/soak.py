"""`make soak`: a sustained mixed load against the local runtime, then a check that nothing was lost.

    .venv/bin/python -m bench.soak [--duration 300] [--threads 4] [--rate 25] [--sessions 8] [--url URL]

Starts `python -m local_runtime serve --port <free> --in-memory` as a subprocess (the whole stack
on DynamoDB Local, bound to 127.0.0.1; --url instead names a runtime already running there), then
runs a bounded request loop: `--threads` threads,
each with its own HTTP session and at most `--rate` requests a second, for `--duration` seconds
(and at most `--max-requests` in all). The mix is mostly writes, as an agent's turn is:
appending a run through either write route, updating a session, with reads and lists between.
Writers share the sessions, so appends race as they do in production.

At the end every acknowledged run (a 200/201 answer) is read back, paging through each session's
runs, and compared with what was sent; each session's run_count must equal the runs it holds.
Writes bench/results/soak.json: requests, errors, latency percentiles (overall and per
operation) and the lost-write check. Exits 1 if a write was lost, a request failed with a 5xx or
no answer, or a session's counters disagree with its runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from local_runtime.cli import READY_PREFIX
from local_runtime.dynamodb_local import free_port

REPO = Path(__file__).resolve().parent.parent
RESULT = REPO / "bench" / "results" / "soak.json"
HOST = "127.0.0.1"  # the soak never leaves this machine
START_TIMEOUT_SECONDS = 600  # the first start synthesizes the CDK app
REQUEST_TIMEOUT_SECONDS = 30
# Operation mix (weights): an agent turn appends a run; AgentOS reads and lists in between.
MIX = {"put_run": 45, "put_session_run": 20, "put_session": 10, "get_session": 15, "list_runs": 5, "list_sessions": 5}


@dataclass
class Tally:
    """What the threads observed, shared under one lock."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    failures: list[str] = field(default_factory=list)  # 5xx and requests without an answer
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, seconds: float, status: int | None, detail: str = "") -> None:
        with self.lock:
            self.latencies[operation].append(seconds)
            self.statuses[operation][status or 0] += 1
            if status is None or status >= 500:
                self.failures.append(f"{operation}: {status or 'no answer'} {detail[:200]}")

    def acknowledge(self, session_id: str, run: dict[str, Any]) -> None:
        with self.lock:
            self.acknowledged[session_id][run["run_id"]] = run


class LocalRuntime:
    """`python -m local_runtime serve` in its own process group, stopped with the whole group."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="soak-runtime-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self) -> LocalRuntime:
        command = [
            sys.executable,
            "-m",
            "local_runtime",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--in-memory",
            "--quiet",
            "--cdk-out",
            tempfile.mkdtemp(prefix="soak-cdk-out-"),
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local runtime exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            if READY_PREFIX in self.log.read_text(errors="replace"):
                try:
                    if requests.get(f"{self.url}/openapi.json", timeout=5).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"the local runtime was not ready in {START_TIMEOUT_SECONDS} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def session_url(base: str, session_id: str) -> str:
    return f"{base}/sessions/{quote(session_id, safe='')}"


class Worker(threading.Thread):
    def __init__(
        self,
        number: int,
        base: str,
        sessions: list[str],
        tally: Tally,
        args: argparse.Namespace,
        stop_at: float,
        budget: threading.Semaphore,
    ) -> None:
        super().__init__(name=f"soak-{number}", daemon=True)
        self.number, self.base, self.sessions, self.tally = number, base, sessions, tally
        self.interval = 1.0 / args.rate if args.rate > 0 else 0.0
        self.stop_at, self.budget = stop_at, budget
        self.random = random.Random(args.seed + number)
        self.sequence = 0

    def run(self) -> None:
        operations, weights = list(MIX), list(MIX.values())
        with requests.Session() as http:
            next_start = time.monotonic()
            while time.monotonic() < self.stop_at and self.budget.acquire(blocking=False):
                operation = self.random.choices(operations, weights)[0]
                self.call(http, operation)
                next_start += self.interval
                pause = next_start - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                else:
                    next_start = time.monotonic()  # behind schedule: never burst to catch up

    def new_run(self) -> dict[str, Any]:
        self.sequence += 1
        return {
            "run_id": f"w{self.number}-{self.sequence}",
            "status": "COMPLETED",
            "worker": self.number,
            "content": "x" * self.random.randint(10, 2000),
            "metrics": {"tokens": self.sequence, "cost": 0.1},
        }

    def call(self, http: requests.Session, operation: str) -> None:
        session_id = self.random.choice(self.sessions)
        url = session_url(self.base, session_id)
        run = None
        if operation == "put_run":
            run = self.new_run()
            request = ("PUT", f"{url}/runs/{quote(run['run_id'], safe='')}", {"json": run})
        elif operation == "put_session_run":
            run = self.new_run()
            request = ("PUT", url, {"json": {"session_data": {"turn": self.sequence}, "runs": [run]}})
        elif operation == "put_session":
            request = ("PUT", url, {"json": {"metadata": {"worker": self.number, "at": time.time()}}})
        elif operation == "get_session":
            request = ("GET", url, {"params": {"runs_limit": 20}})
        elif operation == "list_runs":
            request = ("GET", f"{url}/runs", {"params": {"limit": 50, "order": "desc"}})
        else:
            request = ("GET", f"{self.base}/sessions", {"params": {"user_id": "soak-user", "limit": 20}})
        method, target, extra = request
        started = time.perf_counter()
        try:
            response = http.request(method, target, timeout=REQUEST_TIMEOUT_SECONDS, **extra)
        except requests.RequestException as error:
            self.tally.record(operation, time.perf_counter() - started, None, repr(error))
            return
        self.tally.record(operation, time.perf_counter() - started, response.status_code, response.text)
        if run is not None and response.status_code in (200, 201):
            self.tally.acknowledge(session_id, run)


def read_all_runs(http: requests.Session, base: str, session_id: str) -> list[dict[str, Any]]:
    runs, cursor = [], None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = http.get(f"{session_url(base, session_id)}/runs", params=params, timeout=REQUEST_TIMEOUT_SECONDS)
        page.raise_for_status()
        body = page.json()
        runs += body["runs"]
        cursor = body["next_cursor"]
        if cursor is None:
            return runs


def verify(base: str, sessions: list[str], tally: Tally) -> dict[str, Any]:
    """Every acknowledged run is stored as sent; every session's run_count equals its runs."""
    lost, changed, miscounted, stored_runs = [], [], [], 0
    with requests.Session() as http:
        for session_id in sessions:
            session = http.get(
                session_url(base, session_id), params={"include_runs": "false"}, timeout=REQUEST_TIMEOUT_SECONDS
            ).json()
            runs = {run["run_id"]: run for run in read_all_runs(http, base, session_id)}
            stored_runs += len(runs)
            if session["run_count"] != len(runs):
                miscounted.append({"session_id": session_id, "run_count": session["run_count"], "runs": len(runs)})
            for run_id, sent in tally.acknowledged.get(session_id, {}).items():
                if run_id not in runs:
                    lost.append(f"{session_id}/{run_id}")
                elif runs[run_id] != sent:
                    changed.append(f"{session_id}/{run_id}")
    acknowledged = sum(len(runs) for runs in tally.acknowledged.values())
    return {
        "acknowledged_runs": acknowledged,
        "stored_runs": stored_runs,
        "lost_writes": len(lost),
        "changed_runs": len(changed),
        "miscounted_sessions": miscounted,
        "lost_examples": lost[:10],
        "changed_examples": changed[:10],
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)

    return {
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def soak(args: argparse.Namespace) -> dict[str, Any]:
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    runtime = LocalRuntime() if args.url is None else None
    base = runtime.start().url if runtime else _local_only(args.url)
    try:
        sessions = [f"soak-{index}#{uuid.uuid4().hex[:6]}" for index in range(args.sessions)]
        with requests.Session() as http:
            for session_id in sessions:
                created = http.put(
                    session_url(base, session_id),
                    json={"session_type": "agent", "agent_id": "soak-agent", "user_id": "soak-user"},
                    timeout=REQUEST_TIMEOUT_SECONDS,
                )
                created.raise_for_status()
        tally = Tally()
        started = time.monotonic()
        budget = threading.Semaphore(args.max_requests)
        workers = [
            Worker(number, base, sessions, tally, args, started + args.duration, budget)
            for number in range(args.threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
        check = verify(base, sessions, tally)
    finally:
        if runtime:
            runtime.stop()
    everything = [latency for samples in tally.latencies.values() for latency in samples]
    requests_made = len(everything)
    return {
        "started_at": started_at,
        "target": base if runtime is None else f"local runtime (python -m local_runtime serve --in-memory) on {HOST}",
        "settings": {
            "duration_s": args.duration,
            "threads": args.threads,
            "rate_per_thread": args.rate,
            "sessions": args.sessions,
            "max_requests": args.max_requests,
            "seed": args.seed,
            "mix": MIX,
        },
        "elapsed_s": round(elapsed, 1),
        "requests": requests_made,
        "requests_per_s": round(requests_made / elapsed, 1) if elapsed else 0.0,
        "errors": len(tally.failures),
        "error_examples": tally.failures[:10],
        "statuses": {operation: dict(sorted(counts.items())) for operation, counts in tally.statuses.items()},
        "latency": percentiles(everything),
        "latency_by_operation": {operation: percentiles(samples) for operation, samples in tally.latencies.items()},
        "writes": check,
        "passed": not tally.failures
        and check["lost_writes"] == 0
        and check["changed_runs"] == 0
        and not check["miscounted_sessions"],
    }


def _local_only(url: str) -> str:
    """--url may name only a runtime on this machine: the soak is a local load, never a remote one."""
    host = urlsplit(url).hostname
    if host not in (HOST, "localhost"):
        raise SystemExit(f"--url must be a local runtime on {HOST}, not {host}")
    return url.rstrip("/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=float(os.environ.get("SOAK_SECONDS", 300)),
        help="seconds of load (default 300, or $SOAK_SECONDS)",
    )
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate", type=float, default=25.0, help="most requests a second per thread (0: no cap)")
    parser.add_argument("--sessions", type=int, default=8, help="sessions the writers share")
    parser.add_argument("--max-requests", type=int, default=200_000, help="most requests in all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULT)
    parser.add_argument("--url", help=f"soak a runtime already running on {HOST} instead of starting one")
    args = parser.parse_args(argv)
    result = soak(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    latency = result["latency"]
    print(
        f"soak: {result['requests']} requests in {result['elapsed_s']} s ({result['requests_per_s']}/s), "
        f"{result['errors']} errors, p99 {latency.get('p99_ms')} ms; "
        f"{result['writes']['acknowledged_runs']} acknowledged runs, {result['writes']['lost_writes']} lost "
        f"-> {args.output}"
    )
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
