"""PUT /sessions/{session_id}: create or update a session (upsert)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.metrics import MetricUnit

from session_store import auth, codec, idempotency, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for, metrics
from session_store.http import (
    WRITE_PROBLEMS,
    SessionDocument,
    documented,
    outcome_response,
    parse_if_match,
    parse_if_none_match,
)
from session_store.idempotency import Outcome
from session_store.models import Identifier, Preconditions, SessionWrite

router = Router()


@router.put(
    routes.PUT_SESSION.resolver_path,
    summary=routes.PUT_SESSION.summary,
    responses=documented(
        {
            200: ("Updated: the session without runs", SessionDocument),
            201: ("Created: the session without runs", SessionDocument),
        },
        WRITE_PROBLEMS,
        etag_on_success=True,
        idempotent=True,
    ),
)
def put_session(
    session_id: Identifier,
    body: Annotated[SessionWrite, Body()],
    user_id: Annotated[Identifier | None, Query(description=routes.OWNER_QUERY_DESCRIPTION)] = None,
    if_match: Annotated[str | None, Header(description='Write only if the session is at this ETag ("7")')] = None,
    if_none_match: Annotated[str | None, Header(description="`*`: create only; 412 if the session exists")] = None,
    idempotency_key: idempotency.KeyHeader = None,
):
    event = router.current_event
    preconditions = Preconditions(if_match=parse_if_match(if_match), create_only=parse_if_none_match(if_none_match))
    actor = auth.actor(event)

    def write() -> Outcome:
        result = runtime.service().upsert_session(session_id, body, preconditions, user_id=user_id, actor=actor)
        metrics.add_metric(
            name="SessionsCreated" if result.created else "SessionsUpdated", unit=MetricUnit.Count, value=1
        )
        return Outcome(201 if result.created else 200, result.session.version, codec.dumps(result.session.public()))

    def current_body() -> str:
        return codec.dumps(runtime.service().live_session(session_id).public())

    return outcome_response(idempotency.once(router, idempotency_key, write, current_body))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
