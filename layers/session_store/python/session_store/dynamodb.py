"""The table's client: every DynamoDB call of the repositories goes through `Table.call`, which maps
AWS errors to domain errors, so that nothing above the repositories sees boto3. Paging and the
retry of unprocessed batch items are written once here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypedDict, cast

from botocore.exceptions import BotoCoreError, ClientError

from session_store import errors

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
# Unprocessed batch items are sent again after a growing pause, this many times, then refused.
BATCH_ATTEMPTS = 8

_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
}


def _translate(error: Exception) -> Exception:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code in _UNAVAILABLE_CODES:
            return errors.ServiceUnavailable("the session table is throttling or unavailable; retry")
        if code == "ConditionalCheckFailedException":
            return errors.Conflict("the condition of the write no longer holds", [0])
        if code == "TransactionCanceledException":
            return _translate_cancellation(error.response.get("CancellationReasons", []))
        if code == "TransactionConflictException":
            return errors.Conflict(message)
        if code == "ValidationException" and "size" in message.lower():
            return errors.PayloadTooLarge(f"the session does not fit in one item: {message}")
        if code == "ResourceNotFoundException":
            return errors.ServiceUnavailable("the session table does not exist (yet)")
        return error
    if isinstance(error, BotoCoreError):
        # Connection refused, timeouts, closed connections: the table is out of reach.
        return errors.ServiceUnavailable("the session table is out of reach; retry")
    return error


class _CancellationReason(TypedDict, total=False):
    """What this module reads of one entry of a TransactionCanceledException's CancellationReasons."""

    Code: str
    Message: str


def _translate_cancellation(reasons: Sequence[_CancellationReason]) -> Exception:
    codes = [reason.get("Code", "None") for reason in reasons]
    failed = [index for index, code in enumerate(codes) if code == "ConditionalCheckFailed"]
    if failed:
        return errors.Conflict(f"condition failed for operations {failed}", failed)
    if "TransactionConflict" in codes:
        return errors.Conflict("another transaction touched the session")
    if any(code in ("ThrottlingError", "ProvisionedThroughputExceeded") for code in codes):
        return errors.ServiceUnavailable("the session table is throttling; retry")
    messages = " ".join(reason.get("Message", "") for reason in reasons)
    if "size" in messages.lower():
        return errors.PayloadTooLarge(f"the write does not fit in DynamoDB's limits: {messages}")
    return errors.ServiceUnavailable(f"the transaction was cancelled ({', '.join(codes)}); retry")


class Table:
    def __init__(self, client: Any, table_name: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self.table_name = table_name
        self._sleep = sleep

    def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        try:
            # boto3's client methods are made at run time and typed Any: every DynamoDB operation
            # answers a JSON object.
            return cast(dict[str, Any], getattr(self._client, operation)(**arguments))
        except (ClientError, BotoCoreError) as error:
            translated = _translate(error)
            if translated is error:
                raise
            raise translated from error

    def pages(
        self, arguments: dict[str, Any], limit: int | None = None, later_page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Query responses of this table, one page after another until the last. A page asks for
        the arguments' own `Limit` (the first) or `later_page_size` (those after it, when given),
        and never for more than is still missing of `limit` items in all."""
        arguments = {"TableName": self.table_name, **arguments}
        page_size: int | None = arguments.get("Limit")
        read = 0
        while True:
            sizes = [size for size in (page_size, None if limit is None else limit - read) if size is not None]
            if sizes:
                arguments["Limit"] = min(sizes)
            response = self.call("query", **arguments)
            yield response
            page_size = later_page_size or page_size
            read += len(response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")
            if not start_key or (limit is not None and read >= limit):
                return
            arguments["ExclusiveStartKey"] = start_key

    def batch_get(self, wanted: list[dict[str, Any]], consistent: bool) -> list[dict[str, Any]]:
        """The items of these keys that exist, BATCH_GET_LIMIT keys per request."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            request = {self.table_name: {"Keys": wanted[start : start + BATCH_GET_LIMIT], "ConsistentRead": consistent}}
            for response in self._until_processed("batch_get_item", request, "UnprocessedKeys", "reads"):
                found.extend(response.get("Responses", {}).get(self.table_name, []))
        return found

    def batch_delete(self, item_keys: list[dict[str, Any]]) -> None:
        for start in range(0, len(item_keys), BATCH_WRITE_LIMIT):
            batch = item_keys[start : start + BATCH_WRITE_LIMIT]
            request = {self.table_name: [{"DeleteRequest": {"Key": key}} for key in batch]}
            for _ in self._until_processed("batch_write_item", request, "UnprocessedItems", "deletes"):
                pass

    def _until_processed(
        self, operation: str, request: dict[str, Any], unprocessed: str, what: str
    ) -> Iterator[dict[str, Any]]:
        """Send a batch request, then what DynamoDB left unprocessed, with backoff between tries."""
        for attempt in range(BATCH_ATTEMPTS):
            response = self.call(operation, RequestItems=request)
            yield response
            request = response.get(unprocessed) or {}
            if not request:
                return
            self._sleep(min(0.05 * 2**attempt, 1.0))
        raise errors.ServiceUnavailable(f"the session table is throttling {what}; retry")
