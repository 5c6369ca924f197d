"""The data lifecycle in the default stack: the erasure worker's stream mapping and filter, the
least privilege of the user routes and the worker, the alarms on a failed erasure, and the
expiry of staged exports."""

from __future__ import annotations

from local_runtime.filters import compile_criteria
from session_store import names, routes
from tests.infrastructure.template_queries import (
    actions_of,
    api_function_ids,
    erasure_worker_id,
    ref,
    role_statements,
)

STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}


def service_actions(actions):
    return {a for a in actions if not a.startswith(("logs:", "xray:"))}


def worker_mapping(stack):
    (mapping,) = [
        m
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if ref(m["Properties"]["FunctionName"]) == erasure_worker_id(stack)
    ]
    return mapping["Properties"]


def job_record(event_name, entity, status):
    image = {"entity": {"S": entity}, "status": {"S": status}}
    return {"eventName": event_name, "dynamodb": {"NewImage": image}}


def test_the_worker_gets_only_the_records_of_running_jobs(default_stack):
    properties = worker_mapping(default_stack)
    (table_id,) = default_stack.of_type("AWS::DynamoDB::Table")
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert properties["BatchSize"] == 1
    # The filter as the local runtime applies it (the same code path as `make local`).
    accepts = compile_criteria(properties["FilterCriteria"])
    assert accepts(job_record("MODIFY", names.ENTITY_ERASURE, "running"))
    assert accepts(job_record("INSERT", names.ENTITY_ERASURE, "running"))
    assert not accepts(job_record("MODIFY", names.ENTITY_ERASURE, "done"))
    assert not accepts(job_record("REMOVE", names.ENTITY_ERASURE, "running"))
    assert not accepts(job_record("INSERT", names.ENTITY_SESSION, "running"))


def test_the_worker_may_only_read_the_user_and_delete(default_stack):
    statements = role_statements(default_stack, erasure_worker_id(default_stack))
    assert (
        service_actions(actions_of(statements))
        == {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
            "s3:DeleteObject",
        }
        | STREAM_READS
    )


def test_user_routes_have_only_what_they_use(default_stack):
    ids = api_function_ids(default_stack)
    erase = service_actions(actions_of(role_statements(default_stack, ids[routes.ERASE_USER.function])))
    assert erase == {"dynamodb:GetItem", "dynamodb:PutItem"}
    receipt = service_actions(actions_of(role_statements(default_stack, ids[routes.GET_ERASURE.function])))
    assert receipt == {"dynamodb:GetItem"}
    export_statements = role_statements(default_stack, ids[routes.EXPORT_USER.function])
    assert service_actions(actions_of(export_statements)) == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "s3:GetObject",
        "s3:PutObject",
    }
    put_resources = [s["Resource"] for s in export_statements if "s3:PutObject" in actions_of([s])]
    assert len(put_resources) == 1 and names.EXPORT_OBJECT_PREFIX in str(put_resources[0])


def test_a_failed_erasure_raises_an_alarm(default_stack):
    alarms = default_stack.of_type("AWS::CloudWatch::Alarm").values()
    failed = [a["Properties"] for a in alarms if a["Properties"].get("MetricName") == names.ERASURE_FAILED_METRIC]
    assert len(failed) == 1
    assert failed[0]["Namespace"] == names.METRICS_NAMESPACE
    assert failed[0]["AlarmActions"]
    worker_errors = [
        a["Properties"]
        for a in alarms
        if a["Properties"].get("MetricName") == "Errors"
        and ref(a["Properties"]["Dimensions"][0]["Value"]) == erasure_worker_id(default_stack)
    ]
    assert len(worker_errors) == 1


def test_staged_exports_expire(default_stack):
    (bucket,) = [b for b in default_stack.of_type("AWS::S3::Bucket").values()]
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {
        "Id": "ExpireExports",
        "Prefix": names.EXPORT_OBJECT_PREFIX,
        "ExpirationInDays": 1,
        "Status": "Enabled",
    } in rules
