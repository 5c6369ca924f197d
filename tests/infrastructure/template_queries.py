"""Questions the infrastructure tests ask of a synthesized template (plain dicts, no CDK)."""

from __future__ import annotations

from typing import Any

from session_store import routes
from tests.infrastructure.synth import Synthesized

API_TIMEOUT_LIMIT_SECONDS = 29  # API Gateway's integration timeout


def ref(value: Any) -> str | None:
    """The logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def referenced_ids(value: Any) -> set[str]:
    """Every logical id referenced anywhere inside a value."""
    found: set[str] = set()
    if isinstance(value, dict):
        target = ref(value)
        if target is not None:
            found.add(target)
        for item in value.values():
            found |= referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    return found


def handlers() -> set[str]:
    """Every service function's handler, read from routes at call time (tests may add a route)."""
    return {route.handler for route in routes.ROUTES} | {routes.CASCADE_HANDLER, routes.ERASURE_HANDLER}


def service_functions(stack: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    """The service's own functions by handler (CDK's helper functions are not among them)."""
    found = {}
    expected = handlers()
    for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
        handler = resource["Properties"].get("Handler")
        if handler in expected:
            found[handler] = (logical_id, resource["Properties"])
    return found


def api_function_ids(stack: Synthesized) -> dict[str, str]:
    """API function name -> logical id."""
    functions = service_functions(stack)
    return {name: functions[served[0].handler][0] for name, served in routes.functions().items()}


def cascade_id(stack: Synthesized) -> str:
    return service_functions(stack)[routes.CASCADE_HANDLER][0]


def method_routes(stack: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, path) -> the method's properties, the path rebuilt from the resource tree."""
    resources = stack.of_type("AWS::ApiGateway::Resource")

    def path_of(resource_id: str | None) -> str:
        if resource_id not in resources:  # the API's root resource
            return ""
        properties = resources[resource_id]["Properties"]
        return f"{path_of(ref(properties['ParentId']))}/{properties['PathPart']}"

    return {
        (method["Properties"]["HttpMethod"], path_of(ref(method["Properties"]["ResourceId"])) or "/"): method[
            "Properties"
        ]
        for method in stack.of_type("AWS::ApiGateway::Method").values()
    }


def erasure_worker_id(stack: Synthesized) -> str:
    return service_functions(stack)[routes.ERASURE_HANDLER][0]


def role_statements(stack: Synthesized, function_id: str) -> list[dict[str, Any]]:
    """Every IAM statement granted to a function's role (its inline and attached policies)."""
    role_id = ref(stack.resources[function_id]["Properties"]["Role"])
    statements = []
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if role_id in {ref(role) for role in policy["Properties"]["Roles"]}:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    for policy in stack.resources[role_id]["Properties"].get("Policies", []):
        statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        actions |= {action} if isinstance(action, str) else set(action)
    return actions


def all_policy_actions(stack: Synthesized) -> set[str]:
    actions: set[str] = set()
    for policy in stack.of_type("AWS::IAM::Policy").values():
        actions |= actions_of(policy["Properties"]["PolicyDocument"]["Statement"])
    for role in stack.of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            actions |= actions_of(policy["PolicyDocument"]["Statement"])
    return actions
