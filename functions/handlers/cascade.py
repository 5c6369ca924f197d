"""The DynamoDB Streams consumer: removes what a deleted, expired or replaced session leaves
behind. Failed records are reported individually, so the rest of a batch is not retried."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from session_store import runtime
from session_store.api import logger, metrics, tracer
from session_store.cascade import handle_record

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _record_handler(record: DynamoDBRecord) -> None:
    outcome = handle_record(runtime.repository(), record.raw_event)
    if outcome.get("purged_items") is not None or outcome.get("deleted_object"):
        logger.info("cascade", extra=outcome)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runtime.start_invocation(context)
    return process_partial_response(event=event, record_handler=_record_handler, processor=processor, context=context)
