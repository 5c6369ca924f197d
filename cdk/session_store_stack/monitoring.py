"""Monitoring: one CloudWatch dashboard and the alarms that mean a person should look, sent to an
encrypted SNS topic (subscribe to it after deploying).

Two profiles (context `monitoring`): "full" adds the dashboard and alarms per function and on the
table; "lean" keeps the alarms that cover every failure a client or the cascade sees (the API's
5xx, which include the functions' errors and DynamoDB's 503s; the cascade's errors, age and
failure queue) and no dashboard. Each alarm metric is billed monthly: docs/deploy.md counts them.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    DefaultDashboardFactory,
    ErrorCountThreshold,
    LatencyThreshold,
    MaxAgeThreshold,
    MaxMessageCountThreshold,
    MonitoringFacade,
    SnsAlarmActionStrategy,
    ThrottledEventsThreshold,
)
from constructs import Construct

from cdk.config import StackConfig

# Any 5xx, Lambda error or DynamoDB system error is a bug or an outage: alarm on the first
# 5-minute period that has one. Throttling and latency alarm only when they last (3 periods of 3).
FIRST_PERIOD = {"datapoints_to_alarm": 1, "evaluation_periods": 1}
NO_ERRORS = {"Critical": ErrorCountThreshold(max_error_count=0, **FIRST_PERIOD)}
NO_THROTTLES = {"Warning": ErrorCountThreshold(max_error_count=0)}
NO_TABLE_THROTTLES = {"Warning": ThrottledEventsThreshold(max_throttled_events_threshold=0)}
# A small session is served in tens of ms; seconds at p99 means DynamoDB retries or cold starts piling up.
API_P99_LATENCY = {"Warning": LatencyThreshold(max_latency=Duration.seconds(3))}
# The cascade should keep up within minutes; records older than this are sessions still half-deleted.
CASCADE_ITERATOR_AGE = {"Warning": MaxAgeThreshold(max_age_in_millis=Duration.minutes(15).to_milliseconds())}
# A message in the failure queue is a session whose runs the cascade gave up deleting.
NO_CASCADE_FAILURES = {"Critical": MaxMessageCountThreshold(max_message_count=0, **FIRST_PERIOD)}
# Every DynamoDB operation the functions call (Scan never). TransactWriteItems is the one every write
# is made of; cdk-monitoring-constructs' own system-error alarm leaves it out, so this one is ours.
TABLE_OPERATIONS = (
    "GetItem",
    "BatchGetItem",
    "Query",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "GetRecords",
)
CLOUDWATCH = "cloudwatch.amazonaws.com"


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StackConfig,
        api: apigateway.RestApi,
        table: dynamodb.ITable,
        api_functions: dict[str, lambda_.IFunction],
        cascade: lambda_.IFunction,
        cascade_failures: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id)
        self.prefix = Stack.of(self).stack_name
        self.topic = sns.Topic(self, "AlarmTopic", master_key=self._topic_key(config.is_prod), enforce_ssl=True)
        self._allow_alarms_to_publish()
        facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=self.prefix,
                action=SnsAlarmActionStrategy(on_alarm_topic=self.topic),
            ),
            # One dashboard (each further one is billed monthly), none in the lean profile.
            dashboard_factory=DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=self.prefix,
                create_dashboard=not config.lean_monitoring,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        facade.add_large_header("Session Store")
        facade.monitor_api_gateway(
            api=api,
            api_stage=config.stage,
            alarm_friendly_name="Api",
            add5_xx_fault_count_alarm=NO_ERRORS,
            add_latency_p99_alarm=None if config.lean_monitoring else API_P99_LATENCY,
        )
        if not config.lean_monitoring:
            for name, fn in api_functions.items():
                facade.monitor_lambda_function(
                    lambda_function=fn,
                    alarm_friendly_name=name,
                    human_readable_name=name,
                    add_fault_count_alarm=NO_ERRORS,
                    add_throttles_count_alarm=NO_THROTTLES,
                )
            facade.monitor_dynamo_table(
                table=table,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                alarm_friendly_name="Table",
                add_read_throttled_events_count_alarm=NO_TABLE_THROTTLES,
                add_write_throttled_events_count_alarm=NO_TABLE_THROTTLES,
            )
            self._table_system_errors_alarm(table)
        facade.add_medium_header("Stream cascade")
        facade.monitor_lambda_function(
            lambda_function=cascade,
            alarm_friendly_name="cascade",
            human_readable_name="cascade",
            is_iterator=True,
            add_fault_count_alarm=NO_ERRORS,
            add_throttles_count_alarm=None if config.lean_monitoring else NO_THROTTLES,
            add_max_iterator_age_alarm=CASCADE_ITERATOR_AGE,
        )
        facade.monitor_sqs_queue(
            queue=cascade_failures,
            alarm_friendly_name="CascadeFailures",
            human_readable_name="Cascade failures",
            add_queue_max_size_alarm=NO_CASCADE_FAILURES,
        )

    @property
    def alarm_arn_pattern(self) -> str:
        """Every alarm of this stack: their names all start with the stack's name."""
        return f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:{self.prefix}-*"

    def _allow_alarms_to_publish(self) -> None:
        # A topic policy replaces SNS's default one, and enforce_ssl creates one holding only the TLS
        # Deny: without this statement CloudWatch may not publish, and every notification fails.
        # The conditions keep other accounts' alarms (the confused deputy) off the topic.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToPublish",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": self.alarm_arn_pattern},
                },
            )
        )

    def _table_system_errors_alarm(self, table: dynamodb.ITable) -> None:
        metrics = {
            f"m{index}": cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name="SystemErrors",
                dimensions_map={"TableName": table.table_name, "Operation": operation},
                statistic=cloudwatch.Stats.SUM,
                period=Duration.minutes(5),
            )
            for index, operation in enumerate(TABLE_OPERATIONS)
        }
        alarm = cloudwatch.Alarm(
            self,
            "TableSystemErrors",
            alarm_name=f"{self.prefix}-Table-System-Errors-Critical",
            alarm_description="DynamoDB answered a request of the functions with a 500 (any operation)",
            metric=cloudwatch.MathExpression(
                expression="SUM(METRICS())",
                using_metrics=metrics,
                period=Duration.minutes(5),
                label="System errors",
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            **FIRST_PERIOD,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))

    def _topic_key(self, prod: bool) -> kms.Key:
        # CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, so the topic
        # gets its own key whose policy lets CloudWatch use it.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the Session Store alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
            pending_window=None if prod else Duration.days(7),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        return key
