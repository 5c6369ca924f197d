"""agno integration: ``Agent(db=SessionStoreDb(base_url=...))``. Needs the ``agno`` extra."""

from session_store_client.agno.db import SessionStoreDb

__all__ = ["SessionStoreDb"]
