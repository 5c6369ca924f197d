"""The DynamoDB Streams consumer: removes what a deleted, expired or replaced session leaves
behind. Failed records are reported individually, so the rest of a batch is not retried."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from session_store import runtime
from session_store.cascade import handle_record
from session_store.entrypoint import entry_point, logger

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _record_handler(record: DynamoDBRecord) -> None:
    outcome = handle_record(runtime.repository(), record.raw_event)
    if outcome.get("purged_items") is not None or outcome.get("deleted_object"):
        logger.info("cascade", extra=outcome)


def _process_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=_record_handler, processor=processor, context=context)


lambda_handler = entry_point(_process_batch)
