"""The HTTP routes and the function that serves each, defined once.

The handlers register their route from here, the stack builds API Gateway resources and methods
from here, and the local runtime finds them again in the synthesized template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: /sessions/{session_id}
    function: str  # module under functions/handlers/ and the function's logical name
    summary: str
    writes: bool = False  # whether the function may write to the table

    @property
    def resolver_path(self) -> str:
        """The same path in Powertools' resolver syntax: /sessions/<session_id>."""
        return _PATH_PARAMETER.sub(r"<\1>", self.path)

    @property
    def tag(self) -> str:
        """The OpenAPI tag grouping the operation in /docs: "runs" for run routes, else "sessions"."""
        return "runs" if "/runs" in self.path else "sessions"

    @property
    def handler(self) -> str:
        return f"handlers.{self.function}.lambda_handler"

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAMETER.findall(self.path))


# `?user_id=` on a write route: the owner the caller expects the session to have.
OWNER_QUERY_DESCRIPTION = (
    "The owner the caller expects: if the session (as this write leaves it) belongs to another user, "
    "the write is refused with 403 and changes nothing"
)

SESSION = "/sessions/{session_id}"
RUNS = "/sessions/{session_id}/runs"
RUN = "/sessions/{session_id}/runs/{run_id}"
# A run by its id alone (agno's get_run(run_id) names no session): found through the run-id index.
RUN_BY_ID = "/runs/{run_id}"
USER = "/users/{user_id}"
ERASURE = "/users/{user_id}/erasures/{erasure_id}"
EXPORT = "/users/{user_id}/export"

PUT_SESSION = Route("PUT", SESSION, "put_session", "Create or update a session (upsert)", writes=True)
GET_SESSION = Route("GET", SESSION, "get_session", "Read a session with its runs")
PATCH_SESSION = Route("PATCH", SESSION, "patch_session", "JSON Merge Patch of a session", writes=True)
DELETE_SESSION = Route("DELETE", SESSION, "delete_session", "Delete a session and its runs", writes=True)
LIST_SESSIONS = Route("GET", "/sessions", "list_sessions", "List sessions")
PUT_RUN = Route("PUT", RUN, "put_run", "Create or replace one run", writes=True)
LIST_RUNS = Route("GET", RUNS, "list_runs", "Page through a session's runs")
GET_RUN = Route("GET", RUN, "get_run", "Read one run")
DELETE_RUN = Route("DELETE", RUN, "delete_run", "Delete one run", writes=True)
GET_RUN_BY_ID = Route("GET", RUN_BY_ID, "get_run_by_id", "Find one run by its id, in whichever session holds it")
ERASE_USER = Route("DELETE", USER, "erase_user", "Erase all of a user's data (asynchronously)", writes=True)
GET_ERASURE = Route("GET", ERASURE, "get_erasure", "The receipt of a user's erasure")
EXPORT_USER = Route("GET", EXPORT, "export_user", "All of a user's data as JSON Lines")
MEMORY = "/memories/{memory_id}"
PUT_MEMORY = Route("PUT", MEMORY, "put_memory", "Create or replace a user memory", writes=True)
GET_MEMORY = Route("GET", MEMORY, "get_memory", "Read a user memory")
DELETE_MEMORY = Route("DELETE", MEMORY, "delete_memory", "Delete a user memory", writes=True)
LIST_MEMORIES = Route("GET", "/memories", "list_memories", "List user memories")
DELETE_MEMORIES = Route("POST", "/memory-deletions", "delete_memories", "Delete many user memories", writes=True)
MEMORY_TOPICS = Route("GET", "/memory-topics", "memory_topics", "The topics of user memories")
MEMORY_STATS = Route("GET", "/memory-stats", "memory_stats", "Per-user memory counts")
OPENAPI_DOCUMENT = Route("GET", "/openapi.json", "api_docs", "The OpenAPI 3 document")
SWAGGER_UI = Route("GET", "/docs", "api_docs", "Swagger UI")

ROUTES: tuple[Route, ...] = (
    PUT_SESSION,
    GET_SESSION,
    PATCH_SESSION,
    DELETE_SESSION,
    LIST_SESSIONS,
    PUT_RUN,
    LIST_RUNS,
    GET_RUN,
    DELETE_RUN,
    GET_RUN_BY_ID,
    ERASE_USER,
    GET_ERASURE,
    EXPORT_USER,
    PUT_MEMORY,
    GET_MEMORY,
    DELETE_MEMORY,
    LIST_MEMORIES,
    DELETE_MEMORIES,
    MEMORY_TOPICS,
    MEMORY_STATS,
    OPENAPI_DOCUMENT,
    SWAGGER_UI,
)

# Functions that are not behind a route.
CASCADE_FUNCTION = "cascade"
CASCADE_HANDLER = f"handlers.{CASCADE_FUNCTION}.lambda_handler"
ERASURE_FUNCTION = "erasure_worker"
ERASURE_HANDLER = f"handlers.{ERASURE_FUNCTION}.lambda_handler"


def functions() -> dict[str, tuple[Route, ...]]:
    """Each API function and the routes it serves (api_docs serves two)."""
    served: dict[str, tuple[Route, ...]] = {}
    for route in ROUTES:
        served[route.function] = (*served.get(route.function, ()), route)
    return served
