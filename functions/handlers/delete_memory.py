"""DELETE /memories/{memory_id}: one user memory."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import READ_PROBLEMS, documented, no_content
from session_store.models import Identifier

router = Router()


@router.delete(
    routes.DELETE_MEMORY.resolver_path,
    summary=routes.DELETE_MEMORY.summary,
    responses=documented({204: ("Deleted", None)}, READ_PROBLEMS),
)
def delete_memory(memory_id: Identifier, user_id: Annotated[Identifier | None, Query()] = None):
    runtime.memory_service().delete_memory(memory_id, user_id, actor=auth.actor(router.current_event))
    return no_content()


app = build_app(router)
lambda_handler = lambda_handler_for(app)
