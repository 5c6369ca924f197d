"""Functions: one Lambda per API function of `routes.functions()`, plus the stream cascade, with
their two layers, log groups and least-privilege roles.

Every function gets the same code asset (functions/), the same layers and the same environment
(the local runtime relies on identical environments); they differ in handler and permissions.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk import DOMAIN_LAYER_DIR, FUNCTIONS_DIR
from cdk.config import StackConfig
from cdk.layers import built_dependencies_layer
from cdk.session_store_stack.nag import acknowledge
from session_store import names, routes

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# 512 MB buys about a third of a vCPU: enough to parse, validate and gzip a 6 MB body in well under a
# second, while a typical small request still bills only a few ms. Tune with Lambda Power Tuning.
MEMORY_MB = 512
# API Gateway gives up on an integration after 29 s; a function stopping at 10 s turns a stuck
# DynamoDB call into the function's own error response instead of an API Gateway 504.
API_TIMEOUT = Duration.seconds(10)
# The cascade is not behind API Gateway: deleting a 10,000-run session is a few hundred batch writes.
CASCADE_TIMEOUT = Duration.seconds(120)
# An export reads every session of a user (EXPORT_READERS at a time): up to API Gateway's 29 s.
EXPORT_TIMEOUT = Duration.seconds(28)
# One erasure batch (erasure.SESSIONS_PER_BATCH sessions with their item collections) takes
# seconds; a session of 10,000 runs tens of seconds. A timed-out batch is retried and resumes.
ERASURE_TIMEOUT = Duration.minutes(5)
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


@dataclass(frozen=True)
class Access:
    """What a function may do to the table (and its indexes), the bucket and the CMK."""

    table_reads: tuple[str, ...] = ()
    read_indexes: bool = True  # whether table_reads also apply to the table's indexes
    table_writes: tuple[str, ...] = ()  # on the table only
    bucket: tuple[str, ...] = ()
    # s3:ListBucket on the bucket: without it S3 answers a GET of a missing object with 403
    # AccessDenied instead of 404 NoSuchKey, and a payload the cascade already removed (a run
    # replaced while it was read) must read as "missing", a 503 the client retries. No s3:prefix
    # condition: a GetObject request carries no prefix, so a conditioned grant would not count.
    list_bucket: bool = False
    exports: tuple[str, ...] = ()  # on the bucket's staged export files only
    key: tuple[str, ...] = ()  # only when a customer-managed key is configured


_TABLE_READS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem")
# TransactWriteItems has no IAM action of its own: it is authorized item by item with these.
_TABLE_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")

NO_ACCESS = Access()
READ_ACCESS = Access(table_reads=_TABLE_READS, bucket=("s3:GetObject",), list_bucket=True, key=("kms:Decrypt",))
WRITE_ACCESS = Access(
    table_reads=_TABLE_READS,
    table_writes=_TABLE_WRITES,
    bucket=("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
    list_bucket=True,
    key=("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
)
CASCADE_ACCESS = Access(
    table_reads=("dynamodb:Query",),  # a session's own item collection, never an index
    read_indexes=False,
    # Runs and lookups go in BatchWriteItem DeleteRequests (repository.purge_incarnation); it never
    # calls DeleteItem.
    table_writes=("dynamodb:BatchWriteItem",),
    bucket=("s3:DeleteObject",),
    key=("kms:Decrypt",),
)
# The user routes and the erasure worker (session_store/erasure.py, user_data.py).
ERASE_USER_ACCESS = Access(  # reads and writes the user's erasure items (a transaction of two puts)
    table_reads=("dynamodb:GetItem",),
    read_indexes=False,
    table_writes=("dynamodb:PutItem",),
    key=("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
)
GET_ERASURE_ACCESS = Access(table_reads=("dynamodb:GetItem",), read_indexes=False, key=("kms:Decrypt",))
EXPORT_ACCESS = Access(
    table_reads=("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"),
    bucket=("s3:GetObject",),  # offloaded runs
    exports=("s3:PutObject", "s3:GetObject"),  # stage the file; its presigned URL is signed as this role
    key=("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
)
ERASURE_WORKER_ACCESS = Access(
    table_reads=("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"),  # the user's index partitions
    table_writes=("dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem"),
    bucket=("s3:DeleteObject",),
    key=("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
)
_ROUTE_ACCESS = {
    routes.ERASE_USER.function: ERASE_USER_ACCESS,
    routes.GET_ERASURE.function: GET_ERASURE_ACCESS,
    routes.EXPORT_USER.function: EXPORT_ACCESS,
}


def access_for(function: str, served: tuple[routes.Route, ...]) -> Access:
    """The docs function touches no data; any function serving a writing route may write."""
    if function == routes.OPENAPI_DOCUMENT.function:
        return NO_ACCESS
    if function in _ROUTE_ACCESS:
        return _ROUTE_ACCESS[function]
    return WRITE_ACCESS if any(route.writes for route in served) else READ_ACCESS


def construct_name(function: str) -> str:
    """put_session -> PutSession: the function's construct id (and so its logical id prefix)."""
    return "".join(part.capitalize() for part in function.split("_"))


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StackConfig,
        table: dynamodb.ITable,
        bucket: s3.IBucket,
        encryption_key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self._table = table
        self._bucket = bucket
        self._key = encryption_key
        self._code = lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=ASSET_EXCLUDES)
        self.layers = [
            lambda_.LayerVersion(
                self,
                "DependenciesLayer",
                code=lambda_.Code.from_asset(str(built_dependencies_layer())),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="Third-party packages of the lock's lambda group (manylinux aarch64, cp313)",
            ),
            lambda_.LayerVersion(
                self,
                "DomainLayer",
                code=lambda_.Code.from_asset(str(DOMAIN_LAYER_DIR), exclude=ASSET_EXCLUDES),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="The session_store domain package shared by every function",
            ),
        ]
        self.environment = {
            names.ENV_TABLE_NAME: table.table_name,
            names.ENV_RETENTION_DAYS: str(config.retention_days),
            names.ENV_MEMORY_RETENTION_DAYS: str(config.memory_retention_days),
            names.ENV_PAYLOAD_BUCKET: bucket.bucket_name,
            # The cursor signing key only has to be secret from API clients, which never see the
            # stack id. Cursors are tamper-evident (a modified cursor is a 400), not an authorization
            # boundary: every caller the API lets in may list any page anyway. The UUID part of the
            # stack id is unique per deployment and stable across updates, so cursors survive deploys.
            names.ENV_CURSOR_KEY: Fn.select(2, Fn.split("/", Aws.STACK_ID)),
            names.ENV_SERVICE_NAME: names.SERVICE_NAME,
            names.ENV_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
            names.ENV_AUTH_MODE: config.auth,
        }

        self.api_functions: dict[str, lambda_.Function] = {
            function: self._function(
                function,
                handler=served[0].handler,
                description="; ".join(route.summary for route in served),
                timeout=EXPORT_TIMEOUT if function == routes.EXPORT_USER.function else API_TIMEOUT,
                access=access_for(function, served),
                reserved_concurrency=config.reserved_concurrency,
            )
            for function, served in routes.functions().items()
        }
        # Bounded without reserved concurrency: one concurrent batch per stream shard.
        self.cascade = self._function(
            routes.CASCADE_FUNCTION,
            handler=routes.CASCADE_HANDLER,
            description="Deletes the runs and payloads of a session whose item was deleted or expired",
            timeout=CASCADE_TIMEOUT,
            access=CASCADE_ACCESS,
        )

        self.erasure_worker = self._function(
            routes.ERASURE_FUNCTION,
            handler=routes.ERASURE_HANDLER,
            description="Erases a user's data, one bounded batch per erasure job update",
            timeout=ERASURE_TIMEOUT,
            access=ERASURE_WORKER_ACCESS,
        )

    def _function(
        self,
        function: str,
        *,
        handler: str,
        description: str,
        timeout: Duration,
        access: Access,
        reserved_concurrency: int | None = None,
    ) -> lambda_.Function:
        name = construct_name(function)
        log_group = logs.LogGroup(
            self,
            f"{name}Logs",
            retention=self._config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if self._config.is_prod else RemovalPolicy.DESTROY,
        )
        # An own role instead of the AWSLambdaBasicExecutionRole managed policy: logs go only to
        # this function's log group.
        role = iam.Role(self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        self._grant(role, access)
        self._acknowledge_role(role, access)
        fn = lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self._code,
            handler=handler,
            description=description,
            memory_size=MEMORY_MB,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            layers=self.layers,
            environment=self.environment,
            role=role,
            reserved_concurrent_executions=reserved_concurrency,
        )
        self._acknowledge_function(fn)
        return fn

    def _grant(self, role: iam.Role, access: Access) -> None:
        table_arn = self._table.table_arn
        statements = [
            (access.table_reads, [table_arn, f"{table_arn}/index/*"] if access.read_indexes else [table_arn]),
            (access.table_writes, [table_arn]),
            (access.bucket, [self._bucket.arn_for_objects("*")]),
            (("s3:ListBucket",) if access.list_bucket else (), [self._bucket.bucket_arn]),
            (access.exports, [self._bucket.arn_for_objects(f"{names.EXPORT_OBJECT_PREFIX}*")]),
            (access.key, [self._key.key_arn] if self._key else []),
        ]
        for actions, resources in statements:
            if actions and resources:
                role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=resources))

    def _acknowledge_role(self, role: iam.Role, access: Access) -> None:
        acknowledge(
            role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords (added by active tracing) support no "
                "resource-level permissions.",
            ),
        )
        # nag names a resource by its logical id, e.g. <SessionTable440DAA5F.Arn>/index/*.
        if access.table_reads and access.read_indexes:
            acknowledge(
                role,
                (
                    f"AwsSolutions-IAM5[Resource::{_arn_of(self._table)}/index/*]",
                    "Reads on the table's own indexes: a list query goes to whichever GSI serves the "
                    "requested scope and order.",
                ),
            )
        if access.exports:
            acknowledge(
                role,
                (
                    f"AwsSolutions-IAM5[Resource::{_arn_of(self._bucket)}/{names.EXPORT_OBJECT_PREFIX}*]",
                    "Export files staged under the bucket's exports/ prefix, named at request time.",
                ),
            )
        if access.bucket:
            acknowledge(
                role,
                (
                    f"AwsSolutions-IAM5[Resource::{_arn_of(self._bucket)}/*]",
                    "Objects of the stack's own payload bucket, whose keys derive from session and run "
                    "ids at request time.",
                ),
            )

    def _acknowledge_function(self, fn: lambda_.Function) -> None:
        runtime_reason = "Python 3.13 is the runtime the service's contract and its layer's wheels target."
        acknowledge(
            fn,
            ("AwsSolutions-L1", runtime_reason),
            ("Serverless-LambdaLatestVersion", runtime_reason),
            (
                "Serverless-LambdaDLQ",
                "Invoked synchronously only (API Gateway proxy, or the stream's event source mapping, "
                "which has its own on-failure queue); a DLQ applies to asynchronous invocations.",
            ),
        )


def _arn_of(construct: Construct) -> str:
    """How cdk-nag spells the Arn attribute of an L2 construct's resource in a finding id."""
    stack = Stack.of(construct)
    return f"<{stack.resolve(stack.get_logical_id(construct.node.default_child))}.Arn>"
