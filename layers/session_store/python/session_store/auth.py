"""Who is calling, and whose sessions the call may reach.

Two modes, chosen by the functions' environment (ENV_AUTH_MODE):

- "iam" (the default, also used for the dev-only auth=none): API Gateway has authorized the caller
  with SigV4; callers are trusted agents and `user_id` is data they send. Ownership (SPEC section
  3) still holds: a write naming another owner is a 403, a read naming another user a 404.
- "jwt": a Cognito user pool authorizer has verified the caller's token and passes its claims in
  requestContext.authorizer.claims. The caller is the token's subject (`sub`) and reaches only its
  own sessions: the effective user_id of every request is the subject; a user_id the request
  names must be that subject (else 403 for writes and lists, 404 for reads and deletes, as for any
  user mismatch).

The ownership itself is enforced by the service's DynamoDB conditions; this module only decides
which user_id a request acts as.
"""

from __future__ import annotations

import os
from typing import Any

from session_store import errors, names

# Until names.py defines it (see docs/operations.md): the variable that selects the mode.
ENV_AUTH_MODE = names.ENV_AUTH_MODE
from session_store.names import AUTH_IAM as IAM, AUTH_JWT as JWT, AUTH_MODES as MODES, AUTH_NONE as NONE  # noqa: E402
SUBJECT_CLAIM = "sub"


def mode() -> str:
    value = (os.environ.get(ENV_AUTH_MODE) or IAM).strip().lower()
    if value not in MODES:
        # Fail closed: a typo must not turn the token check off.
        raise RuntimeError(f"{ENV_AUTH_MODE}={value!r} is not one of {', '.join(MODES)}")
    return value


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


def _scoped(event: Any, requested: str | None, refuse: type[errors.SessionStoreError], what: str) -> str | None:
    if mode() != JWT:
        return requested
    caller = subject(event)
    if requested is not None and requested != caller:
        raise refuse(f"user_id {requested!r} is not the caller's: {what}")
    return caller


def reader(event: Any, requested: str | None) -> str | None:
    """The user_id a read or delete of one session acts as (a foreign one: 404, like any mismatch)."""
    return _scoped(event, requested, errors.NotFound, "no such session for this caller")


def lister(event: Any, requested: str | None) -> str | None:
    """The user_id a list is scoped to (in JWT mode always the caller's own sessions)."""
    return _scoped(event, requested, errors.Forbidden, "a caller lists only its own sessions")


def writer(event: Any, requested: str | None) -> str | None:
    """The user_id a write names as the session's owner (a foreign one: 403)."""
    return _scoped(event, requested, errors.Forbidden, "a caller writes only its own sessions")


def run_owner(event: Any, run: dict[str, Any]) -> None:
    """JWT mode: a run written through PUT /sessions/{id}/runs/{run_id} must name its owner.

    The service checks ownership for the user_id a write names, and a run route takes it from the
    run itself; a run naming no user could otherwise land in another caller's session. Requiring
    it (rather than adding it) keeps the run exactly as the client sent it. Not needed once
    SessionService.put_run takes the caller's user_id (see docs/operations.md).
    """
    if mode() != JWT:
        return
    caller = subject(event)
    named = run.get("user_id")
    if named is None:
        raise errors.ValidationFailed(
            "in JWT mode a run must name its user_id: the caller's token subject",
            errors=[{"field": "user_id", "location": "body", "message": "required in JWT mode"}],
        )
    if named != caller:
        raise errors.Forbidden(f"user_id {named!r} is not the caller's: a caller writes only its own sessions")
