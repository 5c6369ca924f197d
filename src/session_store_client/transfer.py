"""Moving a user's data out of and into the store: export to a JSON Lines file, import such a file,
and migrate from an Agno database read through Agno's own db classes.

Import rules (the same for `import` and `migrate`):
- creation times are kept: `created_at` is sent with the session, and the store keeps a given
  value when it creates the session;
- idempotent and resumable: a session that already holds at least the record's runs is skipped;
  any other is written with PUT, whose runs merge by run_id, so a re-run or a resumed run never
  stores a run twice;
- runs of any size go through the API's own path (gzip, then S3 above an item): a session's runs
  are sent in requests of at most REQUEST_BUDGET_BYTES, a larger run alone.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from session_store_client._json import batches_under
from session_store_client.errors import SessionNotFound
from session_store_client.memories import MEMORY_FIELDS as MEMORY_BODY_FIELDS
from session_store_client.models import SESSION_BODY_FIELDS, SESSION_RECORD_FIELDS

# The fields of Agno's UserMemory schema the store keeps.
MEMORY_FIELDS = ("memory_id", *MEMORY_BODY_FIELDS)
# Well under the API's 6 MB request limit, leaving room for the session's own fields.
REQUEST_BUDGET_BYTES = 4 * 1024 * 1024
AGNO_SESSION_TYPES = ("agent", "team", "workflow")
AGNO_PAGE_SIZE = 100


@dataclass
class ImportCounts:
    sessions_imported: int = 0
    sessions_skipped: int = 0  # already held every run of the record
    runs_sent: int = 0
    memories_imported: int = 0
    not_imported: dict[str, int] = field(default_factory=dict)  # kind -> lines this store cannot hold

    def rows(self) -> list[tuple[str, int]]:
        rows = [
            ("sessions imported", self.sessions_imported),
            ("sessions already present", self.sessions_skipped),
            ("runs written", self.runs_sent),
            ("memories imported", self.memories_imported),
        ]
        rows += [
            (f"{kind} lines not imported (not supported by this store)", count)
            for kind, count in sorted(self.not_imported.items())
        ]
        return rows


def session_request_bodies(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The PUT bodies that store one session record: its fields with the first runs, then the
    remaining runs in requests of at most REQUEST_BUDGET_BYTES."""
    fields = {name: record[name] for name in SESSION_BODY_FIELDS if name in record}
    for index, runs in enumerate(batches_under(list(record.get("runs") or []), REQUEST_BUDGET_BYTES)):
        yield {**(fields if index == 0 else {"session_type": fields.get("session_type")}), "runs": runs}


class Importer:
    def __init__(self, client: Any, workers: int = 4) -> None:
        self.client = client
        self.workers = workers
        self.counts = ImportCounts()

    def import_records(
        self, records: Iterable[dict[str, Any]], advance: Callable[[], None] = lambda: None
    ) -> ImportCounts:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for kind, outcome in pool.map(self._import_one, self._supported(records)):
                if kind == "memory":
                    self.counts.memories_imported += 1
                elif outcome[0]:
                    self.counts.sessions_imported += 1
                    self.counts.runs_sent += outcome[1]
                else:
                    self.counts.sessions_skipped += 1
                advance()
        return self.counts

    def _supported(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for record in records:
            kind = record.get("kind", "session")
            if kind in ("session", "memory"):
                yield record
            else:
                self.counts.not_imported[kind] = self.counts.not_imported.get(kind, 0) + 1

    def _import_one(self, record: dict[str, Any]) -> tuple[str, tuple[bool, int]]:
        if record.get("kind") == "memory":
            self.import_memory(record)
            return "memory", (True, 0)
        return "session", self.import_session(record)

    def import_memory(self, record: dict[str, Any]) -> None:
        """PUT is create-or-replace by memory_id, so importing a memory twice stores it once."""
        body = {name: record[name] for name in MEMORY_BODY_FIELDS if name in record}
        self.client.put_memory(record["memory_id"], body)

    def import_session(self, record: dict[str, Any]) -> tuple[bool, int]:
        """(whether anything was written, runs sent)."""
        session_id = record["session_id"]
        runs = record.get("runs") or []
        try:
            stored = self.client.get_session(session_id, include_runs=False)
            if stored.run_count >= len(runs):
                return False, 0
        except SessionNotFound:
            pass
        for body in session_request_bodies(record):
            self.client.put_session(session_id, body)
        return True, len(runs)


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as error:
                    raise ValueError(f"{path}:{number}: not a JSON object: {error}") from None


def count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


# --- Agno databases ---------------------------------------------------------------------------------
def open_agno_db(url: str) -> Any:
    """An Agno db object for a database URL: `sqlite:///agno.db`, `postgresql+psycopg://...`, or
    `dynamodb://[endpoint host:port]?region=...&session_table=...` (Agno's DynamoDb tables)."""
    scheme = url.split(":", 1)[0]
    if scheme.startswith("sqlite"):
        from agno.db.sqlite import SqliteDb

        return SqliteDb(db_url=url)
    if scheme.startswith("postgres"):
        from agno.db.postgres import PostgresDb

        return PostgresDb(db_url=url)
    if scheme == "dynamodb":
        import boto3
        from agno.db.dynamo import DynamoDb

        parsed = urlparse(url)
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        endpoint = f"http://{parsed.netloc}" if parsed.netloc else None
        client = boto3.client("dynamodb", region_name=options.get("region"), endpoint_url=endpoint)
        tables = {key: value for key, value in options.items() if key.endswith("_table")}
        return DynamoDb(db_client=client, **tables)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///..., postgresql+psycopg://... or dynamodb://...")


def agno_session_count(db: Any) -> int:
    """Sessions and memories of an Agno database (what a migration will import)."""
    from agno.db.base import SessionType

    total = 0
    for kind in AGNO_SESSION_TYPES:
        _, count = db.get_sessions(session_type=SessionType(kind), limit=1, page=1, deserialize=False)
        total += count
    _, memories = db.get_user_memories(limit=1, page=1, deserialize=False)
    return total + int(memories)


def _agno_rows(read_page: Callable[..., tuple[list[dict[str, Any]], Any]]) -> Iterator[dict[str, Any]]:
    """Every row an Agno read returns, oldest first, page by page."""
    for page in itertools.count(1):
        rows, _ = read_page(limit=AGNO_PAGE_SIZE, page=page, sort_by="created_at", sort_order="asc", deserialize=False)
        yield from rows
        if len(rows) < AGNO_PAGE_SIZE:
            return


def agno_memories(db: Any) -> Iterator[dict[str, Any]]:
    """Every user memory of an Agno database, oldest first, page by page."""
    for row in _agno_rows(db.get_user_memories):
        yield {"kind": "memory", **{name: row.get(name) for name in MEMORY_FIELDS}}


def agno_sessions(db: Any) -> Iterator[dict[str, Any]]:
    """Every session of an Agno database with its runs, as Agno stores them, oldest first, page by page."""
    from agno.db.base import SessionType

    for kind in AGNO_SESSION_TYPES:
        for row in _agno_rows(functools.partial(db.get_sessions, session_type=SessionType(kind))):
            yield {
                "kind": "session",
                **{name: row.get(name) for name in SESSION_RECORD_FIELDS},
                "session_type": kind,
                "runs": row.get("runs") or [],
            }
