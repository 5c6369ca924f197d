"""POST /memory-deletions: delete many user memories at once (those that exist and match)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import WRITE_PROBLEMS, documented, json_response
from session_store.memory_models import DeletedMemories, MemoryDeletion

router = Router()


@router.post(
    routes.DELETE_MEMORIES.resolver_path,
    summary=routes.DELETE_MEMORIES.summary,
    responses=documented({200: ("What was deleted", DeletedMemories)}, WRITE_PROBLEMS),
)
def delete_memories(body: Annotated[MemoryDeletion, Body()]):
    deleted = runtime.memory_service().delete_memories(body, actor=auth.actor(router.current_event))
    return json_response(200, {"deleted": deleted})


app = build_app(router)
lambda_handler = lambda_handler_for(app)
