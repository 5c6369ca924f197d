"""GET /memory-topics: every topic of a user's memories (or of all memories)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import LIST_PROBLEMS, documented, json_response
from session_store.memory_models import MemoryTopics
from session_store.models import Identifier

router = Router()


@router.get(
    routes.MEMORY_TOPICS.resolver_path,
    summary=routes.MEMORY_TOPICS.summary,
    responses=documented({200: ("The topics", MemoryTopics)}, LIST_PROBLEMS),
)
def memory_topics(user_id: Annotated[Identifier | None, Query()] = None):
    actor = auth.actor(router.current_event)
    return json_response(200, {"topics": runtime.memory_service().topics(user_id, actor=actor)})


app = build_app(router)
lambda_handler = lambda_handler_for(app)
