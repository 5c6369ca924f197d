"""The OpenAPI document and Swagger UI name the server the API is served at (the stage's path on API
Gateway, `/` locally), group the operations by tag, and document every problem type, all relative."""

from __future__ import annotations

import importlib
import json
import re

import pytest

from local_runtime.apigateway import IncomingRequest, build_event
from session_store import http, memory_models, models, names, routes
from tests.support.api import _ROUTER, FakeContext, call


def _get(path: str, requested_path: str) -> dict:
    """GET `path` as API Gateway delivers it when the client asked for `requested_path`."""
    match = _ROUTER.match("GET", path)
    request = IncomingRequest("GET", path, [], b"", "127.0.0.1", "abc123", "v1")
    event = build_event(request, match)
    event["requestContext"]["path"] = requested_path
    return importlib.import_module("handlers.api_docs").lambda_handler(event, FakeContext())


def test_on_api_gateway_the_server_is_the_stage():
    document = json.loads(_get("/openapi.json", "/v1/openapi.json")["body"])
    assert document["servers"] == [{"url": "/v1"}]


def test_served_at_the_root_the_server_is_the_root():
    document = json.loads(_get("/openapi.json", "/openapi.json")["body"])
    assert document["servers"] == [{"url": "/"}]


def test_the_swagger_ui_embeds_the_same_server():
    page = _get("/docs", "/v1/docs")["body"]
    assert re.search(r'"servers":\s*\[\s*\{\s*"url":\s*"/v1"', page), page[:500]


def test_every_operation_is_tagged_from_the_routes_table():
    document = call("GET", "/openapi.json").json()
    for route in routes.ROUTES:
        if route.function == routes.OPENAPI_DOCUMENT.function:
            continue
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["tags"] == [route.tag], (route.method, route.path)
    assert {route.tag for route in routes.ROUTES} >= {"sessions", "runs"}


def test_problem_types_are_relative_and_documented(table_name):
    response = call("GET", "/sessions/never-written")
    assert response.status == 404
    problem_type = response.json()["type"]
    assert problem_type == names.PROBLEM_TYPE_BASE + "not-found" and problem_type.startswith("/")
    documented = call("GET", "/openapi.json").json()["components"]["schemas"]["Problem"]["properties"]["type"]
    for slug in http.PROBLEM_TYPES:
        assert f"`{names.PROBLEM_TYPE_BASE}{slug}`" in documented["description"], slug


def test_every_domain_error_has_a_documented_type():
    from session_store import errors

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for error in (errors.SessionStoreError, *subclasses(errors.SessionStoreError)):
        assert error.slug in http.PROBLEM_TYPES, error


def test_every_literal_problem_slug_in_the_code_is_documented():
    """The slugs the http package and the handlers pass to problem() by hand are in the catalogue too."""
    from pathlib import Path

    sources = [
        *Path(http.__file__).parent.glob("*.py"),
        *Path(importlib.import_module("handlers").__file__).parent.glob("*.py"),
    ]
    called = re.compile(r'(?:problem|_retry_later)\((?:[^()]|\([^()]*\))*?"([a-z]+(?:-[a-z]+)+)"\s*[,)]', re.S)
    slugs = {slug for source in sources for slug in called.findall(source.read_text())}
    assert {"malformed-json", "no-route", "unsupported-media-type"} <= slugs
    assert slugs <= set(http.PROBLEM_TYPES), slugs - set(http.PROBLEM_TYPES)


@pytest.mark.parametrize(
    "route, model",
    [
        (routes.LIST_SESSIONS, models.SessionListQuery),
        (routes.LIST_RUNS, models.RunListQuery),
        (routes.LIST_MEMORIES, memory_models.MemoryListQuery),
    ],
)
def test_each_list_query_parameter_is_documented_with_its_constraints(route, model):
    # The handler takes one query model; the document still lists each of its fields as a parameter,
    # with the bounds, enums and defaults of the model (Powertools alone gives a bare type).
    operation = call("GET", "/openapi.json").json()["paths"][route.path][route.method.lower()]
    documented = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    fields = model.model_json_schema()["properties"]
    assert set(fields) <= set(documented)
    for name, schema in fields.items():
        # A query string carries no null: an optional field is documented by its non-null branch,
        # and a null default is left out (Powertools serializes the document without nulls).
        branches = [branch for branch in schema.get("anyOf", []) if branch.get("type") != "null"]
        if len(schema.get("anyOf", [])) == 2 and len(branches) == 1:
            schema = {**branches[0], **{key: value for key, value in schema.items() if key != "anyOf"}}
        assert documented[name]["schema"] == {key: value for key, value in schema.items() if value is not None}, name
        assert documented[name]["required"] is False
    assert documented["limit"]["schema"]["minimum"] == 1 and documented["limit"]["schema"]["maximum"] == 100


def test_no_query_parameter_offers_null():
    # A fuzzer reads `anyOf: [array, null]` as "false is invalid", though `topics=false` is the
    # valid one-topic list on the wire.
    for path, operations in call("GET", "/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    assert '"null"' not in json.dumps(parameter["schema"]), (method, path, parameter["name"])


def test_every_path_id_is_documented_as_an_identifier():
    document = call("GET", "/openapi.json").json()
    for route in routes.ROUTES:
        for name in route.path_parameters:
            if name == "erasure_id":
                continue
            (parameter,) = [
                p for p in document["paths"][route.path][route.method.lower()]["parameters"] if p["name"] == name
            ]
            assert (parameter["schema"]["minLength"], parameter["schema"]["maxLength"]) == (1, 256), route
