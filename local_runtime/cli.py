"""`python -m local_runtime serve`: the whole stack on one machine (what `make local` runs)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from local_runtime.filters import UnsupportedFilterError
from local_runtime.functions import EnvironmentConflictError
from local_runtime.runtime import DEFAULT_ASSEMBLY_DIR, DEFAULT_DATA_DIR, LocalRuntime, Options, PortInUseError
from local_runtime.stack import TemplateError
from local_runtime.synth import SynthError
from local_runtime.tables import TableCreationError, TableMismatchError
from local_runtime.ttl import DEFAULT_SWEEP_INTERVAL_SECONDS

# Start-up failures whose message says it all; anything else gets its traceback too.
_EXPLAINED = (
    SynthError,
    TemplateError,
    TableCreationError,
    TableMismatchError,
    EnvironmentConflictError,
    UnsupportedFilterError,
    PortInUseError,
)

READY_PREFIX = "Session Store running on "
DYNAMODB_PREFIX = "DynamoDB Local endpoint: "


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the synthesized stack on http://127.0.0.1:PORT")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="0 picks a free port")
    serve.add_argument("--host", default="127.0.0.1")
    storage = serve.add_mutually_exclusive_group()
    storage.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="kept across restarts (default: .local)"
    )
    storage.add_argument("--in-memory", action="store_true", help="keep nothing: table and bucket live in memory")
    source = serve.add_mutually_exclusive_group()
    source.add_argument("--no-synth", action="store_true", help="reuse the assembly in --cdk-out as it is")
    source.add_argument("--template", type=Path, help="serve this template (assets relative to its folder)")
    serve.add_argument(
        "--cdk-out", type=Path, default=DEFAULT_ASSEMBLY_DIR, help="where to synthesize (default: cdk.out)"
    )
    serve.add_argument("--stack", help="the stack to serve when the app has several")
    serve.add_argument(
        "--ttl-sweep-interval",
        type=float,
        default=DEFAULT_SWEEP_INTERVAL_SECONDS,
        help="seconds between TTL expiry sweeps (0 turns expiry off)",
    )
    serve.add_argument("--quiet", action="store_true", help="log warnings only")
    serve.add_argument(
        "--auth",
        choices=("none", "jwt"),
        default="none",
        help="jwt: the stack as deployed with auth=jwt; every request needs a token of `token` (docs/local.md)",
    )
    token = commands.add_parser("token", help="print a token for USER that `serve --auth jwt` accepts")
    token.add_argument("user", help="the token's subject: the user_id every request acts as")
    token.add_argument("--lifetime", type=int, default=3600, help="seconds until it expires")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "token":
        from local_runtime.jwt_auth import issue_token

        print(issue_token(args.user, args.lifetime))
        return 0
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The S3 stand-in is a werkzeug server too; its per-request lines would drown the API's. And
    # botocore announcing the (fake) credentials it found on every cold start is noise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("botocore.credentials").setLevel(logging.WARNING)
    options = Options(
        port=args.port,
        host=args.host,
        data_dir=None if args.in_memory else args.data_dir.resolve(),
        assembly_dir=args.cdk_out.resolve(),
        synth=not args.no_synth,
        template=args.template.resolve() if args.template else None,
        stack=args.stack,
        ttl_sweep_interval=args.ttl_sweep_interval,
        auth=args.auth,
    )
    return serve(options)


def serve(options: Options) -> int:
    # SIGTERM gets the same orderly shutdown as Ctrl-C: every child stopped, S3 objects saved.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    runtime = LocalRuntime(options)
    try:
        runtime.start()
        _print_banner(runtime)
        forever = threading.Event()
        while not forever.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    except Exception as error:  # noqa: BLE001 - report any start-up failure, then clean up
        if not isinstance(error, _EXPLAINED):
            logging.getLogger("local_runtime").exception("start-up failed")
        print(f"local runtime failed to start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the shutdown short and orphan DynamoDB Local.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        runtime.stop()
    print("Session Store stopped.", flush=True)
    return 0


def _print_banner(runtime: LocalRuntime) -> None:
    url = runtime.url
    data = runtime.options.data_dir
    lines = [
        # The one line that says the service is ready, and the first to name its URL.
        f"{READY_PREFIX}{url}",
        f"  {DYNAMODB_PREFIX}{runtime.dynamodb.endpoint_url}",
        f"  tables: {', '.join(t.name for t in runtime.tables.values()) or '-'}"
        f"; buckets (moto S3 on {runtime.s3.endpoint_url}): {', '.join(runtime.buckets.values()) or '-'}",
        f"  data: {data if data else 'in memory (gone when stopped)'}",
        "  routes: " + ", ".join(f"{method} {path}" for method, path in runtime.routes),
        *(
            [
                "  auth: JWT, tokens signed with the local test key (docs/local.md): "
                "TOKEN=$(.venv/bin/python -m local_runtime token alice)"
            ]
            if runtime.options.auth == "jwt"
            else []
        ),
        "Try:",
        f"  curl -s -X PUT {url}/sessions/demo -H 'Content-Type: application/json' "
        """-d '{"session_type": "agent", "agent_id": "demo-agent", "user_id": "alice"}'""",
        f"  curl -s {url}/sessions/demo",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
