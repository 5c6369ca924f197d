"""Large updates (no I/O here): an update of an existing session too large for one transaction is
written under a new incarnation (every run of the session, the update's applied) and published by one update of the
session item that switches to it. While it is written, the session carries a lease that every
other write waits for (they retry, then answer 503 with Retry-After), so nothing changes under it.
"""

from __future__ import annotations

from typing import Any

from session_store import items, keys, names
from session_store.expressions import Expression, all_of
from session_store.items import StoredSession
from session_store.payloads import PayloadStore
from session_store.writes import LEASE_TOKEN_ATTRIBUTE, LEASE_UNTIL_ATTRIBUTE, lease_free, unchanged_since_read

# Longer than an API function may run (API Gateway ends a request at 29 s): a writer that dies
# holds the session at most this long.
LEASE_SECONDS = 60


def take_lease(before: StoredSession, token: str, now: int, if_match: int | None) -> dict[str, Any]:
    """UpdateItem arguments taking the session's lease, if it is still what the update read."""
    expression = Expression()
    update = (
        f"SET {expression.name(LEASE_TOKEN_ATTRIBUTE)} = {expression.value(items.s(token))}, "
        f"{expression.name(LEASE_UNTIL_ATTRIBUTE)} = {expression.value(items.n(now + LEASE_SECONDS))}"
    )
    condition = all_of(
        *unchanged_since_read(expression, before),
        expression.equals_or_absent("version", items.n(before.version)),
        expression.equals_or_absent("version", items.n(if_match)) if if_match is not None else None,
        lease_free(expression, now),
    )
    return {
        "Key": items.session_key(before.session_id),
        **expression.arguments(UpdateExpression=update, ConditionExpression=condition),
    }


def release_lease(session_id: str, token: str) -> dict[str, Any]:
    """UpdateItem arguments releasing the lease, if it is still `token`'s."""
    expression = Expression()
    update = f"REMOVE {expression.name(LEASE_TOKEN_ATTRIBUTE)}, {expression.name(LEASE_UNTIL_ATTRIBUTE)}"
    condition = expression.equals_or_absent(LEASE_TOKEN_ATTRIBUTE, items.s(token))
    return {
        "Key": items.session_key(session_id),
        **expression.arguments(UpdateExpression=update, ConditionExpression=condition),
    }


def lease_held(session_id: str, token: str) -> dict[str, Any]:
    """A transaction's check that the lease is still `token`'s: a writer that lost it stops."""
    expression = Expression()
    condition = expression.equals_or_absent(LEASE_TOKEN_ATTRIBUTE, items.s(token))
    return {
        "ConditionCheck": {"Key": items.session_key(session_id), **expression.arguments(ConditionExpression=condition)}
    }


def rebuilt_runs(
    session_id: str,
    incarnation: str,
    existing: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    new_order_ids: list[str],
    payloads: PayloadStore,
) -> tuple[list[list[dict[str, Any]]], int]:
    """Operations writing every run of the session under `incarnation`: the existing run items in
    their order (replaced by `runs` where run_ids match, else copied), then the new runs; with
    their lookups. Returns the groups and the number of runs."""
    sent = {run["run_id"]: run for run in runs}
    order_ids = iter(new_order_ids)
    groups: list[list[dict[str, Any]]] = []
    for item in existing:
        run_id = item["run_id"]["S"]
        order_id = item[names.SORT_KEY]["S"].rsplit(names.KEY_SEPARATOR, 1)[1]
        run_sk = keys.run_sk(incarnation, order_id)
        if run_id in sent:
            run = sent.pop(run_id)
            copied = items.run_item(session_id, run_sk, run, payloads.encode_run(session_id, run_sk, run))
        else:
            copied = {**item, names.SORT_KEY: items.s(run_sk), **payloads.copy_payload(session_id, run_sk, item)}
        groups.append(
            [
                {"Put": {"Item": copied}},
                {"Put": {"Item": items.run_lookup_item(session_id, incarnation, run_id, run_sk)}},
            ]
        )
    for run in sent.values():
        run_sk = keys.run_sk(incarnation, next(order_ids))
        groups.append(
            [
                {
                    "Put": {
                        "Item": items.run_item(session_id, run_sk, run, payloads.encode_run(session_id, run_sk, run))
                    }
                },
                {"Put": {"Item": items.run_lookup_item(session_id, incarnation, run["run_id"], run_sk)}},
            ]
        )
    return groups, len(groups)
