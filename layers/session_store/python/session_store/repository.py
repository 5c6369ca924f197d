"""Data access: the only module that calls DynamoDB. It speaks items (items.py) and maps AWS
errors to domain errors, so everything above it is free of boto3."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from session_store import errors, items, keys, names
from session_store.expressions import Expression
from session_store.payloads import PayloadStore, offloaded_keys
from session_store.table import INDEXED_EXPIRY_ATTRIBUTE, SESSION_NAME_SEARCH_ATTRIBUTE, IndexDefinition

_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
}
_BATCH_GET_LIMIT = 100
_BATCH_WRITE_LIMIT = 25


class ConditionFailed(Exception):
    """A conditional write was refused; `failed` holds the positions of the refused operations."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"condition failed for operations {failed}")
        self.failed = failed


def _translate(error: Exception) -> Exception:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code in _UNAVAILABLE_CODES:
            return errors.ServiceUnavailable("the session table is throttling or unavailable; retry")
        if code == "ConditionalCheckFailedException":
            return ConditionFailed([0])
        if code == "TransactionCanceledException":
            return _translate_cancellation(error.response.get("CancellationReasons", []))
        if code == "TransactionConflictException":
            return errors.ConcurrentUpdate(message)
        if code == "ValidationException" and "size" in message.lower():
            return errors.PayloadTooLarge(f"the session does not fit in one item: {message}")
        if code == "ResourceNotFoundException":
            return errors.ServiceUnavailable("the session table does not exist (yet)")
        return error
    if isinstance(error, BotoCoreError):
        # Connection refused, timeouts, closed connections: the table is out of reach.
        return errors.ServiceUnavailable("the session table is out of reach; retry")
    return error


def _translate_cancellation(reasons: list[dict[str, Any]]) -> Exception:
    codes = [reason.get("Code", "None") for reason in reasons]
    failed = [index for index, code in enumerate(codes) if code == "ConditionalCheckFailed"]
    if failed:
        return ConditionFailed(failed)
    if "TransactionConflict" in codes:
        return errors.ConcurrentUpdate("another transaction touched the session")
    if any(code in ("ThrottlingError", "ProvisionedThroughputExceeded") for code in codes):
        return errors.ServiceUnavailable("the session table is throttling; retry")
    messages = " ".join(reason.get("Message", "") for reason in reasons)
    if "size" in messages.lower():
        return errors.PayloadTooLarge(f"the write does not fit in DynamoDB's limits: {messages}")
    return errors.ServiceUnavailable(f"the transaction was cancelled ({', '.join(codes)}); retry")


def _list_filter(expression: Expression, expiring_after: int, expiring_by: int | None, name_contains: str | None = None) -> str:
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


def _partition_range(
    expression: Expression, index: IndexDefinition, partition: str, bounds: tuple[str, str]
) -> str:
    pk_name, sk_name = expression.name(index.partition_key), expression.name(index.sort_key)
    low, high = (expression.value(items.s(bound)) for bound in bounds)
    return f"{pk_name} = {expression.value(items.s(partition))} AND {sk_name} BETWEEN {low} AND {high}"


