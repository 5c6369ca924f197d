"""agno's page/limit pagination over the API's cursors.

The API pages with opaque cursors; agno asks for "page N of size L". Page N is reached by
following cursors past the first (N-1)*L items (sessions or memories), reading them in pages of
up to 100 (the API's largest page) and discarding them: page N costs ceil((N-1)*L/100) +
ceil(L/100) requests and reads N*L items. Cheap for the first pages that UIs show, linear for deep pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from session_store_client.transport import MAX_PAGE_SIZE

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """One page of any list route (sessions, memories), as read_window reads it."""

    items: list[ItemT]
    next_cursor: str | None
    total: int | None


def read_window(
    fetch_page: Callable[[int, str | None, bool], Page[ItemT]],
    offset: int,
    count: int | None,
    want_total: bool,
) -> tuple[list[ItemT], int | None]:
    """The items at [offset, offset+count) (count None: to the end), and the total if asked.
    `fetch_page(page size, cursor, include_total)` reads one page."""
    window: list[ItemT] = []
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
        items = page.items
        if skipped < offset:
            # A page may hold fewer than asked; only what actually came counts as skipped.
            dropped = min(len(items), offset - skipped)
            skipped += dropped
            items = items[dropped:]
        window.extend(items)
        cursor = page.next_cursor
        if cursor is None or (count is not None and len(window) >= count):
            break
    if count is not None:
        window = window[:count]
    if want_total and total is None:
        # A server that did not count: what was read is all there is only without a cursor left.
        total = skipped + len(window)
    return window, total
