"""The keys the TTL sweeper (ttl.py) is deleting, so that the stream poller (streams.py) can give
their REMOVE records the TTL service's identity."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from local_runtime.stream_records import to_lambda_json


def key_fingerprint(keys: dict[str, Any]) -> str:
    """One string per item key, equal for a key read by Scan and the same key in a stream record."""
    return json.dumps(to_lambda_json(keys), sort_keys=True)


class TtlDeletions:
    """Keys the TTL sweeper is deleting, per table, until their REMOVE record has been seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Counter[str]] = {}

    def add(self, table: str, keys: dict[str, Any]) -> None:
        with self._lock:
            self._pending.setdefault(table, Counter())[key_fingerprint(keys)] += 1

    def take(self, table: str, keys: dict[str, Any]) -> bool:
        with self._lock:
            pending = self._pending.get(table)
            fingerprint = key_fingerprint(keys)
            if not pending or pending[fingerprint] <= 0:
                return False
            pending[fingerprint] -= 1
            if pending[fingerprint] == 0:
                del pending[fingerprint]
            return True
