"""What every API function shares: the resolver, problem+json errors, responses, the precondition
headers and the OpenAPI documentation of every response. Handlers import these names from here."""

from session_store.http.openapi import (
    DELETE_PROBLEMS,
    LIST_PROBLEMS,
    PROBLEM_TYPES,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    Problem,
    RunDocument,
    RunPage,
    RunWithSession,
    SessionDocument,
    SessionPage,
    SessionWithRuns,
    documented,
)
from session_store.http.preconditions import (
    etag,
    not_modified,
    parse_cached_versions,
    parse_if_match,
    parse_if_none_match,
)
from session_store.http.problems import describe, problem, register_error_handlers
from session_store.http.resolver import SessionStoreResolver, media_type
from session_store.http.responses import (
    json_response,
    json_text_response,
    no_content,
    outcome_response,
    request_json,
)

__all__ = [
    "DELETE_PROBLEMS",
    "LIST_PROBLEMS",
    "PROBLEM_TYPES",
    "READ_PROBLEMS",
    "WRITE_PROBLEMS",
    "Problem",
    "RunDocument",
    "RunPage",
    "RunWithSession",
    "SessionDocument",
    "SessionPage",
    "SessionStoreResolver",
    "SessionWithRuns",
    "describe",
    "documented",
    "etag",
    "json_response",
    "json_text_response",
    "media_type",
    "no_content",
    "not_modified",
    "outcome_response",
    "parse_cached_versions",
    "parse_if_match",
    "parse_if_none_match",
    "problem",
    "register_error_handlers",
    "request_json",
]
