"""GET /users/{user_id}/export: the user's sessions with their runs as JSON Lines, inline when they
fit in a response, else 303 to a short-lived presigned URL of the staged file."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from session_store import auth, names, routes, runtime
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import READ_PROBLEMS, documented
from session_store.models import Identifier

router = Router()


@router.get(
    routes.EXPORT_USER.resolver_path,
    summary=routes.EXPORT_USER.summary,
    responses=documented(
        {
            200: ("JSON Lines (application/x-ndjson), one record per line", None),
            303: ("Too large for a response: Location is a presigned URL of the file", None),
        },
        READ_PROBLEMS,
    ),
)
def export_user(user_id: Identifier):
    export = runtime.user_data().export(user_id, actor=auth.actor(router.current_event))
    if export.url is not None:
        return Response(status_code=303, body="", headers={"Location": export.url})
    return Response(status_code=200, content_type=names.NDJSON_CONTENT_TYPE, body=export.text)


app = build_app(router)
lambda_handler = lambda_handler_for(app)
