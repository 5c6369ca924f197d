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
