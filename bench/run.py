"""`make bench`: one run, on one DynamoDB Local, measuring this project and Agno's DynamoDb adapter
on the same data; writes bench/results/latest.{json,md} and PNG plots; exits 1 if a target fails.

    .venv/bin/python -m bench.run [--quick]

--quick shrinks the tables and repetitions: a smoke test of the benchmark itself, whose numbers
are not the published ones (and whose targets are not checked).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from typing import Any

from bench import data, init_time, report, targets, turns
from bench.agno_adapter import Agno
from bench.capacity import CapacityMeter
from bench.engines import cache_describe_table, local_s3
from bench.loader import loader_client
from bench.measure import Sample, measure, wait_for_next_second
from bench.ours import TABLE_NAME, Ours
from bench.pricing import PRICES, Pricer
from local_runtime.dynamodb_local import DynamoDBLocal
from session_store import items, names, runtime

BUCKET = "bench-payloads"
PAGE = 20
LISTED_TYPE = "agent"  # AgentOS lists sessions of one type; Agno's adapter serves that from an index
RECENT = 5
BIG_RUNS = {"300k": 300 * 1024, "2m": 2 * 1024 * 1024}
TURN_USER = data.user_id(1)


def scoped(system: str, session_id: str) -> str:
    """Each system gets its own copy of a session, under its own id."""
    return f"{system}-{session_id}"


def scoped_session(system: str, session: dict[str, Any]) -> dict[str, Any]:
    """A captured session as `system`'s copy: its id scoped, and its runs naming that id (the store
    refuses a run that names another session with a 422)."""
    session_id = scoped(system, session["session_id"])
    runs = [{**run, "session_id": session_id} if "session_id" in run else run for run in session.get("runs", [])]
    return {**session, "session_id": session_id, "runs": runs}


@dataclass(frozen=True)
class Plan:
    small: int = 1_000
    large: int = 10_000
    conversation_turns: int = 1_000
    init_rounds: int = 7
    first_call_rounds: int = 5
    cheap_repeats: int = 9  # our requests: tens of milliseconds each
    agno_list_repeats: int = 5
    agno_large_list_repeats: int = 3  # each reads the whole type index and every listed session's runs
    turn_repeats: int = 7
    turn_cost_turns: tuple[int, ...] = (1, 100, 1000)  # the turn numbers turn_cost measures


QUICK = Plan(
    small=500,
    large=1_000,
    conversation_turns=120,
    init_rounds=1,
    first_call_rounds=1,
    cheap_repeats=3,
    agno_list_repeats=2,
    agno_large_list_repeats=1,
    turn_repeats=3,
    turn_cost_turns=(1, 10, 30),
)


@dataclass
class Bench:
    plan: Plan
    meter: CapacityMeter
    pricer: Pricer
    loader: Any
    systems: tuple[Any, ...]
    started: float
    conversation_runs: list[dict[str, Any]] = field(default_factory=list)  # the long conversation's
    calls: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # per measurement

    def log(self, message: str) -> None:
        log(self.started, message)


def log(started: float, message: str) -> None:
    print(f"[bench {time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Session Store vs. Agno's DynamoDb adapter")
    parser.add_argument("--quick", action="store_true", help="small tables, few repetitions (smoke test)")
    quick = parser.parse_args(argv).quick
    plan = QUICK if quick else Plan()
    os.environ.setdefault("AGNO_TELEMETRY", "false")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines on stdout per request
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    started = time.monotonic()
    results: dict[str, Any] = {
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "environment": _environment(),
        "plan": asdict(plan),
    }

    def say(message: str) -> None:
        log(started, message)

    # First, while nothing else runs: DynamoDB Local's JVM would compete with the cold starts.
    say(f"cold starts: {plan.init_rounds} interleaved rounds of {len(init_time.handler_modules()) + 1} probes")
    imports = init_time.import_times(plan.init_rounds, init_time.lambda_environment(TABLE_NAME, BUCKET))
    results["init_ms"], results["init_cpu_ms"] = imports["wall_ms"], imports["cpu_ms"]
    results["init_samples_ms"] = {"wall": imports["wall_samples_ms"], "cpu": imports["cpu_samples_ms"]}

    with DynamoDBLocal() as engine, local_s3(BUCKET) as s3_endpoint:
        meter = CapacityMeter()
        ours = Ours(engine.endpoint_url, s3_endpoint, BUCKET, meter)
        pricer = Pricer(engine.client())
        agno_client = pricer.attach(cache_describe_table(meter.attach(engine.client())))
        agno = Agno(agno_client)
        runtime.client_observers.append(lambda name, client: pricer.attach(client) if name == "dynamodb" else None)
        runtime.reset()
        bench = Bench(plan, meter, pricer, loader_client(engine.endpoint_url), (ours, agno), started)
        for system in bench.systems:
            system.create_table(engine.client())
        results.update(_lists(bench))
        conversation_id, turn_results = _turns(bench)
        results.update(turn_results)
        results.update(_recent_runs(bench, conversation_id))
        results.update(_big_runs(bench))
        say(f"turn cost: real agents, turns {plan.turn_cost_turns}, warm and cold")
        results.update(turns.measure(pricer, bench.loader, agno_client, plan.turn_cost_turns, say))
        results["turn_cost_prices"] = PRICES
        say(f"first calls: {plan.first_call_rounds} interleaved rounds")
        endpoints = {names.ENV_DYNAMODB_ENDPOINT: engine.endpoint_url, names.ENV_S3_ENDPOINT: s3_endpoint}
        results["cold_start_ms"] = init_time.first_call_times(
            plan.first_call_rounds,
            init_time.lambda_environment(TABLE_NAME, BUCKET, endpoints),
            engine.endpoint_url,
            TABLE_NAME,
            items.session_key(scoped("ours", conversation_id)),
            "get_session",
            init_time.api_event("GET", f"/sessions/{scoped('ours', conversation_id)}", {"runs_limit": RECENT}),
        )
        results["calls"] = bench.calls

    results["ratios"], results["targets"] = targets.evaluate(results)
    results["passed"] = all(target["pass"] for target in results["targets"].values())
    results["duration_s"] = round(time.monotonic() - started, 1)
    for path in report.write(results):
        say(f"wrote {path}")
    for name, target in results["targets"].items():
        say(f"{'PASS' if target['pass'] else 'FAIL'} {name}: {target['value']} (limit {target['limit']})")
    return 0 if results["passed"] or quick else 1


def _environment() -> dict[str, str]:
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "agno": version("agno"),
        "boto3": version("boto3"),
        "aws-lambda-powertools": version("aws-lambda-powertools"),
        "capacity_source": "ReturnConsumedCapacity=TOTAL on every DynamoDB call, summed per action (bench/capacity.py)",
    }


def _record(bench: Bench, key: str, sample: Sample) -> None:
    bench.calls[key] = sample.calls
    calls = ", ".join(f"{operation} x{count:g} = {units:g}" for operation, (count, units) in sample.calls.items())
    bench.log(f"{key}: {sample.rcu:g} RCU, {sample.wcu:g} WCU, {sample.ms:g} ms (median of {sample.repeats}) [{calls}]")


def _lists(bench: Bench) -> dict[str, Any]:
    plan, population, now = bench.plan, data.Population(), int(time.time())
    units: dict[str, float] = {}
    times: dict[str, float] = {}
    done = 0
    user = ""
    for size, label in ((plan.small, "1k"), (plan.large, "10k")):
        sessions = population.sessions(done, size, now)
        user = user or data.list_user(sessions, LISTED_TYPE, PAGE)
        for system in bench.systems:
            written = system.populate(bench.loader, sessions)
            bench.log(f"{system.label}: sessions {done}..{size} populated ({written} items)")
        done = size
        for system in bench.systems:
            if system.label == "ours":
                repeats = plan.cheap_repeats
            else:
                repeats = plan.agno_large_list_repeats if label == "10k" else plan.agno_list_repeats
            pages: list[list[str]] = []
            sample = measure(bench.meter, lambda _: pages.append(system.list_recent(user, LISTED_TYPE, PAGE)), repeats)
            if any(len(page) != PAGE for page in pages):
                raise RuntimeError(f"{system.label} listed {[len(page) for page in pages]} sessions, not {PAGE}")
            key = f"{system.label}_{label}"
            units[key], times[key] = sample.rcu, sample.ms
            _record(bench, f"list_{key}", sample)
    return {"list_rcu": units, "list_ms": times, "list_user": user}


def _turns(bench: Bench) -> tuple[str, dict[str, Any]]:
    """Turn 1 of fresh conversations, then turns 1,000.. of one long conversation (each in a new
    second; our index entries move at most once per 300 s, so these do not move them: a turn that
    does is priced in turn_cost_index_move). Write units priced by AWS's rules (bench/pricing.py),
    DynamoDB Local's own report kept as turn_wcu_dynamodb_local."""
    plan = bench.plan
    rng = random.Random(1_000)
    created = int(time.time()) - 86_400
    firsts = [
        data.conversation(rng, f"first-turn-{index}", "agent", TURN_USER, created, runs=1)
        for index in range(plan.turn_repeats)
    ]
    long_conversation = data.conversation(
        rng, "long-conversation", "agent", TURN_USER, created, runs=plan.conversation_turns - 1 + plan.turn_repeats
    )
    imported = plan.conversation_turns - 1
    units: dict[str, float] = {}
    reported: dict[str, float] = {}
    reads: dict[str, float] = {}
    times: dict[str, float] = {}
    for system in bench.systems:
        pending: list[Any] = []
        priced: list[float] = []

        def turn(_: int) -> None:
            # Priced by AWS's rules too: DynamoDB Local under-reports transactions of equal items.
            bench.pricer.take()
            pending.pop()()
            priced.append(bench.pricer.take().wru)

        def first(index: int) -> None:
            record = scoped_session(system.label, firsts[index])
            pending.append(system.prepare_turn({**record, "runs": []}, record["runs"][0]))

        def keep(turn_label: str, sample: Sample) -> None:
            key = f"{system.label}_{turn_label}"
            _record(bench, f"turn_{key}", sample)
            units[key], reported[key] = statistics.median(priced), sample.wcu
            reads[key], times[key] = sample.rcu, sample.ms
            priced.clear()

        keep("t1", measure(bench.meter, turn, plan.turn_repeats, before_each=first))

        session = scoped_session(system.label, long_conversation)
        system.import_runs(bench.loader, {**session, "runs": []}, session["runs"][:imported])

        def later(index: int) -> None:
            turn = imported + index
            pending.append(system.prepare_turn({**session, "runs": session["runs"][:turn]}, session["runs"][turn]))
            wait_for_next_second()

        keep("t1000", measure(bench.meter, turn, plan.turn_repeats, before_each=later))
    bench.conversation_runs = long_conversation["runs"]
    return long_conversation["session_id"], {
        "turn_wcu": units,
        "turn_wcu_dynamodb_local": reported,
        "turn_ms": times,
        "turn_rcu": reads,
    }


