"""The private Powertools APIs this project relies on, kept here so that an upgrade that changes
them breaks one module and its test (tests/unit/test_powertools_compat.py), nothing else.

- `ApiGatewayResolver._convert_matches_into_route_keys(match)`: how a matched route's regex groups
  become the handler's path parameters. Overridden to percent-decode them (see http/resolver.py).
- `Tracer._is_tracer_disabled()`: Powertools' rule for "is tracing on", asked without constructing
  a Tracer, because construction imports the X-Ray SDK (see entrypoint.py).
- A resolver's registered routes and the route it matched (`_static_routes`, `_dynamic_routes`,
  `context["_route"]`): the OpenAPI document and the repeated-parameter check read each route's
  query model from its handler's parameters (see http/queries.py).
"""

from __future__ import annotations

from re import Match
from typing import Any
from urllib.parse import unquote


class DecodedPathParameters:
    """Mixin for a Powertools resolver: path parameters reach the handler percent-decoded."""

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def tracing_disabled() -> bool:
    """Whether Powertools would disable its Tracer here (outside Lambda, POWERTOOLS_TRACE_DISABLED)."""
    from aws_lambda_powertools.tracing.tracer import Tracer  # cheap: X-Ray is a lazy import there

    return bool(Tracer._is_tracer_disabled())


def registered_routes(app: Any) -> list[Any]:
    """Every route a resolver serves (Powertools' `_static_routes` and `_dynamic_routes`)."""
    return [*app._static_routes, *app._dynamic_routes]


def matched_route(app: Any) -> Any:
    """The route a resolver matched for the current request, once it has routed (in a middleware)."""
    return app.context.get("_route")
