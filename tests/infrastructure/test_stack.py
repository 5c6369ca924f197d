"""The default stack (cdk.json context only): API, functions, permissions, table, bucket, cascade,
monitoring. The synth behind the fixture ran cdk-nag, so reaching any test means nag passed."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from session_store import names, routes
from session_store import table as design
from tests.infrastructure.template_queries import (
    API_TIMEOUT_LIMIT_SECONDS,
    actions_of,
    all_policy_actions,
    api_function_ids,
    cascade_id,
    handlers,
    method_routes,
    ref,
    referenced_ids,
    role_statements,
    service_functions,
)

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]

TABLE_READS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"}
TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}


def service_actions(actions: set[str]) -> set[str]:
    return {action for action in actions if action.split(":")[0] in ("dynamodb", "s3", "kms", "sqs")}


# --- API ------------------------------------------------------------------------------------------
def test_one_method_per_route_each_with_iam_authorization(default_stack):
    methods = method_routes(default_stack)
    assert set(methods) == {(route.method, route.path) for route in routes.ROUTES}
    assert len(default_stack.of_type("AWS::ApiGateway::Method")) == len(routes.ROUTES)
    assert {properties["AuthorizationType"] for properties in methods.values()} == {"AWS_IAM"}


def test_each_method_proxies_to_the_function_of_its_route(default_stack):
    functions = service_functions(default_stack)
    methods = method_routes(default_stack)
    for route in routes.ROUTES:
        integration = methods[(route.method, route.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        assert referenced_ids(integration["Uri"]) & {lid for lid, _ in functions.values()} == {
            functions[route.handler][0]
        }, route


def test_path_parameters_are_required_and_validated(default_stack):
    validators = default_stack.of_type("AWS::ApiGateway::RequestValidator")
    methods = method_routes(default_stack)
    for route in routes.ROUTES:
        properties = methods[(route.method, route.path)]
        expected = {f"method.request.path.{name}": True for name in route.path_parameters}
        assert properties.get("RequestParameters", {}) == expected
        if expected:
            assert ref(properties["RequestValidatorId"]) in validators
    assert [v["Properties"]["ValidateRequestParameters"] for v in validators.values()] == [True]


def test_rest_api_is_regional_compressed_and_text_only(default_stack):
    (api,) = default_stack.of_type("AWS::ApiGateway::RestApi").values()
    properties = api["Properties"]
    assert properties["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert properties["MinimumCompressionSize"] == 1024
    assert not properties.get("BinaryMediaTypes")


def test_stage_is_throttled_traced_and_access_logged_as_json(default_stack):
    (stage,) = default_stack.of_type("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "v1"
    assert properties["TracingEnabled"] is True
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in properties["MethodSettings"]}
    stage_wide = settings[("*", "/*")]
    assert stage_wide["ThrottlingRateLimit"] == 200
    assert stage_wide["ThrottlingBurstLimit"] == 400
    assert stage_wide["DataTraceEnabled"] is False
    access_log = properties["AccessLogSetting"]
    assert ref(access_log["DestinationArn"]) in default_stack.of_type("AWS::Logs::LogGroup")
    fields = json.loads(access_log["Format"])
    assert {"requestId", "status", "httpMethod", "resourcePath"} <= set(fields)


def test_stage_execution_logs_have_a_retention(default_stack):
    (api_id,) = default_stack.of_type("AWS::ApiGateway::RestApi")
    ((stage_id, stage),) = default_stack.of_type("AWS::ApiGateway::Stage").items()
    log_groups = default_stack.of_type("AWS::Logs::LogGroup")
    (execution_logs_id,) = [
        lid
        for lid, group in log_groups.items()
        if group["Properties"].get("LogGroupName")
        == {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": api_id}, "/v1"]]}
    ]
    assert log_groups[execution_logs_id]["Properties"]["RetentionInDays"] == 30
    # Created before the stage can log, or API Gateway would create it without a retention.
    assert execution_logs_id in stage["DependsOn"]


def test_gateway_errors_are_problem_details_with_request_id(default_stack):
    responses = default_stack.of_type("AWS::ApiGateway::GatewayResponse")
    assert {"THROTTLED", "MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= {
        r["Properties"]["ResponseType"] for r in responses.values()
    }
    for response in responses.values():
        properties = response["Properties"]
        if properties["ResponseType"] == "DEFAULT_4XX":
            continue  # keeps API Gateway's status, rendered by VTL (test_hardening.py)
        headers = properties["ResponseParameters"]
        assert headers["gatewayresponse.header.Content-Type"] == f"'{names.PROBLEM_CONTENT_TYPE}'"
        assert headers[f"gatewayresponse.header.{names.REQUEST_ID_HEADER}"] == "context.requestId"
        # API Gateway substitutes these variables; messageString arrives as a quoted JSON string.
        body = properties["ResponseTemplates"]["application/json"]
        body = body.replace("$context.error.messageString", '"Too many requests"').replace(
            "$context.error.responseType", properties["ResponseType"]
        )
        problem = json.loads(body)
        assert problem["status"] == int(properties["StatusCode"])
        assert problem["type"].startswith(names.PROBLEM_TYPE_BASE)
        assert problem["title"] and problem["detail"] == "Too many requests"


def test_outputs(default_stack):
    outputs = default_stack.template["Outputs"]
    assert set(outputs) == {"ApiUrl", "TableName", "PayloadBucketName", "AlarmTopicArn"}
    assert ref(outputs["TableName"]["Value"]) in default_stack.of_type("AWS::DynamoDB::Table")
    assert ref(outputs["PayloadBucketName"]["Value"]) in default_stack.of_type("AWS::S3::Bucket")
    assert ref(outputs["AlarmTopicArn"]["Value"]) in default_stack.of_type("AWS::SNS::Topic")
    (api_id,) = default_stack.of_type("AWS::ApiGateway::RestApi")
    (stage_id,) = default_stack.of_type("AWS::ApiGateway::Stage")
    assert {api_id, stage_id} <= referenced_ids(outputs["ApiUrl"]["Value"])


# --- Functions ------------------------------------------------------------------------------------
def test_every_service_function_exists(default_stack):
    assert set(service_functions(default_stack)) == handlers()
    assert len(handlers()) == len(routes.functions()) + 2  # the stream cascade and the erasure worker


def test_functions_run_python_313_on_arm64_traced_with_two_layers(default_stack):
    layer_ids = set(default_stack.of_type("AWS::Lambda::LayerVersion"))
    for handler, (_, properties) in service_functions(default_stack).items():
        assert properties["Runtime"] == "python3.13", handler
        assert properties["Architectures"] == ["arm64"], handler
        assert properties["MemorySize"] == 512, handler
        assert properties["TracingConfig"] == {"Mode": "Active"}, handler
        assert {ref(layer) for layer in properties["Layers"]} == layer_ids and len(layer_ids) == 2


def test_layers_target_python_313_arm64(default_stack):
    for layer in default_stack.of_type("AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_api_functions_time_out_before_api_gateway_does(default_stack):
    for function_id in api_function_ids(default_stack).values():
        assert default_stack.resources[function_id]["Properties"]["Timeout"] < API_TIMEOUT_LIMIT_SECONDS
    assert default_stack.resources[cascade_id(default_stack)]["Properties"]["Timeout"] <= 900


def test_every_function_has_the_same_environment(default_stack):
    environments = [
        properties["Environment"]["Variables"] for _, properties in service_functions(default_stack).values()
    ]
    assert all(environment == environments[0] for environment in environments)
    environment = environments[0]
    assert set(environment) == {
        names.ENV_TABLE_NAME,
        names.ENV_RETENTION_DAYS,
        names.ENV_MEMORY_RETENTION_DAYS,
        names.ENV_PAYLOAD_BUCKET,
        names.ENV_CURSOR_KEY,
        names.ENV_SERVICE_NAME,
        names.ENV_METRICS_NAMESPACE,
        names.ENV_AUTH_MODE,
    }
    assert environment[names.ENV_AUTH_MODE] == "iam"  # the default: SigV4 at API Gateway
    assert ref(environment[names.ENV_TABLE_NAME]) in default_stack.of_type("AWS::DynamoDB::Table")
    assert ref(environment[names.ENV_PAYLOAD_BUCKET]) in default_stack.of_type("AWS::S3::Bucket")
    assert environment[names.ENV_RETENTION_DAYS] == str(names.DEFAULT_RETENTION_DAYS)
    assert environment[names.ENV_MEMORY_RETENTION_DAYS] == "0"  # memories never expire unless asked
    assert environment[names.ENV_SERVICE_NAME] == names.SERVICE_NAME
    assert environment[names.ENV_METRICS_NAMESPACE] == names.METRICS_NAMESPACE
    # The UUID part of the stack id: per deployment, never shown to clients.
    assert environment[names.ENV_CURSOR_KEY] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


def test_every_log_group_has_a_retention_and_each_function_its_own(default_stack):
    log_groups = default_stack.of_type("AWS::Logs::LogGroup")
    assert log_groups and all(g["Properties"].get("RetentionInDays") == 30 for g in log_groups.values())
    function_log_groups = [
        ref(properties["LoggingConfig"]["LogGroup"]) for _, properties in service_functions(default_stack).values()
    ]
    assert len(set(function_log_groups)) == len(function_log_groups)
    assert set(function_log_groups) <= set(log_groups)


# --- Permissions ----------------------------------------------------------------------------------
# The user routes have their own, narrower grants (tests/infrastructure/test_lifecycle_stack.py).
USER_ROUTE_FUNCTIONS = {routes.ERASE_USER.function, routes.GET_ERASURE.function, routes.EXPORT_USER.function}


@pytest.mark.parametrize("function", sorted(set(routes.functions()) - USER_ROUTE_FUNCTIONS))
def test_api_functions_have_least_privilege(default_stack, function):
    served = routes.functions()[function]
    actions = service_actions(actions_of(role_statements(default_stack, api_function_ids(default_stack)[function])))
    if function == routes.OPENAPI_DOCUMENT.function:
        assert actions == set()
    elif any(route.writes for route in served):
        assert actions == TABLE_READS | TABLE_WRITES | {
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListBucket",
        }
    else:
        assert actions == TABLE_READS | {"s3:GetObject", "s3:ListBucket"}
        assert not actions & TABLE_WRITES


def test_write_actions_apply_to_the_table_only(default_stack):
    (table_id,) = default_stack.of_type("AWS::DynamoDB::Table")
    for function_id in [*api_function_ids(default_stack).values(), cascade_id(default_stack)]:
        for statement in role_statements(default_stack, function_id):
            if actions_of([statement]) & TABLE_WRITES:
                assert statement["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}


def test_cascade_may_only_query_and_delete(default_stack):
    statements = role_statements(default_stack, cascade_id(default_stack))
    assert service_actions(actions_of(statements)) == (
        {"dynamodb:Query", "dynamodb:BatchWriteItem", "s3:DeleteObject"}
        | STREAM_READS
        | {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}  # its on-failure queue
    )
    (table_id,) = default_stack.of_type("AWS::DynamoDB::Table")
    stream_statements = [s for s in statements if actions_of([s]) & STREAM_READS]
    assert [s["Resource"] for s in stream_statements] == [{"Fn::GetAtt": [table_id, "StreamArn"]}]


def test_no_policy_grants_wildcard_actions(default_stack):
    actions = all_policy_actions(default_stack)
    assert "*" not in actions
    assert not [action for action in actions if action.endswith(":*")]


# --- Table ----------------------------------------------------------------------------------------
def test_table_matches_the_domain_design(default_stack):
    default_stack.assertions.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Delete",  # env=dev
            "Properties": Match.object_like(
                {
                    "TableName": Match.absent(),  # named by CloudFormation (test_hardening.py)
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": names.TTL_ATTRIBUTE, "Enabled": True},
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                    "DeletionProtectionEnabled": False,
                }
            ),
        },
    )
    # The same design the tests and the local runtime create their tables from.
    expected = design.create_table_request(names.DEFAULT_TABLE_NAME)
    (table,) = default_stack.of_type("AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["KeySchema"] == expected["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)

    def by_name(indexes):
        return {index["IndexName"]: index for index in indexes}

    assert by_name(properties["GlobalSecondaryIndexes"]) == by_name(expected["GlobalSecondaryIndexes"])
    assert set(by_name(properties["GlobalSecondaryIndexes"])) == {index.name for index in design.GLOBAL_INDEXES}


# --- Bucket ---------------------------------------------------------------------------------------
def test_payload_bucket_is_private_encrypted_and_tls_only(default_stack):
    ((bucket_id, bucket),) = default_stack.of_type("AWS::S3::Bucket").items()
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (policy,) = default_stack.of_type("AWS::S3::BucketPolicy").values()
    assert ref(policy["Properties"]["Bucket"]) == bucket_id
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )
    # env=dev: emptied and deleted with the stack.
    assert bucket["DeletionPolicy"] == "Delete"
    assert default_stack.of_type("Custom::S3AutoDeleteObjects")


# --- Cascade --------------------------------------------------------------------------------------
def test_cascade_reads_the_table_stream(default_stack):
    (mapping,) = [
        m
        for m in default_stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if ref(m["Properties"]["FunctionName"]) == cascade_id(default_stack)
    ]
    properties = mapping["Properties"]
    (table_id,) = default_stack.of_type("AWS::DynamoDB::Table")
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert ref(properties["FunctionName"]) == cascade_id(default_stack)
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert ref(properties["DestinationConfig"]["OnFailure"]["Destination"]) in default_stack.of_type("AWS::SQS::Queue")
    # Filtered to the records the handler acts on (test_hardening.py checks which).
    assert len(properties["FilterCriteria"]["Filters"]) == 3


# --- Monitoring -----------------------------------------------------------------------------------
def alarm_metrics(stack) -> list[tuple[str, str, set[str]]]:
    """(namespace, metric name, referenced ids) of every metric any alarm watches."""
    watched = []
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        for query in alarm["Properties"].get("Metrics", []):
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                watched.append((metric["Namespace"], metric["MetricName"], referenced_ids(metric["Dimensions"])))
    return watched


def test_alarms_cover_api_functions_table_and_cascade(default_stack):
    watched = alarm_metrics(default_stack)
    (table_id,) = default_stack.of_type("AWS::DynamoDB::Table")
    for function_id in [*api_function_ids(default_stack).values(), cascade_id(default_stack)]:
        for metric in ("Errors", "Throttles"):
            assert ("AWS/Lambda", metric, {function_id}) in watched, (function_id, metric)
    assert ("AWS/Lambda", "IteratorAge", {cascade_id(default_stack)}) in watched
    assert any(ns == "AWS/SQS" and name == "ApproximateNumberOfMessagesVisible" for ns, name, _ in watched)
    assert {("AWS/ApiGateway", "5XXError"), ("AWS/ApiGateway", "Latency")} <= {(ns, n) for ns, n, _ in watched}
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors"):
        assert ("AWS/DynamoDB", metric, {table_id}) in watched, metric


def test_api_alarms_watch_this_api_and_stage(default_stack):
    (api,) = default_stack.of_type("AWS::ApiGateway::RestApi").values()
    for alarm in default_stack.of_type("AWS::CloudWatch::Alarm").values():
        for query in alarm["Properties"].get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric.get("Namespace") == "AWS/ApiGateway":
                dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
                assert dimensions == {"ApiName": api["Properties"]["Name"], "Stage": "v1"}


def test_alarms_notify_an_encrypted_topic(default_stack):
    ((topic_id, topic),) = default_stack.of_type("AWS::SNS::Topic").items()
    assert ref(topic["Properties"]["KmsMasterKeyId"]) in default_stack.of_type("AWS::KMS::Key")
    alarms = default_stack.of_type("AWS::CloudWatch::Alarm").values()
    assert alarms and all(a["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
    assert len(default_stack.of_type("AWS::CloudWatch::Dashboard")) == 1
