"""StreamCascade: the table's stream drives the cascade function, which deletes the rest of a
session's item collection once its session item is gone (a client deleted it, TTL expired it, or a
new incarnation replaced it) and the S3 object of a run payload that was deleted or replaced.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.session_store_stack.nag import acknowledge
from session_store import names
from session_store.items import PAYLOAD_OBJECT_ATTRIBUTE, REPLACED_INCARNATION

BATCH_SIZE = 100
# Up to this long to fill a batch: fewer invocations, and nothing reads what the cascade removes
# (deleted and expired sessions are already absent to every read).
BATCHING_WINDOW = Duration.seconds(5)
# A failing batch is halved until the poison record is alone, retried, then sent to the queue.
RETRY_ATTEMPTS = 5
# Stream records live 24 hours; giving up well before that leaves time to act on the alarm.
MAX_RECORD_AGE = Duration.hours(6)
FAILURE_RETENTION = Duration.days(14)  # the longest SQS keeps a message
# Only the records the cascade acts on invoke it (Lambda drops the rest before invoking, at no
# charge): a session item removed (deleted, or expired by TTL), a session item replaced by a new
# incarnation (the write marks it, see items.REPLACED_INCARNATION), and a run item with an
# offloaded payload removed or rewritten. Every turn's session update and run write is filtered
# out. The handler (session_store/cascade.py) still checks each record: the filter narrows, it
# does not decide. The local runtime applies the same filters (local_runtime/filters.py).
STREAM_FILTERS = (
    {"eventName": ["REMOVE"], "dynamodb": {"OldImage": {"entity": {"S": [names.ENTITY_SESSION]}}}},
    {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {REPLACED_INCARNATION: {"S": [{"exists": True}]}}}},
    {
        "eventName": ["REMOVE", "MODIFY"],
        "dynamodb": {"OldImage": {PAYLOAD_OBJECT_ATTRIBUTE: {"S": [{"exists": True}]}}},
    },
)
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


class StreamCascade(Construct):
    def __init__(self, scope: Construct, id: str, *, table: dynamodb.ITable, function: lambda_.Function) -> None:
        super().__init__(scope, id)
        # Records of batches that still failed after every retry: the sessions whose items remain.
        self.failures = sqs.Queue(
            self,
            "Failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=FAILURE_RETENTION,
        )
        reason = (
            "This queue is itself the on-failure destination of the stream cascade; its messages "
            "describe failed batches for an operator (alarmed on), so there is nothing to redrive to."
        )
        acknowledge(self.failures, ("AwsSolutions-SQS3", reason), ("Serverless-SQSRedrivePolicy", reason))

        stream_arn = table.table_stream_arn
        if stream_arn is None:
            raise ValueError("the session table needs a stream for the cascade")
        # Only the stream itself: table.grant_stream_read would add dynamodb:ListStreams on "*".
        function.add_to_role_policy(iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[stream_arn]))
        self.mapping = function.add_event_source_mapping(
            "StreamMapping",
            event_source_arn=stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=BATCH_SIZE,
            bisect_batch_on_error=True,
            retry_attempts=RETRY_ATTEMPTS,
            max_record_age=MAX_RECORD_AGE,
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(self.failures),
            max_batching_window=BATCHING_WINDOW,
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in STREAM_FILTERS],
        )
