"""Synthesize the CDK app into a temporary cloud assembly and read its template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from cdk import layers
from cdk.app import build_app

# The optional paths of the stack in one configuration: prod protections, a customer-managed key,
# WAF, Cognito (JWT) authorization, no expiry, a non-default stage and reserved concurrency.
PROD_CONTEXT = {
    "env": "prod",
    "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "waf": "true",
    "auth": "jwt",
    "retention_days": "0",
    "stage": "prod",
    "log_retention_days": "90",
    "reserved_concurrency": "5",
    "waf_rate_limit": "20000",
}
# A dev stack in JWT mode (a created user pool) with the lean monitoring profile.
LEAN_JWT_CONTEXT = {"monitoring": "lean", "auth": "jwt"}


@dataclass
class Synthesized:
    outdir: Path
    stack_name: str
    template: dict[str, Any]
    termination_protection: bool = False

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}


def synthesize(outdir: Path, context: dict[str, str]) -> Synthesized:
    if not (layers.DEPENDENCIES_LAYER_DIR / "python").is_dir():
        layers.build()  # `make test` builds it first; a bare pytest run builds it here
    # The CDK CLI turns asset metadata on; an App built in-process needs it asked for.
    app, stack = build_app({**context, "aws:cdk:enable-asset-metadata": True}, outdir=str(outdir))
    # app.synth() runs the validation plugins (cdk-nag) and raises on any unacknowledged finding.
    # The template is read from the assembly rather than Template.from_stack, which would
    # synthesize a second time.
    assembly = app.synth()
    template = json.loads(Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text())
    manifest = json.loads((Path(outdir) / "manifest.json").read_text())
    properties = manifest["artifacts"][stack.artifact_id]["properties"]
    return Synthesized(
        outdir=outdir,
        stack_name=stack.stack_name,
        template=template,
        termination_protection=bool(properties.get("terminationProtection")),
    )
