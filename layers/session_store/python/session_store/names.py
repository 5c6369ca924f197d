"""Every name that more than one part of the system uses, defined once.

The handlers, the CDK stack, the local runtime and the tests import these; none of them spells a
key prefix, an index name or an environment variable on its own.
"""

from __future__ import annotations

from typing import Literal, get_args

# --- Table -----------------------------------------------------------------------------------
DEFAULT_TABLE_NAME = "agno_sessions"
PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"

# Key prefixes. An id is always escaped (see keys.escape) before it is joined with these.
SESSION_PREFIX = "SESSION#"
SESSION_META_SK = "META"
RUN_PREFIX = "RUN#"
RUN_LOOKUP_PREFIX = "RUNID#"
# The partition of a run id in the run-id index (table.RUN_INDEX): RUNID#<bounded run id>.
RUN_INDEX_PREFIX = "RUNID#"
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"
# A user's erasures (see erasure.py): pk ERASURE#<escaped user id>; sk LATEST (the newest erasure:
# what reads consult, and the lock that makes DELETE /users/{id} idempotent) or JOB#<erasure id>.
ERASURE_PREFIX = "ERASURE#"
ERASURE_LATEST_SK = "LATEST"
ERASURE_JOB_PREFIX = "JOB#"
# Export files staged in the payload bucket when they do not fit in a response (exports.py).
EXPORT_OBJECT_PREFIX = "exports/"
USER_PREFIX = "USER#"
TYPE_PREFIX = "TYPE#"
COMPONENT_PREFIX = "COMPONENT#"
KEY_SEPARATOR = "#"
# User memories (Agno's UserMemory): one item per memory, listed through the same indexes as
# sessions under partitions of their own (see memory_items.py).
MEMORY_PREFIX = "MEMORY#"
MEMORY_META_SK = "META"
MEMORY_USER_PREFIX = "MEMUSER#"
MEMORY_ALL_PREFIX = "MEMALL#"

# Item kinds, stored in the `entity` attribute so the console shows what each item is.
ENTITY_SESSION = "session"
ENTITY_RUN = "run"
ENTITY_RUN_LOOKUP = "run_lookup"
ENTITY_ERASURE = "erasure"  # an erasure job: its stream records drive the erasure worker
ENTITY_MEMORY = "memory"

# The write shards of the all-sessions-of-a-type index: enough to spread a busy type over several
# partitions, few enough that a list reads at most len(models.SESSION_TYPES) * TYPE_SHARDS short queries.
TYPE_SHARDS = 4

# --- Environment variables of the functions ---------------------------------------------------
ENV_TABLE_NAME = "SESSION_TABLE_NAME"
ENV_RETENTION_DAYS = "RETENTION_DAYS"
ENV_MEMORY_RETENTION_DAYS = "MEMORY_RETENTION_DAYS"
ENV_PAYLOAD_BUCKET = "PAYLOAD_BUCKET_NAME"
ENV_CURSOR_KEY = "CURSOR_SIGNING_KEY"
ENV_DYNAMODB_ENDPOINT = "DYNAMODB_ENDPOINT_URL"  # local runtime and tests only
ENV_S3_ENDPOINT = "S3_ENDPOINT_URL"  # local runtime and tests only
# How long one AWS call may wait for an answer (settings.py: 2 s when unset). The local runtime and
# the tests set more: there DynamoDB Local shares a loaded machine and may pause for seconds.
ENV_AWS_READ_TIMEOUT = "AWS_READ_TIMEOUT_SECONDS"
ENV_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
# "iam" (default: SigV4 at API Gateway, user_id is what the caller says) or "jwt" (the user is the
# token's subject, see auth.py).
ENV_AUTH_MODE = "AUTH_MODE"
# The values of ENV_AUTH_MODE and of the CDK context key "auth". "none" is the CDK app's dev-only
# mode: API Gateway checks no identity at all, and the functions then behave as under "iam".
AuthMode = Literal["iam", "jwt", "none"]
AUTH_MODES: tuple[AuthMode, ...] = get_args(AuthMode)
AUTH_IAM, AUTH_JWT, AUTH_NONE = AUTH_MODES

# The principal DynamoDB's TTL service writes into a stream record's userIdentity when it expires
# an item (the cascade tells expiries from deletions by it; the local runtime stamps it).
TTL_PRINCIPAL = "dynamodb.amazonaws.com"

# Emitted by the erasure worker when a job fails for good (the stack alarms on it).
ERASURE_FAILED_METRIC = "ErasuresFailed"

SERVICE_NAME = "session-store"
METRICS_NAMESPACE = "SessionStore"
DEFAULT_RETENTION_DAYS = 30
# Memories are what an agent learned about a user: kept until deleted unless a stack sets a window.
DEFAULT_MEMORY_RETENTION_DAYS = 0

# --- HTTP --------------------------------------------------------------------------------------
REQUEST_ID_HEADER = "X-Request-Id"
PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem `type`s are relative URI references under this path (the project owns no domain name);
# each is listed and explained in the OpenAPI document (http.PROBLEM_TYPES).
PROBLEM_TYPE_BASE = "/problems/"
# API Gateway's message for a request whose Lambda invoke failed as too large (status 413): the
# stack's DEFAULT_4XX gateway response recognises it, the local runtime gives it.
GATEWAY_LAMBDA_TOO_LARGE_MESSAGE = "Request Too Long"
NDJSON_CONTENT_TYPE = "application/x-ndjson"
# GET /sessions?include_runs=true: a listed session carries its runs when it has at most this many;
# a bigger one carries none (the client reads it on its own), so a page stays a bounded number of reads.
MAX_LISTED_RUNS_PER_SESSION = 20
# The read bound of a list page. GET /sessions stops reading once it has passed over this many
# sessions it cannot list (erased, expired, deleted, filtered out) and what it holds fits on the
# page; GET /memories reads at most this many memories. Either then answers with what it has and a
# cursor that continues after the last index entry it read. Five BatchGetItems: well inside a
# function's deadline even on a loaded DynamoDB Local, where an unbounded page behind a large
# erasure ran past it (docs/design.md).
MAX_LIST_PAGE_READS = 500
# GET /runs/{run_id} considers at most this many sessions holding a run with that id (run ids are
# the client's: agno's are uuid4s, each held by one session; one BatchGetItem reads 100 sessions);
# more is a 422 asking for the session.
MAX_RUN_ID_HOLDERS = 100
