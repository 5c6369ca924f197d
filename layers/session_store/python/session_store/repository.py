"""Data access for sessions and runs. It speaks items (items.py); its calls go through the table's
client (dynamodb.py), so everything above the repositories is free of boto3."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from session_store import errors, items, keys, names
from session_store.dynamodb import BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, Table
from session_store.expressions import Expression
from session_store.payloads import PayloadStore, offloaded_keys
from session_store.table import INDEXED_EXPIRY_ATTRIBUTE, RUN_INDEX, SESSION_NAME_SEARCH_ATTRIBUTE, IndexDefinition


def _list_filter(
    expression: Expression, expiring_after: int, expiring_by: int | None, name_contains: str | None = None
) -> str:
    """Expired sessions stay in the indexes until DynamoDB's TTL removes them: filter out entries
    whose expiry (as of the entry's last move) is at or before `expiring_after`, and, with
    `expiring_by`, those expiring later than it."""
    ttl = expression.name(INDEXED_EXPIRY_ATTRIBUTE)
    floor = expression.value(items.n(expiring_after))
    if expiring_by is None:
        condition = f"(attribute_not_exists({ttl}) OR {ttl} > {floor})"
    else:
        condition = f"{ttl} > {floor} AND {ttl} <= {expression.value(items.n(expiring_by))}"
    if name_contains:
        search = expression.name(SESSION_NAME_SEARCH_ATTRIBUTE)
        condition += f" AND contains({search}, {expression.value(items.s(name_contains.casefold()))})"
    return condition


def _partition_range(expression: Expression, index: IndexDefinition, partition: str, bounds: tuple[str, str]) -> str:
    pk_name, sk_name = expression.name(index.partition_key), expression.name(index.sort_key)
    low, high = (expression.value(items.s(bound)) for bound in bounds)
    return f"{pk_name} = {expression.value(items.s(partition))} AND {sk_name} BETWEEN {low} AND {high}"


class SessionRepository(Table):
    def __init__(
        self,
        client: Any,
        table_name: str,
        payloads: PayloadStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(client, table_name, sleep)
        self.payloads = payloads or PayloadStore()

    # --- sessions ----------------------------------------------------------------------------
    def get_session(self, session_id: str) -> items.StoredSession | None:
        response = self.call(
            "get_item", TableName=self.table_name, Key=items.session_key(session_id), ConsistentRead=True
        )
        item = response.get("Item")
        return items.session_from_item(item) if item else None

    def batch_get_sessions(self, session_ids: list[str], consistent: bool = False) -> dict[str, items.StoredSession]:
        """Session items by id (by default eventually consistent, like the index that named them)."""
        wanted = [items.session_key(session_id) for session_id in dict.fromkeys(session_ids)]
        found = (items.session_from_item(item) for item in self.batch_get(wanted, consistent=consistent))
        return {session.session_id: session for session in found}

    def delete_session(self, arguments: dict[str, Any]) -> None:
        """One conditional DeleteItem of a session item (arguments from writes.session_delete)."""
        self.call("delete_item", TableName=self.table_name, **arguments)

    def update_session(self, arguments: dict[str, Any]) -> None:
        """One conditional UpdateItem of a session item (arguments from writes.py)."""
        self.call("update_item", TableName=self.table_name, **arguments)

    def transact(self, operations: list[dict[str, Any]]) -> None:
        """One TransactWriteItems; each operation is {"Put"|"Update"|"Delete"|"ConditionCheck": {...}}."""
        for operation in operations:
            (body,) = operation.values()
            body["TableName"] = self.table_name
        try:
            self.call("transact_write_items", TransactItems=operations)
        except (errors.Conflict, errors.PayloadTooLarge):
            # Cancelled: nothing was written, so payloads offloaded for it are nobody's. (Not on a
            # timeout, where the write may have happened; the bucket's objects then stay.)
            self.payloads.delete_objects(offloaded_keys(operations))
            raise

    def discard_payloads(self, operations: Iterable[dict[str, Any]]) -> None:
        """Delete the offloaded payloads these (unwritten) operations point at: nobody's."""
        self.payloads.delete_objects(offloaded_keys(operations))

    # --- runs ----------------------------------------------------------------------------------
    def run_locations(self, session_id: str, incarnation: str, run_ids: list[str]) -> dict[str, str]:
        """run_id -> the sort key of its run item, for the runs that exist (strongly consistent)."""
        wanted = [items.run_lookup_key(session_id, incarnation, run_id) for run_id in dict.fromkeys(run_ids)]
        found = self.batch_get(wanted, consistent=True)
        return {item["run_id"]["S"]: item[items.RUN_LOCATION_ATTRIBUTE]["S"] for item in found}

    def run_holders(self, run_id: str, limit: int) -> list[tuple[str, str]]:
        """(session id, incarnation) of the run lookups of `run_id`, at most `limit` of them, from
        the run-id index (eventually consistent: a run written a moment ago may be missing; lookups
        of expired, deleted or replaced incarnations may linger until the cascade removes them)."""
        expression = Expression()
        condition = (
            f"{expression.name(RUN_INDEX.partition_key)} = "
            f"{expression.value(items.s(keys.run_index_partition(run_id)))}"
        )
        arguments = {"IndexName": RUN_INDEX.name, **expression.arguments(KeyConditionExpression=condition)}
        holders: list[tuple[str, str]] = []
        for response in self.pages(arguments, limit):
            for item in response.get("Items", []):
                incarnation = keys.incarnation_of(item[names.SORT_KEY]["S"])  # the index holds lookups only
                if incarnation is not None:
                    holders.append((keys.session_id_from_pk(item[names.PARTITION_KEY]["S"]), incarnation))
        return holders

    def get_run_item(self, session_id: str, run_sk: str) -> dict[str, Any] | None:
        key = items.run_key(session_id, run_sk)
        return self.call("get_item", TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")

    def query_runs(
        self, session_id: str, incarnation: str, limit: int | None, ascending: bool, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Run items in first-write order (or reverse), at most `limit`; returns the last sort key
        read when more may follow. Reads only the page: the cost grows with `limit`."""
        found: list[dict[str, Any]] = []
        start_key = None
        if after is not None:
            start_key = {names.PARTITION_KEY: items.s(keys.session_pk(session_id)), names.SORT_KEY: items.s(after)}
        expression = Expression()
        condition = (
            f"{expression.name(names.PARTITION_KEY)} = {expression.value(items.s(keys.session_pk(session_id)))}"
            f" AND begins_with({expression.name(names.SORT_KEY)}, "
            f"{expression.value(items.s(keys.run_prefix(incarnation)))})"
        )
        arguments: dict[str, Any] = {
            "ScanIndexForward": ascending,
            "ConsistentRead": True,
            **expression.arguments(KeyConditionExpression=condition),
        }
        if start_key:
            arguments["ExclusiveStartKey"] = start_key
        for response in self.pages(arguments, limit):
            found.extend(response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")
        last = start_key[names.SORT_KEY]["S"] if start_key else None
        return found, last

    def decode_run(self, item: dict[str, Any]) -> dict[str, Any]:
        return self.payloads.decode_run(item)

    # --- lists -----------------------------------------------------------------------------------
    def query_index(
        self,
        index: IndexDefinition,
        partition: str,
        bounds: tuple[str, str],
        ascending: bool,
        page_size: int,
        now: int,
        name_contains: str | None,
        exclude: str | None = None,
        expiring_by: int | None = None,
    ) -> Iterator[tuple[str, str]]:
        """(order key, session id) of one index partition within inclusive `bounds`, in order, page
        by page, skipping `exclude` (the previous page's last key) and, where the index projects
        what it takes, sessions expired at `now` (allowing for the entries' slack: their expiry may
        trail the session's by that much), sessions whose name does not contain `name_contains`,
        and with `expiring_by` those that expire after it."""
        expression = Expression()
        filter_expression = (
            _list_filter(expression, now - index.slack_seconds, expiring_by, name_contains)
            if index.filters_in_query
            else None
        )
        condition = _partition_range(expression, index, partition, bounds)
        arguments = {
            "IndexName": index.name,
            "ScanIndexForward": ascending,
            "Limit": page_size,
            **expression.arguments(KeyConditionExpression=condition, FilterExpression=filter_expression),
        }
        # A page needs its first `page_size` entries; one that reads on (the slack window, sessions
        # it passes over) reads on in BatchGetItem-sized steps.
        for response in self.pages(arguments, later_page_size=max(page_size, BATCH_GET_LIMIT)):
            for item in response.get("Items", []):
                order_key = item[index.sort_key]["S"]
                if order_key != exclude:
                    yield order_key, keys.session_id_from_pk(item[names.PARTITION_KEY]["S"])

    def count_index(
        self, index: IndexDefinition, partition: str, bounds: tuple[str, str], now: int, name_contains: str | None
    ) -> int:
        """How many entries within `bounds` are surely live at `now` (their expiry, as of their last
        move, is after `now`: the session's own is no earlier) and match the name."""
        if not index.filters_in_query:
            raise ValueError(f"{index.name} cannot filter expired sessions: count on an updated-at index")
        expression = Expression()
        filter_expression = _list_filter(expression, now, None, name_contains)
        condition = _partition_range(expression, index, partition, (bounds[0], bounds[1]))
        arguments = {
            "IndexName": index.name,
            "Select": "COUNT",
            **expression.arguments(KeyConditionExpression=condition, FilterExpression=filter_expression),
        }
        return sum(response.get("Count", 0) for response in self.pages(arguments))

    # --- clean-up ----------------------------------------------------------------------------------
    def purge_incarnation(self, session_id: str, incarnation: str) -> int:
        """Delete every run and run lookup of one incarnation of a session. Idempotent: the stream
        may deliver the same removal twice. (Offloaded payloads go when the stream reports their
        run items removed.)"""
        deleted = 0
        for prefix in (keys.run_prefix(incarnation), keys.run_lookup_prefix(incarnation)):
            while True:
                page, more = self._query_prefix(session_id, prefix, BATCH_WRITE_LIMIT * 4)
                if not page:
                    break
                self.batch_delete([items.item_key(item) for item in page])
                deleted += len(page)
                if not more:
                    break
        return deleted

    def _query_prefix(self, session_id: str, prefix: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        expression = Expression()
        condition = (
            f"{expression.name(names.PARTITION_KEY)} = {expression.value(items.s(keys.session_pk(session_id)))}"
            f" AND begins_with({expression.name(names.SORT_KEY)}, {expression.value(items.s(prefix))})"
        )
        response = self.call(
            "query",
            TableName=self.table_name,
            Limit=limit,
            ProjectionExpression=f"{expression.name(names.PARTITION_KEY)}, {expression.name(names.SORT_KEY)}",
            **expression.arguments(KeyConditionExpression=condition),
        )
        return response.get("Items", []), "LastEvaluatedKey" in response
