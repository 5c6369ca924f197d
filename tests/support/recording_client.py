"""A SessionStoreClient that records what it sends, to assert on writes without a proxy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from session_store_client import SessionStoreClient


@dataclass(frozen=True)
class SentWrite:
    route: str  # "put_session" or "put_run"
    session_id: str
    run_ids: tuple[str, ...]  # the runs the request carried


class RecordingClient(SessionStoreClient):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.writes: list[SentWrite] = []

    def put_session(self, session_id, record, **kwargs):
        runs = dict(record).get("runs") or []
        self.writes.append(SentWrite("put_session", session_id, tuple(run["run_id"] for run in runs)))
        return super().put_session(session_id, record, **kwargs)

    def put_run(self, session_id, run, **kwargs):
        self.writes.append(SentWrite("put_run", session_id, (dict(run)["run_id"],)))
        return super().put_run(session_id, run, **kwargs)

    def runs_sent(self) -> list[str]:
        return [run_id for write in self.writes for run_id in write.run_ids]

    def take_writes(self) -> list[SentWrite]:
        """The writes since the last call, clearing the record."""
        writes, self.writes = self.writes, []
        return writes
