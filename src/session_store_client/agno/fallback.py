"""Every agno storage domain the Session Store does not keep, delegated to a ``fallback`` db.

The Session Store keeps sessions, runs and user memories. agno's BaseDb declares many more
domains (metrics, evals, traces and spans, knowledge, learnings, components and configs,
schedules, approvals, tool results, compactions, schema versions, …, and whatever a later agno
adds). Each of their methods is delegated to ``fallback=`` (any agno db, e.g. ``SqliteDb`` or
agno's ``DynamoDb``) when one is given. Without one, reads answer empty (an AgentOS page shows
nothing instead of failing) and writes raise :class:`FallbackRequired`, naming the option.

The methods are found by introspection, so a domain added to BaseDb is covered without a change.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

# What the adapter itself serves (or that is plumbing, not a storage domain).
INFRASTRUCTURE = {"to_dict", "from_dict", "close", "table_exists"}
READ_PREFIXES = ("get_", "list_", "count_", "search_", "read_", "is_", "load_")
READ_NAMES = {"authz_name_is_role"}
# Table-name attributes of BaseDb for the domains the store keeps itself; every other
# `*_table_name` is None without a fallback, so AgentOS lists no table of those domains here.
OWN_TABLE_ATTRIBUTES = ("session_table_name", "runs_table_name", "memory_table_name")


class FallbackRequired(NotImplementedError):
    """A write to an agno domain the Session Store does not keep, on an adapter without fallback."""


def is_read(method_name: str) -> bool:
    return method_name.startswith(READ_PREFIXES) or method_name in READ_NAMES


def empty_result(annotation: Any, kwargs: dict[str, Any]) -> Any:
    """What a read of an empty store returns, from the method's declared return type."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (inspect.Signature.empty, None, type(None), Any):
        return None
    if origin in (typing.Union, types.UnionType):
        if type(None) in arguments:
            return None
        # agno's deserialize switch: a list of objects, or (rows, total).
        lists = [argument for argument in arguments if typing.get_origin(argument) in (list, tuple)]
        wants_rows = kwargs.get("deserialize", True) is False
        chosen = next((a for a in lists if (typing.get_origin(a) is tuple) == wants_rows), lists[0] if lists else None)
        return empty_result(chosen, kwargs)
    if origin is tuple and arguments:
        return tuple(empty_result(argument, kwargs) for argument in arguments)
    if annotation is list or origin is list:
        return []
    if annotation is dict or origin is dict:
        return {}
    if annotation is tuple or origin is tuple:
        return ()
    if annotation is bool:
        return False
    if annotation is int:
        return 0
    return None


def delegated_method_names(base: type, cls: type) -> Iterable[str]:
    """Public methods of agno's ``base`` that ``cls`` does not define itself."""
    own = {name for klass in cls.__mro__ if klass not in base.__mro__ for name in vars(klass)}
    for name, _ in inspect.getmembers(base, callable):
        if not name.startswith("_") and name not in INFRASTRUCTURE and name not in own:
            yield name


def _hints(base: type, name: str) -> Any:
    try:
        return typing.get_type_hints(getattr(base, name)).get("return", inspect.Signature.empty)
    except Exception:  # an unresolvable forward reference: answer None
        return inspect.Signature.empty


def _without_fallback(db: Any, name: str, annotation: Any, kwargs: dict[str, Any]) -> Any:
    if is_read(name):
        return empty_result(annotation, kwargs)
    raise FallbackRequired(
        f"{type(db).__name__}.{name}: the Session Store keeps sessions, runs and user memories only. "
        f"Pass fallback=<an agno db, e.g. SqliteDb(...)> to {type(db).__name__} to store the rest."
    )


def _sync_method(name: str, annotation: Any) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.fallback is not None:
            return getattr(self.fallback, name)(*args, **kwargs)
        return _without_fallback(self, name, annotation, kwargs)

    return method


def _async_method(name: str, annotation: Any) -> Callable[..., Any]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.fallback is not None:
            target = getattr(self.fallback, name)
            if inspect.iscoroutinefunction(target):
                return await target(*args, **kwargs)
            # A sync fallback (e.g. SqliteDb) must not block the event loop.
            return await asyncio.to_thread(target, *args, **kwargs)
        return _without_fallback(self, name, annotation, kwargs)

    return method


def delegate_to_fallback(base: type) -> Callable[[type], type]:
    """Class decorator: define every method of ``base`` the class does not, delegating as above."""

    def decorate(cls: type) -> type:
        for name in delegated_method_names(base, cls):
            original = getattr(base, name)
            annotation = _hints(base, name)
            build = _async_method if inspect.iscoroutinefunction(original) else _sync_method
            method = build(name, annotation)
            method.__name__ = method.__qualname__ = name
            method.__doc__ = "Delegated to ``fallback`` (see session_store_client.agno.fallback)."
            setattr(cls, name, method)
        # The methods were added after the class was built: let ABCMeta recount what is abstract.
        abc.update_abstractmethods(cls)
        return cls

    return decorate


def hide_tables_without_fallback(db: Any) -> None:
    """AgentOS advertises a domain's tables from ``<domain>_table_name``: none without a fallback."""
    if db.fallback is not None:
        return
    for attribute in list(vars(db)):
        if attribute.endswith("_table_name") and attribute not in OWN_TABLE_ATTRIBUTES:
            setattr(db, attribute, None)


def _latest_schema_version() -> str:
    from agno.db.migrations.manager import MigrationManager

    return MigrationManager.available_versions[-1][1].public


class SchemaVersions:
    """agno's schema versions: the store's own tables are always at agno's latest version (their
    layout is the service's, not a migration's), so AgentOS's migrate leaves them alone; the other
    tables' versions are the fallback's."""

    fallback: Any

    def _own_table(self, table_name: str) -> bool:
        return table_name in {getattr(self, attribute) for attribute in OWN_TABLE_ATTRIBUTES}

    def get_latest_schema_version(self, table_name: str) -> Any:
        if self._own_table(table_name):
            return _latest_schema_version()
        if self.fallback is not None:
            return self.fallback.get_latest_schema_version(table_name)
        return None  # agno's migrate skips a table without a version

    def upsert_schema_version(self, table_name: str, version: str) -> Any:
        if self._own_table(table_name):
            return None
        if self.fallback is not None:
            return self.fallback.upsert_schema_version(table_name, version)
        return _without_fallback(self, "upsert_schema_version", None, {})
