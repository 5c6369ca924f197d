"""Cold start of every function: a fresh interpreter per measurement, in a Lambda-like environment.

Each sample is one new Python process (bench/probe.py) that imports one handler module (or, for
the floor, imports boto3 and creates a DynamoDB client) and reports how long that took. Rounds are
interleaved (floor, handler 1, handler 2, …, floor, handler 1, …) so that machine noise hits every
probe alike; each result is the median of its rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from session_store import names

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO / "functions"
LAYER_DIR = REPO / "layers" / "session_store" / "python"
PROBE = Path(__file__).resolve().parent / "probe.py"
FLOOR = "floor"
_NOTHING = "-"


def handler_modules() -> list[str]:
    return sorted(path.stem for path in (FUNCTIONS_DIR / "handlers").glob("*.py") if path.stem != "__init__")


def lambda_environment(table_name: str, bucket: str, endpoints: dict[str, str] | None = None) -> dict[str, str]:
    """The variables a deployed function sees: Lambda's own, then the stack's (functions.py)."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS_DIR), str(LAYER_DIR)]),
        # Set by Lambda for a python3.13 function with active tracing.
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": "session-store-bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/session-store-bench",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "_X_AMZN_TRACE_ID": "Root=1-6650a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
        # The stack's environment.
        names.ENV_TABLE_NAME: table_name,
        names.ENV_RETENTION_DAYS: str(names.DEFAULT_RETENTION_DAYS),
        names.ENV_PAYLOAD_BUCKET: bucket,
        names.ENV_CURSOR_KEY: "bench-cursor-key",
        names.ENV_SERVICE_NAME: names.SERVICE_NAME,
        names.ENV_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
    }
    environment.update(endpoints or {})
    return environment


def _probe(
    target: str,
    environment: dict[str, str],
    endpoint: str = _NOTHING,
    table: str = _NOTHING,
    event_file: str = _NOTHING,
) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, str(PROBE), target, endpoint, table, event_file],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("PROBE ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"probe {target} failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return json.loads(lines[-1].removeprefix("PROBE "))


def import_times(rounds: int, environment: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Import-and-init milliseconds of the floor and of every handler module: wall-clock and CPU,
    each as the median of its rounds and as the rounds themselves."""
    targets = [FLOOR, *handler_modules()]
    wall: dict[str, list[float]] = {target: [] for target in targets}
    cpu: dict[str, list[float]] = {target: [] for target in targets}
    for _ in range(rounds):
        for target in targets:
            probe = _probe(target, environment)
            wall[target].append(probe["import_ms"])
            cpu[target].append(probe["import_cpu_ms"])
    return {
        "wall_ms": _medians(wall),
        "cpu_ms": _medians(cpu),
        "wall_samples_ms": {target: [round(value, 1) for value in values] for target, values in wall.items()},
        "cpu_samples_ms": {target: [round(value, 1) for value in values] for target, values in cpu.items()},
    }


def _medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {target: round(statistics.median(values), 1) for target, values in samples.items()}


def first_call_times(
    rounds: int,
    environment: dict[str, str],
    endpoint: str,
    table: str,
    floor_key: dict[str, Any],
    handler: str,
    event: dict[str, Any],
) -> dict[str, float]:
    """Median milliseconds from a fresh interpreter to the first answer: the floor's first GetItem,
    and one handler's first invocation (with tracing on, as deployed: the X-Ray SDK loads then)."""
    with tempfile.TemporaryDirectory() as scratch:
        floor_file, handler_file = Path(scratch) / "floor.json", Path(scratch) / "event.json"
        floor_file.write_text(json.dumps({"key": floor_key}))
        handler_file.write_text(json.dumps(event))
        samples: dict[str, list[float]] = {FLOOR: [], handler: []}
        for _ in range(rounds):
            samples[FLOOR].append(_probe(FLOOR, environment, endpoint, table, str(floor_file))["first_call_ms"])
            samples[handler].append(_probe(handler, environment, event_file=str(handler_file))["first_call_ms"])
    return {target: round(statistics.median(values), 1) for target, values in samples.items()}


def api_event(method: str, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API Gateway REST proxy event of a request, as tests/support/api.call builds it."""
    from urllib.parse import urlencode

    from local_runtime.apigateway import IncomingRequest, build_event
    from local_runtime.router import Router
    from local_runtime.stack import ApiMethod
    from session_store import routes

    router = Router(ApiMethod(route.method, route.path, route.function) for route in routes.ROUTES)
    match = router.match(method, path)
    if match is None:
        raise ValueError(f"no route for {method} {path}")
    target = path + ("?" + urlencode(query) if query else "")
    request = IncomingRequest(method, target, [("Accept", "application/json")], b"", "127.0.0.1", "bench", "v1")
    return build_event(request, match)
