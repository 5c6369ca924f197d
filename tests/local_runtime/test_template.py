"""The template walker, the intrinsic resolver, the environment union and the table request, on the
hand-written fixture template (tests/local_runtime/local_fixture), which mirrors what CDK synthesizes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from local_runtime.functions import EnvironmentConflictError, environment_union
from local_runtime.intrinsics import Resolver, UnresolvableError
from local_runtime.stack import TemplateError, build_stack, load_stack
from local_runtime.tables import TableCreationError, table_request_from_template, ttl_attribute

FIXTURE_DIR = Path(__file__).parent / "local_fixture"
TEMPLATE_PATH = FIXTURE_DIR / "SessionStoreFixture.template.json"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def template() -> dict:
    return json.loads(TEMPLATE_PATH.read_text())


def resolver_for(template: dict, **physical) -> Resolver:
    return Resolver(stack_name="Fixture", region="us-east-1", template=template, **physical)


def test_routes_come_from_resources_and_methods(template):
    stack = build_stack(template, FIXTURE_DIR, "Fixture")
    routes = sorted((m.http_method, m.resource_path, m.function_id) for m in stack.api.methods)
    assert routes == [
        ("ANY", "/echo/{proxy+}", "EchoFunction"),
        ("DELETE", "/items/{item_id}", "ItemsFunction"),
        ("GET", "/", "EchoFunction"),
        ("GET", "/echo", "EchoFunction"),
        ("GET", "/items/special", "EchoFunction"),
        ("GET", "/items/{item_id}", "ItemsFunction"),
        ("POST", "/echo", "EchoFunction"),
        ("PUT", "/items/{item_id}", "ItemsFunction"),
        ("PUT", "/items/{item_id}/children/{child_id}", "ItemsFunction"),
    ]


def test_an_added_method_is_served_without_any_other_change(template):
    template["Resources"]["ApiExtra"] = {
        "Type": "AWS::ApiGateway::Resource",
        "Properties": {"ParentId": {"Ref": "ApiItemsItemId"}, "PathPart": "extra", "RestApiId": {"Ref": "Api"}},
    }
    extra_method = copy.deepcopy(template["Resources"]["ApiEchoGET"])
    extra_method["Properties"]["ResourceId"] = {"Ref": "ApiExtra"}
    extra_method["Properties"]["HttpMethod"] = "PATCH"
    template["Resources"]["ApiExtraPATCH"] = extra_method
    stack = build_stack(template, FIXTURE_DIR, "Fixture")
    assert ("PATCH", "/items/{item_id}/extra", "EchoFunction") in {
        (m.http_method, m.resource_path, m.function_id) for m in stack.api.methods
    }


def test_only_functions_behind_the_api_or_a_stream_are_loaded(template):
    stack = build_stack(template, FIXTURE_DIR, "Fixture")
    # The cascade is found through the mapping's alias; the Node.js custom resource is not served.
    assert set(stack.functions) == {"EchoFunction", "ItemsFunction", "CascadeFunction"}
    echo = stack.functions["EchoFunction"]
    assert echo.handler == "fake_handlers.echo.lambda_handler"
    assert (echo.module_name, echo.attribute_name) == ("fake_handlers.echo", "lambda_handler")
    assert echo.code_dir == (FIXTURE_DIR / "functions").resolve()
    assert echo.layer_dirs == (
        (REPO_ROOT / "layers" / "session_store").resolve(),
        (FIXTURE_DIR / "native_layer").resolve(),
    )
    assert (echo.timeout_seconds, echo.memory_mb) == (10, 512)
    assert stack.functions["CascadeFunction"].timeout_seconds == 30


def test_stage_gateway_responses_tables_buckets_and_mappings(template):
    stack = build_stack(template, FIXTURE_DIR, "Fixture")
    assert stack.api.stage == "v1"
    assert stack.api.minimum_compression_size == 1024
    assert set(stack.api.gateway_responses) == {"RESOURCE_NOT_FOUND", "DEFAULT_5XX"}
    assert stack.api.gateway_responses["DEFAULT_5XX"].status_code == 500
    assert list(stack.tables) == ["Table"] and list(stack.buckets) == ["Bucket"]
    (mapping,) = stack.stream_mappings
    assert (mapping.function_id, mapping.table_id) == ("CascadeFunction", "Table")


def test_load_stack_names_the_stack_after_the_template_file():
    assert load_stack(TEMPLATE_PATH).name == "SessionStoreFixture"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["ApiItems"]["Properties"].update(ParentId={"Ref": "Nowhere"}), "unknown ParentId"),
        (lambda r: r["ApiEchoGET"]["Properties"]["Integration"].update(Type="HTTP_PROXY"), "not supported"),
        (lambda r: r["EchoFunction"].pop("Metadata"), "aws:asset:path"),
        (lambda r: r["EchoFunction"]["Properties"].update(Handler="nodots"), "module.attribute"),
        (lambda r: r.update(SecondApi=dict(r["Api"])), "exactly one"),
    ],
)
def test_templates_the_runtime_cannot_serve_are_refused(template, mutate, message):
    mutate(template["Resources"])
    with pytest.raises(TemplateError, match=message):
        build_stack(template, FIXTURE_DIR, "Fixture")


def test_intrinsics_resolve_to_local_physical_values(template):
    resolver = resolver_for(
        template,
        refs={"Table": "fixture_sessions", "Bucket": "fixture-bucket"},
        attributes={("Table", "Arn"): "arn:aws:dynamodb:ddblocal:000000000000:table/fixture_sessions"},
    )
    variables = resolver.resolve(template["Resources"]["EchoFunction"]["Properties"]["Environment"]["Variables"])
    assert variables == {
        "SESSION_TABLE_NAME": "fixture_sessions",
        "PAYLOAD_BUCKET_NAME": "fixture-bucket",
        "TABLE_ARN": "arn:aws:dynamodb:ddblocal:000000000000:table/fixture_sessions",
        # Fn::Select of the stack id: deterministic, so restarts keep e.g. signed cursors valid.
        "CURSOR_SIGNING_KEY": "local-00000000-0000-4000-8000-000000000000",
        "POWERTOOLS_SERVICE_NAME": "session-store",
        "RETENTION_DAYS": "30",
    }
    uri = resolver.resolve(template["Resources"]["ApiEchoGET"]["Properties"]["Integration"]["Uri"])
    assert uri == ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/local-EchoFunction-Arn/invocations")


def test_sub_and_novalue(template):
    resolver = resolver_for(template, refs={"Table": "t"}, attributes={("Table", "Arn"): "arn:t"})
    assert (
        resolver.resolve({"Fn::Sub": "${Table}/${Table.Arn}/${AWS::Region}/${!Literal}"})
        == "t/arn:t/us-east-1/${Literal}"
    )
    assert resolver.resolve({"Fn::Sub": ["${X}-${AWS::AccountId}", {"X": {"Ref": "Table"}}]}) == "t-123456789012"
    assert resolver.resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}) == {"B": 1}
    assert resolver.resolve(["a", {"Ref": "AWS::NoValue"}]) == ["a"]
    assert resolver.resolve({"Ref": "BootstrapVersion"}) == "/cdk-bootstrap/hnb659fds/version"
    # Intrinsics the stack never emits are refused, not guessed at.
    for unused in ({"Fn::Transform": {}}, {"Fn::If": ["IsProd", "p", "d"]}, {"Fn::ImportValue": "x"}):
        with pytest.raises(UnresolvableError):
            resolver.resolve(unused)


def test_environment_union_of_agreeing_functions(template):
    stack = build_stack(template, FIXTURE_DIR, "Fixture")
    union = environment_union(stack.functions, resolver_for(template, refs={"Table": "t", "Bucket": "b"}))
    assert union["SESSION_TABLE_NAME"] == "t"
    # The unserved custom resource sets POWERTOOLS_SERVICE_NAME differently; it takes no part.
    assert union["POWERTOOLS_SERVICE_NAME"] == "session-store"


def test_environment_union_refuses_a_disagreement(template):
    variables = template["Resources"]["ItemsFunction"]["Properties"]["Environment"]["Variables"]
    template["Resources"]["ItemsFunction"]["Properties"]["Environment"]["Variables"] = {
        **variables,
        "RETENTION_DAYS": "7",
    }
    stack = build_stack(template, FIXTURE_DIR, "Fixture")
    with pytest.raises(EnvironmentConflictError, match=r"RETENTION_DAYS.*'30' vs '7'"):
        environment_union(stack.functions, resolver_for(template))


def test_table_request_keeps_the_design_and_drops_deploy_only_settings(template):
    properties = template["Resources"]["Table"]["Properties"]
    request = table_request_from_template(properties, "fixture_sessions")
    assert request["TableName"] == "fixture_sessions"
    assert request["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in request
    assert request["KeySchema"] == properties["KeySchema"]
    assert request["AttributeDefinitions"] == properties["AttributeDefinitions"]
    (index,) = request["GlobalSecondaryIndexes"]
    assert set(index) == {"IndexName", "KeySchema", "Projection"}  # no ContributorInsightsSpecification
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert ttl_attribute(properties) == "expires_at"
    assert ttl_attribute({"TimeToLiveSpecification": {"AttributeName": "x", "Enabled": False}}) is None


@pytest.mark.parametrize("extra", [{}, {"BillingMode": "PROVISIONED"}, {"LocalSecondaryIndexes": [{"IndexName": "l"}]}])
def test_tables_other_than_the_stacks_kind_are_refused(extra):
    # The stack's table is on-demand with global indexes only; the runtime serves no other kind.
    properties = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        **({"BillingMode": "PAY_PER_REQUEST"} if extra.get("LocalSecondaryIndexes") else {}),
        **extra,
    }
    with pytest.raises(TableCreationError, match="only on-demand tables"):
        table_request_from_template(properties, "t")
