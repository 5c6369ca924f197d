"""The stack's optional paths, all in one prod configuration (see synth.PROD_CONTEXT): deletion
protection, a customer-managed key, WAF, Cognito authorization, no expiry, reserved concurrency."""

from __future__ import annotations

import pytest

from session_store import names, routes
from tests.infrastructure.synth import PROD_CONTEXT
from tests.infrastructure.template_queries import (
    actions_of,
    api_function_ids,
    cascade_id,
    method_routes,
    ref,
    role_statements,
    service_functions,
)

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]

KEY_ARN = PROD_CONTEXT["kms_key_arn"]


def test_table_is_protected_and_encrypted_with_the_given_key(prod_stack):
    (table,) = prod_stack.of_type("AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["Properties"]["SSESpecification"] == {"KMSMasterKeyId": KEY_ARN, "SSEEnabled": True, "SSEType": "KMS"}


def test_bucket_is_kept_and_encrypted_with_the_given_key(prod_stack):
    (bucket,) = prod_stack.of_type("AWS::S3::Bucket").values()
    assert bucket["DeletionPolicy"] == "Retain"
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"KMSMasterKeyID": KEY_ARN, "SSEAlgorithm": "aws:kms"}
    assert rule["BucketKeyEnabled"] is True
    assert not prod_stack.of_type("Custom::S3AutoDeleteObjects")


@pytest.mark.parametrize("function", sorted(routes.functions()))
def test_key_grants_follow_each_functions_access(prod_stack, function):
    statements = role_statements(prod_stack, api_function_ids(prod_stack)[function])
    key_statements = [s for s in statements if any(a.startswith("kms:") for a in actions_of([s]))]
    served = routes.functions()[function]
    if function == routes.OPENAPI_DOCUMENT.function:
        assert key_statements == []
        return
    (statement,) = key_statements
    assert statement["Resource"] == KEY_ARN
    if function == routes.EXPORT_USER.function:  # encrypts the export file it stages in the bucket
        expected = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
    else:
        expected = (
            {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} if any(r.writes for r in served) else {"kms:Decrypt"}
        )
    assert actions_of([statement]) == expected


def test_every_method_uses_the_cognito_authorizer(prod_stack):
    ((authorizer_id, authorizer),) = prod_stack.of_type("AWS::ApiGateway::Authorizer").items()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    methods = method_routes(prod_stack)
    assert len(methods) == len(routes.ROUTES)
    for properties in methods.values():
        assert properties["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert ref(properties["AuthorizerId"]) == authorizer_id


def test_waf_protects_the_stage(prod_stack):
    ((acl_id, acl),) = prod_stack.of_type("AWS::WAFv2::WebACL").items()
    assert acl["Properties"]["Scope"] == "REGIONAL"
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    managed = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    # The body size rule would block every session over 8 KB.
    assert "SizeRestrictions_BODY" in {o["Name"] for o in managed["RuleActionOverrides"]}
    (association,) = prod_stack.of_type("AWS::WAFv2::WebACLAssociation").values()
    (stage_id,) = prod_stack.of_type("AWS::ApiGateway::Stage")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert {"Ref": stage_id} in association["Properties"]["ResourceArn"]["Fn::Join"][1]


def test_settings_reach_the_stack(prod_stack):
    for _, properties in service_functions(prod_stack).values():
        assert properties["Environment"]["Variables"][names.ENV_RETENTION_DAYS] == "0"
        # With a Cognito authorizer the functions take the user from the token (session_store/auth.py).
        assert properties["Environment"]["Variables"][names.ENV_AUTH_MODE] == "jwt"
    (stage,) = prod_stack.of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "prod"
    assert {g["Properties"]["RetentionInDays"] for g in prod_stack.of_type("AWS::Logs::LogGroup").values()} == {90}


def test_reserved_concurrency_applies_to_api_functions(prod_stack):
    for function_id in api_function_ids(prod_stack).values():
        assert prod_stack.resources[function_id]["Properties"]["ReservedConcurrentExecutions"] == 5
    # The cascade is bounded by the stream's shards instead.
    assert "ReservedConcurrentExecutions" not in prod_stack.resources[cascade_id(prod_stack)]["Properties"]
