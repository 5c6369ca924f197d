"""GET /openapi.json and GET /docs: the OpenAPI document of every route, and a Swagger UI.

The document is generated from the API functions' own routers (their signatures and models), so
it cannot drift from what the functions accept.
"""

import importlib
import json

from aws_lambda_powertools.event_handler.api_gateway import Router

from session_store import routes
from session_store.api import build_app, lambda_handler_for
from session_store.http import json_response

API_TITLE = "Session Store"
API_VERSION = "1.0.0"
router = Router()


@router.get(routes.OPENAPI_DOCUMENT.resolver_path, summary=routes.OPENAPI_DOCUMENT.summary, include_in_schema=False)
def openapi_document():
    return json_response(200, json.loads(app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)))


_api_routers = [
    importlib.import_module(f"handlers.{name}").router for name in routes.functions() if name != "api_docs"
]
app = build_app(router, *_api_routers)
app.enable_swagger(path=routes.SWAGGER_UI.resolver_path, title=API_TITLE, version=API_VERSION)
lambda_handler = lambda_handler_for(app)
