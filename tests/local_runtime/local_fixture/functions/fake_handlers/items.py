"""An API function with an item collection: a parent item (sk META) and child items."""

import json
import os

import boto3

from session_store import names

_table = boto3.resource("dynamodb", endpoint_url=os.environ[names.ENV_DYNAMODB_ENDPOINT]).Table(
    os.environ[names.ENV_TABLE_NAME]
)


def lambda_handler(event, context):
    item_id = event["pathParameters"]["item_id"]
    pk = f"ITEM#{item_id}"
    method = event["httpMethod"]
    if method == "PUT" and "child_id" in event["pathParameters"]:
        _table.put_item(Item={"pk": pk, "sk": f"CHILD#{event['pathParameters']['child_id']}"})
        return _json(201, {"child": event["pathParameters"]["child_id"]})
    if method == "PUT":
        body = json.loads(event["body"] or "{}")
        parent = {"pk": pk, "sk": names.SESSION_META_SK, "item_id": item_id}
        if body.get("expires_at") is not None:
            parent[names.TTL_ATTRIBUTE] = int(body["expires_at"])
        _table.put_item(Item=parent)
        for index in range(int(body.get("children", 0))):
            _table.put_item(Item={"pk": pk, "sk": f"CHILD#{index:04d}"})
        return _json(201, {"item_id": item_id})
    if method == "DELETE":
        _table.delete_item(Key={"pk": pk, "sk": names.SESSION_META_SK})
        return {"statusCode": 204, "body": ""}
    items = _table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk})["Items"]
    if not items:
        return _json(404, {"item_id": item_id})
    return _json(200, {"item_id": item_id, "sort_keys": sorted(i["sk"] for i in items)})


def _json(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
