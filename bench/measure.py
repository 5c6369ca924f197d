"""Repeated measurement of one action: its consumed capacity and its wall time, as medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.capacity import CapacityMeter


@dataclass(frozen=True)
class Sample:
    rcu: float
    wcu: float
    ms: float
    repeats: int
    # The DynamoDB calls of the last repetition: operation -> [calls, units reported].
    calls: dict[str, list[float]] = field(default_factory=dict)


def measure(
    meter: CapacityMeter, action: Callable[[int], Any], repeats: int, before_each: Callable[[int], Any] | None = None
) -> Sample:
    """Run `action(i)` `repeats` times; medians of capacity and milliseconds. `before_each(i)` runs
    outside the measurement (e.g. waiting for the next second)."""
    reads, writes, times = [], [], []
    calls: dict[str, list[float]] = {}
    for index in range(repeats):
        if before_each is not None:
            before_each(index)
        start_usage = meter.snapshot()
        start = time.perf_counter()
        action(index)
        elapsed = time.perf_counter() - start
        end_usage = meter.snapshot()
        used = end_usage - start_usage
        calls = meter.calls_between(start_usage, end_usage)
        reads.append(used.read)
        writes.append(used.write)
        times.append(elapsed * 1000)
    return Sample(
        statistics.median(reads), statistics.median(writes), round(statistics.median(times), 2), repeats, calls
    )


def wait_for_next_second(margin: float = 0.05) -> None:
    """Sleep into the next Unix second, so a write's updated_at differs from the previous one's."""
    now = time.time()
    time.sleep(1 - (now % 1) + margin)
