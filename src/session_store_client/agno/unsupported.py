"""The agno storage features SessionStoreDb does not have, each failing loudly by name.

The Session Store keeps sessions and their runs. agno's BaseDb also declares memories, metrics,
knowledge, evals, traces, learnings and schema versions; calling one of them on SessionStoreDb
raises NotImplementedError naming the feature instead of pretending to store anything.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, Dict, Tuple

README = "session_store_client/README.md, section 'What SessionStoreDb does not store'"

UNSUPPORTED_FEATURES: Dict[str, Tuple[str, ...]] = {
    "user memories": (
        "clear_memories",
        "delete_user_memory",
        "delete_user_memories",
        "get_all_memory_topics",
        "get_user_memory",
        "get_user_memories",
        "get_user_memory_stats",
        "upsert_user_memory",
        "upsert_memories",
    ),
    "metrics": ("get_metrics", "calculate_metrics"),
    "knowledge": (
        "delete_knowledge_content",
        "get_knowledge_content",
        "get_knowledge_contents",
        "upsert_knowledge_content",
    ),
    "evals": ("create_eval_run", "delete_eval_runs", "get_eval_run", "get_eval_runs", "rename_eval_run"),
    "traces": (
        "upsert_trace",
        "get_trace",
        "get_traces",
        "get_trace_stats",
        "create_span",
        "create_spans",
        "get_span",
        "get_spans",
    ),
    "learnings": ("get_learning", "upsert_learning", "delete_learning", "get_learnings"),
    "schema versions": ("get_latest_schema_version", "upsert_schema_version"),
}


def _unsupported(feature: str, method_name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}.{method_name}: the Session Store keeps sessions and runs only, "
            f"not {feature}. Use another agno db for {feature}; see {README}."
        )

    method.__name__ = method_name
    method.__qualname__ = method_name
    return method


def fail_unsupported_features(cls: type) -> type:
    """Class decorator: define every unsupported method the class does not define itself."""
    for feature, method_names in UNSUPPORTED_FEATURES.items():
        for method_name in method_names:
            if method_name not in cls.__dict__:
                setattr(cls, method_name, _unsupported(feature, method_name))
    # The methods were added after the class was built: let ABCMeta recount what is abstract.
    abc.update_abstractmethods(cls)
    return cls
