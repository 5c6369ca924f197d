"""GET /sessions: sessions by user, component or type, newest first, page by page."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import LIST_PROBLEMS, SessionPage, documented, json_response
from session_store.models import SessionListQuery

router = Router()


@router.get(
    routes.LIST_SESSIONS.resolver_path,
    summary=routes.LIST_SESSIONS.summary,
    responses=documented({200: ("A page of sessions (without runs)", SessionPage)}, LIST_PROBLEMS),
)
def list_sessions(query: Annotated[SessionListQuery, Query()]):
    return json_response(200, runtime.service().list_sessions(query, actor=auth.actor(router.current_event)))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
