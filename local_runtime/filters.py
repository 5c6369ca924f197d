"""Lambda event filtering (an event source mapping's FilterCriteria), for stream records.

Lambda drops records that match none of the mapping's filter patterns before it batches and
invokes, so a consumer that relies on a filter (say, only REMOVE events of session items) must see
the same selection locally. Patterns use the EventBridge syntax; the subset below covers what
Lambda documents for DynamoDB streams. An operator outside it fails at start-up instead of
silently letting everything through.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

_NUMERIC = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">=": operator.ge, ">": operator.gt}
_MISSING = object()


class UnsupportedFilterError(ValueError):
    pass


Matcher = Callable[[Any], bool]


def compile_criteria(filter_criteria: dict[str, Any] | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate over one record: true when any filter matches, or when there are no filters."""
    filters = (filter_criteria or {}).get("Filters") or []
    patterns = [
        _compile_object(json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"]) for f in filters
    ]
    if not patterns:
        return lambda _record: True
    return lambda record: any(pattern(record) for pattern in patterns)


def _compile_object(pattern: dict[str, Any]) -> Matcher:
    if not isinstance(pattern, dict):
        raise UnsupportedFilterError(f"a filter pattern must be an object, got {pattern!r}")
    fields = [(key, _compile_field(value)) for key, value in pattern.items()]

    def match(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        return all(matcher(value.get(key, _MISSING)) for key, matcher in fields)

    return match


def _compile_field(pattern: Any) -> Matcher:
    if isinstance(pattern, dict):
        nested = _compile_object(pattern)
        return lambda value: value is not _MISSING and nested(value)
    if not isinstance(pattern, list):
        raise UnsupportedFilterError(f"a filter value must be a list or an object, got {pattern!r}")
    alternatives = [_compile_alternative(p) for p in pattern]

    def match(value: Any) -> bool:
        # An array in the event matches when any of its elements does.
        candidates = value if isinstance(value, list) else [value]
        return any(alt(candidate) for alt in alternatives for candidate in candidates)

    return match


def _compile_alternative(pattern: Any) -> Matcher:
    if not isinstance(pattern, dict):
        return lambda value: value is not _MISSING and _equal(value, pattern)
    if len(pattern) != 1:
        raise UnsupportedFilterError(f"unsupported filter operator {pattern!r}")
    ((name, argument),) = pattern.items()
    if name == "exists":
        return lambda value: (value is not _MISSING) == bool(argument)
    if name == "prefix" and isinstance(argument, str):
        return lambda value: isinstance(value, str) and value.startswith(argument)
    if name == "suffix" and isinstance(argument, str):
        return lambda value: isinstance(value, str) and value.endswith(argument)
    if name == "equals-ignore-case" and isinstance(argument, str):
        return lambda value: isinstance(value, str) and value.lower() == argument.lower()
    if name == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        if any(isinstance(e, dict) for e in excluded):
            raise UnsupportedFilterError(f"unsupported filter operator {pattern!r}")
        return lambda value: value is not _MISSING and not any(_equal(value, e) for e in excluded)
    if name == "numeric" and isinstance(argument, list) and len(argument) % 2 == 0:
        checks = [(_NUMERIC[argument[i]], argument[i + 1]) for i in range(0, len(argument), 2)]
        return lambda value: (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and all(op(value, bound) for op, bound in checks)
        )
    raise UnsupportedFilterError(f"unsupported filter operator {pattern!r}")


def _equal(value: Any, expected: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value == expected
    return value == expected and type(value) is type(expected)
