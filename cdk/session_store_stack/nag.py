"""Acknowledging cdk-nag findings (cdk-nag v3 reads CDK's native `Validations` acknowledgments).

An acknowledgment applies to the construct it is made on and everything below it, so each call site
passes the narrowest construct that carries the finding, and a reason specific to that finding.
A finding with a qualifier (e.g. `AwsSolutions-IAM5[Resource::*]`) must be acknowledged with it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge (rule id, reason) pairs on `construct` and its children."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in findings))
