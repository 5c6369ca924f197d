"""Who is calling, and whose sessions the call may reach.

Two modes, chosen by the functions' environment (ENV_AUTH_MODE):

- "iam" (the default, also used for the dev-only auth=none): API Gateway has authorized the caller
  with SigV4; callers are trusted agents and `user_id` is data they send. Ownership
  still holds: a write naming another owner is a 403, a read naming another user a 404.
- "jwt": a Cognito user pool authorizer has verified the caller's token and passes its claims in
  requestContext.authorizer.claims. The caller is the token's subject (`sub`) and reaches only its
  own sessions: the effective user_id of every request is the subject; a user_id the request
  names must be that subject (else 403 for writes and lists, 404 for reads and deletes, as for any
  user mismatch).

The ownership itself is enforced by the service's DynamoDB conditions; this module only decides
which user_id a request acts as.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from session_store import errors, names
from session_store.settings import current_settings

ENV_AUTH_MODE = names.ENV_AUTH_MODE
IAM, JWT, NONE, MODES = names.AUTH_IAM, names.AUTH_JWT, names.AUTH_NONE, names.AUTH_MODES
SUBJECT_CLAIM = "sub"


def mode() -> str:
    return current_settings().auth_mode


def _raw(event: Any) -> dict[str, Any]:
    return getattr(event, "raw_event", event) or {}


def _authorizer(event: Any) -> dict[str, Any]:
    return (_raw(event).get("requestContext") or {}).get("authorizer") or {}


def subject(event: Any) -> str:
    """The verified token's subject; a JWT-mode request without one is refused (API Gateway lets
    no such request through, so this is a misconfiguration, never a reason to serve it)."""
    claims = _authorizer(event).get("claims") or {}
    value = claims.get(SUBJECT_CLAIM)
    if not isinstance(value, str) or not value:
        raise errors.Forbidden("the request carries no verified token subject")
    return value


def principal(event: Any) -> str | None:
    """Who signed or holds the credentials (scopes Idempotency-Keys per caller)."""
    if mode() == JWT:
        return f"jwt:{subject(event)}"
    identity = (_raw(event).get("requestContext") or {}).get("identity") or {}
    arn = identity.get("userArn") or identity.get("caller")
    return f"iam:{arn}" if arn else None


@dataclass(frozen=True)
class Actor:
    """Who a request acts as, resolved once per request and handed to the service. `subject` is
    the verified token subject in JWT mode: every user_id the request names must be it, and it is
    the user_id the request acts as. None otherwise: the user_id a request names is taken as sent."""

    subject: str | None = None

    def _scoped(self, requested: str | None, refuse: type[errors.SessionStoreError], what: str) -> str | None:
        if self.subject is None:
            return requested
        if requested is not None and requested != self.subject:
            raise refuse(f"user_id {requested!r} is not the caller's: {what}")
        return self.subject

    def reads_as(self, requested: str | None) -> str | None:
        """The user_id a read or delete of one session acts as (a foreign one: 404, like any mismatch)."""
        return self._scoped(requested, errors.NotFound, "no such session for this caller")

    def lists_as(self, requested: str | None) -> str | None:
        """The user_id a list is scoped to (with a subject, always the caller's own)."""
        return self._scoped(requested, errors.Forbidden, "a caller lists only its own sessions")

    def writes_as(self, requested: str | None) -> str | None:
        """The user_id a write names as the session's owner (a foreign one: 403)."""
        return self._scoped(requested, errors.Forbidden, "a caller writes only its own sessions")

    def run_owner(self, run: dict[str, Any]) -> str | None:
        """The owner a run written on its own names. With a subject, the run must name it: the
        run is then stored exactly as the client sent it, never with an owner added."""
        if self.subject is not None and run.get("user_id") is None:
            raise errors.ValidationFailed(
                "in JWT mode a run must name its user_id: the caller's token subject",
                errors=[{"field": "user_id", "location": "body", "message": "required in JWT mode"}],
            )
        return self.writes_as(run.get("user_id"))


# IAM mode's actor (no subject), and the default of in-process callers: the tests and the bench.
ANONYMOUS = Actor()


def actor(event: Any) -> Actor:
    return Actor(subject(event)) if mode() == JWT else ANONYMOUS
