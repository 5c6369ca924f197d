"""agno's page/limit pagination over the API's cursors.

The API pages with opaque cursors; agno asks for "page N of size L". Page N is reached by
following cursors past the first (N-1)*L sessions, reading them in pages of up to 100 (the API's
largest page) and discarding them: page N costs ceil((N-1)*L/100) + ceil(L/100) requests and
reads N*L sessions. Cheap for the first pages that UIs show, linear for deep pages.
"""

from __future__ import annotations

from collections.abc import Callable

from session_store_client.client import MAX_PAGE_SIZE
from session_store_client.models import Session, SessionPage

# (page size, cursor, include_total) -> one page
FetchPage = Callable[[int, str | None, bool], SessionPage]


def read_window(
    fetch_page: FetchPage, offset: int, count: int | None, want_total: bool
) -> tuple[list[Session], int | None]:
    """The sessions at [offset, offset+count) (count None: to the end), and the total if asked."""
    window: list[Session] = []
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
        page = fetch_page(size, cursor, want_total and first)
        if first:
            total, first = page.total, False
        sessions = page.sessions
        if skipped < offset:
            # A page may hold fewer than asked; only what actually came counts as skipped.
            dropped = min(len(sessions), offset - skipped)
            skipped += dropped
            sessions = sessions[dropped:]
        window.extend(sessions)
        cursor = page.next_cursor
        if cursor is None or (count is not None and len(window) >= count):
            break
    if count is not None:
        window = window[:count]
    if want_total and total is None:
        # A server that did not count: what was read is all there is only without a cursor left.
        total = skipped + len(window)
    return window, total
