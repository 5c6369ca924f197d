"""DELETE /users/{user_id}: start erasing every item of the user (202); the erasure worker does it."""

from urllib.parse import quote

from aws_lambda_powertools.event_handler.api_gateway import Router

from session_store import auth, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import DELETE_PROBLEMS, documented, json_response
from session_store.models import Identifier
from session_store.user_documents import ErasureStarted

router = Router()


@router.delete(
    routes.ERASE_USER.resolver_path,
    summary=routes.ERASE_USER.summary,
    responses=documented(
        {202: ("Erasure started (or already running): its id and receipt URL", ErasureStarted)}, DELETE_PROBLEMS
    ),
)
def erase_user(user_id: Identifier):
    job = runtime.user_data().erase(user_id, actor=auth.actor(router.current_event))
    response = json_response(202, {"erasure_id": job.erasure_id, "status": job.status})
    # Relative to /users/{user_id} (RFC 9110 allows it), so it holds behind any stage prefix.
    response.headers["Location"] = f"{quote(user_id, safe='')}/erasures/{job.erasure_id}"
    return response


app = build_app(router)
lambda_handler = lambda_handler_for(app)
