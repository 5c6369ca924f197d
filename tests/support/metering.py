"""Consumed capacity in tests, metered like the benchmark: botocore event observers on the very
client the functions call through (bench/capacity.py), not a tally kept by the repository."""

from __future__ import annotations

import pytest

from bench.capacity import CapacityMeter
from session_store import runtime


@pytest.fixture
def capacity(table_name: str, monkeypatch: pytest.MonkeyPatch) -> CapacityMeter:
    """A meter on the functions' DynamoDB client (built afresh, after the table fixture)."""
    meter = CapacityMeter()
    observers = [lambda service, client: meter.attach(client) if service == "dynamodb" else None]
    monkeypatch.setattr(runtime, "client_observers", observers)
    runtime.reset()
    return meter


def batch_reads(monkeypatch: pytest.MonkeyPatch, repository: type, method: str) -> list[int]:
    """The number of keys each call of `repository.method(ids)` (a BatchGetItem read) asked for, in
    call order: a list that grows as the code under test reads."""
    sizes: list[int] = []
    original = getattr(repository, method)

    def counted(self: object, ids: list[str], *args: object, **kwargs: object) -> object:
        sizes.append(len(ids))
        return original(self, ids, *args, **kwargs)

    monkeypatch.setattr(repository, method, counted)
    return sizes
