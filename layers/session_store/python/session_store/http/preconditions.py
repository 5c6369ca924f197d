"""The precondition headers: ETag, If-Match (a conditional write) and If-None-Match (create-only on
a write, the versions a reader holds on a read)."""

from __future__ import annotations

import re

from aws_lambda_powertools.event_handler import Response

from session_store import errors


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "7"` -> 7. An ETag we never issued can never match: that is a 412, not a 400.

    If-Match uses the strong comparison (RFC 9110 13.1.1), so a weak `W/"7"` never matches; `*` and
    lists are refused too, because the write could not be made conditional on them atomically.
    """
    if value is None:
        return None
    text = value.strip()
    # Opaque tags compare character by character: only the exact spelling we issue (etag()) can
    # match, so `"01"` or `"١"` (digits int() would accept) never match version 1.
    if _ISSUED_ETAG.fullmatch(text) is None:
        raise errors.PreconditionFailed(
            f"If-Match {value[:64]!r} names no version of this session: send one strong ETag, as returned"
        )
    return int(text[1:-1])


# What etag() writes: a quoted version in canonical decimal (no sign, no leading zero), ASCII only.
_ISSUED_ETAG = re.compile(r'"(?:0|[1-9][0-9]{0,17})"', re.ASCII)


def parse_if_none_match(value: str | None) -> bool:
    """`If-None-Match: *` -> create-only. Other forms are refused rather than silently ignored."""
    if value is None:
        return False
    if value.strip() == "*":
        return True
    raise errors.InvalidRequest(
        "If-None-Match on a write supports only `*` (create the session only if it does not exist)",
        errors=[{"field": "if-none-match", "location": "header", "message": "only * is supported"}],
    )


def parse_cached_versions(value: str | None) -> frozenset[int] | str | None:
    """`If-None-Match` on a read: the versions the caller holds (RFC 9110 13.1.2, weak comparison,
    so `W/"7"` matches version 7; `*` matches any). None when absent. A tag we never issued simply
    matches nothing: the caller gets the session, as with no header."""
    if value is None:
        return None
    if value.strip() == "*":
        return "*"
    versions = set()
    for tag in value.split(","):
        tag = tag.strip().removeprefix("W/")
        if 3 <= len(tag) <= 20 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit():
            versions.add(int(tag[1:-1]))
    return frozenset(versions)


def not_modified(version: int) -> Response[str]:
    """304: the caller's copy (named by If-None-Match) is the current version."""
    return Response(status_code=304, body="", headers={"ETag": etag(version)})
