"""What a real AWS account does to the template (issue 14): checked on the synthesized JSON."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from cdk import REPO_ROOT
from cdk.config import ENVIRONMENTS_KEY, StackConfig
from cdk.session_store_stack.monitoring import TABLE_OPERATIONS
from session_store import names
from tests.infrastructure.template_queries import actions_of, api_function_ids, cascade_id, role_statements

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]

STATEFUL_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::Cognito::UserPool",
)


def alarm_metric_count(stack) -> int:
    """CloudWatch bills each metric an alarm evaluates: 1 for a plain alarm, one per metric of a
    metric-math alarm."""
    count = 0
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        count += 1 if "MetricName" in properties else sum("MetricStat" in m for m in properties["Metrics"])
    return count


# --- 1. Alarms reach their subscribers ---------------------------------------------------------


def test_cloudwatch_may_publish_to_the_alarm_topic_for_this_stacks_alarms_only(default_stack):
    (policy,) = default_stack.of_type("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in source_arn and f":alarm:{default_stack.stack_name}-*" in source_arn
    # Every alarm's name falls under that pattern, and notifies the topic.
    (topic_id,) = default_stack.of_type("AWS::SNS::Topic")
    for alarm in default_stack.of_type("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmName"].startswith(f"{default_stack.stack_name}-")
        assert {"Ref": topic_id} in alarm["Properties"]["AlarmActions"]


def test_the_topic_key_lets_cloudwatch_in_from_this_account_only(default_stack):
    (key,) = default_stack.of_type("AWS::KMS::Key").values()
    (statement,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_system_errors_alarm_covers_every_write_transaction(default_stack):
    (alarm,) = [
        a
        for a in default_stack.of_type("AWS::CloudWatch::Alarm").values()
        if "System-Errors" in a["Properties"]["AlarmName"]
    ]
    operations = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
        if m["MetricStat"]["Metric"]["Dimensions"][0]["Name"] == "Operation"
        else m["MetricStat"]["Metric"]["Dimensions"][1]["Value"]
        for m in alarm["Properties"]["Metrics"]
        if "MetricStat" in m
    }
    assert "TransactWriteItems" in operations and operations == set(TABLE_OPERATIONS)


def test_deploy_docs_say_how_to_fire_a_test_alarm():
    assert "aws cloudwatch set-alarm-state" in (REPO_ROOT / "docs" / "deploy.md").read_text()


# --- 2. No name collisions ---------------------------------------------------------------------


def test_the_table_name_is_generated_unless_set(default_stack):
    (table,) = default_stack.of_type("AWS::DynamoDB::Table").values()
    assert "TableName" not in table["Properties"]
    assert StackConfig.from_mapping({"session_table": "mine"}).session_table == "mine"


def test_no_other_fixed_physical_names(default_stack):
    """Names CloudFormation would not generate are either derived from the stack (its name is
    per environment) or from a generated id (API Gateway's execution log group)."""
    for logical_id, resource in default_stack.resources.items():
        properties = resource.get("Properties", {})
        for key in (
            "TableName",
            "BucketName",
            "TopicName",
            "QueueName",
            "FunctionName",
            "RoleName",
            "KeyAlias",
            "UserPoolName",
        ):
            assert not isinstance(properties.get(key), str), (logical_id, key)
        for key in ("AlarmName", "DashboardName"):
            if key in properties:
                assert properties[key].startswith(default_stack.stack_name), (logical_id, properties[key])


# --- 3. Environments cannot be switched by accident ---------------------------------------------


def test_each_environment_is_its_own_stack(default_stack, prod_stack):
    assert default_stack.stack_name == "SessionStore-dev"
    assert prod_stack.stack_name == "SessionStore-prod"


def test_prod_protects_every_stateful_resource(prod_stack):
    assert prod_stack.termination_protection
    stateful = {lid: r for lid, r in prod_stack.resources.items() if r["Type"] in STATEFUL_TYPES}
    assert {r["Type"] for r in stateful.values()} >= {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key"}
    for logical_id, resource in stateful.items():
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id
    for table in prod_stack.of_type("AWS::DynamoDB::Table").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    for pool in prod_stack.of_type("AWS::Cognito::UserPool").values():
        assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert not prod_stack.of_type("Custom::S3AutoDeleteObjects")


def test_dev_stacks_take_everything_with_them(default_stack, lean_jwt_stack):
    assert not default_stack.termination_protection
    for stack in (default_stack, lean_jwt_stack):
        for logical_id, resource in stack.resources.items():
            if resource["Type"] in STATEFUL_TYPES:
                assert resource.get("DeletionPolicy") == "Delete", logical_id
    assert lean_jwt_stack.of_type("AWS::Cognito::UserPool")


def test_cdk_json_holds_valid_settings_per_environment():
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    environments = context[ENVIRONMENTS_KEY]
    assert set(environments) == {"dev", "prod"}
    for env, settings in environments.items():
        config = StackConfig.from_context({"env": env, ENVIRONMENTS_KEY: environments}.get)
        assert config.env == env
        expected = StackConfig.from_mapping(settings)
        assert all(getattr(config, key) == getattr(expected, key) for key in settings), (env, settings)


def test_a_setting_given_alone_overrides_the_environments_block():
    environments = {"prod": {"retention_days": 90}}
    get = {"env": "prod", ENVIRONMENTS_KEY: environments, "retention_days": "7"}.get
    assert StackConfig.from_context(get).retention_days == 7
    get = {"env": "prod", ENVIRONMENTS_KEY: environments}.get
    assert StackConfig.from_context(get).retention_days == 90


def test_make_deploy_refuses_to_run_without_env():
    result = subprocess.run(
        ["make", "--no-print-directory", "deploy", "ENV="], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "make deploy needs ENV=dev or ENV=prod" in result.stderr


# --- 4. JWT mode ----------------------------------------------------------------------------------


def test_jwt_mode_creates_an_app_client_and_outputs_both_ids(lean_jwt_stack):
    (pool_id,) = lean_jwt_stack.of_type("AWS::Cognito::UserPool")
    (client,) = lean_jwt_stack.of_type("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["UserPoolId"] == {"Ref": pool_id}
    assert client["Properties"]["GenerateSecret"] is False
    outputs = lean_jwt_stack.template["Outputs"]
    assert outputs["UserPoolId"]["Value"] == {"Ref": pool_id}
    assert "UserPoolClientId" in outputs


# --- 5. A 503 stays a 503 -------------------------------------------------------------------------


@pytest.mark.parametrize("function", ["get_session", "put_session", "get_run", "list_runs"])
def test_functions_reading_payloads_may_list_the_bucket(default_stack, function):
    statements = role_statements(default_stack, api_function_ids(default_stack)[function])
    (listing,) = [s for s in statements if "s3:ListBucket" in actions_of([s])]
    (bucket_id,) = default_stack.of_type("AWS::S3::Bucket")
    assert listing["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}


# --- 6. Limits as AWS applies them ---------------------------------------------------------------


def test_default_4xx_keeps_the_lambda_invoke_413(default_stack):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in default_stack.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    default_4xx = responses["DEFAULT_4XX"]
    assert "StatusCode" not in default_4xx
    template = default_4xx["ResponseTemplates"]["application/json"]
    assert f'$context.error.message == "{names.GATEWAY_LAMBDA_TOO_LARGE_MESSAGE}"' in template
    assert '"status": 413' in template and f"{names.PROBLEM_TYPE_BASE}payload-too-large" in template


def test_waf_lets_long_ids_and_cursors_through_and_takes_the_rate_from_context(prod_stack):
    (acl,) = prod_stack.of_type("AWS::WAFv2::WebACL").values()
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    managed = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    counted = {o["Name"] for o in managed["RuleActionOverrides"] if o["ActionToUse"] == {"Count": {}}}
    assert {"SizeRestrictions_URIPATH", "SizeRestrictions_QUERYSTRING", "SizeRestrictions_BODY"} <= counted
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]["Limit"] == 20000


# --- 8. Least privilege and cost -----------------------------------------------------------------


def test_the_cascade_never_deletes_single_items(default_stack):
    actions = actions_of(role_statements(default_stack, cascade_id(default_stack)))
    assert "dynamodb:DeleteItem" not in actions and "dynamodb:BatchWriteItem" in actions


def test_the_cascade_is_invoked_only_for_records_it_acts_on(default_stack):
    from local_runtime.filters import compile_criteria
    from tests.infrastructure.template_queries import cascade_id, ref

    (mapping,) = [
        m
        for m in default_stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if ref(m["Properties"]["FunctionName"]) == cascade_id(default_stack)
    ]
    matches = compile_criteria(mapping["Properties"]["FilterCriteria"])
    session = {"entity": {"S": "session"}, "incarnation": {"S": "a"}}
    run = {"entity": {"S": "run"}}
    offloaded = {**run, "payload_s3_key": {"S": "runs/x"}}
    replaced = {**session, "incarnation": {"S": "b"}, "replaced_incarnation": {"S": "a"}}

    def record(event, old=None, new=None):
        return {"eventName": event, "dynamodb": {k: v for k, v in (("OldImage", old), ("NewImage", new)) if v}}

    assert matches(record("REMOVE", old=session))
    assert matches(record("MODIFY", old=session, new=replaced))
    assert matches(record("REMOVE", old=offloaded)) and matches(record("MODIFY", old=offloaded, new=run))
    assert not matches(record("MODIFY", old=session, new={**session, "version": {"N": "2"}}))  # a turn
    assert not matches(record("INSERT", new=run)) and not matches(record("REMOVE", old=run))


def test_deploy_docs_count_the_alarm_metrics_of_each_profile(default_stack, lean_jwt_stack):
    documented = (REPO_ROOT / "docs" / "deploy.md").read_text()
    full, lean = alarm_metric_count(default_stack), alarm_metric_count(lean_jwt_stack)
    assert re.search(rf"\b{full} alarm metrics\b", documented), full
    assert re.search(rf"\b{lean} alarm metrics\b", documented), lean
    assert default_stack.of_type("AWS::CloudWatch::Dashboard") and not lean_jwt_stack.of_type(
        "AWS::CloudWatch::Dashboard"
    )
    assert lean <= 10  # CloudWatch's free tier
