"""JWT mode of the local runtime (`make local AUTH=jwt`): API Gateway's Cognito authorizer, played
with a local test key.

On AWS a method with a COGNITO_USER_POOLS authorizer needs `Authorization: <ID token>` (a bearer
prefix is accepted too) signed by the user pool; API Gateway checks signature and expiry, answers
401 (UNAUTHORIZED) otherwise, and hands the token's claims to the function in
`requestContext.authorizer.claims`. Here tokens are HS256-signed with LOCAL_TEST_KEY, a published
test key: anybody can mint a token for any user, which is the point locally (see docs/local.md)
and why this never runs anywhere but on a developer's machine.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

# Published on purpose (docs/local.md): a key for tests and local runs, never for a deployment.
LOCAL_TEST_KEY = "session-store-local-test-key-not-a-secret-0123456789"
ALGORITHM = "HS256"
LOCAL_ISSUER = "session-store-local"
COGNITO_AUTHORIZER = "COGNITO_USER_POOLS"


class Unauthorized(Exception):
    """No token, or one that is not valid: API Gateway's 401."""


def issue_token(subject: str, lifetime_seconds: int = 3600, **claims: Any) -> str:
    """A token for `subject`, as `make local AUTH=jwt` accepts it (`python -m local_runtime token`)."""
    now = int(time.time())
    payload = {
        "sub": subject,
        "iss": LOCAL_ISSUER,
        "iat": now,
        "exp": now + lifetime_seconds,
        "token_use": "id",
        **claims,
    }
    return jwt.encode(payload, LOCAL_TEST_KEY, algorithm=ALGORITHM)


def claims_of(authorization: str | None) -> dict[str, str]:
    """The verified claims of an Authorization header's token, as API Gateway passes them (strings)."""
    if not authorization:
        raise Unauthorized("Unauthorized")
    token = authorization.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    try:
        claims = jwt.decode(
            token, LOCAL_TEST_KEY, algorithms=[ALGORITHM], issuer=LOCAL_ISSUER, options={"require": ["sub", "exp"]}
        )
    except jwt.PyJWTError as error:
        raise Unauthorized(f"Unauthorized ({error})") from None
    return {name: str(value) for name, value in claims.items()}
