"""Runs in a fresh interpreter (bench/init_time.py starts it): times one cold start.

    probe.py floor  <endpoint> <table> -        import boto3, create a DynamoDB client [, GetItem]
    probe.py <handler module> - - <event file>  import functions/handlers/<module> [, invoke it]

The last argument is "-" to time the import only. Nothing but the standard library is imported
before the clock starts. Prints one line: PROBE {"import_ms": …, "import_cpu_ms": …, "first_call_ms": …} (wall-clock
milliseconds, and the CPU milliseconds this process used).
"""

import json
import sys
import time

_NO_EVENT = "-"


class _Context:
    function_name = "session-store-bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:session-store-bench"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/session-store-bench"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis():
        return 10_000


def main(target, endpoint, table, event_file):
    event = None if event_file == _NO_EVENT else json.loads(open(event_file).read())
    result = {}
    start, start_cpu = time.perf_counter(), time.process_time()
    if target == "floor":
        import boto3

        client = boto3.client("dynamodb", endpoint_url=None if endpoint == _NO_EVENT else endpoint)
        result["import_ms"] = (time.perf_counter() - start) * 1000
        result["import_cpu_ms"] = (time.process_time() - start_cpu) * 1000
        if event is not None:
            client.get_item(TableName=table, Key=event["key"])
    else:
        import importlib

        module = importlib.import_module(f"handlers.{target}")
        result["import_ms"] = (time.perf_counter() - start) * 1000
        result["import_cpu_ms"] = (time.process_time() - start_cpu) * 1000
        if event is not None:
            response = module.lambda_handler(event, _Context())
            if response.get("statusCode") != 200:
                raise SystemExit(f"the first call answered {response.get('statusCode')}: {response.get('body')}")
    if event is not None:
        result["first_call_ms"] = (time.perf_counter() - start) * 1000
    print("PROBE " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
