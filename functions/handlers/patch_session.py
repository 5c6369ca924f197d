"""PATCH /sessions/{session_id}: JSON Merge Patch (RFC 7396) of the session's object fields."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import ValidationError

from session_store import auth, codec, errors, idempotency, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import (
    WRITE_PROBLEMS,
    SessionDocument,
    describe,
    documented,
    outcome_response,
    parse_if_match,
    request_json,
)
from session_store.idempotency import Outcome
from session_store.models import Identifier, Preconditions, SessionPatch

MERGE_PATCH = "application/merge-patch+json"
router = Router()


@router.patch(
    routes.PATCH_SESSION.resolver_path,
    summary=routes.PATCH_SESSION.summary,
    responses=documented(
        {200: ("Patched: the session without runs", SessionDocument)},
        WRITE_PROBLEMS,
        etag_on_success=True,
        idempotent=True,
    ),
    # The body is parsed by the handler (merge patches are not application/json), so Powertools
    # cannot document it from the signature.
    openapi_extensions={
        "requestBody": {
            "required": True,
            "content": {MERGE_PATCH: {"schema": SessionPatch.model_json_schema()}},
        }
    },
)
def patch_session(
    session_id: Identifier,
    user_id: Annotated[Identifier | None, Query(description=routes.OWNER_QUERY_DESCRIPTION)] = None,
    if_match: Annotated[str | None, Header(description='Patch only if the session is at this ETag ("7")')] = None,
    idempotency_key: idempotency.KeyHeader = None,
):
    event = router.current_event
    try:
        patch = SessionPatch.model_validate(request_json(event))
    except ValidationError as error:
        raise errors.ValidationFailed("the patch is invalid", errors=describe(error.errors(), "body")) from None
    preconditions = Preconditions(if_match=parse_if_match(if_match))
    actor = auth.actor(event)

    def write() -> Outcome:
        session = runtime.service().patch_session(session_id, patch, preconditions, user_id, actor=actor)
        return Outcome(200, session.version, codec.dumps(session.public()))

    def current_body() -> str:
        return codec.dumps(runtime.service().live_session(session_id).public())

    return outcome_response(idempotency.once(router, idempotency_key, write, current_body))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
