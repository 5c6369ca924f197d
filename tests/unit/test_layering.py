"""The layers of docs/design.md's map of the code, checked on the imports themselves: a handler that
reaches into the data-access layer, or a service module that calls boto3, fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cdk import DOMAIN_LAYER_DIR, FUNCTIONS_DIR

DOMAIN = DOMAIN_LAYER_DIR / "python" / "session_store"
HANDLERS = FUNCTIONS_DIR / "handlers"
AWS_SDK = ("boto3", "botocore")

# The only modules that talk to AWS: the DynamoDB table client, S3 payloads and exports, and the
# composition root that builds the clients.
AWS_ACCESS = {"dynamodb.py", "payloads.py", "runtime.py"}
# The data-access layer: item and key building, conditions, queries. Handlers never import it;
# they call a service that runtime.py builds.
DATA_ACCESS = {
    "dynamodb",
    "repository",
    "memory_repository",
    "user_repository",
    "writes",
    "large_updates",
    "listing",
    "list_totals",
    "run_pages",
    "items",
    "memory_items",
    "erasure_items",
    "keys",
    "expressions",
    "table",
    "payloads",
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "session_store":
                found |= {f"session_store.{alias.name}" for alias in node.names}
    return found


def domain_modules_of(path: Path) -> set[str]:
    return {name.split(".")[1] for name in imported_modules(path) if name.startswith("session_store.")}


def test_the_rules_see_every_module():
    modules = {path.name for path in DOMAIN.rglob("*.py")}
    assert AWS_ACCESS <= modules
    assert {f"{name}.py" for name in DATA_ACCESS} <= modules
    assert len(list(HANDLERS.glob("*.py"))) > 15


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda path: str(path.relative_to(DOMAIN)))
def test_only_the_data_access_modules_import_the_aws_sdk(path):
    sdk = {name for name in imported_modules(path) if name.split(".")[0] in AWS_SDK}
    assert not sdk or path.name in AWS_ACCESS, f"{path.name} imports {sorted(sdk)}"


@pytest.mark.parametrize("path", sorted(HANDLERS.glob("*.py")), ids=lambda path: path.name)
def test_handlers_reach_the_data_only_through_a_service(path):
    sdk = {name for name in imported_modules(path) if name.split(".")[0] in AWS_SDK}
    assert not sdk, f"{path.name} imports {sorted(sdk)}"
    assert not domain_modules_of(path) & DATA_ACCESS, (
        f"{path.name} imports {sorted(domain_modules_of(path) & DATA_ACCESS)}"
    )


def test_the_client_ships_alone():
    client = Path(__file__).resolve().parents[2] / "src" / "session_store_client"
    for path in client.rglob("*.py"):
        ours = {name for name in imported_modules(path) if name.split(".")[0] == "session_store"}
        assert not ours, f"{path.name} imports {sorted(ours)}: the client package is installed without the domain layer"
