"""The stream consumer double: when a parent item is removed, delete its children, and keep a copy
of every record it was given (pk CASCADE) so tests can check what Lambda would have delivered."""

import json
import os

import boto3

from session_store import names

_table = boto3.resource("dynamodb", endpoint_url=os.environ[names.ENV_DYNAMODB_ENDPOINT]).Table(
    os.environ[names.ENV_TABLE_NAME]
)


def lambda_handler(event, context):
    for record in event["Records"]:
        pk = record["dynamodb"]["Keys"]["pk"]["S"]
        _table.put_item(Item={"pk": "CASCADE", "sk": f"{pk}#{record['eventID']}", "record": json.dumps(record)})
        children = _table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :child)",
            ExpressionAttributeValues={":pk": pk, ":child": "CHILD#"},
        )["Items"]
        with _table.batch_writer() as batch:
            for child in children:
                batch.delete_item(Key={"pk": child["pk"], "sk": child["sk"]})
    return {"batchItemFailures": []}
