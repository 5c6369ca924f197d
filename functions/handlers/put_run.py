"""PUT /sessions/{session_id}/runs/{run_id}: create or replace one run."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from session_store import auth, codec, idempotency, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import WRITE_PROBLEMS, RunDocument, documented, outcome_response, parse_if_match
from session_store.idempotency import Outcome
from session_store.models import Identifier, Preconditions, SessionType

router = Router()


@router.put(
    routes.PUT_RUN.resolver_path,
    summary=routes.PUT_RUN.summary,
    responses=documented(
        {200: ("Replaced: the run as stored", RunDocument), 201: ("Created: the run as stored", RunDocument)},
        WRITE_PROBLEMS,
        etag_on_success=True,
        idempotent=True,
    ),
)
def put_run(
    session_id: Identifier,
    run_id: Identifier,
    body: Annotated[dict[str, Any], Body()],
    session_type: Annotated[SessionType | None, Query()] = None,
    user_id: Annotated[Identifier | None, Query(description=routes.OWNER_QUERY_DESCRIPTION)] = None,
    if_match: Annotated[str | None, Header(description='Write only if the session is at this ETag ("7")')] = None,
    idempotency_key: idempotency.KeyHeader = None,
):
    preconditions = Preconditions(if_match=parse_if_match(if_match))
    actor = auth.actor(router.current_event)

    def write() -> Outcome:
        result = runtime.service().put_run(session_id, run_id, body, session_type, preconditions, user_id, actor=actor)
        # No body in the Outcome: the response is the request's run, rebuilt below, so an
        # idempotency record never has to hold a run of up to 6 MB.
        return Outcome(201 if run_id in result.new_run_ids else 200, result.session.version)

    outcome = idempotency.once(router, idempotency_key, write)
    return outcome_response(outcome, codec.dumps({**body, "run_id": run_id}))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
