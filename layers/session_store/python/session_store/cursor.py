"""Opaque, tamper-evident page cursors: base64url JSON plus an HMAC bound to the query they page.

A cursor reused with other filters, or modified in any byte, is refused with 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from session_store import errors

_SIGNATURE_BYTES = 16
# The key cursors are signed with when the environment names none (local runs and tests).
LOCAL_CURSOR_KEY = "session-store-local-cursor-key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, scope: str, payload: bytes) -> bytes:
    return hmac.new(key.encode(), scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode(position: dict[str, Any], key: str, scope: str) -> str:
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_signature(key, scope, payload))}"


def decode(token: str, key: str, scope: str) -> dict[str, Any]:
    try:
        payload_text, signature_text = token.split(".")
        payload = _unb64(payload_text)
        signature = _unb64(signature_text)
    except ValueError:
        raise _invalid() from None
    if not hmac.compare_digest(signature, _signature(key, scope, payload)):
        raise _invalid()
    try:
        position = json.loads(payload)
    except ValueError:
        raise _invalid() from None
    if not isinstance(position, dict):
        raise _invalid()
    return position


def _invalid() -> errors.InvalidRequest:
    return errors.InvalidRequest(
        "the cursor is not one this service issued for this query",
        errors=[{"field": "cursor", "location": "query", "message": "invalid or modified cursor"}],
    )
