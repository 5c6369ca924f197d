"""The events the local runtime hands to functions and what it makes of their answers: the API
Gateway REST proxy event and response, the DynamoDB Streams records, Lambda's event filters."""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from local_runtime.apigateway import IncomingRequest, MalformedResponseError, build_event, parse_response
from local_runtime.filters import UnsupportedFilterError, compile_criteria
from local_runtime.router import Router
from local_runtime.stack import ApiMethod
from local_runtime.stream_records import lambda_record
from local_runtime.ttl_deletions import TtlDeletions, key_fingerprint
from session_store import names

ROUTER = Router([ApiMethod("PUT", "/sessions/{session_id}", "Put"), ApiMethod("GET", "/sessions", "List")])


def request(method="PUT", target="/sessions/a%2Fb?x=1", headers=(), body=b"") -> IncomingRequest:
    return IncomingRequest(method, target, list(headers), body, "10.0.0.7", "abc123defg", "v1")


def event_for(incoming: IncomingRequest) -> dict:
    return build_event(incoming, ROUTER.match(incoming.method, incoming.raw_path), "req-1")


def test_proxy_event_carries_the_request_as_api_gateway_rest_does():
    event = event_for(
        request(
            target="/sessions/a%2Fb%20c?tag=a+b&tag=%2B&empty=&x=%C3%A9",
            headers=[("Content-Type", "application/json"), ("X-Dup", "1"), ("X-Dup", "2"), ("User-Agent", "ua/1")],
            body='{"session_type": "agent", "name": "λ"}'.encode(),
        )
    )
    assert event["resource"] == "/sessions/{session_id}"
    assert event["path"] == "/sessions/a%2Fb%20c"  # as received, still encoded
    assert event["pathParameters"] == {"session_id": "a/b c"}  # decoded
    assert event["httpMethod"] == "PUT"
    assert event["headers"] == {"Content-Type": "application/json", "X-Dup": "2", "User-Agent": "ua/1"}
    assert event["multiValueHeaders"]["X-Dup"] == ["1", "2"]
    assert event["queryStringParameters"] == {"tag": "+", "empty": "", "x": "é"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a b", "+"], "empty": [""], "x": ["é"]}
    assert event["stageVariables"] is None
    assert event["body"] == '{"session_type": "agent", "name": "λ"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["requestId"] == "req-1"
    assert context["path"] == "/sessions/a%2Fb%20c"  # served at the root locally
    assert (context["stage"], context["resourcePath"], context["httpMethod"]) == ("v1", "/sessions/{session_id}", "PUT")
    assert (context["apiId"], context["accountId"]) == ("abc123defg", "123456789012")
    assert context["identity"]["sourceIp"] == "10.0.0.7" and context["identity"]["userAgent"] == "ua/1"
    assert isinstance(context["requestTimeEpoch"], int)
    json.dumps(event)  # what Lambda delivers is JSON


def test_absent_parts_are_null():
    event = event_for(request(method="GET", target="/sessions"))
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None


def test_a_body_that_is_not_utf8_arrives_base64_encoded():
    raw = b"\xff\xfe\x00binary"
    event = event_for(request(body=raw))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_proxy_response_headers_are_merged_and_base64_bodies_decoded():
    response = parse_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-A": "1", "Content-Length": "999"},
            "multiValueHeaders": {"X-A": ["1", "2"], "Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201
    assert response.body == b"\x00\x01"
    # A pair in both lists appears once; the length is recomputed by the server.
    assert sorted(response.headers) == [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-A", "1"),
        ("X-A", "2"),
    ]
    assert parse_response({"statusCode": 204}).body == b""


@pytest.mark.parametrize(
    "result",
    [
        "not an object",
        {"body": "no status"},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"X": ["list"]}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 200, "body": "!!!", "isBase64Encoded": True},
    ],
)
def test_malformed_proxy_responses_are_refused(result):
    with pytest.raises(MalformedResponseError):
        parse_response(result)


