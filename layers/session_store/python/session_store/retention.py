"""Expiry rules: a sliding window by default, pinned or never on request."""

from __future__ import annotations

from typing import Literal

SECONDS_PER_DAY = 86_400
ExpiryPolicy = Literal["sliding", "pinned", "never"]


def default_policy(retention_days: int) -> ExpiryPolicy:
    return "sliding" if retention_days > 0 else "never"


def expiry_after_write(policy: ExpiryPolicy, pinned_at: int | None, now: int, retention_days: int) -> int | None:
    """The expires_at a session gets when it is written under `policy`."""
    if policy == "pinned":
        return pinned_at
    if policy == "sliding" and retention_days > 0:
        return now + retention_days * SECONDS_PER_DAY
    return None


def is_expired(expires_at: int | None, now: int) -> bool:
    # DynamoDB's TTL deletes lazily, sometimes days late: the service hides expired items itself.
    return expires_at is not None and expires_at <= now
