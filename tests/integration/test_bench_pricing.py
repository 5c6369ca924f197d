"""The benchmark's cost model (bench/pricing.py) against DynamoDB Local's own reports, for the
single-item operations where DynamoDB Local's ConsumedCapacity is exact (docs/design.md)."""

from __future__ import annotations

import uuid

import pytest

from bench.pricing import Pricer, item_size, usd_per_million

INDEX_INCLUDE = "by_g"
INDEX_KEYS = "by_k"


@pytest.fixture
def priced_table(dynamodb_local, dynamodb_client):
    name = f"pricing_{uuid.uuid4().hex[:10]}"
    dynamodb_client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in ("pk", "sk", "g", "k")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX_INCLUDE,
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["p"]},
            },
            {
                "IndexName": INDEX_KEYS,
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    )
    client = dynamodb_local.client()
    pricer = Pricer(dynamodb_local.client())
    pricer.attach(client)
    yield name, client, pricer
    dynamodb_client.delete_table(TableName=name)


def _item(sk: str, size: int, **extra: str) -> dict:
    return {"pk": {"S": "p"}, "sk": {"S": sk}, "body": {"S": "x" * size}, **{k: {"S": v} for k, v in extra.items()}}


def _reported(response: dict) -> float:
    consumed = response["ConsumedCapacity"]
    return sum(entry["CapacityUnits"] for entry in (consumed if isinstance(consumed, list) else [consumed]))


def _check(pricer: Pricer, response: dict, expected: float) -> None:
    priced = pricer.take()
    assert priced.rru + priced.wru == _reported(response) == expected


@pytest.mark.parametrize(
    "size, extra, units",
    [
        (400, {}, 1),  # small item, in no index
        (1024 - 20, {}, 1),  # just under 1 KB with its names
        (1100, {}, 2),  # just over
        (5000, {"g": "a"}, 6),  # 5 KB item + one INCLUDE index entry (keys only: < 1 KB)
        (
            5000,
            {"g": "a", "p": "y" * 1500, "k": "b"},
            10,
        ),  # 6.5 KB item: 7; entry with 1.5 KB projected: 2; keys-only: 1
    ],
)
def test_a_put_is_priced_as_dynamodb_reports_it(priced_table, size, extra, units):
    name, client, pricer = priced_table
    response = client.put_item(TableName=name, Item=_item("s", size, **extra), ReturnConsumedCapacity="TOTAL")
    _check(pricer, response, units)


@pytest.mark.parametrize(
    "update, values, units",
    [
        ("SET extra_attribute = :v", {":v": {"S": "1"}}, 3),  # 2.5 KB item, no index touched
        ("SET p = :v", {":v": {"S": "new"}}, 4),  # projected attribute changes: entry rewritten
        ("SET g = :v", {":v": {"S": "moved"}}, 5),  # index key changes: delete + put
        ("SET k = :v", {":v": {"S": "added"}}, 4),  # enters the keys-only index
        ("REMOVE g", {}, 4),  # leaves the INCLUDE index
        ("SET body = :v", {":v": {"S": "short"}}, 3),  # the larger of before and after
    ],
)
def test_an_update_is_priced_as_dynamodb_reports_it(priced_table, update, values, units):
    name, client, pricer = priced_table
    client.put_item(TableName=name, Item=_item("s", 2500, g="a", p="old"))
    pricer.take()
    arguments = {"ExpressionAttributeValues": values} if values else {}
    response = client.update_item(
        TableName=name,
        Key={"pk": {"S": "p"}, "sk": {"S": "s"}},
        UpdateExpression=update,
        ReturnConsumedCapacity="TOTAL",
        **arguments,
    )
    _check(pricer, response, units)


def test_a_delete_is_priced_as_dynamodb_reports_it(priced_table):
    name, client, pricer = priced_table
    client.put_item(TableName=name, Item=_item("s", 3000, g="a"))
    pricer.take()
    response = client.delete_item(
        TableName=name, Key={"pk": {"S": "p"}, "sk": {"S": "s"}}, ReturnConsumedCapacity="TOTAL"
    )
    _check(pricer, response, 4)


@pytest.mark.parametrize("consistent, units", [(True, 3.0), (False, 1.5)])
def test_a_get_is_priced_as_dynamodb_reports_it(priced_table, consistent, units):
    name, client, pricer = priced_table
    client.put_item(TableName=name, Item=_item("s", 9000))
    pricer.take()
    response = client.get_item(
        TableName=name,
        Key={"pk": {"S": "p"}, "sk": {"S": "s"}},
        ConsistentRead=consistent,
        ReturnConsumedCapacity="TOTAL",
    )
    _check(pricer, response, units)


def test_a_query_is_priced_on_what_it_evaluates_before_its_filter(priced_table):
    name, client, pricer = priced_table
    for index in range(3):
        client.put_item(TableName=name, Item=_item(f"s{index}", 3000, g="a"))
    pricer.take()
    response = client.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        FilterExpression="body = :none",
        ConsistentRead=True,
        ExpressionAttributeValues={":p": {"S": "p"}, ":none": {"S": "none"}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["Items"] == []
    _check(pricer, response, 3.0)  # 9 KB evaluated: 3 units, although nothing matched


def test_an_index_query_is_priced_on_its_entries(priced_table):
    name, client, pricer = priced_table
    for index in range(3):
        client.put_item(TableName=name, Item=_item(f"s{index}", 3000, g="a", p="projected"))
    pricer.take()
    response = client.query(
        TableName=name,
        IndexName=INDEX_INCLUDE,
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "a"}},
        ReturnConsumedCapacity="TOTAL",
    )
    _check(pricer, response, 0.5)  # three small entries, eventually consistent


def test_a_missing_key_costs_the_minimum(priced_table):
    name, client, pricer = priced_table
    missing = {"pk": {"S": "p"}, "sk": {"S": "none"}}
    response = client.get_item(TableName=name, Key=missing, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    _check(pricer, response, 1.0)
    client.batch_get_item(RequestItems={name: {"Keys": [missing]}})
    assert pricer.take().rru == 0.5  # eventually consistent; DynamoDB Local reports 0 here


def test_a_transaction_costs_twice_its_items_where_dynamodb_local_under_reports_equal_items(priced_table):
    name, client, pricer = priced_table
    response = client.transact_write_items(
        TransactItems=[{"Put": {"TableName": name, "Item": _item(f"t{index}", 2500)}} for index in range(3)],
        ReturnConsumedCapacity="TOTAL",
    )
    assert _reported(response) == 6  # DynamoDB Local: 2 x 3 units, once
    assert pricer.take().wru == 18  # AWS: 2 x (3 + 3 + 3)


def test_item_sizes_follow_the_published_rules():
    assert item_size({"ab": {"S": "héllo"}}) == 2 + 6
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1
    assert item_size({"n": {"N": "1.500"}}) == 1 + 1 + 1
    assert item_size({"m": {"M": {"a": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"l": {"L": [{"NULL": True}, {"B": b"xyz"}]}}) == 1 + 3 + 2 + 4
    assert usd_per_million(rru=8, wru=2) == 2.25
