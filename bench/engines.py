"""The stand-ins the benchmark runs on: DynamoDB Local (local_runtime) and moto's S3 server."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

from local_runtime.dynamodb_local import free_port, make_client


@contextmanager
def local_s3(bucket: str) -> Iterator[str]:
    """moto's S3 in server mode on a free port, holding an empty `bucket`; yields its endpoint."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request on stderr
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        make_client("s3", endpoint).create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()


def cache_describe_table(client: Any) -> Any:
    """Answer DescribeTable from a cache once a table has been described.

    DynamoDB Local's DescribeTable counts the table's items and bytes on every call (350 ms at
    30,000 items on 2 cores, and growing with the table); real DynamoDB answers it from metadata.
    Agno's adapter describes a table before every read (table_exists in _get_table), once per
    listed session, so uncached its list time would measure DynamoDB Local, not Agno. The cache
    only skips that round-trip: DescribeTable consumes no capacity, so no number in capacity
    changes, and Agno's times come out slightly better than on AWS, not worse.
    """
    described: dict[str, tuple[Any, dict[str, Any]]] = {}

    def answer_from_cache(params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        table_name = json.loads(params.get("body") or b"{}").get("TableName")
        context["bench_table"] = table_name
        return described.get(table_name)

    def remember(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        table = parsed.get("Table") or {}
        if http_response.status_code == 200 and table.get("TableStatus") == "ACTIVE":
            described[context["bench_table"]] = (http_response, parsed)

    client.meta.events.register("before-call.dynamodb.DescribeTable", answer_from_cache)
    client.meta.events.register("after-call.dynamodb.DescribeTable", remember)
    return client
