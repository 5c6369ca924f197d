"""GET /users/{user_id}/erasures/{erasure_id}: an erasure's receipt (status and counts per kind)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import READ_PROBLEMS, documented, json_response
from session_store.models import Identifier
from session_store.user_documents import ErasureReceipt

router = Router()


@router.get(
    routes.GET_ERASURE.resolver_path,
    summary=routes.GET_ERASURE.summary,
    responses=documented({200: ("The erasure's receipt", ErasureReceipt)}, READ_PROBLEMS),
)
def get_erasure(user_id: Identifier, erasure_id: Annotated[str, Path(max_length=64)]):
    actor = auth.actor(router.current_event)
    return json_response(200, runtime.user_data().receipt(user_id, erasure_id, actor=actor))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
