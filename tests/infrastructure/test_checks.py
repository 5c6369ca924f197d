"""The synthesized templates pass cfn-lint, and cdk-nag fails a synth on any unacknowledged finding.

The synths behind the stack fixtures ran the nag packs and succeeded; the tests here show that the
same wiring (cdk.app.add_nag_checks) does fail on a finding, and passes once it is acknowledged
the way the stack's constructs acknowledge theirs.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from cfnlint.api import ManualArgs, lint

from cdk.app import add_nag_checks
from cdk.session_store_stack.nag import acknowledge

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]

# W3005: CDK gives each function an explicit DependsOn on its role although the function's Role
# property already references it. Redundant, harmless, and not something the stack controls.
CFN_LINT_IGNORED = ["W3005"]
CFN_LINT_REGIONS = ["us-east-1", "eu-west-1"]


@pytest.mark.parametrize("stack_fixture", ["default_stack", "prod_stack"])
def test_templates_pass_cfn_lint(request, stack_fixture):
    stack = request.getfixturevalue(stack_fixture)
    matches = lint(
        json.dumps(stack.template),
        config=ManualArgs(regions=CFN_LINT_REGIONS, ignore_checks=CFN_LINT_IGNORED),
    )
    assert [str(match) for match in matches] == []


def noncompliant_app(outdir, acknowledged: bool) -> App:
    """A bucket without TLS enforcement or access logs and a function with a default timeout."""
    app = App(outdir=str(outdir))
    stack = Stack(app, "Noncompliant")
    bucket = s3.Bucket(stack, "Bucket")
    fn = lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): return None"),
        memory_size=256,
        tracing=lambda_.Tracing.ACTIVE,
    )
    if acknowledged:
        reason = "test: acknowledged on purpose"
        acknowledge(bucket, ("AwsSolutions-S1", reason), ("AwsSolutions-S10", reason))
        acknowledge(
            fn,
            ("AwsSolutions-L1", reason),
            (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason,
            ),
            ("AwsSolutions-IAM5[Resource::*]", reason),
            ("Serverless-LambdaDefaultTimeout", reason),
            ("Serverless-LambdaDLQ", reason),
            ("Serverless-LambdaLatestVersion", reason),
        )
    add_nag_checks(app)
    return app


def test_an_unacknowledged_finding_fails_synthesis(tmp_path):
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        noncompliant_app(tmp_path, acknowledged=False).synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {
        violation["ruleName"]: plugin["pluginName"]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    }
    # Both packs ran: the AWS Solutions pack and the Serverless pack.
    assert rules["AwsSolutions-S1"] == "AwsSolutions"
    assert rules["AwsSolutions-S10"] == "AwsSolutions"
    assert rules["Serverless-LambdaDefaultTimeout"] == "Serverless"


def test_acknowledged_findings_let_synthesis_pass(tmp_path):
    noncompliant_app(tmp_path, acknowledged=True).synth()
