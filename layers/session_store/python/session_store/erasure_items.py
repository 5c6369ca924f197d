"""An erasure as items of the table: the job (its receipt and where the worker resumes) and the
user's "latest erasure" marker that reads consult. Keys and attributes are defined here only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from session_store import keys, names
from session_store.items import n, number, s

# A finished erasure's receipt stays readable this long, then DynamoDB's TTL removes it.
RECEIPT_SECONDS = 90 * 86_400


@dataclass
class ErasureJob:
    """One erasure: what the receipt shows, and where the worker resumes (step, cursor)."""

    user_id: str
    erasure_id: str
    status: str  # running | done | failed
    cutoff: int  # sessions whose incarnation began at or before this second are erased
    started_at: int
    finished_at: int | None = None
    step: int = 0  # index into erasure.STEPS
    cursor: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seq: int = 0  # +1 on every save: a stream record is acted on only if it is the latest
    failures: int = 0
    last_error: str | None = None

    def receipt(self) -> dict[str, Any]:
        return {
            "erasure_id": self.erasure_id,
            "user_id": self.user_id,
            "status": self.status,
            "counts": dict(self.counts),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def erasure_pk(user_id: str) -> str:
    return f"{names.ERASURE_PREFIX}{keys.bounded(user_id)}"


def job_key(user_id: str, erasure_id: str) -> dict[str, Any]:
    return {names.PARTITION_KEY: s(erasure_pk(user_id)), names.SORT_KEY: s(names.ERASURE_JOB_PREFIX + erasure_id)}


def latest_key(user_id: str) -> dict[str, Any]:
    return {names.PARTITION_KEY: s(erasure_pk(user_id)), names.SORT_KEY: s(names.ERASURE_LATEST_SK)}


def job_item(job: ErasureJob) -> dict[str, Any]:
    item: dict[str, Any] = {
        **job_key(job.user_id, job.erasure_id),
        "entity": s(names.ENTITY_ERASURE),
        "user_id": s(job.user_id),
        "erasure_id": s(job.erasure_id),
        "status": s(job.status),
        "cutoff": n(job.cutoff),
        "started_at": n(job.started_at),
        "step": n(job.step),
        "seq": n(job.seq),
        "failures": n(job.failures),
        # JSON text, like every other structured value in the table (readable in the console).
        "counts": s(json.dumps(job.counts, sort_keys=True)),
        "cursor": s(json.dumps(job.cursor)),
    }
    if job.finished_at is not None:
        item["finished_at"] = n(job.finished_at)
        item[names.TTL_ATTRIBUTE] = n(job.finished_at + RECEIPT_SECONDS)
    if job.last_error:
        item["last_error"] = s(job.last_error[:1000])
    return item


def job_from_item(item: dict[str, Any]) -> ErasureJob:
    return ErasureJob(
        user_id=item["user_id"]["S"],
        erasure_id=item["erasure_id"]["S"],
        status=item["status"]["S"],
        cutoff=number(item, "cutoff") or 0,
        started_at=number(item, "started_at") or 0,
        finished_at=number(item, "finished_at"),
        step=number(item, "step") or 0,
        cursor=json.loads(item["cursor"]["S"]) if "cursor" in item else None,
        counts=json.loads(item["counts"]["S"]) if "counts" in item else {},
        seq=number(item, "seq") or 0,
        failures=number(item, "failures") or 0,
        last_error=item.get("last_error", {}).get("S"),
    )


def latest_item(job: ErasureJob) -> dict[str, Any]:
    item = {
        **latest_key(job.user_id),
        "erasure_id": s(job.erasure_id),
        "status": s(job.status),
        "cutoff": n(job.cutoff),
    }
    if job.finished_at is not None:
        # Once done, nothing of the user older than the cutoff is left for reads to hide.
        item[names.TTL_ATTRIBUTE] = n(job.finished_at + RECEIPT_SECONDS)
    return item


@dataclass(frozen=True)
class Latest:
    """A user's newest erasure, as reads consult it."""

    erasure_id: str
    status: str
    cutoff: int


def latest_from_item(item: dict[str, Any]) -> Latest:
    return Latest(item["erasure_id"]["S"], item["status"]["S"], int(item["cutoff"]["N"]))
