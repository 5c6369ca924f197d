"""`session-store`: export a user, import an export, migrate from an Agno database.

    session-store export USER_ID --url URL -o FILE
    session-store import FILE.jsonl --url URL
    session-store migrate --from sqlite:///agno.db --url URL

`--auth iam` signs with SigV4 (credentials from the default AWS chain). Imports show a progress
bar and end with a count table; both are idempotent and can be re-run after an interruption.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from session_store_client.client import SessionStoreClient
from session_store_client.errors import SessionStoreError
from session_store_client.transfer import (
    Importer,
    agno_memories,
    agno_session_count,
    agno_sessions,
    count_lines,
    open_agno_db,
    read_jsonl,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="session-store", description="Move data out of and into a Session Store.")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument("--url", required=True, help="the API's base URL (with the stage on API Gateway)")
        command.add_argument("--auth", choices=("iam",), default=None, help="sign requests with SigV4")
        command.add_argument("--region", default=None, help="the API's region (SigV4), if not in the URL")

    export = commands.add_parser("export", help="write all of a user's data to a JSON Lines file")
    export.add_argument("user_id")
    export.add_argument("-o", "--output", required=True, type=Path)
    common(export)

    imports = commands.add_parser("import", help="import a JSON Lines export")
    imports.add_argument("file", type=Path)
    imports.add_argument("--workers", type=int, default=4, help="sessions written at once (default 4)")
    common(imports)

    migrate = commands.add_parser("migrate", help="import every session of an Agno database")
    migrate.add_argument(
        "--from",
        dest="source",
        required=True,
        help="sqlite:///agno.db, postgresql+psycopg://..., or dynamodb://[host:port]?region=...",
    )
    migrate.add_argument("--workers", type=int, default=4, help="sessions written at once (default 4)")
    common(migrate)
    return parser


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    arguments = _parser().parse_args(argv)
    console = console or Console(stderr=True)
    client = SessionStoreClient(arguments.url, auth=arguments.auth, region=arguments.region)
    try:
        if arguments.command == "export":
            lines = client.export_user(arguments.user_id, arguments.output)
            console.print(f"wrote {lines} records of user {arguments.user_id!r} to {arguments.output}")
            return 0
        if arguments.command == "import":
            total = count_lines(arguments.file)
            records = read_jsonl(arguments.file)
        else:
            db = open_agno_db(arguments.source)
            total = agno_session_count(db)
            records = itertools.chain(agno_sessions(db), agno_memories(db))
        importer = Importer(client, workers=arguments.workers)
        columns = TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("importing", total=total)
            counts = importer.import_records(records, advance=lambda: progress.advance(task))
        table = Table(title="session-store " + arguments.command)
        table.add_column("what")
        table.add_column("count", justify="right")
        for what, count in counts.rows():
            table.add_row(what, f"{count:,}")
        console.print(table)
        return 0
    # httpx.HTTPError: the staged export's download failed (its presigned URL expired, say).
    except (SessionStoreError, httpx.HTTPError, OSError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        return 1
    finally:
        client.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
