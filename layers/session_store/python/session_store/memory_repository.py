"""Data access for user memories: their DynamoDB calls, through the session repository's client,
error mapping and capacity metering (repository.py stays the only module that calls boto3)."""

from __future__ import annotations

from collections.abc import Iterator

from session_store import items, keys, names
from session_store.expressions import Expression
from session_store.memory_items import StoredMemory, memory_from_item, memory_item, memory_key
from session_store.repository import SessionRepository, _list_filter, _partition_range
from session_store.table import IndexDefinition


class MemoryRepository(SessionRepository):
    def get_memory(self, memory_id: str) -> StoredMemory | None:
        response = self.call("get_item", TableName=self.table_name, Key=memory_key(memory_id), ConsistentRead=True)
        item = response.get("Item")
        return memory_from_item(item) if item else None

    def put_memory(self, memory: StoredMemory, read_version: int | None) -> None:
        """Write the memory if it is still as read (absent when `read_version` is None); else
        errors.Conflict, and the service reads again."""
        expression = Expression()
        if read_version is None:
            condition = f"attribute_not_exists({expression.name(names.PARTITION_KEY)})"
        else:
            condition = f"{expression.name('version')} = {expression.value(items.n(read_version))}"
        self.call(
            "put_item",
            TableName=self.table_name,
            Item=memory_item(memory),
            **expression.arguments(ConditionExpression=condition),
        )

    def delete_memory(self, memory_id: str, read_version: int) -> None:
        expression = Expression()
        condition = f"{expression.name('version')} = {expression.value(items.n(read_version))}"
        self.call(
            "delete_item",
            TableName=self.table_name,
            Key=memory_key(memory_id),
            **expression.arguments(ConditionExpression=condition),
        )

    def batch_get_memories(self, memory_ids: list[str]) -> dict[str, StoredMemory]:
        """Memories by id (eventually consistent, like the index that named them)."""
        wanted = [memory_key(memory_id) for memory_id in dict.fromkeys(memory_ids)]
        found = (memory_from_item(item) for item in self.batch_get(wanted, consistent=False))
        return {memory.memory_id: memory for memory in found}

    def delete_memories(self, memory_ids: list[str]) -> None:
        self.batch_delete([memory_key(memory_id) for memory_id in memory_ids])

    def query_memory_index(
        self,
        index: IndexDefinition,
        partition: str,
        bounds: tuple[str, str],
        ascending: bool,
        page_size: int,
        now: int,
        exclude: str | None = None,
    ) -> Iterator[tuple[str, str]]:
        """(order key, memory id) of one index partition within inclusive `bounds`, in order, page by
        page, skipping `exclude` and, where the index projects expires_at, expired memories."""
        expression = Expression()
        filter_expression = _list_filter(expression, now, None) if index.filters_in_query else None
        condition = _partition_range(expression, index, partition, bounds)
        arguments = {
            "IndexName": index.name,
            "ScanIndexForward": ascending,
            "Limit": page_size,
            **expression.arguments(KeyConditionExpression=condition, FilterExpression=filter_expression),
        }
        for response in self.pages(arguments):
            for item in response.get("Items", []):
                order_key = item[index.sort_key]["S"]
                if order_key != exclude:
                    yield order_key, keys.memory_id_from_pk(item[names.PARTITION_KEY]["S"])
