"""The erasure worker: invoked by the stream records of running erasure jobs (the event source
mapping's filter passes only those), it runs one bounded batch per record and saves the job, whose
own stream record then invokes the next batch (see session_store/erasure.py)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from session_store import erasure, names, runtime
from session_store.entrypoint import entry_point, logger, metrics

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _failed(job: erasure.ErasureJob) -> None:
    logger.error("erasure failed", extra={"erasure": job.receipt(), "last_error": job.last_error})
    metrics.add_metric(name=names.ERASURE_FAILED_METRIC, unit=MetricUnit.Count, value=1)


def _record_handler(record: DynamoDBRecord) -> None:
    job = erasure.job_of_record(record.raw_event)
    if job is None:
        return
    user_id, erasure_id, seq = job
    outcome = erasure.advance(runtime.erasure_repository(), user_id, erasure_id, seq, on_failed=_failed)
    logger.info("erasure batch", extra={"erasure_id": erasure_id, "seq": seq, "outcome": outcome})


def _process_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=_record_handler, processor=processor, context=context)


lambda_handler = entry_point(_process_batch)
