"""What a cold start loads: each check runs in a fresh interpreter with a Lambda-like environment
(bench/init_time.py), because the test process itself has long imported everything.

The cold-start target (every function's init at most 1.5x `import boto3` + a client; measured by
`make bench`) holds only while a handler's import loads neither boto3 nor the X-Ray SDK: boto3 is
loaded by the first request that calls AWS (runtime.py), the X-Ray SDK by the first invocation
with tracing on (entrypoint.LazyTracer).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import init_time

HEAVY_MODULES = ("boto3", "aws_xray_sdk")


def run_fresh(code: str, **environment: str) -> dict:
    env = {**init_time.lambda_environment("sessions", "payloads"), **environment}
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=init_time.REPO
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def loaded_after(statement: str, **environment: str) -> dict:
    code = f"import json, sys\n{statement}\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY_MODULES!r}}}))"
    return run_fresh(code, **environment)


@pytest.mark.parametrize("module", init_time.handler_modules())
def test_importing_a_handler_loads_neither_boto3_nor_the_xray_sdk(module):
    assert loaded_after(f"import handlers.{module}") == {name: False for name in HEAVY_MODULES}


INVOKE = """
from session_store import entrypoint as api
handler = api.tracer.capture_lambda_handler(lambda event, context: "answered", capture_response=False)
assert handler({}, None) == "answered"
"""


def test_with_tracing_disabled_an_invocation_never_loads_the_xray_sdk():
    assert loaded_after(INVOKE, POWERTOOLS_TRACE_DISABLED="true")["aws_xray_sdk"] is False


def test_with_tracing_on_the_first_invocation_traces_botocore_only():
    code = INVOKE + (
        "import json\n"
        "from aws_xray_sdk.core import patcher\n"
        "print(json.dumps({'tracer': api.tracer.get() is not None, 'patched': sorted(patcher._PATCHED_MODULES)}))\n"
    )
    assert run_fresh(code) == {"tracer": True, "patched": ["botocore"]}
