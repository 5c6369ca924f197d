"""PUT /memories/{memory_id}: create or replace a user memory (Agno's UserMemory)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import WRITE_PROBLEMS, documented, json_response
from session_store.memory_models import MemoryDocument, MemoryWrite
from session_store.models import Identifier

router = Router()


@router.put(
    routes.PUT_MEMORY.resolver_path,
    summary=routes.PUT_MEMORY.summary,
    responses=documented(
        {
            200: ("Replaced: the memory as stored", MemoryDocument),
            201: ("Created: the memory as stored", MemoryDocument),
        },
        WRITE_PROBLEMS,
    ),
)
def put_memory(memory_id: Identifier, body: Annotated[MemoryWrite, Body()]):
    memory, created = runtime.memory_service().put_memory(memory_id, body, actor=auth.actor(router.current_event))
    return json_response(201 if created else 200, memory)


app = build_app(router)
lambda_handler = lambda_handler_for(app)
