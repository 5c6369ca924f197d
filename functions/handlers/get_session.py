"""GET /sessions/{session_id}: a session with its runs."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import (
    READ_PROBLEMS,
    SessionWithRuns,
    documented,
    json_response,
    not_modified,
    parse_cached_versions,
)
from session_store.models import Identifier, SessionType
from session_store.results import NotModified

router = Router()


@router.get(
    routes.GET_SESSION.resolver_path,
    summary=routes.GET_SESSION.summary,
    responses=documented(
        {
            200: ("The session, with its runs unless include_runs=false", SessionWithRuns),
            304: ("If-None-Match named the current version: the caller's copy is current", None),
        },
        READ_PROBLEMS,
        etag_on_success=True,
    ),
)
def get_session(
    session_id: Identifier,
    user_id: Annotated[Identifier | None, Query()] = None,
    session_type: Annotated[SessionType | None, Query()] = None,
    runs_limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    include_runs: Annotated[bool, Query()] = True,
    if_none_match: Annotated[
        str | None,
        Header(
            description='The ETag of the copy the caller holds ("7"): 304 with the session item read only, when current'
        ),
    ] = None,
):
    body = runtime.service().get_session(
        session_id,
        user_id,
        session_type,
        include_runs,
        runs_limit,
        cached_versions=parse_cached_versions(if_none_match),
        actor=auth.actor(router.current_event),
    )
    if isinstance(body, NotModified):
        return not_modified(body.version)
    return json_response(200, body, body["version"])


app = build_app(router)
lambda_handler = lambda_handler_for(app)
