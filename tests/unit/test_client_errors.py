"""Problem details (RFC 9457) become exceptions chosen by status, carrying every field and the request id."""

from __future__ import annotations

import pytest

from session_store_client import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ResponseTooLarge,
    RunNotFound,
    ServiceUnavailable,
    SessionNotFound,
    SessionStoreError,
    TooManyRequests,
    ValidationFailed,
)
from tests.support.scripted_server import Reply

pytest_plugins = ["tests.support.fixtures"]


@pytest.mark.parametrize(
    "status, error_class",
    [
        (400, BadRequest),
        (403, Forbidden),
        (404, SessionNotFound),
        (412, PreconditionFailed),
        (413, PayloadTooLarge),
        (422, ValidationFailed),
        (429, TooManyRequests),
        (503, ServiceUnavailable),
        (500, SessionStoreError),
    ],
)
def test_status_picks_the_exception_class(scripted, status, error_class):
    client, _ = scripted(Reply.problem(status, "Some Title", "what went wrong"), max_retries=0)
    with pytest.raises(error_class) as raised:
        client.get_session("s1")
    error = raised.value
    assert type(error) is error_class
    assert (error.status, error.title, error.detail) == (status, "Some Title", "what went wrong")
    assert error.type == "/problems/some-title"
    assert error.request_id == "req-1"
    assert "req-1" in str(error) and "what went wrong" in str(error)


def test_validation_errors_name_each_field(scripted):
    errors = [
        {"field": "session_type", "message": "required on create"},
        {"field": "runs[0].run_id", "message": "must be a string"},
    ]
    client, _ = scripted(Reply.problem(422, "Validation Failed", "invalid session", errors=errors))
    with pytest.raises(ValidationFailed) as raised:
        client.put_session("s1", {"runs": [{"run_id": 1}]})
    assert raised.value.errors == errors
    assert "session_type: required on create" in str(raised.value)


def test_404_on_a_run_route_is_run_not_found(scripted):
    client, _ = scripted(Reply.problem(404, "Not Found"))
    with pytest.raises(RunNotFound):
        client.get_run("s1", "r1")
    with pytest.raises(RunNotFound):
        client.delete_run("s1", "r1")


def test_404_on_session_routes_is_session_not_found_and_a_not_found(scripted):
    client, _ = scripted(Reply.problem(404, "Not Found"))
    for call in (
        lambda: client.get_session("s1"),
        lambda: client.delete_session("s1"),
        lambda: client.patch_session("s1", {}),
        lambda: client.list_runs("s1"),
    ):
        with pytest.raises(SessionNotFound) as raised:
            call()
        assert isinstance(raised.value, NotFound)


def test_api_gateway_message_bodies_become_the_detail(scripted):
    # API Gateway's own refusals (IAM, missing route) are {"message": ...}, not problem details.
    client, _ = scripted(Reply(403, {"message": "Missing Authentication Token"}))
    with pytest.raises(Forbidden) as raised:
        client.get_session("s1")
    assert raised.value.detail == "Missing Authentication Token"
    assert raised.value.title == "FORBIDDEN"


def test_non_json_error_bodies_still_map(scripted):
    client, _ = scripted(Reply(502, b"<html>Bad Gateway</html>", content_type="text/html"))
    with pytest.raises(SessionStoreError) as raised:
        client.get_session("s1")
    assert raised.value.status == 502
    assert raised.value.request_id == "req-1"


def test_response_too_large_is_a_payload_too_large(scripted):
    client, _ = scripted(Reply.problem(413, "Response Too Large"), max_retries=0)
    with pytest.raises(ResponseTooLarge) as raised:
        client.list_runs("s1")
    assert isinstance(raised.value, PayloadTooLarge)


def test_a_too_large_session_is_read_without_runs_then_paged(scripted):
    session = {"session_id": "s1", "session_type": "agent", "version": 7, "run_count": 3}
    client, server = scripted(
        Reply.problem(413, "Response Too Large", "the session is over 6 MB"),
        Reply(200, session),
        Reply(200, {"runs": [{"run_id": "r1"}, {"run_id": "r2"}], "next_cursor": "c2"}),
        Reply(200, {"runs": [{"run_id": "r3", "x": 1.5}], "next_cursor": None}),
    )
    read = client.get_session("s1", user_id="u 1")
    assert [run.to_dict() for run in read.runs] == [{"run_id": "r1"}, {"run_id": "r2"}, {"run_id": "r3", "x": 1.5}]
    assert read.version == 7
    second, runs_page_1, runs_page_2 = server.requests[1:]
    assert "include_runs=false" in second.query and "user_id=u%201" in second.query
    assert runs_page_1.raw_path == "/sessions/s1/runs" and "cursor" not in runs_page_1.query
    assert "cursor=c2" in runs_page_2.query


def test_a_too_large_session_with_runs_limit_reads_only_the_newest(scripted):
    client, server = scripted(
        Reply.problem(413, "Response Too Large"),
        Reply(200, {"session_id": "s1", "run_count": 9}),
        Reply(200, {"runs": [{"run_id": "r9"}, {"run_id": "r8"}], "next_cursor": "more"}),
    )
    read = client.get_session("s1", runs_limit=2)
    assert [run.run_id for run in read.runs] == ["r8", "r9"]
    assert "order=desc" in server.requests[2].query and "limit=2" in server.requests[2].query
    assert len(server.requests) == 3
