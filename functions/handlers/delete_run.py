"""DELETE /sessions/{session_id}/runs/{run_id}: one run."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from session_store import auth, idempotency, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import DELETE_PROBLEMS, documented, outcome_response, parse_if_match
from session_store.idempotency import Outcome
from session_store.models import Identifier

router = Router()


@router.delete(
    routes.DELETE_RUN.resolver_path,
    summary=routes.DELETE_RUN.summary,
    responses=documented({204: ("Deleted", None)}, DELETE_PROBLEMS, idempotent=True),
)
def delete_run(
    session_id: Identifier,
    run_id: Identifier,
    user_id: Annotated[Identifier | None, Query()] = None,
    if_match: Annotated[str | None, Header(description='Delete only if the session is at this ETag ("7")')] = None,
    idempotency_key: idempotency.KeyHeader = None,
):
    version = parse_if_match(if_match)
    actor = auth.actor(router.current_event)

    def write() -> Outcome:
        runtime.service().delete_run(session_id, run_id, user_id, version, actor=actor)
        return Outcome(204)

    return outcome_response(idempotency.once(router, idempotency_key, write))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