# --- streams -------------------------------------------------------------------------------------
def boto3_record(event_name: str, keys: dict, **images) -> dict:
    return {
        "eventID": "e1",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "Keys": keys,
            **images,
            "SequenceNumber": "000000000000000000042",
            "SizeBytes": 40,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def test_stream_records_are_shaped_as_lambda_delivers_them():
    keys = {"pk": {"S": "SESSION#a"}, "sk": {"S": "META"}}
    old = {
        **keys,
        "blob": {"B": b"\x00\x01"},
        "tags": {"BS": [b"\x02"]},
        "n": {"N": "1.50"},
        "m": {"M": {"b": {"B": b"\x03"}}},
    }
    record = lambda_record(boto3_record("REMOVE", keys, OldImage=old), "arn:stream", "us-east-1")
    assert record["eventSource"] == "aws:dynamodb" and record["eventSourceARN"] == "arn:stream"
    assert record["awsRegion"] == "us-east-1"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767323045
    assert record["dynamodb"]["Keys"] == keys
    image = record["dynamodb"]["OldImage"]
    assert (
        image["blob"] == {"B": "AAE="} and image["tags"] == {"BS": ["Ag=="]} and image["m"]["M"]["b"] == {"B": "Aw=="}
    )
    assert image["n"] == {"N": "1.50"}  # numbers stay exact strings
    assert "NewImage" not in record["dynamodb"] and "userIdentity" not in record
    json.dumps(record)


def test_dynamodb_locals_own_expiry_records_become_ttl_removes():
    keys = {"pk": {"S": "SESSION#a"}, "sk": {"S": "META"}}
    with_index_keys = {**keys, "gsi_user_pk": {"S": "USER#u"}}  # as DynamoDB Local lists them
    expired = lambda_record(
        boto3_record("UNKNOWN_TO_SDK_VERSION", with_index_keys, OldImage=with_index_keys),
        "arn:stream",
        "us-east-1",
        key_attributes=("pk", "sk"),
    )
    assert expired["eventName"] == "REMOVE"
    assert expired["dynamodb"]["Keys"] == keys
    assert expired["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    # Anything else keeps its name: an unknown event that is not a removal is not guessed at.
    odd = lambda_record(boto3_record("SOMETHING", keys, NewImage=keys), "arn:stream", "us-east-1")
    assert odd["eventName"] == "SOMETHING" and "userIdentity" not in odd


def test_ttl_deletions_are_claimed_once_per_delete():
    deletions = TtlDeletions()
    keys = {"pk": {"S": "a"}, "sk": {"S": "META"}}
    deletions.add("t", keys)
    assert not deletions.take("other-table", keys)
    assert deletions.take("t", dict(reversed(keys.items())))  # key order does not matter
    assert not deletions.take("t", keys)
    deletions.add("t", keys)
    deletions.take("t", keys)
    assert not deletions.take("t", keys)
    assert key_fingerprint({"b": {"B": b"\x01"}}) == key_fingerprint({"b": {"B": "AQ=="}})


# --- filters -------------------------------------------------------------------------------------
def stack_criteria(patterns) -> dict:
    """FilterCriteria as the stack's event source mappings carry them (each pattern a JSON string)."""
    return {"Filters": [{"Pattern": p if isinstance(p, str) else json.dumps(p)} for p in patterns]}


def cascade_criteria() -> dict:
    from cdk.session_store_stack.cascade import STREAM_FILTERS

    return stack_criteria(STREAM_FILTERS)


def erasure_criteria() -> dict:
    from cdk.session_store_stack.erasure import job_filter

    return stack_criteria([job_filter()["pattern"]])


def record(event_name="REMOVE", sk="META", old=None, new=None, **extra) -> dict:
    change = {"Keys": {"pk": {"S": "p"}, "sk": {"S": sk}}}
    change |= {"OldImage": old} if old is not None else {}
    change |= {"NewImage": new} if new is not None else {}
    return {"eventName": event_name, "dynamodb": change, **extra}


def test_the_cascades_filters_select_session_removals_rebirths_and_offloaded_payloads():
    from session_store.items import PAYLOAD_OBJECT_ATTRIBUTE, REPLACED_INCARNATION

    accepts = compile_criteria(cascade_criteria())
    session = {"entity": {"S": names.ENTITY_SESSION}}
    run = {"entity": {"S": names.ENTITY_RUN}}
    assert accepts(record(old=session))  # a session item deleted or expired
    assert not accepts(record("MODIFY", old=session, new=session))  # an ordinary turn
    assert not accepts(record("INSERT", new=session))
    assert accepts(record("MODIFY", old=session, new=session | {REPLACED_INCARNATION: {"S": "i1"}}))
    assert not accepts(record("INSERT", new=session | {REPLACED_INCARNATION: {"S": "i1"}}))
    offloaded = run | {PAYLOAD_OBJECT_ATTRIBUTE: {"S": "payloads/x"}}
    assert accepts(record(sk="RUN#1", old=offloaded)) and accepts(record("MODIFY", sk="RUN#1", old=offloaded, new=run))
    assert not accepts(record("INSERT", sk="RUN#1", new=offloaded))
    assert not accepts(record(sk="RUN#1", old=run))  # a run without an offloaded payload
    assert not accepts({"eventName": "REMOVE"})


def test_the_erasure_workers_filter_selects_running_jobs_only():
    accepts = compile_criteria(erasure_criteria())
    job = {"entity": {"S": names.ENTITY_ERASURE}, "status": {"S": "running"}}
    assert accepts(record("INSERT", new=job)) and accepts(record("MODIFY", old=job, new=job))
    assert not accepts(record("MODIFY", old=job, new=job | {"status": {"S": "done"}}))
    assert not accepts(record("REMOVE", old=job))
    assert not accepts(record("INSERT", new=job | {"entity": {"S": names.ENTITY_SESSION}}))


def test_filter_operators():
    def accepts(pattern: dict, value: dict) -> bool:
        return compile_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]})(value)

    ttl = {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
    assert accepts(ttl, record(userIdentity={"type": "Service", "principalId": "dynamodb.amazonaws.com"}))
    assert not accepts(ttl, record())
    assert accepts({"userIdentity": [{"exists": False}]}, record())
    assert not accepts({"userIdentity": [{"exists": False}]}, record(userIdentity={"type": "Service"}))
    assert accepts({"eventName": [{"prefix": "REM"}]}, record())
    assert accepts({"eventName": [{"anything-but": ["INSERT", "MODIFY"]}]}, record())
    assert not accepts({"eventName": [{"anything-but": "REMOVE"}]}, record())
    assert accepts({"size": [{"numeric": [">", 1, "<=", 5]}]}, {"size": 5})
    assert not accepts({"size": [{"numeric": [">", 1, "<=", 5]}]}, {"size": "5"})
    assert accepts({"tags": ["b"]}, {"tags": ["a", "b"]})
    # Several filters: any of them.
    either = {
        "Filters": [
            {"Pattern": json.dumps({"eventName": ["INSERT"]})},
            {"Pattern": json.dumps({"eventName": ["REMOVE"]})},
        ]
    }
    assert compile_criteria(either)(record()) and compile_criteria(either)(record("INSERT", "X"))
    assert not compile_criteria(either)(record("MODIFY"))
    assert compile_criteria(None)(record("MODIFY"))


@pytest.mark.parametrize(
    "pattern", [{"a": [{"wildcard": "x*"}]}, {"a": "not a list"}, {"a": [{"prefix": "a", "suffix": "b"}]}]
)
def test_unsupported_filters_fail_at_start_up(pattern):
    with pytest.raises(UnsupportedFilterError):
        compile_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]})
