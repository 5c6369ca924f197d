"""GET /sessions: sessions by user, component or type, newest first, page by page."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, names, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import LIST_PROBLEMS, SessionPage, documented, json_response, validated
from session_store.models import Identifier, SessionListQuery, SessionType

router = Router()


@router.get(
    routes.LIST_SESSIONS.resolver_path,
    summary=routes.LIST_SESSIONS.summary,
    responses=documented({200: ("A page of sessions (without runs)", SessionPage)}, LIST_PROBLEMS),
)
def list_sessions(
    user_id: Annotated[Identifier | None, Query()] = None,
    component_id: Annotated[Identifier | None, Query()] = None,
    agent_id: Annotated[Identifier | None, Query()] = None,
    team_id: Annotated[Identifier | None, Query()] = None,
    workflow_id: Annotated[Identifier | None, Query()] = None,
    session_type: Annotated[SessionType | None, Query()] = None,
    session_name: Annotated[str | None, Query(max_length=256)] = None,
    start_timestamp: Annotated[int | None, Query(ge=0)] = None,
    end_timestamp: Annotated[int | None, Query(ge=0)] = None,
    sort_by: Annotated[Literal["updated_at", "created_at"], Query()] = "updated_at",
    sort_order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    include_total: Annotated[bool, Query()] = False,
    include_runs: Annotated[
        bool, Query(description=f"each session with its runs when it has at most {names.MAX_LISTED_RUNS_PER_SESSION}")
    ] = False,
):
    query = validated(SessionListQuery, locals(), "query")
    return json_response(200, runtime.service().list_sessions(query, actor=auth.actor(router.current_event)))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
