"""Builds DynamoDB expressions with placeholder names and values, so no attribute name or value
is ever spliced into expression text."""

from __future__ import annotations

from typing import Any


class Expression:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}

    def name(self, attribute: str) -> str:
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, attribute_value: dict[str, Any]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = attribute_value
        return placeholder

    def equals_or_absent(self, attribute: str, attribute_value: dict[str, Any] | None) -> str:
        """`attribute` still holds what was read (absent when it was absent)."""
        if attribute_value is None:
            return f"attribute_not_exists({self.name(attribute)})"
        return f"{self.name(attribute)} = {self.value(attribute_value)}"

    def arguments(self, **expressions: str | None) -> dict[str, Any]:
        """Keyword arguments for a boto3 call or a transaction entry."""
        result: dict[str, Any] = {key: text for key, text in expressions.items() if text}
        if self.names:
            result["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            result["ExpressionAttributeValues"] = dict(self.values)
        return result


def all_of(*conditions: str | None) -> str | None:
    present = [f"({condition})" for condition in conditions if condition]
    return " AND ".join(present) if present else None
