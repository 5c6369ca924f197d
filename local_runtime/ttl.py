"""TTL expiry within a known time, whatever DynamoDB Local does about it.

Older DynamoDB Local releases record the TTL setting and never delete anything; recent ones expire
items on their own schedule (undocumented; seconds in practice). So a background thread plays the
TTL service every few seconds as well: it scans each table with TTL for items whose TTL attribute (a
Number of epoch seconds) has passed and deletes them, conditionally on the attribute still holding
the scanned value, so an item refreshed meanwhile survives. The keys are registered with
TtlDeletions first, so that the stream poller gives their REMOVE records the TTL service's
identity. Scanning is fine here: this is the TTL service, not a request path.

Unlike DynamoDB, expiry happens within seconds rather than "within a few days", and a TTL value
more than five years in the past is expired too (DynamoDB ignores those; DynamoDB Local does not).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from botocore.exceptions import ClientError

from local_runtime.tables import LocalTable
from local_runtime.ttl_deletions import TtlDeletions

log = logging.getLogger(__name__)

DEFAULT_SWEEP_INTERVAL_SECONDS = 2.0


class TtlSweeper:
    def __init__(
        self,
        client,
        tables: Iterable[LocalTable],
        deletions: TtlDeletions,
        interval: float = DEFAULT_SWEEP_INTERVAL_SECONDS,
    ) -> None:
        self.client = client
        self.tables = [t for t in tables if t.ttl_attribute]
        self.deletions = deletions
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ttl-sweeper", daemon=True)

    def start(self) -> TtlSweeper:
        if self.tables and self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("TTL sweep failed")

    def sweep(self, now: float | None = None) -> int:
        """Delete every expired item once; the number deleted."""
        started = time.monotonic()
        now = int(time.time() if now is None else now)
        deleted = sum(self._sweep_table(table, now) for table in self.tables)
        elapsed = time.monotonic() - started
        if elapsed > max(self.interval, 5.0):
            # A sweep is a full Scan: on a big local table, expiry lags by this much.
            log.warning("TTL sweep took %.1f s", elapsed)
        return deleted

    def _sweep_table(self, table: LocalTable, now: int) -> int:
        names = {"#ttl": table.ttl_attribute, **{f"#k{i}": k for i, k in enumerate(table.key_attributes)}}
        arguments = {
            "TableName": table.name,
            "FilterExpression": "#ttl < :now",
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }
        deleted = 0
        for page in self.client.get_paginator("scan").paginate(**arguments):
            for item in page.get("Items", []):
                deleted += self.expire(table, item)
        if deleted:
            log.info("TTL: expired %d items from %s", deleted, table.name)
        return deleted

    def expire(self, table: LocalTable, item: dict) -> int:
        """Delete one scanned item unless its TTL value changed since the scan; 1 if deleted."""
        keys = {k: item[k] for k in table.key_attributes}
        self.deletions.add(table.name, keys)
        try:
            self.client.delete_item(
                TableName=table.name,
                Key=keys,
                ConditionExpression="#ttl = :seen",
                ExpressionAttributeNames={"#ttl": table.ttl_attribute},
                ExpressionAttributeValues={":seen": item[table.ttl_attribute]},
            )
            return 1
        except ClientError as error:
            self.deletions.take(table.name, keys)
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return 0
