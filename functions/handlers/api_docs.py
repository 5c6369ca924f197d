"""GET /openapi.json and GET /docs: the OpenAPI document of every route, and a Swagger UI.

The document is generated from the API functions' own routers (their signatures and models), so
it cannot drift from what the functions accept.
"""

import importlib
import json

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.models import Server

from session_store import powertools_compat, routes
from session_store.entrypoint import build_app, lambda_handler_for
from session_store.http import json_response

API_TITLE = "Session Store"
API_VERSION = "1.0.0"
router = Router()


@router.get(routes.OPENAPI_DOCUMENT.resolver_path, summary=routes.OPENAPI_DOCUMENT.summary, include_in_schema=False)
def openapi_document():
    return json_response(
        200, json.loads(app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION, servers=servers()))
    )


def servers() -> list[Server]:
    """Where "Try it out" sends requests: the stage's path on API Gateway (/v1), `/` where the API is
    served at the root (the local runtime, a custom domain). Powertools' rule, the one its Swagger
    UI at /docs applies to the same event, so both documents agree."""
    return [Server(url=app._get_base_path() or "/")]


def _tag_operations() -> None:
    """Group the operations in /docs by routes.Route.tag. Tags are set here, from the one routes
    table, rather than in each handler's decorator, so a new route is grouped with no other change."""
    tags = {(route.method, route.resolver_path): [route.tag] for route in routes.ROUTES}
    for route in powertools_compat.registered_routes(app):
        route.tags = tags.get((route.method.upper(), route.path), route.tags)


_api_modules = [importlib.import_module(f"handlers.{name}") for name in routes.functions() if name != "api_docs"]
app = build_app(router, *(module.router for module in _api_modules))
# Including a router makes this app its resolver, so the router's handler would read the current
# event of *this* function: where functions share a process (the local runtime), a PATCH read the
# docs' GET and answered 400/422. Each router answers to its own function's app again; the routes
# copied into this app (all the document needs) stay.
for module in _api_modules:
    module.router.api_resolver = module.app
_tag_operations()
app.enable_swagger(path=routes.SWAGGER_UI.resolver_path, title=API_TITLE, version=API_VERSION)
lambda_handler = lambda_handler_for(app)
