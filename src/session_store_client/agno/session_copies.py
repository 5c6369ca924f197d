"""The sessions this process holds a current copy of, so that a warm agent's turn reads almost
nothing: agno reads the whole session at the start of every turn, and with a copy at version V
the adapter asks the server for it only "if changed since V" (`If-None-Match`), which costs the
server one small read (a 304) instead of every run.

A copy is only ever advanced by a write this process made that moved the session exactly one
version from the copy's (one request is one version step); any other change is seen at the next
read, which then returns the whole session again. Runs are kept as JSON text, so every delivery
builds fresh objects (agno's deserializers mutate the dicts they are given).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from session_store_client._json import dumps
from session_store_client.models import Session

# Copies hold every run of a session: enough for the sessions an agent server is busy with,
# few enough that memory stays bounded (an evicted session is read whole on its next turn).
DEFAULT_MAX_COPIES = 64


@dataclass
class SessionCopy:
    session: Session  # without runs
    runs: OrderedDict[str, bytes] = field(default_factory=OrderedDict)  # run_id -> JSON, stored order

    @property
    def etag(self) -> str:
        return f'"{self.session.version}"'

    def run_dicts(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.runs.values()]


def _copy(session: Session, runs: Iterable[dict[str, Any]], known: Mapping[str, bytes] | None = None) -> SessionCopy:
    """``session`` without its runs, holding ``known`` and then ``runs`` (a known run keeps its place,
    a new one goes last)."""
    merged = OrderedDict(known or {})
    merged.update((run["run_id"], dumps(run)) for run in runs)
    return SessionCopy(session.model_copy(update={"runs": None}), merged)


class SessionCopies:
    def __init__(self, max_copies: int = DEFAULT_MAX_COPIES):
        self._max_copies = max_copies
        self._copies: OrderedDict[str, SessionCopy] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str) -> SessionCopy | None:
        with self._lock:
            copy = self._copies.get(session_id)
            if copy is not None:
                self._copies.move_to_end(session_id)
            return copy

    def keep(self, session: Session) -> SessionCopy:
        """A whole session as just read (every run)."""
        copy = _copy(session, (run.to_dict() for run in session.runs or []))
        self._store(session.session_id, copy)
        return copy

    def advance(self, written: Session, runs: Iterable[dict[str, Any]]) -> None:
        """After this process wrote `runs` (merged by run_id) and the server answered `written`."""
        meta = written.response_meta
        if meta is not None and meta.created:
            # This write created the session: it holds exactly these runs.
            self._store(written.session_id, _copy(written, runs))
            return
        with self._lock:
            copy = self._copies.get(written.session_id)
            if copy is None:
                return
            if written.version is None or copy.session.version is None or written.version != copy.session.version + 1:
                del self._copies[written.session_id]  # someone else wrote too: read it whole next time
                return
            self._copies[written.session_id] = _copy(written, runs, copy.runs)

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._copies.pop(session_id, None)

    def _store(self, session_id: str, copy: SessionCopy) -> None:
        with self._lock:
            self._copies[session_id] = copy
            self._copies.move_to_end(session_id)
            while len(self._copies) > self._max_copies:
                self._copies.popitem(last=False)
