"""GET /runs/{run_id}: one run found by its id alone, with the session that holds it."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import READ_PROBLEMS, RunWithSession, documented, json_response
from session_store.models import Identifier

router = Router()


@router.get(
    routes.GET_RUN_BY_ID.resolver_path,
    summary=routes.GET_RUN_BY_ID.summary,
    description=(
        "Finds the run through the run-id index (eventually consistent: a run written a moment ago "
        "may answer 404 for a moment). Several live sessions may hold a run of one id: the most "
        "recently updated one's is returned. Another user's run is a 404, like a missing one."
    ),
    responses=documented(
        {200: ("The run as stored, with the session_id of its session", RunWithSession)}, READ_PROBLEMS
    ),
)
def get_run_by_id(run_id: Identifier, user_id: Annotated[Identifier | None, Query()] = None):
    actor = auth.actor(router.current_event)
    return json_response(200, runtime.service().get_run_by_id(run_id, user_id, actor=actor))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
