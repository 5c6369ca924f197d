"""Data access for a user's whole data: erasure jobs, the user's index partitions, whole item
collections and idempotency records. It calls DynamoDB only through SessionRepository (its
`_call` maps AWS errors to domain errors and meters capacity), so it is part of the repository
layer: nothing above it sees boto3.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from session_store import errors, keys, names, writes
from session_store.erasure_items import (
    ErasureJob,
    Latest,
    erasure_pk,
    job_from_item,
    job_item,
    job_key,
    latest_from_item,
    latest_item,
    latest_key,
)
from session_store.expressions import Expression
from session_store.items import PAYLOAD_OBJECT_ATTRIBUTE, n, number, s
from session_store.memory_items import STORED_AT_ATTRIBUTE, memory_key
from session_store.repository import SessionRepository
from session_store.table import index_for


@dataclass(frozen=True)
class CollectionItem:
    sort_key: str
    entity: str | None
    object_key: str | None  # the run's offloaded payload, if any


class UserRepository:
    def __init__(self, sessions: SessionRepository) -> None:
        self.sessions = sessions
        self._call = sessions.call  # the one place that talks to DynamoDB (see module docstring)
        self.table_name = sessions.table_name

    # --- erasure jobs -----------------------------------------------------------------------------
    def latest(self, user_id: str) -> Latest | None:
        item = self._call("get_item", TableName=self.table_name, Key=latest_key(user_id), ConsistentRead=True).get(
            "Item"
        )
        return latest_from_item(item) if item else None

    def latest_of(self, user_ids: list[str]) -> dict[str, Latest]:
        """The newest erasure of each of these users that has one (one BatchGetItem per 100)."""
        wanted = [latest_key(user) for user in dict.fromkeys(user_ids)]
        stored = self.sessions.batch_get(wanted, consistent=True)
        found = {item[names.PARTITION_KEY]["S"]: latest_from_item(item) for item in stored}
        return {user: found[erasure_pk(user)] for user in user_ids if erasure_pk(user) in found}

    def get_job(self, user_id: str, erasure_id: str) -> ErasureJob | None:
        item = self._call(
            "get_item", TableName=self.table_name, Key=job_key(user_id, erasure_id), ConsistentRead=True
        ).get("Item")
        return job_from_item(item) if item else None

    def start_job(self, job: ErasureJob, previous: Latest | None) -> None:
        """Write a new job and make it the user's latest, unless another erasure got there first
        (errors.Conflict): the latest must still be what the caller read."""
        expression = Expression()
        if previous is None:
            condition = f"attribute_not_exists({expression.name(names.SORT_KEY)})"
        else:
            condition = (
                f"{expression.name('erasure_id')} = {expression.value(s(previous.erasure_id))}"
                f" AND {expression.name('status')} = {expression.value(s(previous.status))}"
            )
        self.sessions.transact(
            [
                {"Put": {"Item": latest_item(job), **expression.arguments(ConditionExpression=condition)}},
                {"Put": {"Item": job_item(job), "ConditionExpression": "attribute_not_exists(sk)"}},
            ]
        )

    def save_job(self, job: ErasureJob, expected_seq: int) -> None:
        """Store the job's progress if nobody else has since (seq), and mirror its status into the
        user's latest item. Raises errors.Conflict when another worker moved it on."""
        expression = Expression()
        condition = f"{expression.name('seq')} = {expression.value(n(expected_seq))}"
        latest = Expression()
        latest_condition = f"{latest.name('erasure_id')} = {latest.value(s(job.erasure_id))}"
        self.sessions.transact(
            [
                {"Put": {"Item": job_item(job), **expression.arguments(ConditionExpression=condition)}},
                {"Put": {"Item": latest_item(job), **latest.arguments(ConditionExpression=latest_condition)}},
            ]
        )

    # --- the user's sessions ------------------------------------------------------------------------
    def user_sessions(
        self, user_id: str, session_type: str, upper: str | None, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[str], dict[str, Any] | None]:
        """One page of the user's sessions of one type on the updated-at index (order keys up to
        `upper`, oldest first): session ids, and the key to continue after (None at the end)."""
        found, after = self._user_index_page(keys.user_partition(user_id, session_type), upper, start, limit)
        return [keys.session_id_from_pk(pk) for pk in found], after

    def _user_index_page(
        self, partition: str, upper: str | None, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[str], dict[str, Any] | None]:
        """One page of a partition of the user updated-at index, oldest first, up to the order key
        `upper`: the entries' table partition keys, and the key to continue after."""
        index = index_for("user", "updated_at")
        expression = Expression()
        condition = f"{expression.name(index.partition_key)} = {expression.value(s(partition))}"
        if upper is not None:
            condition += f" AND {expression.name(index.sort_key)} <= {expression.value(s(upper))}"
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index.name,
            "Limit": limit,
            **expression.arguments(KeyConditionExpression=condition),
        }
        if start:
            arguments["ExclusiveStartKey"] = start
        response = self._call("query", **arguments)
        found = [item[names.PARTITION_KEY]["S"] for item in response.get("Items", [])]
        return found, response.get("LastEvaluatedKey")

    def collection(self, session_id: str) -> Iterator[CollectionItem]:
        """Every item of a session's item collection but its session item, page by page."""
        expression = Expression()
        condition = (
            f"{expression.name(names.PARTITION_KEY)} = {expression.value(s(keys.session_pk(session_id)))}"
            f" AND {expression.name(names.SORT_KEY)} > {expression.value(s(names.SESSION_META_SK))}"
        )
        projection = ", ".join(expression.name(a) for a in (names.SORT_KEY, "entity", PAYLOAD_OBJECT_ATTRIBUTE))
        arguments = {
            "ConsistentRead": True,
            "ProjectionExpression": projection,
            **expression.arguments(KeyConditionExpression=condition),
        }
        for response in self.sessions.pages(arguments):
            for item in response.get("Items", []):
                yield CollectionItem(
                    item[names.SORT_KEY]["S"],
                    item.get("entity", {}).get("S"),
                    item.get(PAYLOAD_OBJECT_ATTRIBUTE, {}).get("S"),
                )

    def delete_items(self, session_id: str, sort_keys: list[str]) -> None:
        pk = s(keys.session_pk(session_id))
        self.sessions.batch_delete([{names.PARTITION_KEY: pk, names.SORT_KEY: s(sk)} for sk in sort_keys])

    def delete_session_item(self, session_id: str, incarnation: str) -> bool:
        """Delete the session item if it is still that incarnation; False if it has moved on."""
        try:
            self.sessions.delete_session(writes.session_delete(session_id, incarnation))
        except errors.Conflict:
            return False
        return True

    # --- the user's memories ------------------------------------------------------------------------
    def user_memories(
        self, user_id: str, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[tuple[str, int | None]], dict[str, Any] | None]:
        """One page of the user's memories (the memories' user partition of the updated-at index):
        (memory id, stored_at) of each, and the key to continue after (None at the end)."""
        found_keys, after = self._user_index_page(keys.memory_user_partition(user_id), None, start, limit)
        ids = [keys.memory_id_from_pk(pk) for pk in found_keys]
        found = (
            self.sessions.batch_get([memory_key(memory_id) for memory_id in dict.fromkeys(ids)], consistent=True)
            if ids
            else []
        )
        stored = {
            item["memory_id"]["S"]: number(item, STORED_AT_ATTRIBUTE)
            for item in found
            if item.get("user_id", {}).get("S") == user_id
        }
        return [(memory_id, stored[memory_id]) for memory_id in dict.fromkeys(ids) if memory_id in stored], after

    def delete_memory_stored_by(self, memory_id: str, cutoff: int) -> bool:
        """Delete the memory if it was last stored at or before `cutoff`; False if it was written
        since (a write after the erasure started, which the erasure keeps)."""
        expression = Expression()
        stored_at = expression.name(STORED_AT_ATTRIBUTE)
        condition = f"attribute_not_exists({stored_at}) OR {stored_at} <= {expression.value(n(cutoff))}"
        try:
            self._call(
                "delete_item",
                TableName=self.table_name,
                Key=memory_key(memory_id),
                **expression.arguments(ConditionExpression=condition),
            )
        except errors.Conflict:
            return False
        return True

    # --- idempotency records ----------------------------------------------------------------------
    def idempotency_records(
        self, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """A page of the Idempotency-Key records (one partition, kept one hour by TTL)."""
        expression = Expression()
        condition = f"{expression.name(names.PARTITION_KEY)} = {expression.value(s(names.IDEMPOTENCY_PREFIX))}"
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "Limit": limit,
            "ConsistentRead": True,
            **expression.arguments(KeyConditionExpression=condition),
        }
        if start:
            arguments["ExclusiveStartKey"] = start
        response = self._call("query", **arguments)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def delete_idempotency_records(self, sort_keys: list[str]) -> None:
        pk = s(names.IDEMPOTENCY_PREFIX)
        self.sessions.batch_delete([{names.PARTITION_KEY: pk, names.SORT_KEY: s(sk)} for sk in sort_keys])
