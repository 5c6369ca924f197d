"""PATCH /sessions/{session_id}: JSON Merge Patch (RFC 7396) of the session's object fields."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import ValidationError

from session_store import errors, routes, runtime
from session_store.api import build_app, lambda_handler_for
from session_store.http import describe, json_response, parse_if_match, request_json
from session_store.models import Identifier, Preconditions, SessionPatch

router = Router()


@router.patch(routes.PATCH_SESSION.resolver_path, summary=routes.PATCH_SESSION.summary,
              openapi_extensions={"x-request-body": "application/merge-patch+json"})
def patch_session(
    session_id: str,
    user_id: Annotated[Identifier | None, Query()] = None,
    if_match: Annotated[str | None, Header()] = None,
):
    # Parsed here, not by the resolver: merge patches come as application/merge-patch+json.
    try:
        patch = SessionPatch.model_validate(request_json(router.current_event))
    except ValidationError as error:
        raise errors.ValidationFailed("the patch is invalid", errors=describe(error)) from None
    session = runtime.service().patch_session(session_id, patch, Preconditions(if_match=parse_if_match(if_match)), user_id)
    return json_response(200, session.public(), session.version)


app = build_app(router)
lambda_handler = lambda_handler_for(app)
