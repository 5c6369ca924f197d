"""Create the template's DynamoDB tables in DynamoDB Local.

The table comes from the synthesized AWS::DynamoDB::Table (on-demand, global indexes only, as the
stack has it) so that the local key schema, indexes, stream and TTL are exactly the deployed ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from local_runtime.stack import TableSpec

log = logging.getLogger(__name__)

# Index properties that DynamoDB's CreateTable accepts; the template also carries deploy-time
# settings (contributor insights, warm throughput, replica settings) that DynamoDB Local rejects.
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection")


class TableCreationError(RuntimeError):
    """DynamoDB refuses the table the template describes."""


class TableMismatchError(RuntimeError):
    """A table kept in the data directory no longer matches the template."""


@dataclass(frozen=True)
class LocalTable:
    logical_id: str
    name: str
    arn: str
    stream_arn: str | None
    ttl_attribute: str | None
    key_attributes: tuple[str, ...]
    created: bool  # by this start (False: kept in the data directory)


def table_name(spec: TableSpec, resolved_properties: dict[str, Any], stack_name: str) -> str:
    name = resolved_properties.get("TableName")
    # CloudFormation names an unnamed table <stack>-<logical id>-<random>; drop the random part.
    return name if isinstance(name, str) else f"{stack_name}-{spec.logical_id}"[:255]


def table_request_from_template(properties: dict[str, Any], name: str) -> dict[str, Any]:
    """boto3 `create_table` arguments for a resolved AWS::DynamoDB::Table: the stack's tables are
    on-demand with global indexes only, so anything else is refused rather than half-served."""
    if properties.get("BillingMode") != "PAY_PER_REQUEST" or properties.get("LocalSecondaryIndexes"):
        raise TableCreationError(f"table {name}: only on-demand tables without local indexes are served locally")
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if properties.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {k: index[k] for k in _INDEX_KEYS if k in index} for index in properties["GlobalSecondaryIndexes"]
        ]
    view_type = (properties.get("StreamSpecification") or {}).get("StreamViewType")
    if view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
    return request


def ttl_attribute(properties: dict[str, Any]) -> str | None:
    spec = properties.get("TimeToLiveSpecification") or {}
    if spec.get("Enabled") in (True, "true") or (spec.get("AttributeName") and "Enabled" not in spec):
        return spec.get("AttributeName")
    return None


def ensure_table(client, spec: TableSpec, properties: dict[str, Any], name: str) -> LocalTable:
    """Create the table unless it exists (a data directory keeps it), then check it still matches."""
    request = table_request_from_template(properties, name)
    try:
        client.create_table(**request)
        created = True
        log.info("created table %s", name)
    except client.exceptions.ResourceInUseException:
        created = False
        log.info("reusing table %s from the data directory", name)
    except (ClientError, ParamValidationError) as error:
        # DynamoDB would refuse this table on deploy too: say that it is the template's table.
        raise TableCreationError(
            f"the template's table {spec.logical_id} ({name}) cannot be created: {error}"
        ) from error
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    description = client.describe_table(TableName=name)["Table"]
    _check_matches(description, request)
    ttl = ttl_attribute(properties)
    if ttl:
        # DynamoDB Local may or may not expire items itself; the sweeper makes sure (ttl.py).
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") != "ENABLED" or current.get("AttributeName") != ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})
    return LocalTable(
        logical_id=spec.logical_id,
        name=name,
        arn=description["TableArn"],
        stream_arn=description.get("LatestStreamArn"),
        ttl_attribute=ttl,
        key_attributes=tuple(k["AttributeName"] for k in description["KeySchema"]),
        created=created,
    )


def _check_matches(description: dict[str, Any], request: dict[str, Any]) -> None:
    """A table that outlived a template change would serve the old design silently: refuse it."""
    problems = []
    if _keys(description["KeySchema"]) != _keys(request["KeySchema"]):
        problems.append("key schema")
    key = "GlobalSecondaryIndexes"
    have = {i["IndexName"]: (_keys(i["KeySchema"]), _projection(i["Projection"])) for i in description.get(key, [])}
    want = {i["IndexName"]: (_keys(i["KeySchema"]), _projection(i["Projection"])) for i in request.get(key, [])}
    if have != want:
        problems.append(key)
    wanted_stream = request.get("StreamSpecification", {}).get("StreamViewType")
    if (description.get("StreamSpecification") or {}).get("StreamViewType") != wanted_stream:
        problems.append("stream view type")
    if problems:
        raise TableMismatchError(
            f"table {request['TableName']} in the data directory differs from the template "
            f"({', '.join(problems)}); run `make local-reset` to start from an empty table"
        )


def _keys(schema: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((k["AttributeName"], k["KeyType"]) for k in schema)


def _projection(projection: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return projection.get("ProjectionType", "ALL"), tuple(sorted(projection.get("NonKeyAttributes", [])))
