"""DELETE /sessions/{session_id}/runs/{run_id}: one run."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from session_store import routes, runtime
from session_store.api import build_app, lambda_handler_for
from session_store.http import no_content, parse_if_match
from session_store.models import Identifier

router = Router()


@router.delete(routes.DELETE_RUN.resolver_path, summary=routes.DELETE_RUN.summary,
               responses={204: {"description": "deleted"}})
def delete_run(
    session_id: str,
    run_id: str,
    user_id: Annotated[Identifier | None, Query()] = None,
    if_match: Annotated[str | None, Header()] = None,
):
    runtime.service().delete_run(session_id, run_id, user_id, parse_if_match(if_match))
    return no_content()


app = build_app(router)
lambda_handler = lambda_handler_for(app)
