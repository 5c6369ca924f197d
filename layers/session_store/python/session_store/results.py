"""Results of the service's reads that are not a session body (kept apart from service.py, which
loads the data access layer and so botocore: handlers import these at module load)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotModified:
    """A conditional read found the version the caller already holds: only the session item was read."""

    version: int
