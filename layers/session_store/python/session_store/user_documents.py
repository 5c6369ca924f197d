"""Response documents of the user routes, for the OpenAPI document (light: handlers import it)."""

from __future__ import annotations

from pydantic import BaseModel


class ErasureStarted(BaseModel):
    """The 202 of DELETE /users/{user_id} (documented in the OpenAPI document)."""

    erasure_id: str
    status: str


class ErasureReceipt(BaseModel):
    erasure_id: str
    user_id: str
    status: str  # running | done | failed
    counts: dict[str, int]  # items deleted, per kind
    started_at: int
    finished_at: int | None
