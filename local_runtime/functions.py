"""Run the stack's Lambda functions in this process.

Loading follows the Lambda runtime: the function's code asset first on sys.path (LAMBDA_TASK_ROOT),
then each layer's python/ folder (/opt/python), then the runtime's own packages (here: the venv).
Layers that ship compiled extensions are skipped: they are built for the Lambda architecture
(manylinux aarch64), cannot load here, and hold the same pinned third-party packages as the venv.

Every function gets the same environment (the union of their template variables, resolved, plus
the local endpoints), set into os.environ once: functions run in one process, so per-function
environments are impossible, and a variable two functions disagree on is refused at start-up
rather than served wrong.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aws_lambda_powertools.shared import constants as powertools

from local_runtime.apigateway import LAMBDA_MAX_INVOKE_BYTES
from local_runtime.dynamodb_local import LOCAL_CREDENTIALS, LOCAL_REGION
from local_runtime.intrinsics import LOCAL_ACCOUNT_ID, Resolver
from local_runtime.stack import FunctionSpec

log = logging.getLogger(__name__)

# Lambda's limit on a synchronous invocation's request and response payloads.
MAX_PAYLOAD_BYTES = LAMBDA_MAX_INVOKE_BYTES
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")
_PYTHON_VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"
# The caller's own AWS settings must not leak into functions that are meant to reach local
# stand-ins only: a profile or a real session token next to the fake keys would be wrong at best.
_SCRUBBED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL")


class EnvironmentConflictError(RuntimeError):
    """Two functions set one variable to different values; one process cannot give them both."""


class FunctionLoadError(RuntimeError):
    pass


class InvocationError(RuntimeError):
    """The invocation failed the way Lambda reports it (errorType + errorMessage)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


def function_name(spec: FunctionSpec, resolver: Resolver, stack_name: str) -> str:
    name = resolver.resolve(spec.function_name) if spec.function_name is not None else None
    # CloudFormation would add a random suffix to <stack>-<logical id>; locally it stays stable.
    return name if isinstance(name, str) else f"{stack_name}-{spec.logical_id}"[:64]


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{name}"


def environment_union(functions: Mapping[str, FunctionSpec], resolver: Resolver) -> dict[str, str]:
    union: dict[str, str] = {}
    owner: dict[str, str] = {}
    for logical_id in sorted(functions):
        variables = resolver.resolve(functions[logical_id].environment)
        for name, value in sorted(variables.items()):
            text = value if isinstance(value, str) else json.dumps(value)
            if name in union and union[name] != text:
                raise EnvironmentConflictError(
                    f"functions {owner[name]} and {logical_id} set {name} to different values "
                    f"({union[name]!r} vs {text!r}); the local runtime runs every function in one "
                    "process with one environment, so give them the same value (see docs/local.md)"
                )
            union[name] = text
            owner.setdefault(name, logical_id)
    return union


def local_overrides(dynamodb_endpoint: str, s3_endpoint: str) -> dict[str, str]:
    """What Lambda (or the deployment) would provide, pointed at the local stand-ins."""
    from session_store import names  # the domain layer is on sys.path once functions are placed

    return {
        names.ENV_DYNAMODB_ENDPOINT: dynamodb_endpoint,
        names.ENV_S3_ENDPOINT: s3_endpoint,
        # DynamoDB Local on a developer's (or CI's) busy machine can pause for seconds.
        names.ENV_AWS_READ_TIMEOUT: "5",
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        # DynamoDB Local keeps one database per access key and region unless -sharedDb: the
        # functions must use the same fake credentials the runtime created the table with.
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        "AWS_EC2_METADATA_DISABLED": "true",
        powertools.TRACER_DISABLED_ENV: "true",
        powertools.METRICS_DISABLED_ENV: "true",
    }


def apply_environment(variables: Mapping[str, str]) -> None:
    for name in list(os.environ):
        if name in _SCRUBBED_VARIABLES or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(variables)


