"""When to retry a request and how long to wait: exponential backoff with full jitter.

Only answers that say "try again later" are retried (429, 503) and failures to get an answer at
all (connection errors); every other 4xx is the caller's mistake and would fail again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 503})


@dataclass
class RetryPolicy:
    # Retries after the first attempt; 0 disables retrying.
    max_retries: int = 4
    # The backoff ceiling before the first retry, doubled at each further retry.
    base_delay: float = 0.1
    # No single wait is longer; a Retry-After beyond it ends the retries instead.
    max_delay: float = 20.0
    # Injected so tests can run the schedule without sleeping or guessing.
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)

    def delay_before_retry(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to stop retrying.

        ``attempt`` counts the attempts already failed, from 0. A server's Retry-After is honoured
        as given: retrying earlier would only be refused again.
        """
        if attempt >= self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_delay else None
        # Full jitter (uniform in [0, ceiling)) spreads clients that failed together.
        ceiling = min(self.max_delay, self.base_delay * (2.0**attempt))
        return self.random() * ceiling


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delay-seconds or HTTP-date) as seconds from now; None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
