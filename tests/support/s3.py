"""S3 for the offload and erasure tests: moto in server mode (no local S3 engine exists), a fresh
bucket per test with the functions' environment pointing at it. A pytest plugin of tests/conftest.py."""

from __future__ import annotations

import uuid

import pytest
from moto.server import ThreadedMotoServer

from local_runtime.dynamodb_local import free_port, make_client
from session_store import names, runtime


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(table_name, s3_endpoint, monkeypatch):
    """A fresh bucket, and the functions' environment pointing at it (after table_name's)."""
    name = f"payloads-{uuid.uuid4().hex[:12]}"
    make_client("s3", s3_endpoint).create_bucket(Bucket=name)
    monkeypatch.setenv(names.ENV_PAYLOAD_BUCKET, name)
    monkeypatch.setenv(names.ENV_S3_ENDPOINT, s3_endpoint)
    runtime.reset()
    return name


@pytest.fixture
def s3(s3_endpoint):
    return make_client("s3", s3_endpoint)


def objects(s3, bucket):
    return sorted(entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