def place_code(functions: Mapping[str, FunctionSpec]) -> list[Path]:
    """Put code assets, then pure-Python layers, at the front of sys.path (Lambda's order)."""
    code_dirs = list(dict.fromkeys(spec.code_dir for spec in functions.values()))
    layer_dirs: list[Path] = []
    for layer in dict.fromkeys(d for spec in functions.values() for d in spec.layer_dirs):
        if _has_native_code(layer):
            log.info("layer %s ships compiled extensions for Lambda; using the venv's packages instead", layer.name)
            continue
        candidates = (layer / "python", layer / "python" / "lib" / _PYTHON_VERSION / "site-packages")
        layer_dirs.extend(path for path in candidates if path.is_dir())
    placed = [*code_dirs, *layer_dirs]
    for path in reversed(placed):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    return placed


def _has_native_code(directory: Path) -> bool:
    return any(path.suffix in _NATIVE_SUFFIXES or ".so." in path.name for path in directory.rglob("*"))


class LambdaContext:
    """The context object the Python runtime passes to a handler (awslambdaric's attributes)."""

    def __init__(self, function: LocalFunction, request_id: str) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        # The real runtime reads this from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, hence a string.
        self.memory_limit_in_mb = str(function.spec.memory_mb)
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + function.spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    """One function with one warm execution environment.

    Lambda never hands an execution environment a second event before the first returns, and
    handlers rely on it (Powertools' resolvers keep the current event on a module-level app), so
    invocations of one function are serialized here; different functions run in parallel.
    """

    def __init__(self, spec: FunctionSpec, name: str, handler: Callable[[Any, Any], Any]) -> None:
        self.spec = spec
        self.name = name
        self.arn = function_arn(name)
        self._handler = handler
        self._environment = threading.Lock()

    def invoke(self, event: Any) -> Any:
        """Invoke like Lambda: the result is JSON round-tripped and size-checked, a handler
        exception becomes an InvocationError, and the duration is checked against the timeout."""
        with self._environment:
            request_id = str(uuid.uuid4())
            context = LambdaContext(self, request_id)
            started = time.monotonic()
            try:
                result = self._handler(event, context)
            except Exception as error:  # noqa: BLE001 - any handler failure is an invocation error
                sys.stderr.write(f"[{self.name}] {request_id} invocation failed\n{traceback.format_exc()}")
                raise InvocationError(type(error).__name__, str(error)) from error
            elapsed = time.monotonic() - started
        if elapsed > self.spec.timeout_seconds:
            # A thread cannot be stopped, so the result stands; on Lambda this call would have
            # been killed with "Task timed out", so say so loudly.
            log.warning(
                "%s took %.1f s, over its %d s timeout: Lambda would have failed this invocation",
                self.name,
                elapsed,
                self.spec.timeout_seconds,
            )
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as error:
            raise InvocationError("Runtime.MarshalError", f"Unable to marshal response: {error}") from error
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise InvocationError(
                "Function.ResponseSizeTooLarge",
                f"Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes).",
            )
        return json.loads(payload)


def load_functions(
    functions: Mapping[str, FunctionSpec], names: Mapping[str, str], placed: list[Path]
) -> dict[str, LocalFunction]:
    """Import every handler now (a cold start for all), so a broken import fails at start-up."""
    loaded = {}
    for logical_id, spec in functions.items():
        try:
            module = importlib.import_module(spec.module_name)
        except Exception as error:
            raise FunctionLoadError(f"function {logical_id}: cannot import {spec.module_name}: {error}") from error
        module_file = Path(getattr(module, "__file__", "") or "").resolve()
        if not module_file.is_relative_to(spec.code_dir):
            # Two code assets defining the same module cannot share one interpreter.
            raise FunctionLoadError(
                f"function {logical_id}: {spec.module_name} resolved to {module_file}, not to its own "
                f"code asset {spec.code_dir} (sys.path order: {[str(p) for p in placed]})"
            )
        handler = getattr(module, spec.attribute_name, None)
        if not callable(handler):
            raise FunctionLoadError(f"function {logical_id}: {spec.handler} is not a callable")
        loaded[logical_id] = LocalFunction(spec, names[logical_id], handler)
    return loaded
