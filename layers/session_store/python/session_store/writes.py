"""Turns one upsert into DynamoDB transactions (no I/O here).

A session item plus one item per run and a small lookup item per run_id (run_id -> the run's
time-ordered sort key), so appending a run writes only that run and replacing one keeps its place.
Transactions hold at most 100 items and 4 MB: a larger write is split. Chunks that update an
existing session each carry the session's counters, so the session always matches its runs; a
new session's runs are written first and the session item that makes them visible comes last.
"""

from __future__ import annotations

from typing import Any

from session_store import items, names
from session_store.expressions import Expression, all_of
from session_store.items import StoredSession
from session_store.models import ID_FIELDS, OBJECT_FIELDS
from session_store.payloads import PayloadStore

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


def run_operations(
    session_id: str, incarnation: str, runs: list[dict[str, Any]], locations: dict[str, str],
    new_order_ids: list[str], payloads: PayloadStore,
) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """The operations writing each run (grouped per run) and the run_ids that are new."""
    grouped: list[list[dict[str, Any]]] = []
    new_run_ids: list[str] = []
    order_ids = iter(new_order_ids)
    for run in runs:
        run_id = run["run_id"]
        run_sk = locations.get(run_id)
        if run_sk is None:
            run_sk = f"{names.RUN_PREFIX}{incarnation}{names.KEY_SEPARATOR}{next(order_ids)}"
            new_run_ids.append(run_id)
            lookup = items.run_lookup_item(session_id, incarnation, run_id, run_sk)
            # Both conditions make a concurrent first write of the same run_id retry as a replace.
            grouped.append([
                _put(items.run_item(session_id, run_sk, run, payloads.encode_run(session_id, run_sk, run)),
                     "attribute_not_exists({pk})"),
                _put(lookup, "attribute_not_exists({pk})"),
            ])
        else:
            # The run must still be there: a concurrent delete makes this write retry as an append.
            grouped.append([
                _put(items.run_item(session_id, run_sk, run, payloads.encode_run(session_id, run_sk, run)),
                     "attribute_exists({pk})"),
            ])
    return grouped, new_run_ids


def session_put(session: StoredSession, replaced: StoredSession | None) -> dict[str, Any]:
    """Create the session item: it must not exist, or must still be the expired one we read."""
    expression = Expression()
    item = items.session_item(session)
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
) -> dict[str, Any]:
    """Update the session item in place: SET only what this write changes, ADD the counters, so
    that concurrent writers of different fields or runs never undo each other."""
    expression = Expression()
    attributes = items.session_attributes(after)
    changed = {"updated_at", "expiry_policy", *items.index_attributes(after)}
    changed |= {name for name in sent_fields if name in (*ID_FIELDS, *OBJECT_FIELDS, "session_type")}
    if "session_data" not in sent_fields:
        changed -= {"session_name", "session_name_lc"}
    sets, removes = [], [expression.name(items.REPLACED_INCARNATION)]
    for name in sorted(changed):
        value = attributes.get(name)
        if value is None:
            removes.append(expression.name(name))
        else:
            sets.append(f"{expression.name(name)} = {expression.value(value)}")
    adds = [f"{expression.name('version')} {expression.value(items.n(1))}"]
    if added_runs:
        adds.append(f"{expression.name('run_count')} {expression.value(items.n(added_runs))}")
    update = f"SET {', '.join(sets)} ADD {', '.join(adds)}"
    if removes:
        update += f" REMOVE {', '.join(removes)}"
    condition = all_of(
        *_unchanged_since_read(expression, before),
        expression.equals_or_absent("version", items.n(if_match)) if if_match is not None else None,
    )
    return {
        "Update": {
            "Key": items.session_key(after.session_id),
            **expression.arguments(UpdateExpression=update, ConditionExpression=condition),
        }
    }


def _unchanged_since_read(expression: Expression, before: StoredSession) -> list[str]:
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


def counters_update(
    before: StoredSession, added_runs: int, updated_at: int, if_match: int | None = None
) -> dict[str, Any]:
    """The session's share of an intermediate chunk of a large update: counters and clock only."""
    expression = Expression()
    update = (
        f"SET {expression.name('updated_at')} = {expression.value(items.n(updated_at))} "
        f"ADD {expression.name('version')} {expression.value(items.n(1))}, "
        f"{expression.name('run_count')} {expression.value(items.n(added_runs))}"
    )
    # Conditioned like the final chunk: were the owner to change between the read and this chunk,
    # its runs would land in a session whose new owner the write was never checked against.
    condition = all_of(
        *_unchanged_since_read(expression, before),
        expression.equals_or_absent("version", items.n(if_match)) if if_match is not None else None,
    )
    return {
        "Update": {
            "Key": items.session_key(before.session_id),
            **expression.arguments(UpdateExpression=update, ConditionExpression=condition),
        }
    }


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
        if chunks[-1] and (count + len(group) > MAX_TRANSACTION_ITEMS - reserved
                           or size + group_size > MAX_TRANSACTION_BYTES):
            chunks.append([])
            count = size = 0
        chunks[-1].append(group)
        count += len(group)
        size += group_size
    return chunks
