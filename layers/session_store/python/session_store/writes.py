"""Turns one upsert into DynamoDB transactions (no I/O here).

A session item plus one item per run and a small lookup item per run_id (run_id -> the run's
time-ordered sort key), so appending a run writes only that run and replacing one keeps its place.
Transactions hold at most 100 items and 4 MB: a larger write is split. A new session's runs are
written first and the session item that makes them visible comes last; a larger update of an
existing session is written whole under a new incarnation and published by one session update
(large_updates.py). Either way readers see all of a write or none of it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from session_store import items, keys, names
from session_store.expressions import Expression, all_of
from session_store.items import StoredSession
from session_store.models import ID_FIELDS, OBJECT_FIELDS
from session_store.payloads import PayloadStore
from session_store.table import UPDATED_INDEX_SLACK_SECONDS

MAX_TRANSACTION_ITEMS = 100
# Below DynamoDB's 4 MB transaction limit, with room for keys, names and expression text.
MAX_TRANSACTION_BYTES = 3_500_000
# Fields whose values place a session in the list indexes: a write is conditioned on them being
# what it read, so a concurrent change to any of them makes the write retry, never mis-index.
INDEXED_FIELDS = ("session_type", *ID_FIELDS)


def _put(item: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
    expression = Expression()
    text = condition.format(pk=expression.name(names.PARTITION_KEY)) if condition else None
    return {"Put": {"Item": item, **expression.arguments(ConditionExpression=text)}}


def with_index_time(before: StoredSession | None, after: StoredSession, now: int) -> StoredSession:
    """`after` with its updated-at index entries' time: moved to `now` when the session is new,
    when they are UPDATED_INDEX_SLACK_SECONDS old, or when the expiry stops sliding or changes
    otherwise than by sliding (a pinned or never-expiring session's entries hold its exact expiry);
    else kept, so the write touches no index (docs/design.md, "Turn cost")."""
    if before is None:
        return replace(after, indexed_at=now, indexed_expires_at=after.expires_at)
    moves = (
        now - before.indexed_at >= UPDATED_INDEX_SLACK_SECONDS
        or now < before.indexed_at  # a clock behind the last move: keep indexed_at <= updated_at
        or after.expiry_policy != before.expiry_policy
        or (after.expiry_policy != "sliding" and after.expires_at != before.indexed_expires_at)
    )
    if moves:
        return replace(after, indexed_at=now, indexed_expires_at=after.expires_at)
    return replace(after, indexed_at=before.indexed_at, indexed_expires_at=before.indexed_expires_at)


def run_operations(
    session_id: str,
    incarnation: str,
    runs: list[dict[str, Any]],
    locations: dict[str, str],
    new_order_ids: list[str],
    payloads: PayloadStore,
) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """The operations writing each run (grouped per run) and the run_ids that are new."""
    grouped: list[list[dict[str, Any]]] = []
    new_run_ids: list[str] = []
    order_ids = iter(new_order_ids)
    for run in runs:
        run_id = run["run_id"]
        stored_sk = locations.get(run_id)
        run_sk = stored_sk or keys.run_sk(incarnation, next(order_ids))
        item = items.run_item(session_id, run_sk, run, payloads.encode_run(session_id, run_sk, run))
        if stored_sk is not None:
            # The run must still be there: a concurrent delete makes this write retry as an append.
            grouped.append([_put(item, "attribute_exists({pk})")])
            continue
        new_run_ids.append(run_id)
        lookup = items.run_lookup_item(session_id, incarnation, run_id, run_sk)
        # Both conditions make a concurrent first write of the same run_id retry as a replace.
        grouped.append([_put(item, "attribute_not_exists({pk})"), _put(lookup, "attribute_not_exists({pk})")])
    return grouped, new_run_ids


def session_put(session: StoredSession, replaced: StoredSession | None) -> dict[str, Any]:
    """Create the session item: it must not exist, or must still be the expired one we read."""
    expression = Expression()
    item = items.session_item(session)
    condition: str | None
    if replaced is None:
        condition = f"attribute_not_exists({expression.name(names.PARTITION_KEY)})"
    else:
        condition = all_of(
            expression.equals_or_absent("incarnation", items.s(replaced.incarnation)),
            expression.equals_or_absent("version", items.n(replaced.version)),
        )
        item[items.REPLACED_INCARNATION] = items.s(replaced.incarnation)
    return {"Put": {"Item": item, **expression.arguments(ConditionExpression=condition)}}


def session_update(
    before: StoredSession,
    after: StoredSession,
    sent_fields: set[str],
    added_runs: int,
    if_match: int | None,
    lease_token: str | None = None,
) -> dict[str, Any]:
    """Update the session item in place: SET only what this write changes, ADD the counters, so
    that concurrent writers of different fields or runs never undo each other.

    Without `lease_token` the write needs the session free of a large update's lease (below);
    with it, the write publishes that large update: it needs the lease to be its own, releases it,
    and switches the session to the incarnation the update's runs were written under."""
    expression = Expression()
    attributes = items.session_attributes(after)
    changed = {"updated_at", "expiry_policy", *items.index_attributes(after)}
    if lease_token is not None:
        changed.add("incarnation")
    changed |= {name for name in sent_fields if name in (*ID_FIELDS, *OBJECT_FIELDS, "session_type")}
    if "session_data" not in sent_fields:
        changed -= {"session_name", "session_name_lc"}
    sets, removes = [], []
    if lease_token is not None:
        # Publishing a large update switches incarnations: mark it for the cascade's stream filter,
        # as a re-creation is marked, so the old incarnation's runs are purged.
        sets.append(f"{expression.name(items.REPLACED_INCARNATION)} = {expression.value(items.s(before.incarnation))}")
    else:
        removes.append(expression.name(items.REPLACED_INCARNATION))
    for name in sorted(changed):
        value = attributes.get(name)
        if value is None:
            removes.append(expression.name(name))
        else:
            sets.append(f"{expression.name(name)} = {expression.value(value)}")
    adds = [f"{expression.name('version')} {expression.value(items.n(1))}"]
    if added_runs:
        adds.append(f"{expression.name('run_count')} {expression.value(items.n(added_runs))}")
    if lease_token is not None:
        removes += [expression.name(LEASE_TOKEN_ATTRIBUTE), expression.name(LEASE_UNTIL_ATTRIBUTE)]
    update = f"SET {', '.join(sets)} ADD {', '.join(adds)}"
    if removes:
        update += f" REMOVE {', '.join(removes)}"
    condition = all_of(
        *unchanged_since_read(expression, before),
        expression.equals_or_absent("version", items.n(if_match)) if if_match is not None else None,
        lease_free(expression, after.updated_at)
        if lease_token is None
        else expression.equals_or_absent(LEASE_TOKEN_ATTRIBUTE, items.s(lease_token)),
    )
    return {
        "Update": {
            "Key": items.session_key(after.session_id),
            **expression.arguments(UpdateExpression=update, ConditionExpression=condition),
        }
    }


def unchanged_since_read(expression: Expression, before: StoredSession) -> list[str]:
    """The session is still the incarnation read, with the owner and indexed ids read: what the
    write's ownership check and index keys were computed from."""
    before_values = {
        "session_type": items.s(before.session_type),
        **{name: items.s(before.record[name]) if before.record.get(name) else None for name in ID_FIELDS},
    }
    return [
        expression.equals_or_absent("incarnation", items.s(before.incarnation)),
        *(expression.equals_or_absent(name, before_values[name]) for name in INDEXED_FIELDS),
    ]


# A large update's lease (large_updates.py): its holder, and its expiry that every other write
# waits for.
LEASE_TOKEN_ATTRIBUTE = "lease_token"
LEASE_UNTIL_ATTRIBUTE = items.LEASE_UNTIL_ATTRIBUTE


def lease_free(expression: Expression, now: int) -> str:
    until = expression.name(LEASE_UNTIL_ATTRIBUTE)
    return f"attribute_not_exists({until}) OR {until} < {expression.value(items.n(now))}"


def operation_size(operation: dict[str, Any]) -> int:
    (body,) = operation.values()
    item = body.get("Item", {})
    size = 0
    for name, value in item.items():
        size += len(name) + sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in value.values())
    return size + 256


