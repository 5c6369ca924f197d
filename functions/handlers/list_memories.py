"""GET /memories: a user's memories (or everyone's), filtered, sorted, page by page."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import LIST_PROBLEMS, documented, json_response, validated
from session_store.memory_models import MAX_TOPICS, MemoryListQuery, MemoryPage
from session_store.models import Identifier
from session_store.settings import current_settings

router = Router()


@router.get(
    routes.LIST_MEMORIES.resolver_path,
    summary=routes.LIST_MEMORIES.summary,
    responses=documented({200: ("A page of memories", MemoryPage)}, LIST_PROBLEMS),
)
def list_memories(
    user_id: Annotated[Identifier | None, Query()] = None,
    agent_id: Annotated[Identifier | None, Query()] = None,
    team_id: Annotated[Identifier | None, Query()] = None,
    topics: Annotated[list[str] | None, Query(max_length=MAX_TOPICS, description="every one must be present")] = None,
    search: Annotated[str | None, Query(min_length=1, max_length=256, description="text within the memory")] = None,
    sort_by: Annotated[Literal["updated_at", "created_at"], Query()] = "updated_at",
    sort_order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    include_total: Annotated[bool, Query()] = False,
):
    query = validated(MemoryListQuery, locals(), "query")
    actor = auth.actor(router.current_event)
    return json_response(200, runtime.memory_service().list_memories(query, current_settings().cursor_key, actor=actor))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