class SessionRepository:
    def __init__(self, client: Any, table_name: str, payloads: PayloadStore | None = None) -> None:
        self._client = client
        self.table_name = table_name
        self.payloads = payloads or PayloadStore()

    def _call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        try:
            return getattr(self._client, operation)(**arguments)
        except (ClientError, BotoCoreError) as error:
            translated = _translate(error)
            if translated is error:
                raise
            raise translated from error

    # --- sessions ----------------------------------------------------------------------------
    def get_session(self, session_id: str) -> items.StoredSession | None:
        response = self._call(
            "get_item", TableName=self.table_name, Key=items.session_key(session_id), ConsistentRead=True
        )
        item = response.get("Item")
        return items.session_from_item(item) if item else None

    def batch_get_sessions(self, session_ids: list[str]) -> dict[str, items.StoredSession]:
        """Session items by id (eventually consistent, like the index that named them)."""
        found: dict[str, items.StoredSession] = {}
        for start in range(0, len(session_ids), _BATCH_GET_LIMIT):
            wanted = [items.session_key(sid) for sid in dict.fromkeys(session_ids[start : start + 100])]
            for item in self._batch_get(wanted, consistent=False):
                session = items.session_from_item(item)
                found[session.session_id] = session
        return found

    def _batch_get(self, wanted: list[dict[str, Any]], consistent: bool) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        request = {self.table_name: {"Keys": wanted, "ConsistentRead": consistent}}
        for attempt in range(8):
            response = self._call("batch_get_item", RequestItems=request)
            results.extend(response.get("Responses", {}).get(self.table_name, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return results
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise errors.ServiceUnavailable("the session table is throttling reads; retry")

    def delete_session(self, session_id: str, condition: str, expression: Expression) -> None:
        self._call(
            "delete_item",
            TableName=self.table_name,
            Key=items.session_key(session_id),
            **expression.arguments(ConditionExpression=condition),
        )

    def update_session(self, arguments: dict[str, Any]) -> None:
        """One conditional UpdateItem of a session item (arguments from writes.py)."""
        self._call("update_item", TableName=self.table_name, **arguments)

    def transact(self, operations: list[dict[str, Any]]) -> None:
        """One TransactWriteItems; each operation is {"Put"|"Update"|"Delete"|"ConditionCheck": {...}}."""
        for operation in operations:
            (body,) = operation.values()
            body["TableName"] = self.table_name
        try:
            self._call("transact_write_items", TransactItems=operations)
        except (ConditionFailed, errors.ConcurrentUpdate, errors.PayloadTooLarge):
            # Cancelled: nothing was written, so payloads offloaded for it are nobody's. (Not on a
            # timeout, where the write may have happened; the bucket's objects then stay.)
            self.payloads.delete_objects(offloaded_keys(operations))
            raise

    # --- runs ----------------------------------------------------------------------------------
    def run_locations(self, session_id: str, incarnation: str, run_ids: list[str]) -> dict[str, str]:
        """run_id -> the sort key of its run item, for the runs that exist (strongly consistent)."""
        wanted = [items.run_lookup_key(session_id, incarnation, run_id) for run_id in dict.fromkeys(run_ids)]
        locations: dict[str, str] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            for item in self._batch_get(wanted[start : start + _BATCH_GET_LIMIT], consistent=True):
                locations[item["run_id"]["S"]] = item[items.RUN_LOCATION_ATTRIBUTE]["S"]
        return locations

    def get_run_item(self, session_id: str, run_sk: str) -> dict[str, Any] | None:
        key = {names.PARTITION_KEY: items.s(keys.session_pk(session_id)), names.SORT_KEY: items.s(run_sk)}
        return self._call("get_item", TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")

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
        while True:
            arguments: dict[str, Any] = {
                "TableName": self.table_name,
                "ScanIndexForward": ascending,
                "ConsistentRead": True,
                **expression.arguments(KeyConditionExpression=condition),
            }
            if limit is not None:
                arguments["Limit"] = limit - len(found)
            if start_key:
                arguments["ExclusiveStartKey"] = start_key
            response = self._call("query", **arguments)
            found.extend(response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")
            if not start_key or (limit is not None and len(found) >= limit):
                break
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
            if index.filters_in_query else None
        )
        condition = _partition_range(expression, index, partition, bounds)
        start_key = None
        while True:
            arguments = {
                "TableName": self.table_name,
                "IndexName": index.name,
                "ScanIndexForward": ascending,
                "Limit": page_size,
                **expression.arguments(KeyConditionExpression=condition, FilterExpression=filter_expression),
            }
            if start_key:
                arguments["ExclusiveStartKey"] = start_key
            response = self._call("query", **arguments)
            for item in response.get("Items", []):
                order_key = item[index.sort_key]["S"]
                if order_key != exclude:
                    yield order_key, keys.session_id_from_pk(item[names.PARTITION_KEY]["S"])
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                return

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
        total, start_key = 0, None
        while True:
            arguments = {
                "TableName": self.table_name,
                "IndexName": index.name,
                "Select": "COUNT",
                **expression.arguments(KeyConditionExpression=condition, FilterExpression=filter_expression),
            }
            if start_key:
                arguments["ExclusiveStartKey"] = start_key
            response = self._call("query", **arguments)
            total += response.get("Count", 0)
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                return total

    # --- clean-up ----------------------------------------------------------------------------------
    def purge_incarnation(self, session_id: str, incarnation: str) -> int:
        """Delete every run and run lookup of one incarnation of a session. Idempotent: the stream
        may deliver the same removal twice. (Offloaded payloads go when the stream reports their
        run items removed.)"""
        deleted = 0
        for prefix in (keys.run_prefix(incarnation), keys.run_lookup_prefix(incarnation)):
            while True:
                page, more = self._query_prefix(session_id, prefix, _BATCH_WRITE_LIMIT * 4)
                if not page:
                    break
                for start in range(0, len(page), _BATCH_WRITE_LIMIT):
                    self._batch_delete([items.item_key(item) for item in page[start : start + _BATCH_WRITE_LIMIT]])
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
        response = self._call(
            "query",
            TableName=self.table_name,
            Limit=limit,
            ProjectionExpression=f"{expression.name(names.PARTITION_KEY)}, {expression.name(names.SORT_KEY)}",
            **expression.arguments(KeyConditionExpression=condition),
        )
        return response.get("Items", []), "LastEvaluatedKey" in response

    def _batch_delete(self, item_keys: list[dict[str, Any]]) -> None:
        request = {self.table_name: [{"DeleteRequest": {"Key": key}} for key in item_keys]}
        for attempt in range(8):
            response = self._call("batch_write_item", RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            if not request:
                return
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise errors.ServiceUnavailable("the session table is throttling deletes; retry")