def chunk(groups: list[list[dict[str, Any]]], reserved: int = 1) -> list[list[list[dict[str, Any]]]]:
    """Split groups of operations (a group never splits) into transactions that fit DynamoDB's
    limits, leaving `reserved` item slots in each for the session's own operation."""
    chunks: list[list[list[dict[str, Any]]]] = [[]]
    count = size = 0
    for group in groups:
        group_size = sum(operation_size(op) for op in group)
        if chunks[-1] and (
            count + len(group) > MAX_TRANSACTION_ITEMS - reserved or size + group_size > MAX_TRANSACTION_BYTES
        ):
            chunks.append([])
            count = size = 0
        chunks[-1].append(group)
        count += len(group)
        size += group_size
    return chunks


def session_delete(session_id: str, incarnation: str, version: int | None = None) -> dict[str, Any]:
    """DeleteItem arguments removing the session item only while it is still this incarnation (and,
    with `version`, this version): the stream cascade then removes that incarnation's runs."""
    expression = Expression()
    condition: str | None
    if version is None:
        condition = f"{expression.name('incarnation')} = {expression.value(items.s(incarnation))}"
    else:
        condition = all_of(
            expression.equals_or_absent("incarnation", items.s(incarnation)),
            expression.equals_or_absent("version", items.n(version)),
        )
    return {"Key": items.session_key(session_id), **expression.arguments(ConditionExpression=condition)}


def run_deletion(
    before: StoredSession, after: StoredSession, run_id: str, run_sk: str, if_match: int | None
) -> list[dict[str, Any]]:
    """One transaction deleting a run and its lookup while stepping the session's version; the
    lookup must still exist, so a concurrent delete of the same run retries (and then 404s)."""
    lookup_key = items.run_lookup_key(before.session_id, before.incarnation, run_id)
    return [
        session_update(before, after, set(), -1, if_match),
        {"Delete": {"Key": items.run_key(before.session_id, run_sk)}},
        {"Delete": {"Key": lookup_key, "ConditionExpression": "attribute_exists(sk)"}},
    ]
