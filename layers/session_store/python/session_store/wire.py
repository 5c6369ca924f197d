"""What crosses the wire between API Gateway and a function, measured the way Lambda measures it.

Lambda limits a synchronous invocation's request (the whole proxy event) and response (the whole
proxy result) to 6 MB of JSON. The request and response bodies travel inside that JSON as
*strings*, so every quote, backslash and control character is escaped once more, and the Python
runtime writes non-ASCII characters as `\\uXXXX` escapes (6 bytes; emoji are 12). A run of 3 MB of
quotes is a 6 MB JSON body and a 12 MB proxy result: measured on the body text it fits, measured
on the wire it cannot be served. Every limit of the HTTP layer is therefore measured here, on the
escaped form (`json.dumps` with `ensure_ascii=True`: never smaller than what any runtime sends).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from session_store import codec, errors

# Lambda's limit on a synchronous invocation's request and response payloads.
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024
# Room a response keeps for its status, headers and the proxy envelope around the body.
RESPONSE_ENVELOPE_BYTES = 64 * 1024
# The most a response body may take on the wire.
MAX_RESPONSE_BODY_BYTES = LAMBDA_PAYLOAD_BYTES - RESPONSE_ENVELOPE_BYTES
# Room a list page keeps around its items: `{"runs":[...],"next_cursor":"<signed cursor>"}`, or
# a sessions page's cursor and total.
PAGE_ENVELOPE_BYTES = 8 * 1024
# What a list page's items may take together on the wire: a page stops at the item that would
# overflow it, and its cursor continues from there.
MAX_PAGE_ITEMS_BYTES = MAX_RESPONSE_BODY_BYTES - PAGE_ENVELOPE_BYTES
# The most one run may take on the wire: it must fit a page of one run (GET .../runs) and the
# single-run responses (GET and PUT .../runs/{run_id}), so that every run stored can be read.
MAX_RUN_BYTES = MAX_PAGE_ITEMS_BYTES
# An escape takes at most 6 bytes (`\u0000`), or 12 for a character outside the BMP, which is
# two UTF-16 code units but one Python character: text this short can never exceed a limit.
_WORST_EXPANSION = 12


def string_bytes(text: str) -> int:
    """The bytes `text` takes as a JSON string inside a proxy event or result (quotes included)."""
    return len(json.dumps(text))


def fits(text: str, limit: int) -> bool:
    """Whether `text`, as a JSON string on the wire, takes at most `limit` bytes."""
    if len(text) * _WORST_EXPANSION + 2 <= limit:
        return True  # cheap: no need to escape a short text to know
    return string_bytes(text) <= limit


class PageBudget:
    """The room left in a list page, spent item by item as the items would cross the wire."""

    def __init__(self, limit: int = MAX_PAGE_ITEMS_BYTES) -> None:
        self.left = limit

    def take(self, item: Any) -> bool:
        """Whether `item` fits in what is left (and if so, spend it)."""
        size = string_bytes(codec.dumps(item))
        if size > self.left:
            return False
        self.left -= size
        return True


def event_bytes(event: Mapping[str, Any]) -> int:
    """The size of a whole proxy event, its body escaped as a string inside it."""
    body = event.get("body") or ""
    envelope = len(json.dumps({**event, "body": ""}, default=str))
    if len(body) * _WORST_EXPANSION + envelope <= LAMBDA_PAYLOAD_BYTES:
        return envelope + len(body)  # a lower bound, and the limit is out of reach anyway
    return envelope - 2 + string_bytes(body)


def refuse_unservable_run(run: dict[str, Any], field: str) -> None:
    """413 for a run that could be stored but never returned: every accepted write stays readable."""
    text = codec.dumps(run)
    if not fits(text, MAX_RUN_BYTES):
        raise errors.PayloadTooLarge(
            f"run {run.get('run_id')!r} takes {string_bytes(text)} bytes once escaped for the response, over the "
            f"{MAX_RUN_BYTES} a run may take so that it can be read back (Lambda's 6 MB limit)",
            errors=[{"field": field, "location": "body", "message": "too large to be returned once escaped"}],
        )


def refuse_unservable_session(document: dict[str, Any]) -> None:
    """413 for a session (without its runs) too large to return: its fields escaped would not fit."""
    text = codec.dumps(document)
    if not fits(text, MAX_RESPONSE_BODY_BYTES):
        raise errors.PayloadTooLarge(
            f"the session's fields take {string_bytes(text)} bytes once escaped for the response, over the "
            f"{MAX_RESPONSE_BODY_BYTES} a session may take so that it can be read back (Lambda's 6 MB limit)",
            errors=[{"field": "body", "location": "body", "message": "too large to be returned once escaped"}],
        )
