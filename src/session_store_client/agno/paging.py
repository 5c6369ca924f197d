"""agno's page/limit pagination over the API's cursors.

The API pages with opaque cursors; agno asks for "page N of size L". Page N is reached by
following cursors past the first (N-1)*L items (sessions or memories), reading them in pages of
up to 100 (the API's largest page) and discarding them: page N costs ceil((N-1)*L/100) +
ceil(L/100) requests and reads N*L items. Cheap for the first pages that UIs show, linear for deep pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from session_store_client.transport import MAX_PAGE_SIZE


def read_window(
    list_page: Callable[..., Any], items: str, offset: int, count: int | None, want_total: bool
) -> tuple[list[Any], int | None]:
    """The items at [offset, offset+count) (count None: to the end), and the total if asked.
    ``list_page(limit=, cursor=, include_total=)`` reads one page of a list route (sessions,
    memories); ``items`` names the page's list."""
    window: list[Any] = []
    skipped = 0
    cursor: str | None = None
    total: int | None = None
    first = True
    while True:
        if skipped < offset:
            size = min(MAX_PAGE_SIZE, offset - skipped)
        elif count is not None:
            size = min(MAX_PAGE_SIZE, count - len(window))
        else:
            size = MAX_PAGE_SIZE
        page = list_page(limit=size, cursor=cursor, include_total=want_total and first)
        if first:
            total, first = page.total, False
        listed = getattr(page, items)
        if skipped < offset:
            # A page may hold fewer than asked; only what actually came counts as skipped.
            dropped = min(len(listed), offset - skipped)
            skipped += dropped
            listed = listed[dropped:]
        window.extend(listed)
        cursor = page.next_cursor
        if cursor is None or (count is not None and len(window) >= count):
            break
    if count is not None:
        window = window[:count]
    if want_total and total is None:
        # A server that did not count: what was read is all there is only without a cursor left.
        total = skipped + len(window)
    return window, total
