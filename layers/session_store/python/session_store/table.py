"""The table's physical design, defined once: the stack builds it from this, the tests and the
local runtime create it from this (the local runtime via the synthesized template), and the data
access layer queries the indexes named here.

Listing is served by four partition scopes, each with two sort orders:
- type: all sessions of one type, write-sharded over TYPE_SHARDS partitions;
- user: one user's sessions of one type (all types = a merge of three partitions);
- component: sessions of one agent, team or workflow (the kind is the session type);
- user_component: one user's sessions with one component.
Sort keys are `keys.order_key` strings. List pages fetch the session items by key afterwards, so
indexes project little:
- updated-at indexes project what list filters read (expiry at the entry's last move, lower-cased
  name), so expired and unmatched sessions are filtered inside the query. Their sort key is the
  time of the entry's last move, not of the session's last write: an entry moves only when it is
  UPDATED_INDEX_SLACK_SECONDS old (or the session's expiry policy changes), so most turns write no
  index. Lists read the few entries whose time may lag and order by the sessions' own updated_at
  (listing.py), so their order stays exact.
- created-at indexes project keys only: their sort key never changes, so with nothing else
  projected an update never writes to them (a turn costs the same as the first; see
  docs/design.md). Their pages are filtered after the fetch.

One more index finds a run by its id alone (GET /runs/{run_id}, agno's `get_run(run_id)`): only
run-lookup items carry its key, written once when a run is first written, so a turn that appends
a run writes one small entry and a turn that replaces one writes none. KEYS_ONLY: the entry's
table key names the session and the incarnation; the service reads and checks those itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from session_store import names

UPDATED_ORDER_ATTRIBUTE = "updated_key"
# The session's expires_at as of its updated-at entries' last move (what their filters read).
INDEXED_EXPIRY_ATTRIBUTE = "indexed_expires_at"
# An updated-at entry's time trails the session's updated_at by less than this. Larger: fewer
# writes move entries (a conversation at one turn per 30 s moves them every 10th turn); smaller:
# lists read fewer extra entries (those within this of a page's boundary). See docs/design.md.
UPDATED_INDEX_SLACK_SECONDS = 300
CREATED_ORDER_ATTRIBUTE = "created_key"
SESSION_NAME_SEARCH_ATTRIBUTE = "session_name_lc"
RUN_INDEX_ATTRIBUTE = "gsi_run_pk"

SORT_ATTRIBUTES = {"updated_at": UPDATED_ORDER_ATTRIBUTE, "created_at": CREATED_ORDER_ATTRIBUTE}
SCOPE_ATTRIBUTES = {
    "type": "gsi_type_pk",
    "user": "gsi_user_pk",
    "component": "gsi_component_pk",
    "user_component": "gsi_user_component_pk",
}
PROJECTED_ATTRIBUTES = (INDEXED_EXPIRY_ATTRIBUTE, SESSION_NAME_SEARCH_ATTRIBUTE)


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    partition_key: str
    sort_key: str
    projected: tuple[str, ...]  # non-key attributes; empty means KEYS_ONLY
    # How far an entry's sort-key time may trail the session's own time (0: exact).
    slack_seconds: int = 0

    @property
    def filters_in_query(self) -> bool:
        return bool(self.projected)


INDEXES: dict[tuple[str, str], IndexDefinition] = {
    (scope, sort_field): IndexDefinition(
        name=f"by_{scope}_{sort_field.removesuffix('_at')}",
        partition_key=partition_attribute,
        sort_key=sort_attribute,
        projected=PROJECTED_ATTRIBUTES if sort_field == "updated_at" else (),
        slack_seconds=UPDATED_INDEX_SLACK_SECONDS if sort_field == "updated_at" else 0,
    )
    for scope, partition_attribute in SCOPE_ATTRIBUTES.items()
    for sort_field, sort_attribute in SORT_ATTRIBUTES.items()
}


@dataclass(frozen=True)
class LookupIndexDefinition:
    """An index of a partition key alone, projecting keys only: a lookup, never a sorted list."""

    name: str
    partition_key: str
    sort_key: None = None
    projected: tuple[str, ...] = ()


RUN_INDEX = LookupIndexDefinition(name="by_run", partition_key=RUN_INDEX_ATTRIBUTE)

# Every global secondary index of the table: the list indexes and the run-id index.
GLOBAL_INDEXES: tuple[IndexDefinition | LookupIndexDefinition, ...] = (*INDEXES.values(), RUN_INDEX)


def index_for(scope: str, sort_field: str) -> IndexDefinition:
    return INDEXES[(scope, sort_field)]


def key_attributes() -> dict[str, str]:
    """Every key attribute of the table and its indexes, with its DynamoDB type (all strings)."""
    attributes = {names.PARTITION_KEY: "S", names.SORT_KEY: "S"}
    for index in GLOBAL_INDEXES:
        attributes[index.partition_key] = "S"
        if index.sort_key is not None:
            attributes[index.sort_key] = "S"
    return attributes


def _index_key_schema(index: IndexDefinition | LookupIndexDefinition) -> list[dict[str, str]]:
    schema = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
    if index.sort_key is not None:
        schema.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
    return schema


def create_table_request(table_name: str) -> dict[str, Any]:
    """boto3 `create_table` arguments for this design (tests create their table from this)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in key_attributes().items()
        ],
        "KeySchema": [
            {"AttributeName": names.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": names.SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": _index_key_schema(index),
                "Projection": (
                    {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projected)}
                    if index.projected
                    else {"ProjectionType": "KEYS_ONLY"}
                ),
            }
            for index in GLOBAL_INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
