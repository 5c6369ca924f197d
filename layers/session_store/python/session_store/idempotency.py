"""`Idempotency-Key` on writes: a retried request gets the first response, and nothing is written twice.

Powertools' idempotency utility keeps one record per key in the session table itself:

- key: pk `IDEMPOTENCY#`, sk `request#<sha256 of (caller, Idempotency-Key)>`. The records share one
  partition key, so they never mix with a session's item collection, carry no index attribute
  (every list index is sparse: they never appear in a list), and no `entity` the stream cascade
  acts on. DynamoDB splits a busy partition on the sort key, and these sort keys are uniform hashes.
- `expires_at` (the table's TTL attribute) ends each record RECORD_SECONDS after the request, so
  DynamoDB's TTL removes them; Powertools ignores a record past that time even before TTL runs.
- the request is fingerprinted as method, path, query, preconditions, a SHA-256 of the body and
  the caller: the same key with another fingerprint is refused (422, see http/problems.py), the same key
  while the first request still runs is a 409, and the same request replays the stored Outcome.

A request without the header costs nothing extra: no record is read or written. Only successes
are recorded: when the write fails (a 4xx, a 503), Powertools deletes the in-progress record, so a
retry runs the request again, which is safe because the failed attempt wrote nothing.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, cast

from aws_lambda_powertools.event_handler.openapi.params import Header

from session_store import auth, names, runtime
from session_store.settings import current_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.serialization.base import BaseIdempotencySerializer

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# The Idempotency-Key header as a write handler declares it (Powertools validates and documents it).
KeyHeader = Annotated[str | None, Header(min_length=1, max_length=MAX_KEY_LENGTH)]
# Retries of one request come within seconds to minutes; an hour covers a client's whole backoff
# schedule and an operator re-running a failed batch, and bounds what the table keeps.
RECORD_SECONDS = 3600
# The sort key's prefix (Powertools' "function name"): one namespace for every write route, so a
# key reused on another route is recognised as a different request instead of running it too.
KEY_PREFIX = "request"
# Bodies up to this size are stored as text (readable in the console); larger ones gzipped.
_PLAIN_BODY_CHARS = 4 * 1024
# A record must fit a 400 KB item with its keys, hashes and status. A body that does not fit even
# gzipped is replayed from a fresh read instead (see once()).
_MAX_STORED_BODY_CHARS = 300 * 1024


@dataclass(frozen=True)
class Outcome:
    """What a write answered, in a form an Idempotency-Key record can store and replay.

    `body` is the JSON text exactly as first sent (None: no body, or one the handler rebuilds from
    the request, which a replay carries unchanged).
    """

    status: int
    version: int | None = None
    body: str | None = None
    replayed: bool = False


class _OutcomeSerializer:
    """Outcome <-> the record's stored response: Powertools' BaseIdempotencySerializer interface
    (to_dict / from_dict), not subclassed so that importing this module does not import Powertools'
    idempotency package, and with it boto3 (handlers import this module; see entrypoint.py)."""

    def to_dict(self, data: Outcome) -> dict[str, Any]:
        stored: dict[str, Any] = {"status": data.status, "version": data.version}
        body = data.body
        if body is None:
            return stored
        if len(body) <= _PLAIN_BODY_CHARS:
            stored["body"] = body
            return stored
        packed = base64.b64encode(gzip.compress(body.encode(), mtime=0)).decode("ascii")
        if len(packed) <= _MAX_STORED_BODY_CHARS:
            stored["body_gzip"] = packed
        else:
            stored["body_omitted"] = True
        return stored

    def from_dict(self, data: dict[str, Any]) -> Outcome:
        body = data.get("body")
        if "body_gzip" in data:
            body = gzip.decompress(base64.b64decode(data["body_gzip"])).decode()
        outcome = Outcome(status=data["status"], version=data.get("version"), body=body, replayed=True)
        return _OmittedBody(outcome) if data.get("body_omitted") else outcome


class _OmittedBody(Outcome):
    """A replayed Outcome whose body was too large to keep in its record."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status, outcome.version, None, True)


_SERIALIZER = _OutcomeSerializer()


