"""GET /memory-stats: per user, how many memories and when the latest changed."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import LIST_PROBLEMS, documented, json_response
from session_store.memory_models import MemoryStatsPage
from session_store.models import Identifier

router = Router()


@router.get(
    routes.MEMORY_STATS.resolver_path,
    summary=routes.MEMORY_STATS.summary,
    responses=documented({200: ("Per-user counts", MemoryStatsPage)}, LIST_PROBLEMS),
)
def memory_stats(
    user_id: Annotated[Identifier | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
):
    actor = auth.actor(router.current_event)
    return json_response(200, runtime.memory_service().stats(user_id, limit, page, actor=actor))


app = build_app(router)
lambda_handler = lambda_handler_for(app)
