"""AgentOS's ``/config`` without the domains this db does not serve.

AgentOS 3.1 lists every db of the app under every domain of ``/config`` (learning, evals, metrics,
traces), whatever the db holds: its ``_get_*_config`` methods have no hook, and a db named in
``AgentOSConfig`` is still listed. A ``SessionStoreDb`` without ``fallback=`` serves only sessions,
runs and memories, so the UI would offer pages that are always empty. ``without_unserved_domains``
rewrites the ``/config`` answer of an AgentOS app (a public FastAPI middleware, not a patch of agno's
private methods) so those domains list only the dbs that serve them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # AgentOS's app; fastapi comes with the agentos extra, not with the client
    from fastapi import FastAPI

# The /config sections served only through a fallback db (sessions and memories are the store's own).
FALLBACK_DOMAINS = ("learning", "evals", "metrics", "traces")


def unserved_db_ids(dbs: Iterable[Any]) -> set[str]:
    """Ids of the store's adapters that have no fallback to serve the other domains."""
    from session_store_client.agno.async_db import AsyncSessionStoreDb
    from session_store_client.agno.db import SessionStoreDb

    return {db.id for db in dbs if isinstance(db, (SessionStoreDb, AsyncSessionStoreDb)) and db.fallback is None}


def strip_unserved_domains(config: dict[str, Any], db_ids: set[str]) -> dict[str, Any]:
    for domain in FALLBACK_DOMAINS:
        section = config.get(domain)
        if isinstance(section, dict) and isinstance(section.get("dbs"), list):
            section["dbs"] = [entry for entry in section["dbs"] if entry.get("db_id") not in db_ids]
    return config


def without_unserved_domains(app: FastAPI, agent_os: Any) -> FastAPI:
    """``app = without_unserved_domains(agent_os.get_app(), agent_os)``: the same app, its ``/config``
    advertising learning, evals, metrics and traces only for dbs that serve them."""
    from starlette.responses import Response

    db_ids = unserved_db_ids(db for dbs in agent_os.dbs.values() for db in dbs)
    if agent_os.db is not None:
        db_ids |= unserved_db_ids([agent_os.db])

    @app.middleware("http")
    async def _config_without_unserved_domains(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        if request.method != "GET" or request.url.path.rstrip("/") != "/config" or response.status_code != 200:
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])
        config = strip_unserved_domains(json.loads(body), db_ids)
        headers = {key: value for key, value in response.headers.items() if key.lower() != "content-length"}
        return Response(json.dumps(config), status_code=200, headers=headers, media_type="application/json")

    return app
