"""A DynamoDB Streams record as boto3 reads it, turned into the JSON Lambda delivers: AttributeValues
in low-level form, binary as base64, creation time in epoch seconds."""

from __future__ import annotations

import base64
from typing import Any

import cdk  # noqa: F401  (puts the domain layer, session_store, on sys.path)
from session_store import names

TTL_IDENTITY = {"type": "Service", "principalId": names.TTL_PRINCIPAL}
_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")


def to_lambda_json(value: Any) -> Any:
    """boto3 hands binary attributes over as bytes; Lambda's event carries them base64-encoded."""
    if isinstance(value, dict):
        return {k: to_lambda_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_lambda_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def lambda_record(
    record: dict[str, Any], stream_arn: str, region: str, key_attributes: tuple[str, ...] = ()
) -> dict[str, Any]:
    source = record["dynamodb"]
    dynamodb: dict[str, Any] = {}
    created = source.get("ApproximateCreationDateTime")
    if created is not None:
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp()) if hasattr(created, "timestamp") else created
    for key in ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"):
        if key in source:
            dynamodb[key] = to_lambda_json(source[key])
    if key_attributes and "Keys" in dynamodb:
        # DynamoDB Local's own expiry records list the index keys among the Keys too; on AWS,
        # Keys is the table's primary key only.
        dynamodb["Keys"] = {name: value for name, value in dynamodb["Keys"].items() if name in key_attributes}
    event_name = record["eventName"]
    identity = record.get("userIdentity")
    if event_name not in _EVENT_NAMES and "NewImage" not in source:
        # Recent DynamoDB Local releases expire items themselves, but their stream record names
        # the event with a value their SDK model lacks ("UNKNOWN_TO_SDK_VERSION") and carries no
        # identity. On AWS the same deletion is a REMOVE by the TTL service.
        event_name, identity = "REMOVE", dict(TTL_IDENTITY)
    converted = {
        "eventID": record["eventID"],
        "eventName": event_name,
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if identity:
        converted["userIdentity"] = identity
    return converted
