"""GET /memories: a user's memories (or everyone's), filtered, sorted, page by page."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import LIST_PROBLEMS, documented, json_response
from session_store.memory_models import MemoryListQuery, MemoryPage
from session_store.settings import current_settings

router = Router()


@router.get(
    routes.LIST_MEMORIES.resolver_path,
    summary=routes.LIST_MEMORIES.summary,
    responses=documented({200: ("A page of memories", MemoryPage)}, LIST_PROBLEMS),
)
def list_memories(query: Annotated[MemoryListQuery, Query()]):
    actor = auth.actor(router.current_event)
    return json_response(200, runtime.memory_service().list_memories(query, current_settings().cursor_key, actor=actor))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
