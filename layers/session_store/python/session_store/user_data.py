"""A user's data as a whole: erase it (erasure.py does the work), read an erasure's receipt, and
export it as JSON Lines.

Export format: one JSON object per line, `kind` first. `session` lines hold a session record in
Agno's schema (the session record's fields with `runs`, without the service's own `version`,
`expires_at` and `run_count`); `memory` lines hold a memory in Agno's UserMemory schema (without
`expires_at`), so `session-store import` and Agno itself can read them back. Each item kind has
its own producer in `EXPORTS`.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from session_store import codec, erasure, errors, names, wire
from session_store.auth import ANONYMOUS, Actor
from session_store.items import StoredSession
from session_store.memories import MemoryService
from session_store.models import SESSION_TYPES
from session_store.service import SessionService
from session_store.user_repository import ErasureJob, UserRepository

# Fields of a session that are the service's, not Agno's: left out of an export.
SERVICE_FIELDS = ("version", "expires_at", "run_count")
# Sessions whose runs are read at once while exporting (boto3 clients are thread-safe).
EXPORT_READERS = 8
# A staged export's presigned URL is good for this long (the object itself lives a day).
EXPORT_URL_SECONDS = 900


@dataclass(frozen=True)
class Export:
    """An export: inline JSON Lines, or the presigned URL of the staged file."""

    text: str | None = None
    url: str | None = None


class ExportStore:
    """Stages export files in the payload bucket under EXPORT_OBJECT_PREFIX (expired by a
    lifecycle rule) and presigns them; the S3 counterpart of the repository for exports."""

    def __init__(self, bucket: str | None, s3_client: Callable[[], Any]) -> None:
        self._bucket = bucket
        self._s3_client = s3_client

    @property
    def available(self) -> bool:
        return bool(self._bucket)

    def stage(self, user_id: str, text: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        digest = hashlib.sha256(user_id.encode()).hexdigest()[:32]
        key = f"{names.EXPORT_OBJECT_PREFIX}{digest}/{secrets.token_hex(8)}.jsonl.gz"
        client = self._s3_client()
        try:
            client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=gzip.compress(text.encode(), mtime=0),
                ContentType=names.NDJSON_CONTENT_TYPE,
                ContentEncoding="gzip",
            )
        except (ClientError, BotoCoreError) as error:
            raise errors.ServiceUnavailable("could not stage the export in S3; retry") from error
        url: str = client.generate_presigned_url(  # boto3's client is untyped: this answers a URL string
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=EXPORT_URL_SECONDS
        )
        return url


class UserDataService:
    def __init__(
        self, service: SessionService, exports: ExportStore, max_inline_bytes: int, memories: MemoryService
    ) -> None:
        self.service = service
        self.memories = memories
        self.users = UserRepository(service.repository)
        self.exports = exports
        self.max_inline_bytes = max_inline_bytes

    # --- erasure -----------------------------------------------------------------------------------
    def erase(self, user_id: str, *, actor: Actor = ANONYMOUS) -> ErasureJob:
        actor.writes_as(user_id)
        return erasure.start(self.users, user_id, self.service._clock)

    def receipt(self, user_id: str, erasure_id: str, *, actor: Actor = ANONYMOUS) -> dict[str, Any]:
        actor.reads_as(user_id)
        job = self.users.get_job(user_id, erasure_id)
        if job is None:
            raise errors.NotFound(f"user {user_id!r} has no erasure {erasure_id!r}")
        return job.receipt()

    # --- export ------------------------------------------------------------------------------------
    def export(self, user_id: str, *, actor: Actor = ANONYMOUS) -> Export:
        actor.reads_as(user_id)
        lines = [codec.dumps(record) for producer in EXPORTS for record in producer(self, user_id)]
        text = "".join(line + "\n" for line in lines)
        if wire.fits(text, self.max_inline_bytes):  # measured on the wire, escapes included
            return Export(text=text)
        if not self.exports.available:
            raise errors.ResponseTooLarge("the export exceeds a response and no bucket is configured to stage it")
        return Export(url=self.exports.stage(user_id, text))

    def user_sessions(self, user_id: str) -> list[StoredSession]:
        """Every live session of the user, oldest update first (expired and erased ones left out)."""
        session_ids: list[str] = []
        for kind in SESSION_TYPES:
            after = None
            while True:
                page, after = self.users.user_sessions(user_id, kind, None, after, 100)
                session_ids += page
                if after is None:
                    break
        now = self.service.now()
        found = self.service.repository.batch_get_sessions(session_ids)
        live = [found[sid] for sid in dict.fromkeys(session_ids) if sid in found]
        erased = self.service.erasures.erased_among(live)
        return [
            session
            for session in live
            if session.user_id == user_id
            and session.session_id not in erased
            and not (session.expires_at is not None and session.expires_at <= now)
        ]


def _session_records(data: UserDataService, user_id: str) -> Iterator[dict[str, Any]]:
    repository = data.service.repository

    def record(session: StoredSession) -> dict[str, Any]:
        found, _ = repository.query_runs(session.session_id, session.incarnation, None, True, None)
        body = {name: value for name, value in session.public().items() if name not in SERVICE_FIELDS}
        return {"kind": "session", **body, "runs": [repository.decode_run(item) for item in found]}

    sessions = data.user_sessions(user_id)
    with ThreadPoolExecutor(max_workers=EXPORT_READERS) as pool:
        yield from pool.map(record, sessions)


def _memory_records(data: UserDataService, user_id: str) -> Iterator[dict[str, Any]]:
    for memory in data.memories.user_memories(user_id):
        body = memory.public()
        body.pop("expires_at", None)
        yield {"kind": "memory", **body}


# One producer per item kind, in export order.
EXPORTS: tuple[Callable[[UserDataService, str], Iterator[dict[str, Any]]], ...] = (_session_records, _memory_records)