@lru_cache(maxsize=8)
def _store(table_name: str, endpoint: str | None) -> Any:
    """One persistence layer per table (tests switch tables), on a client configured like the
    repository's: same timeouts and retries, so a DynamoDB outage looks the same on both paths."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=names.PARTITION_KEY,
        sort_key_attr=names.SORT_KEY,
        static_pk_value=names.IDEMPOTENCY_PREFIX,
        expiry_attr=names.TTL_ATTRIBUTE,
        in_progress_expiry_attr="in_progress_expires_at_ms",
        status_attr="idempotency_status",
        data_attr="response",
        validation_key_attr="request_sha256",
        boto3_client=runtime.aws_client("dynamodb", endpoint),
    )


def fingerprint(event: Any, key: str) -> dict[str, Any]:
    """What identifies the request (`scope`: who and which key) and what must match on a retry
    (`request`). The body is hashed here: Powertools copies and serializes what it is given."""
    raw = getattr(event, "raw_event", event)
    body = raw.get("body") or ""
    query = raw.get("multiValueQueryStringParameters") or {}
    headers = {name.lower(): value for name, value in (raw.get("headers") or {}).items()}
    return {
        "scope": {"caller": auth.principal(event), "key": key},
        "request": {
            "method": raw.get("httpMethod"),
            "path": raw.get("path"),
            "query": sorted((name, value) for name, values in query.items() for value in values or ()),
            "if_match": headers.get("if-match"),
            "if_none_match": headers.get("if-none-match"),
            "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
            "body_base64": bool(raw.get("isBase64Encoded")),
        },
    }


def once(
    router: Any,
    key: str | None,
    write: Callable[[], Outcome],
    reread_body: Callable[[], str] | None = None,
) -> Outcome:
    """Run `write` once per Idempotency-Key; without a key just run it.

    `router` is the handler's Powertools router (its current event and Lambda context).
    `reread_body` rebuilds a body too large for the record (see _MAX_STORED_BODY_CHARS); a route
    whose body is never stored (it is rebuilt from the request) needs none.
    """
    if key is None:
        return write()
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    settings = current_settings()
    config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="request",
        expires_after_seconds=RECORD_SECONDS,
        hash_function="sha256",
        # The in-progress record lapses when this invocation would time out, so a retry after a
        # crash runs again instead of waiting for RECORD_SECONDS.
        lambda_context=getattr(router, "lambda_context", None),
    )
    run = idempotent_function(
        _run_write,
        data_keyword_argument="request",
        persistence_store=_store(settings.table_name, settings.dynamodb_endpoint),
        config=config,
        # Duck-typed (see _OutcomeSerializer): Powertools only calls to_dict and from_dict on it.
        output_serializer=cast("BaseIdempotencySerializer", _SERIALIZER),
        key_prefix=KEY_PREFIX,
    )
    # Powertools' wrapper returns Any: _run_write's Outcome, or on a replay the serializer's.
    outcome: Outcome = run(request=fingerprint(router.current_event, key), write=write)
    if isinstance(outcome, _OmittedBody):
        return Outcome(outcome.status, outcome.version, reread_body() if reread_body else None, replayed=True)
    return outcome


def _run_write(request: dict[str, Any], write: Callable[[], Outcome]) -> Outcome:
    del request  # hashed by Powertools; the write has everything it needs
    return write()


# --- what a stored record holds of a user (the erasure's idempotency step reads these) ---------------
def response_user_id(record: dict[str, Any]) -> str | None:
    """The `user_id` of the session a record's stored response holds, if it holds one."""
    stored = record.get("response", {}).get("S")
    if not stored:
        return None
    try:
        outcome = _SERIALIZER.from_dict(json.loads(stored))
        body = json.loads(outcome.body) if outcome.body else None
    except (ValueError, KeyError, TypeError):
        return None
    user = body.get("user_id") if isinstance(body, dict) else None
    return user if isinstance(user, str) else None


def recorded_at(record: dict[str, Any]) -> int:
    """When the request was recorded (Unix seconds): its expiry less RECORD_SECONDS."""
    expiry = record.get(names.TTL_ATTRIBUTE, {}).get("N")
    return int(expiry) - RECORD_SECONDS if expiry else 0
