"""The stream cascade: when a session item goes (deleted, expired by TTL, or replaced by a new
incarnation), remove the rest of its item collection; when a run item goes or is rewritten,
remove the S3 object its payload was offloaded to."""

from __future__ import annotations

from typing import Any

from session_store import keys, names
from session_store.items import PAYLOAD_OBJECT_ATTRIBUTE
from session_store.repository import SessionRepository

TTL_PRINCIPAL = names.TTL_PRINCIPAL


def _string(image: dict[str, Any], name: str) -> str | None:
    value = image.get(name)
    return value.get("S") if isinstance(value, dict) else None


def is_ttl_removal(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL


def handle_record(repository: SessionRepository, record: dict[str, Any]) -> dict[str, Any]:
    """Apply one DynamoDB Streams record (Lambda's event form). Returns what it did, for the log."""
    event_name = record.get("eventName")
    change = record.get("dynamodb") or {}
    old, new = change.get("OldImage") or {}, change.get("NewImage") or {}
    entity = _string(old, "entity")
    outcome: dict[str, Any] = {"event": event_name, "entity": entity}
    if entity == names.ENTITY_SESSION:
        old_incarnation = _string(old, "incarnation")
        superseded = event_name == "REMOVE" or (
            event_name == "MODIFY" and _string(new, "incarnation") != old_incarnation
        )
        if superseded and old_incarnation:
            session_id = keys.session_id_from_pk(_string(old, names.PARTITION_KEY) or "")
            outcome["purged_items"] = repository.purge_incarnation(session_id, old_incarnation)
            outcome["expired"] = is_ttl_removal(record)
    elif entity == names.ENTITY_RUN:
        old_object = _string(old, PAYLOAD_OBJECT_ATTRIBUTE)
        if old_object and (event_name == "REMOVE" or _string(new, PAYLOAD_OBJECT_ATTRIBUTE) != old_object):
            repository.payloads.delete_objects([old_object])
            outcome["deleted_object"] = old_object
    return outcome
