"""PUT /sessions/{session_id}/runs/{run_id}: create or replace one run."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from session_store import routes, runtime
from session_store.api import build_app, lambda_handler_for
from session_store.http import json_response, parse_if_match
from session_store.models import Preconditions, SessionType

router = Router()


@router.put(routes.PUT_RUN.resolver_path, summary=routes.PUT_RUN.summary,
            responses={200: {"description": "replaced"}, 201: {"description": "created"}})
def put_run(
    session_id: str,
    run_id: str,
    body: Annotated[dict[str, Any], Body()],
    session_type: Annotated[SessionType | None, Query()] = None,
    if_match: Annotated[str | None, Header()] = None,
):
    preconditions = Preconditions(if_match=parse_if_match(if_match))
    result = runtime.service().put_run(session_id, run_id, body, session_type, preconditions)
    created = run_id in result.new_run_ids
    return json_response(201 if created else 200, {**body, "run_id": run_id}, result.session.version)


app = build_app(router)
lambda_handler = lambda_handler_for(app)
