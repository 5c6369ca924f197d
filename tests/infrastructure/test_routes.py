"""routes.ROUTES is the only list of routes: a route added there reaches the stack unaided."""

from __future__ import annotations

import pytest
from session_store import routes

from tests.infrastructure.synth import synthesize
from tests.infrastructure.template_queries import method_routes, referenced_ids, service_functions

pytestmark = [pytest.mark.xdist_group("infra"), pytest.mark.infra]

HEALTH = routes.Route("GET", "/health/{probe}", "health_check", "A route the stack has never seen")


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
