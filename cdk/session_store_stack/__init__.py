"""The Session Store stack and its constructs, one per concern."""

from cdk.session_store_stack.stack import SessionStoreStack

__all__ = ["SessionStoreStack"]
