"""Problem details (RFC 9457): the one place where domain errors (and Powertools' validation and
idempotency errors) become HTTP responses."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from session_store import codec, errors, names

logger = Logger(service=names.SERVICE_NAME)

RETRY_AFTER_HEADER = "Retry-After"
# The detail of a request that fails the API's schema (the `errors` list names each field).
SCHEMA_MISMATCH = "the request does not match the API's schema"
# The name of a handler's query-model parameter (`query: Annotated[XxxQuery, Query()]`). Powertools
# puts it in each error's location (query.query.limit); clients see the field alone (limit), as for
# any other parameter, and `query` for a rule across fields of the query.
QUERY_MODEL_PARAMETER = "query"
# How long a client should wait before retrying a request whose first attempt is still running:
# about one write's worth of DynamoDB retries.
IN_PROGRESS_RETRY_AFTER_SECONDS = 1


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    errors_list: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body: dict[str, Any] = {
        "type": names.PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors_list is not None:
        body["errors"] = errors_list
    return Response(
        status_code=status, content_type=names.PROBLEM_CONTENT_TYPE, body=codec.dumps(body), headers=headers or {}
    )


def _retry_later(status: int, title: str, detail: str, slug: str, seconds: int) -> Response[str]:
    return problem(status, title, detail, slug, headers={RETRY_AFTER_HEADER: str(seconds)})


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    def _domain_error(error: errors.SessionStoreError) -> Response[str]:
        headers = {}
        retry_after = getattr(error, "retry_after_seconds", None)
        if retry_after is not None:
            headers[RETRY_AFTER_HEADER] = str(retry_after)
            logger.warning("retry later", extra={"status": error.status, "detail": error.detail})
        return problem(error.status, error.title, error.detail, error.slug, error.errors, headers)

    def _invalid_request(error: RequestValidationError) -> Response[str]:
        if any(entry.get("type") == "json_invalid" for entry in error.errors()):
            return problem(
                400, "Malformed JSON", "the request body is not valid JSON", "malformed-json", describe(error.errors())
            )
        return problem(
            422,
            errors.ValidationFailed.title,
            SCHEMA_MISMATCH,
            errors.ValidationFailed.slug,
            describe(error.errors()),
        )

    def _no_route(_: NotFoundError) -> Response[str]:
        return problem(404, "Not found", "no such route", "no-route")

    def _unexpected(error: Exception) -> Response[str]:
        # Never a stack trace to the client; the log has it, under the request's correlation id.
        if type(error).__name__ == "RequestUnsupportedContentType":
            return problem(415, "Unsupported media type", "send application/json", "unsupported-media-type")
        idempotency_problem = _idempotency_problem(error)
        if idempotency_problem is not None:
            return idempotency_problem
        logger.exception("unexpected error")
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged", "internal-error")

    # Registered by calling Powertools' decorators: they are unannotated, and as `@` syntax they
    # would make mypy see the handlers above as untyped.
    app.exception_handler(errors.SessionStoreError)(_domain_error)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.not_found(_no_route)
    app.exception_handler(Exception)(_unexpected)


# Powertools' idempotency errors are mapped without importing them here: that package imports
# boto3, which a handler's import (its cold start) must not load (see entrypoint.py). If the package was
# never loaded, none of its errors can have been raised.
_IDEMPOTENCY_ERRORS = "aws_lambda_powertools.utilities.idempotency.exceptions"


def _idempotency_problem(error: Exception) -> Response[str] | None:
    powertools = sys.modules.get(_IDEMPOTENCY_ERRORS)
    if powertools is None:
        return None
    if isinstance(error, powertools.IdempotencyValidationError):
        conflict = errors.IdempotencyConflict
        return problem(
            conflict.status,
            conflict.title,
            "this Idempotency-Key was first used with another request (method, path, query, "
            "preconditions or body); use a new key for a new request",
            conflict.slug,
        )
    if isinstance(error, powertools.IdempotencyAlreadyInProgressError):
        return _retry_later(
            409,
            "Request in progress",
            "a request with this Idempotency-Key is still being processed; retry it later",
            "idempotency-request-in-progress",
            IN_PROGRESS_RETRY_AFTER_SECONDS,
        )
    if isinstance(error, powertools.IdempotencyPersistenceLayerError) and _is_unavailable(error.__cause__):
        # Powertools wraps what the record store raised: DynamoDB out of reach or throttling, or no
        # time left in the invocation for the call (runtime.py), is a 503 like on any other path
        # (anything else is a bug, a 500).
        unavailable = errors.ServiceUnavailable("the idempotency records are out of reach; retry")
        logger.warning("idempotency store unavailable", extra={"cause": repr(error.__cause__)})
        return _retry_later(
            unavailable.status, unavailable.title, unavailable.detail, unavailable.slug, unavailable.retry_after_seconds
        )
    return None


def _is_unavailable(error: BaseException | None) -> bool:
    if isinstance(error, errors.ServiceUnavailable):
        return True
    botocore = sys.modules.get("botocore.exceptions")  # loaded if it raised anything
    return botocore is not None and isinstance(error, (botocore.BotoCoreError, botocore.ClientError))


def describe(entries: Iterable[Mapping[str, Any]], location: str | None = None) -> list[dict[str, Any]]:
    """Pydantic errors as the problem's `errors` list: one entry per offending field. Without a
    `location`, each error's own comes first in its `loc` (Powertools: `body`, `query`, `path`)."""
    described = []
    for entry in entries:
        parts = [str(part) for part in entry.get("loc", ())]
        where = location if location is not None else (parts.pop(0) if parts else "body")
        if where == "query" and parts[:1] == [QUERY_MODEL_PARAMETER] and len(parts) > 1:
            parts.pop(0)
        described.append({"field": ".".join(parts) or where, "location": where, "message": entry.get("msg", "invalid")})
    return described
