"""routes.ROUTES is the only list of routes: a route added there reaches the stack unaided."""

from __future__ import annotations

import pytest

from session_store import routes
from tests.infrastructure.synth import synthesize
from tests.infrastructure.template_queries import (
    actions_of,
    method_routes,
    referenced_ids,
    role_statements,
    service_functions,
)

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]

HEALTH = routes.Route("GET", "/health/{probe}", "health_check", "A route the stack has never seen")
# What a function serving only reads may do, spelled here rather than read from the stack's code.
READ_ONLY_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "s3:GetObject",
    "s3:ListBucket",
}
WRITE_ACTION_VERBS = ("Put", "Update", "Delete", "BatchWrite", "Write")


def test_a_new_route_gets_its_method_and_read_only_function(tmp_path, monkeypatch):
    monkeypatch.setattr(routes, "ROUTES", (*routes.ROUTES, HEALTH))
    stack = synthesize(tmp_path, {})  # cdk-nag included: the new function needs no new acknowledgment
    functions = service_functions(stack)
    function_id, properties = functions[HEALTH.handler]
    method = method_routes(stack)[(HEALTH.method, HEALTH.path)]
    assert method["AuthorizationType"] == "AWS_IAM"
    assert method["RequestParameters"] == {"method.request.path.probe": True}
    assert function_id in referenced_ids(method["Integration"]["Uri"])
    assert properties["Runtime"] == "python3.13" and properties["Architectures"] == ["arm64"]
    # Its role reads and never writes: no table or bucket write of any kind.
    granted = {a for a in actions_of(role_statements(stack, function_id)) if not a.startswith(("logs:", "xray:"))}
    assert granted == READ_ONLY_ACTIONS
    assert not [a for a in granted if a.split(":")[1].startswith(WRITE_ACTION_VERBS)]
