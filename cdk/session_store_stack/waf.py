"""RegionalWebAcl: the optional AWS WAF web ACL in front of the API stage (context waf=true)."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Requests per client IP per 5-minute window before WAF blocks that IP (about 10 per second); far
# above one agent's traffic, low enough to cut off a runaway client before the stage throttle does.
RATE_LIMIT_PER_5_MINUTES = 3000
# Session bodies are agents' transcripts: code, URLs, file paths and HTML are normal content there,
# so the managed rules that inspect bodies only count; headers, URI and query string stay blocked.
# SizeRestrictions_BODY would block any body over 8 KB, and the API accepts up to 6 MB.
COUNT_ONLY_COMMON_RULES = (
    "SizeRestrictions_BODY",
    "CrossSiteScripting_BODY",
    "GenericLFI_BODY",
    "GenericRFI_BODY",
    "EC2MetaDataSSRF_BODY",
)


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class RegionalWebAcl(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: apigateway.Stage) -> None:
        super().__init__(scope, id)
        common_rules = wafv2.CfnWebACL.RuleProperty(
            name="AWSManagedRulesCommonRuleSet",
            priority=0,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS",
                    name="AWSManagedRulesCommonRuleSet",
                    rule_action_overrides=[
                        wafv2.CfnWebACL.RuleActionOverrideProperty(
                            name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                        )
                        for rule in COUNT_ONLY_COMMON_RULES
                    ],
                )
            ),
            visibility_config=_visibility("CommonRules"),
        )
        rate_limit = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=1,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=RATE_LIMIT_PER_5_MINUTES, aggregate_key_type="IP"
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[common_rules, rate_limit],
            visibility_config=_visibility("SessionStoreApi"),
        )
        # The stage ARN refers to the stage, so the association is created after it.
        wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
