"""The table client (dynamodb.py): paging follows LastEvaluatedKey to the end or to a limit, and
unprocessed batch items are sent again after an injected pause, then refused with 503."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from session_store import errors, items, keys, names
from session_store.dynamodb import BATCH_ATTEMPTS, Table
from session_store.expressions import Expression


def _put_runs(client, table_name, count):
    for number in range(count):
        client.put_item(TableName=table_name, Item={**items.run_key("s", f"r#{number:04d}"), "n": items.n(number)})


def _partition(expression: Expression) -> dict:
    condition = f"{expression.name(names.PARTITION_KEY)} = {expression.value(items.s(keys.session_pk('s')))}"
    return expression.arguments(KeyConditionExpression=condition)


def test_pages_follow_the_last_evaluated_key_to_the_end(dynamodb_client, table_name):
    _put_runs(dynamodb_client, table_name, 7)
    table = Table(dynamodb_client, table_name)
    responses = list(table.pages({"Limit": 3, **_partition(Expression())}))
    assert [len(response["Items"]) for response in responses] == [3, 3, 1]
    assert [int(item["n"]["N"]) for response in responses for item in response["Items"]] == list(range(7))


def test_pages_with_a_limit_ask_only_for_what_is_missing(dynamodb_client, table_name):
    _put_runs(dynamodb_client, table_name, 7)
    table = Table(dynamodb_client, table_name)
    responses = list(table.pages(_partition(Expression()), limit=5))
    assert sum(len(response["Items"]) for response in responses) == 5
    assert "LastEvaluatedKey" in responses[-1]


def test_unprocessed_keys_are_read_again_after_the_injected_pause(dynamodb_client, table_name):
    pauses: list[float] = []
    table = Table(dynamodb_client, table_name, sleep=pauses.append)
    key = items.session_key("s")
    with Stubber(dynamodb_client) as stub:
        stub.add_response(
            "batch_get_item", {"Responses": {table_name: []}, "UnprocessedKeys": {table_name: {"Keys": [key]}}}
        )
        stub.add_response("batch_get_item", {"Responses": {table_name: [key]}})
        assert table.batch_get([key], consistent=True) == [key]
    assert len(pauses) == 1


def test_unprocessed_items_left_after_every_attempt_are_a_503(dynamodb_client, table_name):
    pauses: list[float] = []
    table = Table(dynamodb_client, table_name, sleep=pauses.append)
    key = items.session_key("s")
    with Stubber(dynamodb_client) as stub:
        for _ in range(BATCH_ATTEMPTS):
            stub.add_response("batch_write_item", {"UnprocessedItems": {table_name: [{"DeleteRequest": {"Key": key}}]}})
        with pytest.raises(errors.ServiceUnavailable):
            table.batch_delete([key])
    assert len(pauses) == BATCH_ATTEMPTS
