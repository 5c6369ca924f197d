"""GET /sessions/{session_id}/runs/{run_id}: one run."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import READ_PROBLEMS, RunDocument, documented, json_response
from session_store.models import Identifier

router = Router()


@router.get(
    routes.GET_RUN.resolver_path,
    summary=routes.GET_RUN.summary,
    responses=documented({200: ("The run as stored", RunDocument)}, READ_PROBLEMS),
)
def get_run(session_id: Identifier, run_id: Identifier, user_id: Annotated[Identifier | None, Query()] = None):
    actor = auth.actor(router.current_event)
    return json_response(200, runtime.service().get_run(session_id, run_id, user_id, actor=actor))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
