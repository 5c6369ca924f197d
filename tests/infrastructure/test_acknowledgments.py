"""Every cdk-nag acknowledgment in the stack matches a real finding, and every finding has one.

The stack is synthesized with acknowledgments recorded instead of applied, so nag reports every
finding; the two sets must then cover each other exactly. A stale acknowledgment (its finding
was fixed, or it never applied) fails here, as does a new unacknowledged finding.
"""

from __future__ import annotations

import json

import pytest

from cdk.session_store_stack import nag
from tests.infrastructure.synth import PROD_CONTEXT, synthesize

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]


class RecordedValidations:
    """Stands in for aws_cdk.Validations in cdk.session_store_stack.nag."""

    acknowledged: list[tuple[str, str]] = []

    def __init__(self, construct):
        self._path = construct.node.path

    @classmethod
    def of(cls, construct):
        return cls(construct)

    def acknowledge(self, *acknowledgments):
        for acknowledgment in acknowledgments:
            assert len(acknowledgment.reason) > 40, f"give {acknowledgment.id} a specific reason"
            self.acknowledged.append((self._path, acknowledgment.id))


def covers(acknowledged_path: str, finding_path: str) -> bool:
    return finding_path == acknowledged_path or finding_path.startswith(acknowledged_path + "/")


# The third configuration is the dev-only auth=none mode, which no other test synthesizes.
@pytest.mark.parametrize("context", [{}, PROD_CONTEXT, {"auth": "none"}], ids=["default", "prod", "auth-none"])
def test_acknowledgments_and_findings_match_exactly(tmp_path, monkeypatch, context):
    monkeypatch.setattr(nag, "Validations", RecordedValidations)
    monkeypatch.setattr(RecordedValidations, "acknowledged", [])
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize(tmp_path, context)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = [
        (resource["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingConstructs"]
    ]
    acknowledged = RecordedValidations.acknowledged
    unacknowledged = [
        (path, rule) for path, rule in findings if not any(r == rule and covers(p, path) for p, r in acknowledged)
    ]
    stale = [(path, rule) for path, rule in acknowledged if not any(r == rule and covers(path, p) for p, r in findings)]
    assert unacknowledged == []
    assert stale == []
