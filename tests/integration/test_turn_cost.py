"""What makes a turn cheap, on DynamoDB Local through the handlers: conditional reads (304 after
the session item alone), runs gzipped from 1 KB (and labelled so in the item), index entries
that move at most once per INDEX_MOVE_SECONDS while lists stay in exact updated_at order."""

from __future__ import annotations

import gzip
import json

from session_store import codec, items, keys, names
from tests.support.api import call, session_path

AGENT = {"session_type": "agent", "agent_id": "agent-1", "user_id": "alice"}


def _run(run_id: str, words: int) -> dict:
    return {"run_id": run_id, "content": " ".join(f"word{index % 50}" for index in range(words))}


def test_a_read_naming_the_current_version_is_304_with_the_session_item_read_only(table_name):
    written = call("PUT", session_path("s1"), {**AGENT, "runs": [_run("r1", 10)]})
    version = written.etag
    fresh = call("GET", session_path("s1"), headers={"If-None-Match": version})
    assert fresh.status == 304 and fresh.text == "" and fresh.etag == version
    assert call("GET", session_path("s1"), headers={"If-None-Match": f'W/{version}, "999"'}).status == 304
    assert call("GET", session_path("s1"), headers={"If-None-Match": "*"}).status == 304
    call("PUT", session_path("s1"), {"runs": [_run("r2", 10)]})
    stale = call("GET", session_path("s1"), headers={"If-None-Match": version})
    assert stale.status == 200 and [run["run_id"] for run in stale.json()["runs"]] == ["r1", "r2"]
    assert call("GET", session_path("s1"), headers={"If-None-Match": "not-a-tag"}).status == 200
    assert call("GET", session_path("missing"), headers={"If-None-Match": version}).status == 404


def test_runs_above_one_kilobyte_are_gzipped_and_labelled_for_the_console(table_name, dynamodb_client):
    small, large = _run("small", 20), _run("large", 400)
    assert len(codec.dumps(small)) < codec.RUN_GZIP_THRESHOLD_BYTES < len(codec.dumps(large))
    call("PUT", session_path("s1"), {**AGENT, "runs": [small, large]})
    stored = dynamodb_client.query(
        TableName=table_name, KeyConditionExpression="pk = :pk AND begins_with(sk, :runs)",
        ExpressionAttributeValues={":pk": {"S": keys.session_pk("s1")}, ":runs": {"S": names.RUN_PREFIX}})["Items"]
    by_id = {item["run_id"]["S"]: item for item in stored}
    assert by_id["small"][items.RUN_ATTRIBUTE] == {"S": codec.dumps(small)}
    assert items.PAYLOAD_ENCODING_ATTRIBUTE not in by_id["small"]
    assert by_id["large"][items.PAYLOAD_ENCODING_ATTRIBUTE] == {"S": "gzip"}
    # What docs/design.md tells an operator to run on the console's Binary value (base64 there).
    assert json.loads(gzip.decompress(by_id["large"][items.RUN_ATTRIBUTE]["B"])) == large
    assert call("GET", session_path("s1")).json()["runs"] == [small, large]
