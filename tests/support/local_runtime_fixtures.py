"""The local runtime as a black box: started as a subprocess exactly as `make local` runs it.

Fixtures:
- `local_api_url`: base URL of the synthesized stack, served in memory (one per xdist worker; the
  e2e tests share one worker through their xdist group);
- `local_dynamodb` / `local_table_name`: direct access to that runtime's DynamoDB Local table;
- `local_assembly`: the folder the runtime synthesized the CDK app into (for --no-synth restarts);
- `fixture_runtime`: the same runtime serving tests/local_runtime/local_fixture (a hand-written template and
  fake handlers), to test the runtime itself independently of the real functions;
- `start_runtime`: a factory for more runtimes (restarts, modified templates), stopped at teardown.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local_runtime.cli import DYNAMODB_PREFIX, READY_PREFIX
from local_runtime.dynamodb_local import REPO_ROOT, make_client

FIXTURE_DIR = Path(__file__).parent.parent / "local_runtime" / "local_fixture"
FIXTURE_TEMPLATE = FIXTURE_DIR / "SessionStoreFixture.template.json"
# Synthesizing the CDK app (with its cdk-nag checks) is the slow part of a start.
START_TIMEOUT_SECONDS = float(os.environ.get("LOCAL_RUNTIME_START_TIMEOUT", "300"))

_READY = re.compile(re.escape(READY_PREFIX) + r"(http://\S+)")
_DYNAMODB = re.compile(re.escape(DYNAMODB_PREFIX) + r"(http://\S+)")
_TABLES = re.compile(r"^\s+tables: ([^;\n]+);", re.MULTILINE)


@dataclass
class RunningRuntime:
    process: subprocess.Popen
    log_path: Path
    url: str = ""
    dynamodb_endpoint: str = ""
    table_names: tuple[str, ...] = ()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def dynamodb(self):
        return make_client("dynamodb", self.dynamodb_endpoint)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Signal the runtime's whole process group and wait; SIGKILL if it does not stop."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        return self.process.returncode


def launch(*arguments: str, log_path: Path, timeout: float = START_TIMEOUT_SECONDS) -> RunningRuntime:
    command = [sys.executable, "-m", "local_runtime", "serve", "--port", "0", *arguments]
    with log_path.open("wb") as log:
        # Its own session, so that stop() can signal the runtime and anything it started as a group.
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    runtime = RunningRuntime(process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = runtime.log()
        ready = _READY.search(text)
        if ready and _TABLES.search(text):
            runtime.url = ready.group(1)
            runtime.dynamodb_endpoint = _DYNAMODB.search(text).group(1)
            runtime.table_names = tuple(n.strip() for n in _TABLES.search(text).group(1).split(","))
            return runtime
        if process.poll() is not None:
            raise RuntimeError(f"the local runtime exited with {process.returncode}:\n{text[-5000:]}")
        time.sleep(0.2)
    runtime.stop()
    raise TimeoutError(f"the local runtime was not ready in {timeout} s:\n{runtime.log()[-5000:]}")


@pytest.fixture(scope="session")
def start_runtime(tmp_path_factory) -> Iterator[Callable[..., RunningRuntime]]:
    started: list[RunningRuntime] = []

    def start(*arguments: str) -> RunningRuntime:
        log_path = tmp_path_factory.mktemp("runtime-log") / "runtime.log"
        runtime = launch(*arguments, log_path=log_path)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.stop()


@pytest.fixture(scope="session")
def local_assembly(tmp_path_factory) -> Path:
    # Not the shared cdk.out: parallel synths (infra tests, `make synth`) must not collide.
    return tmp_path_factory.mktemp("cdk-out")


@pytest.fixture(scope="session")
def local_runtime(start_runtime, local_assembly) -> RunningRuntime:
    """The synthesized stack; this start synthesizes into local_assembly, later ones reuse it."""
    return start_runtime("--in-memory", "--cdk-out", str(local_assembly))


@pytest.fixture(scope="session")
def local_api_url(local_runtime) -> str:
    response = requests.get(f"{local_runtime.url}/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    return local_runtime.url


@pytest.fixture(scope="session")
def local_dynamodb(local_runtime):
    return local_runtime.dynamodb()


@pytest.fixture(scope="session")
def local_table_name(local_runtime) -> str:
    (name,) = local_runtime.table_names
    return name


@pytest.fixture(scope="session")
def fixture_runtime(start_runtime) -> RunningRuntime:
    return start_runtime("--template", str(FIXTURE_TEMPLATE), "--in-memory", "--ttl-sweep-interval", "1")


@pytest.fixture(scope="session")
def eventually() -> Callable[..., bool]:
    """Poll a condition (the stream cascade and TTL expiry are asynchronous) until true or timeout."""

    def wait(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.2) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return predicate()

    return wait
