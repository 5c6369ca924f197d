"""What this process knows the store holds: per session, a digest of each run's JSON.

A session upsert sends only the runs whose digest differs from what this process last read or
wrote, so a turn of a long conversation sends one run, not the whole history; the API merges
runs by run_id, keeping the ones not sent. A fresh process knows nothing and sends every run once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from session_store_client._json import canonical_dumps

# Enough for every session a busy agent process works on; an evicted session is simply sent in
# full on its next upsert, which is correct, only larger.
DEFAULT_MAX_SESSIONS = 4096


def run_digest(run: Mapping[str, Any]) -> bytes:
    return hashlib.blake2b(canonical_dumps(run), digest_size=16).digest()


class KnownRuns:
    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS):
        self._max_sessions = max_sessions
        # session_id -> run_id -> digest; least recently used first.
        self._digests: OrderedDict[str, dict[str, bytes]] = OrderedDict()
        # run_id -> session_id, for agno's run methods that name a run without its session.
        self._session_of_run: dict[str, str] = {}
        # agno may save from background threads; the maps must not be mutated concurrently.
        self._lock = threading.Lock()

    def is_current(self, session_id: str, run_id: str, digest: bytes) -> bool:
        with self._lock:
            known = self._digests.get(session_id)
            return known is not None and known.get(run_id) == digest

    def remember(self, session_id: str, digests: Mapping[str, bytes]) -> None:
        with self._lock:
            known = self._digests.setdefault(session_id, {})
            self._digests.move_to_end(session_id)
            known.update(digests)
            for run_id in digests:
                self._session_of_run[run_id] = session_id
            while len(self._digests) > self._max_sessions:
                evicted_id, evicted = self._digests.popitem(last=False)
                self._drop_locations(evicted_id, evicted)

    def forget_session(self, session_id: str) -> None:
        with self._lock:
            self._drop_locations(session_id, self._digests.pop(session_id, {}))

    def forget_run(self, session_id: str, run_id: str) -> None:
        with self._lock:
            self._digests.get(session_id, {}).pop(run_id, None)
            self._drop_locations(session_id, (run_id,))

    def session_of(self, run_id: str) -> str | None:
        with self._lock:
            return self._session_of_run.get(run_id)

    def _drop_locations(self, session_id: str, run_ids: Iterable[str]) -> None:
        for run_id in run_ids:
            if self._session_of_run.get(run_id) == session_id:
                del self._session_of_run[run_id]
