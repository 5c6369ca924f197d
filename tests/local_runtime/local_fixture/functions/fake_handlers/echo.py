"""An API function that answers with what it was given, so tests can inspect the event and context."""

import base64
import json
import os
import time

# Imported to prove where packages come from: `requests` from the venv (the dependency layer is
# built for aarch64 and must be skipped), `session_store` from the domain layer asset.
import requests

import session_store
from session_store import names

ECHOED_VARIABLES = (
    names.ENV_TABLE_NAME,
    names.ENV_PAYLOAD_BUCKET,
    names.ENV_CURSOR_KEY,
    names.ENV_DYNAMODB_ENDPOINT,
    names.ENV_S3_ENDPOINT,
    names.ENV_SERVICE_NAME,
    names.ENV_RETENTION_DAYS,
    "TABLE_ARN",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_METRICS_DISABLED",
)


def lambda_handler(event, context):
    query = event.get("queryStringParameters") or {}
    if "raise" in query:
        raise RuntimeError("asked to fail")
    if "malformed" in query:
        return {"statusCode": 200, "body": {"not": "a string"}}
    if "binary" in query:
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(bytes(range(256))).decode(),
            "isBase64Encoded": True,
        }
    if "big" in query:
        return {"statusCode": 200, "body": "x" * int(query["big"])}
    if "size" in query:  # for large requests: report the body instead of echoing it back
        body = event["body"] or ""
        raw = base64.b64decode(body) if event["isBase64Encoded"] else body.encode()
        return {"statusCode": 200, "body": json.dumps({"bytes": len(raw), "isBase64Encoded": event["isBase64Encoded"]})}
    if "sleep" in query:
        time.sleep(float(query["sleep"]))
    body = {
        "event": event,
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
        "environment": {name: os.environ.get(name) for name in ECHOED_VARIABLES},
        "modules": {"requests": requests.__file__, "session_store": session_store.__file__},
    }
    return {
        "statusCode": int(query.get("status", 200)),
        "headers": {"Content-Type": "application/json", "X-Single": "one"},
        "multiValueHeaders": {"X-Multi": ["a", "b"], "X-Single": ["one"]},
        "body": json.dumps(body),
    }
