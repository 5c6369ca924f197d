"""Context settings: defaults, parsing of `-c` strings and cdk.json values, and clear errors."""

from __future__ import annotations

import re

import pytest

from cdk import REPO_ROOT
from cdk.config import ConfigError, StackConfig
from session_store import names

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]


def test_defaults():
    config = StackConfig.from_mapping({})
    assert config.session_table is None  # CloudFormation names the table (docs/deploy.md)
    assert config.monitoring == "full" and config.waf_rate_limit == 3000
    assert config.retention_days == names.DEFAULT_RETENTION_DAYS
    assert (config.env, config.stage, config.auth, config.waf) == ("dev", "v1", "iam", False)
    assert config.kms_key_arn is None and config.log_retention_days == 30


def test_strings_from_the_command_line_and_json_values_parse_alike():
    from_cli = StackConfig.from_mapping({"retention_days": "0", "waf": "true", "log_retention_days": "90"})
    from_json = StackConfig.from_mapping({"retention_days": 0, "waf": True, "log_retention_days": 90})
    assert from_cli == from_json
    assert StackConfig.from_mapping({"kms_key_arn": ""}).kms_key_arn is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"env": "staging"}, "env='staging': must be one of dev, prod"),
        ({"retention_days": "-1"}, "retention_days='-1': must be between 0"),
        ({"retention_days": "thirty"}, "must be an integer"),
        ({"waf": "maybe"}, "must be true or false"),
        ({"auth": "basic"}, "must be one of iam, jwt, none"),
        ({"log_retention_days": "31"}, "log_retention_days='31': must be one of 1, 3, 5"),
        ({"stage": "v 1"}, "an API Gateway stage name"),
        ({"session_table": "a"}, "a DynamoDB table name"),
        ({"kms_key_arn": "alias/mine"}, "a KMS key ARN"),
        ({"env": "prod", "auth": "none"}, "auth=none (no authorization at all) is only allowed with env=dev"),
        (
            {"jwt_user_pool_arn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"},
            "only used with auth=jwt",
        ),
        ({"throttle_rate_limit": "500", "throttle_burst_limit": "100"}, "at least throttle_rate_limit"),
        ({"retention": "30"}, "unknown setting 'retention'"),
    ],
)
def test_invalid_values_are_named_in_the_error(values, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        StackConfig.from_mapping(values)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        StackConfig.from_mapping({"env": "qa", "stage": "", "waf": "2"})
    assert all(key in str(error.value) for key in ("env=", "stage=", "waf="))


def test_auth_none_is_allowed_in_dev():
    assert StackConfig.from_mapping({"auth": "none"}).auth == "none"


def test_from_context_reads_each_setting_and_ignores_absent_ones():
    context = {"env": "prod", "stage": "live"}
    config = StackConfig.from_context(context.get)
    assert (config.env, config.stage, config.retention_days) == ("prod", "live", names.DEFAULT_RETENTION_DAYS)


def test_deploy_docs_list_every_setting():
    documented = (REPO_ROOT / "docs" / "deploy.md").read_text()
    for name in StackConfig.model_fields:
        assert f"`{name}`" in documented, name
