"""ErasureWorker: the table's stream drives the erasure worker, filtered to the records of running
erasure jobs (Lambda drops every other record before invoking), and alarms fire when an erasure
fails for good (the worker's ErasuresFailed metric) or the worker itself errors.

Why the stream and not SQS or Step Functions: the job item is the state and each save of it is the
next batch's trigger, so no other service is needed, and the local runtime plays the same mapping
(with its filter) on DynamoDB Local's stream. See docs/design.md, "Erasing a user".
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk.session_store_stack.cascade import STREAM_READ_ACTIONS
from cdk.session_store_stack.nag import acknowledge
from session_store import names

# One job record per invocation: each is one bounded batch of one job.
BATCH_SIZE = 1
# The worker retries a failing batch itself (erasure.MAX_FAILURES); these cover a crashed invocation.
RETRY_ATTEMPTS = 3


def job_filter() -> lambda_.FilterCriteria:
    """Records whose new image is a running erasure job (erasure.job_of_record checks the same)."""
    return lambda_.FilterCriteria.filter(
        {
            "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
            "dynamodb": {
                "NewImage": {
                    "entity": {"S": lambda_.FilterRule.is_equal(names.ENTITY_ERASURE)},
                    "status": {"S": lambda_.FilterRule.is_equal("running")},
                }
            },
        }
    )


class ErasureWorker(Construct):
    def __init__(
        self, scope: Construct, id: str, *, table: dynamodb.ITable, function: lambda_.Function, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, id)
        stream_arn = table.table_stream_arn
        if stream_arn is None:
            raise ValueError("the session table needs a stream for the erasure worker")
        function.add_to_role_policy(iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[stream_arn]))
        self.mapping = function.add_event_source_mapping(
            "JobMapping",
            event_source_arn=stream_arn,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=BATCH_SIZE,
            retry_attempts=RETRY_ATTEMPTS,
            report_batch_item_failures=True,
            filters=[job_filter()],
        )
        acknowledge(
            self.mapping,
            (
                "Serverless-LambdaEventSourceMappingDestination",
                "A dropped record loses nothing: the job item it names stays in the table (status running) "
                "and DELETE /users/{user_id} resumes it; the worker's Errors alarm tells an operator to.",
            ),
        )
        failed = cloudwatch.Metric(
            namespace=names.METRICS_NAMESPACE,
            metric_name=names.ERASURE_FAILED_METRIC,
            dimensions_map={"service": names.SERVICE_NAME},
            statistic="Sum",
            period=Duration.minutes(5),
        )
        above_zero = {
            "threshold": 0,
            "evaluation_periods": 1,
            "comparison_operator": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
        }
        self.failed_alarm = failed.create_alarm(
            self,
            "ErasureFailed",
            **above_zero,
            alarm_name=f"{Stack.of(self).stack_name}-Erasure-Failed-Critical",
            alarm_description="An erasure failed after every retry: DELETE /users/{user_id} again resumes it",
        )
        self.errors_alarm = function.metric_errors(period=Duration.minutes(5)).create_alarm(
            self,
            "WorkerErrors",
            **above_zero,
            alarm_name=f"{Stack.of(self).stack_name}-Erasure-Worker-Errors-Critical",
            alarm_description="The erasure worker crashed: an erasure may be stuck in running",
        )
        for alarm in (self.failed_alarm, self.errors_alarm):
            alarm.add_alarm_action(actions.SnsAction(topic))
