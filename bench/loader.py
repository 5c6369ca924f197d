"""Fast population: items written with parallel BatchWriteItem calls (25 items each).

Used for both systems with items each system builds itself (bench/ours.py, bench/agno_adapter.py),
on a client that is not metered: population is set-up, not a measurement.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

from local_runtime.dynamodb_local import LOCAL_CREDENTIALS, LOCAL_REGION

BATCH_ITEMS = 25  # DynamoDB's BatchWriteItem limit
WORKERS = 8  # measured on 2 cores: DynamoDB Local takes ~1,600 items/s with 8 writers, ~700 with 1


def loader_client(endpoint_url: str) -> Any:
    config = Config(max_pool_connections=WORKERS * 2, retries={"max_attempts": 10, "mode": "standard"})
    return boto3.client(
        "dynamodb", endpoint_url=endpoint_url, region_name=LOCAL_REGION, config=config, **LOCAL_CREDENTIALS
    )


def put_all(client: Any, table_name: str, items: Iterable[dict[str, Any]]) -> int:
    """Write every item (low-level AttributeValue form); returns how many."""
    pending = list(items)
    batches = [pending[start : start + BATCH_ITEMS] for start in range(0, len(pending), BATCH_ITEMS)]

    def write(batch: list[dict[str, Any]]) -> None:
        request = {table_name: [{"PutRequest": {"Item": item}} for item in batch]}
        for attempt in range(20):
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                return
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise RuntimeError(f"DynamoDB Local left items of {table_name} unprocessed")

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(write, batches))
    return len(pending)


def wait_for_table(client: Any, table_name: str) -> None:
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