def _recent_runs(bench: Bench, conversation: str) -> dict[str, Any]:
    expected = [run["run_id"] for run in bench.conversation_runs[-RECENT:]]
    units: dict[str, float] = {}
    times: dict[str, float] = {}
    readers = [(system.label, system.recent_runs, False) for system in bench.systems]
    ours = bench.systems[0]
    readers.append(("ours_runs_page", ours.recent_runs_page, True))  # GET …/runs?order=desc&limit=5
    for label, read, newest_first in readers:
        session_id = scoped(label.split("_")[0], conversation)
        got: list[list[str]] = []
        sample = measure(
            bench.meter,
            lambda _: got.append([run["run_id"] for run in read(session_id, RECENT)]),
            bench.plan.cheap_repeats,
        )
        want = expected[::-1] if newest_first else expected
        if any(ids != want for ids in got):
            raise RuntimeError(f"{label} read runs {got[0]}, not the newest {RECENT}: {want}")
        units[label], times[label] = sample.rcu, sample.ms
        _record(bench, f"get_recent_{label}", sample)
    return {"get_recent_rcu": units, "get_recent_ms": times}


def _big_runs(bench: Bench) -> dict[str, Any]:
    rng = random.Random(2_000)
    outcome: dict[str, bool] = {}
    notes: dict[str, str] = {}
    for size_label, size in BIG_RUNS.items():
        record = data.conversation(rng, f"big-run-{size_label}", "agent", TURN_USER, int(time.time()), runs=0)
        run = data.big_run(record, size, seed=size)
        for system in bench.systems:
            session = {**record, "session_id": scoped(system.label, record["session_id"])}
            key = f"{system.label}_{size_label}"
            outcome[key], notes[key] = system.round_trip(session, {**run, "session_id": session["session_id"]})
            bench.log(f"{key}: {outcome[key]} ({notes[key]})")
    return {"big_run": outcome, "big_run_notes": notes}


if __name__ == "__main__":
    sys.exit(main())
