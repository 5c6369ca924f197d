"""The private Powertools APIs wrapped by session_store.powertools_compat still behave as it assumes:
these fail when an upgrade renames or changes them."""

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.tracing.tracer import Tracer

from session_store import powertools_compat


def test_the_route_keys_hook_is_powertools_own():
    # Overriding a method Powertools no longer has would silently stop decoding path parameters.
    assert callable(getattr(ApiGatewayResolver, "_convert_matches_into_route_keys", None))


def test_path_parameters_reach_the_handler_decoded():
    class Resolver(powertools_compat.DecodedPathParameters, APIGatewayRestResolver):
        pass

    app = Resolver()

    @app.get("/items/<item_id>")
    def get_item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    event = {
        "httpMethod": "GET",
        "path": "/items/a%23b%2Fc%20d",
        "resource": "/items/{item_id}",
        "headers": {},
        "requestContext": {"requestId": "r"},
        "body": None,
    }
    response = app.resolve(event, None)
    assert response["statusCode"] == 200
    assert response["body"] == '{"item_id":"a#b/c d"}'


@pytest.mark.parametrize(
    ("environment", "disabled"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, True),
        ({}, True),
    ],
)
def test_tracing_follows_powertools_rule(monkeypatch, environment, disabled):
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert isinstance(Tracer.__dict__["_is_tracer_disabled"], staticmethod)
    assert powertools_compat.tracing_disabled() is disabled


def test_a_resolver_lists_its_routes_and_names_the_one_it_matched():
    app = APIGatewayRestResolver()
    matched = []

    def remember_route(app, next_middleware):
        matched.append(powertools_compat.matched_route(app))
        return next_middleware(app)

    app.use([remember_route])

    @app.get("/items")
    def list_items() -> dict[str, str]:
        return {}

    @app.get("/items/<item_id>")
    def get_item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    routes = powertools_compat.registered_routes(app)
    assert sorted((route.method, route.openapi_path) for route in routes) == [
        ("GET", "/items"),
        ("GET", "/items/{item_id}"),
    ]
    event = {"httpMethod": "GET", "path": "/items/a", "headers": {}, "requestContext": {"requestId": "r"}}
    assert app.resolve(event, None)["statusCode"] == 200
    assert [route.openapi_path for route in matched] == ["/items/{item_id}"]
    # What http/queries.py reads from a route: its handler's query parameters, as Powertools typed them.
    assert all(hasattr(route.dependant, "query_params") for route in routes)
