"""Bad input, generated: schemathesis reads the OpenAPI document the local runtime publishes
(GET /openapi.json) and sends every operation schema-valid and schema-invalid requests over HTTP.

Every response must be documented for its operation (status, content type, headers, body schema),
no response may be a 5xx, and every schema-invalid request must be refused with a 4xx. The number
of cases is bounded (CASES_PER_MODE per operation and mode) so the run takes well under two
minutes; set SCHEMATHESIS_CASES to search longer.

The operations are collected from routes.ROUTES and looked up in the published document at test
time (schemathesis' lazy pytest loader does not run under this pytest, and the document only
exists once the runtime is up); each case goes through schemathesis' own `call_and_validate`.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from session_store import routes

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CASES_PER_MODE = int(os.environ.get("SCHEMATHESIS_CASES", "60"))
# Not `positive_data_acceptance`: some refusals depend on more than one field or on state the
# document cannot express (at most one component filter, a cursor this service signed, If-Match
# naming the current version), so a schema-valid request may rightly get a 4xx.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
OPERATIONS = [
    (route.method, route.path) for route in routes.ROUTES if route.function != routes.OPENAPI_DOCUMENT.function
]


@pytest.fixture(scope="module")
def published_schema(local_api_url):
    return schemathesis.openapi.from_url(f"{local_api_url}/openapi.json")


def test_the_document_describes_every_route(published_schema):
    documented = {
        (operation.ok().method.upper(), operation.ok().path) for operation in published_schema.get_all_operations()
    }
    assert documented == set(OPERATIONS)


def test_every_success_conforms(published_schema, local_api_url):
    """Generated requests mostly miss (random ids, preconditions, bodies lacking session_type), so
    each operation's success responses are also requested on purpose, and held to the document."""
    sid, rid = "conformance-1", "run-1"
    json_body = "application/json"
    steps = [
        (
            "PUT",
            "/sessions/{session_id}",
            {"session_id": sid},
            {},
            {"session_type": "agent", "user_id": "u1", "agent_id": "a1", "metadata": {"k": 1}},
            201,
        ),
        ("PUT", "/sessions/{session_id}", {"session_id": sid}, {}, {"summary": {"s": "x"}}, 200),
        ("PUT", "/sessions/{session_id}/runs/{run_id}", {"session_id": sid, "run_id": rid}, {}, {"x": 1.5}, 201),
        ("PUT", "/sessions/{session_id}/runs/{run_id}", {"session_id": sid, "run_id": rid}, {}, {"x": 2}, 200),
        (
            "PUT",
            "/sessions/{session_id}/runs/{run_id}",
            {"session_id": sid, "run_id": "run-2"},
            {"Idempotency-Key": "conformance"},
            {"y": None},
            201,
        ),
        (
            "PUT",
            "/sessions/{session_id}/runs/{run_id}",
            {"session_id": sid, "run_id": "run-2"},
            {"Idempotency-Key": "conformance"},
            {"y": None},
            201,
        ),  # replayed
        ("GET", "/sessions/{session_id}", {"session_id": sid}, {}, None, 200),
        ("GET", "/sessions/{session_id}/runs/{run_id}", {"session_id": sid, "run_id": rid}, {}, None, 200),
        ("GET", "/sessions/{session_id}/runs", {"session_id": sid}, {}, None, 200),
        ("GET", "/sessions", {}, {}, None, 200),
        ("PATCH", "/sessions/{session_id}", {"session_id": sid}, {}, {"metadata": {"k": None}}, 200),
        ("DELETE", "/sessions/{session_id}/runs/{run_id}", {"session_id": sid, "run_id": rid}, {}, None, 204),
        ("DELETE", "/sessions/{session_id}", {"session_id": sid}, {}, None, 204),
    ]
    for method, path, path_parameters, headers, body, status in steps:
        operation = published_schema[path][method]
        arguments = {"path_parameters": path_parameters, "headers": headers}
        if body is not None:
            arguments.update(body=body, media_type="application/merge-patch+json" if method == "PATCH" else json_body)
        if path == "/sessions":
            arguments["query"] = {"user_id": "u1", "include_total": "true", "limit": 1}
        response = operation.Case(**arguments).call_and_validate(base_url=local_api_url, checks=CHECKS)
        assert response.status_code == status, (method, path, response.text)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
@pytest.mark.parametrize("method, path", OPERATIONS)
def test_every_response_conforms_and_none_is_a_server_error(published_schema, local_api_url, method, path, mode):
    operation = published_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=CASES_PER_MODE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def check(case):
        case.call_and_validate(base_url=local_api_url, checks=CHECKS)

    check()
