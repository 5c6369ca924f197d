"""Query models: each list route takes its query as one pydantic model, `Annotated[XxxQuery, Query()]`,
which Powertools (3.37) validates. Two things Powertools does with such a model differ from what it
does with one parameter per field, and are put back here:

- A repeated parameter: Powertools hands the model its first value, where a scalar parameter fails
  validation. A parameter the model takes once, given twice, is refused with a 422 as before.
- The OpenAPI document: Powertools lists each field as its own parameter, but with a bare type (no
  bounds, enum or default). Each field's parameter gets the model's own JSON schema of the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI, Parameter, Schema
from pydantic import BaseModel, ValidationError

from session_store import errors, powertools_compat
from session_store.http.problems import SCHEMA_MISMATCH, describe


def query_models(route: Any) -> list[type[BaseModel]]:
    """The pydantic models among a Powertools route's query parameters."""
    return [
        annotation
        for parameter in route.dependant.query_params
        if isinstance(annotation := parameter.field_info.annotation, type) and issubclass(annotation, BaseModel)
    ]


def refuse_repeated_parameters(app: Any, next_middleware: Callable[[Any], Response[Any]]) -> Response[Any]:
    """Middleware, after Powertools' validation: the repeated parameters a query model takes once are
    validated as the lists they are, so pydantic refuses them in its own words ("a valid integer")."""
    multi: dict[str, list[str]] = app.current_event.multi_value_query_string_parameters or {}
    repeated = {name: values for name, values in multi.items() if len(values) > 1}
    route = powertools_compat.matched_route(app) if repeated else None
    for model in query_models(route) if route is not None else []:
        try:
            model.model_validate({name: values for name, values in repeated.items() if name in model.model_fields})
        except ValidationError as error:
            raise errors.ValidationFailed(SCHEMA_MISMATCH, errors=describe(error.errors(), "query")) from None
    return next_middleware(app)


def _never_null(schema: Schema) -> Schema:
    """An optional query parameter's schema without its `null` branch: a query string cannot carry
    a null (the parameter is absent instead), and a schema that offers one makes fuzzers send
    `topics=false` as "not an array" although, on the wire, it is the valid one-topic list."""
    fields = schema.model_dump(by_alias=True, exclude_none=True)
    branches = [branch for branch in fields.get("anyOf", []) if branch.get("type") != "null"]
    if len(branches) != 1 or len(fields["anyOf"]) != 2:
        return schema
    del fields["anyOf"]
    return Schema.model_validate({**branches[0], **fields})


def document_query_models(document: OpenAPI, routes: Iterable[Any]) -> OpenAPI:
    """`document` with each query-model field's parameter described by the model's own schema, and
    every optional query parameter's without a `null` branch (_never_null)."""
    for route in routes:
        operation: Any = getattr((document.paths or {}).get(route.openapi_path), route.method.lower(), None)
        parameters = [
            parameter
            for parameter in (operation.parameters or [] if operation is not None else [])
            if isinstance(parameter, Parameter) and parameter.in_.value == "query"
        ]
        for model in query_models(route) if parameters else []:
            schema = model.model_json_schema()
            if "$defs" in schema:  # a nested model would need its definitions in components
                raise TypeError(f"{model.__name__}: a query model holds scalars and lists of scalars only")
            for parameter in parameters:
                field = schema["properties"].get(parameter.name)
                if field is not None:
                    parameter.schema_ = Schema.model_validate(field)
        for parameter in parameters:
            if isinstance(parameter.schema_, Schema):
                parameter.schema_ = _never_null(parameter.schema_)
    return document
