"""PUT /sessions/{session_id}: create or update a session (upsert)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.metrics import MetricUnit

from session_store import routes, runtime
from session_store.api import build_app, lambda_handler_for, metrics
from session_store.http import json_response, parse_if_match
from session_store.models import Preconditions, SessionWrite

router = Router()


@router.put(routes.PUT_SESSION.resolver_path, summary=routes.PUT_SESSION.summary,
            responses={200: {"description": "updated"}, 201: {"description": "created"}})
def put_session(
    session_id: str,
    body: Annotated[SessionWrite, Body()],
    if_match: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
):
    preconditions = Preconditions(if_match=parse_if_match(if_match), create_only=(if_none_match or "").strip() == "*")
    result = runtime.service().upsert_session(session_id, body, preconditions)
    metrics.add_metric(name="SessionsCreated" if result.created else "SessionsUpdated", unit=MetricUnit.Count, value=1)
    return json_response(201 if result.created else 200, result.session.public(), result.session.version)


app = build_app(router)
lambda_handler = lambda_handler_for(app)
