"""What every service operation stands on: the clock, the live-session check (with If-Match) and
the retry of a write that lost a race."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from session_store import errors
from session_store.cursor import LOCAL_CURSOR_KEY
from session_store.erasure import ErasureGate
from session_store.items import StoredSession
from session_store.models import Identifier
from session_store.repository import SessionRepository
from session_store.retention import is_expired
from session_store.user_repository import UserRepository

# A write that loses a race re-reads and tries again, with jittered backoff capped at 0.5 s. With 8
# attempts, 36 concurrent writers of one session (tests/e2e/test_concurrency.py) on a loaded
# machine left one writer losing every race (a 503); 16 attempts span about 6 s of backoff, still
# within the functions' 10 s timeout (runtime.py refuses an attempt that could not finish).
MAX_WRITE_ATTEMPTS = 16
MAX_READ_ATTEMPTS = 3
_identifier = TypeAdapter(Identifier)
Result = TypeVar("Result")


def validate_identifier(value: str, field: str) -> str:
    try:
        return _identifier.validate_python(value)
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        raise errors.ValidationFailed(
            f"{field} is invalid: {message}", errors=[{"field": field, "location": "path", "message": message}]
        ) from None


def with_retries(attempt: Callable[[], Result], sleep: Callable[[float], None], what: str) -> Result:
    """`attempt()`, again from its read while it loses a race (errors.Conflict), then a 503."""
    for number in range(MAX_WRITE_ATTEMPTS):
        try:
            return attempt()
        except errors.Conflict:
            # Full jitter: concurrent writers of one item spread out instead of colliding again.
            sleep(random.uniform(0, min(0.02 * 2**number, 0.5)))
    raise errors.ServiceUnavailable(f"the {what} is being written by many writers at once; retry")


class ServiceBase:
    def __init__(
        self,
        repository: SessionRepository,
        retention_days: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        cursor_key: str = LOCAL_CURSOR_KEY,
    ) -> None:
        self.repository = repository
        self.retention_days = retention_days
        self.cursor_key = cursor_key
        # While a user is being erased, their older sessions read as gone (erasure.py).
        self.erasures = ErasureGate(UserRepository(repository))
        # Injected so that tests and benchmarks can move time and retry without waiting.
        self._clock = clock
        self._sleep = sleep

    def now(self) -> int:
        return int(self._clock())

    def live_session(
        self,
        session_id: str,
        user_id: str | None = None,
        session_type: str | None = None,
        if_match: int | None = None,
    ) -> StoredSession:
        """The session if it exists, has not expired and matches the filters, else 404; and at
        version `if_match` when one is given, else 412."""
        session = self.repository.get_session(session_id)
        if session is None or not self.visible(session, user_id, session_type):
            raise errors.NotFound(f"session {session_id!r} does not exist")
        if if_match is not None and session.version != if_match:
            raise errors.PreconditionFailed(f"session {session_id!r} is not at version {if_match} (If-Match)")
        return session

    def visible(self, session: StoredSession, user_id: str | None = None, session_type: str | None = None) -> bool:
        """Whether a read of `session` (as read) may see it: not expired, matching the filters and
        not erased. Every read of a session, by its id or by a run's, decides it here."""
        return not (
            is_expired(session.expires_at, self.now())
            or (user_id is not None and session.user_id != user_id)
            or (session_type is not None and session.session_type != session_type)
            or self.erasures.erased(session)
        )

    def _with_retries(self, attempt: Callable[[], Result]) -> Result:
        return with_retries(attempt, self._sleep, "session")
