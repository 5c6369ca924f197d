"""GET /sessions/{session_id}/runs: a session's runs, page by page, in first-write order."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import READ_PROBLEMS, RunPage, documented, json_response
from session_store.models import Identifier, RunListQuery

router = Router()


@router.get(
    routes.LIST_RUNS.resolver_path,
    summary=routes.LIST_RUNS.summary,
    responses=documented(
        {200: ("A page of runs in first-write order (order=desc: newest first)", RunPage)},
        READ_PROBLEMS,
        etag_on_success=True,
    ),
)
def list_runs(
    session_id: Identifier,
    query: Annotated[RunListQuery, Query()],
    user_id: Annotated[Identifier | None, Query()] = None,
):
    page, version = runtime.service().list_runs(session_id, query, user_id, actor=auth.actor(router.current_event))
    return json_response(200, page, version)


app = build_app(router)
lambda_handler = lambda_handler_for(app)
