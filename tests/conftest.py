"""Fixtures shared by every test layer: the real DynamoDB engine (DynamoDB Local), one per pytest
worker, and a fresh table per test created from the same definition the stack uses."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings

from local_runtime.dynamodb_local import LOCAL_CREDENTIALS, LOCAL_REGION, DynamoDBLocal
from session_store import names, runtime, table

# The local runtime started as a subprocess (tests/e2e, tests/local_runtime); the capacity meter;
# S3 (moto) for offloaded payloads.
pytest_plugins = ["tests.support.local_runtime_fixtures", "tests.support.metering", "tests.support.s3"]

os.environ.setdefault("AGNO_TELEMETRY", "false")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_DEV", "false")
# Property tests and the schemathesis suite draw the same cases on every run ("ci"): a CI that
# fails by chance blocks every landing. `make fuzz` explores with fresh random cases instead.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# The functions' AWS read timeout (2 s in AWS): DynamoDB Local on a loaded machine pauses longer.
os.environ.setdefault(names.ENV_AWS_READ_TIMEOUT, "5")


# Tests that take minutes (docs/design.md), queued first: xdist hands out the large groups (e2e,
# infra) first, then the rest in this order, so these start early and the other tests share out
# around them instead of one worker running them alone at the end.
LONGEST_FIRST = ("tests/e2e/test_lifecycle.py", "tests/integration/test_scale.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))  # stable: order kept otherwise


class ScanOnRequestPath(AssertionError):
    """The rule: every read and list is served by key lookups and index queries, never a Scan."""


def _client_without_scan(make_client):
    def make(service_name, endpoint_url):
        client = make_client(service_name, endpoint_url)

        def refuse(**_):
            raise ScanOnRequestPath("a request path called DynamoDB Scan")

        client.meta.events.register("before-call.dynamodb.Scan", refuse)
        return client

    return make


@pytest.fixture(scope="session")
def dynamodb_local():
    with DynamoDBLocal() as engine:
        yield engine


@pytest.fixture(scope="session")
def dynamodb_client(dynamodb_local):
    return dynamodb_local.client()


@pytest.fixture
def table_name(dynamodb_client, monkeypatch) -> str:
    """A fresh session table; the functions' environment points at it."""
    name = f"sessions_{uuid.uuid4().hex[:12]}"
    dynamodb_client.create_table(**table.create_table_request(name))
    endpoint = dynamodb_client.meta.endpoint_url
    monkeypatch.setenv(names.ENV_TABLE_NAME, name)
    monkeypatch.setenv(names.ENV_DYNAMODB_ENDPOINT, endpoint)
    monkeypatch.setenv(names.ENV_RETENTION_DAYS, "30")
    monkeypatch.setenv("AWS_DEFAULT_REGION", LOCAL_REGION)
    monkeypatch.setenv("AWS_REGION", LOCAL_REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.delenv(names.ENV_PAYLOAD_BUCKET, raising=False)
    monkeypatch.setattr(runtime, "aws_client", _client_without_scan(runtime.aws_client))
    runtime.reset()
    yield name
    runtime.reset()
    dynamodb_client.delete_table(TableName=name)
