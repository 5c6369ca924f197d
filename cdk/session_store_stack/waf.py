"""RegionalWebAcl: the optional AWS WAF web ACL in front of the API stage (context waf=true)."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Session bodies are agents' transcripts: code, URLs, file paths and HTML are normal content there,
# so the managed rules that inspect bodies only count; headers, URI and query string stay blocked.
# SizeRestrictions_BODY would block any body over 8 KB, and the API accepts up to 6 MB.
# The size rules of URI path (1,024 bytes) and query string (2,048 bytes) only count too: a valid
# id is up to 256 characters, about 3 KB percent-encoded, a run's path holds two of them, and list
# cursors are signed keys of such ids. The API bounds both itself (ids 1..256, a tamper-evident
# cursor), so these limits would only refuse valid requests.
COUNT_ONLY_COMMON_RULES = (
    "SizeRestrictions_URIPATH",
    "SizeRestrictions_QUERYSTRING",
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
    def __init__(self, scope: Construct, id: str, *, stage: apigateway.Stage, rate_limit: int) -> None:
        """`rate_limit`: requests per client IP per 5-minute window before WAF blocks that IP
        (context waf_rate_limit). A fleet of agents behind one NAT shares one IP: size it for the
        fleet, not for one agent."""
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
        rate_rule = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=1,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=rate_limit, aggregate_key_type="IP"
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[common_rules, rate_rule],
            visibility_config=_visibility("SessionStoreApi"),
        )
        # The stage ARN refers to the stage, so the association is created after it.
        wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
