"""What makes a turn cheap, on DynamoDB Local through the handlers: conditional reads (304 after
the session item alone), runs gzipped from 1 KB (and labelled so in the item), index entries
that move at most once per INDEX_MOVE_SECONDS while lists stay in exact updated_at order."""

from __future__ import annotations

import gzip
import json
import random
import time

from session_store import codec, items, keys, names, table
from session_store.models import SessionWrite
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
        TableName=table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :runs)",
        ExpressionAttributeValues={":pk": {"S": keys.session_pk("s1")}, ":runs": {"S": names.RUN_PREFIX}},
    )["Items"]
    by_id = {item["run_id"]["S"]: item for item in stored}
    assert by_id["small"][items.RUN_ATTRIBUTE] == {"S": codec.dumps(small)}
    assert items.PAYLOAD_ENCODING_ATTRIBUTE not in by_id["small"]
    assert by_id["large"][items.PAYLOAD_ENCODING_ATTRIBUTE] == {"S": "gzip"}
    # What docs/design.md tells an operator to run on the console's Binary value (base64 there).
    assert json.loads(gzip.decompress(by_id["large"][items.RUN_ATTRIBUTE]["B"])) == large
    assert call("GET", session_path("s1")).json()["runs"] == [small, large]


class _Clock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> float:
        return float(self.now)


def _service_at(clock: _Clock):
    from session_store import runtime
    from session_store.service import SessionService

    return SessionService(runtime.repository(), 30, clock=clock)


def _index_entry(dynamodb_client, table_name: str, session_id: str) -> tuple[str, str]:
    item = dynamodb_client.get_item(TableName=table_name, Key=items.session_key(session_id), ConsistentRead=True)[
        "Item"
    ]
    return item[table.UPDATED_ORDER_ATTRIBUTE]["S"], item[table.INDEXED_EXPIRY_ATTRIBUTE]["N"]


def test_index_entries_move_only_once_their_time_is_the_slack_old(table_name, dynamodb_client):
    clock = _Clock(int(time.time()))
    service = _service_at(clock)
    service.upsert_session("s1", SessionWrite(**AGENT))
    created = _index_entry(dynamodb_client, table_name, "s1")
    clock.now += table.UPDATED_INDEX_SLACK_SECONDS - 1
    service.upsert_session("s1", SessionWrite(runs=[_run("r1", 10)]))
    assert _index_entry(dynamodb_client, table_name, "s1") == created  # the turn wrote no index
    clock.now += 1
    service.upsert_session("s1", SessionWrite(runs=[_run("r2", 10)]))
    moved = _index_entry(dynamodb_client, table_name, "s1")
    assert moved[0] == keys.order_key(clock.now, "s1") and moved != created
    # Pinning the expiry moves the entries at once: their filter must see the exact expiry.
    clock.now += 5
    service.upsert_session("s1", SessionWrite(expires_at=clock.now + 60))
    assert _index_entry(dynamodb_client, table_name, "s1") == (keys.order_key(clock.now, "s1"), str(clock.now + 60))


def test_lists_stay_in_exact_updated_at_order_while_index_entries_trail(table_name):
    """Random writes over a few sessions, most within the slack of their entries' last move: every
    list (both orders, pages of 2 with cursors, time bounds, totals) equals the sessions sorted by
    their own updated_at."""
    rng = random.Random(7)
    start = int(time.time()) - 3_000
    clock = _Clock(start)
    service = _service_at(clock)
    session_ids = [f"s{number}" for number in range(9)]
    for session_id in session_ids:
        clock.now += rng.randrange(0, 3)
        service.upsert_session(session_id, SessionWrite(**AGENT))
    for _ in range(40):
        clock.now += rng.choice((0, 1, 7, 60, 250, 400))
        service.upsert_session(rng.choice(session_ids), SessionWrite(runs=[_run(f"r{rng.random()}", 5)]))
    updated = {session_id: call("GET", session_path(session_id)).json()["updated_at"] for session_id in session_ids}
    by_time = sorted(session_ids, key=lambda session_id: keys.order_key(updated[session_id], session_id))
    middle = sorted(updated.values())[4]
    for query, expected in [
        ({}, by_time[::-1]),
        ({"sort_order": "asc"}, by_time),
        ({"start_timestamp": middle}, [s for s in by_time[::-1] if updated[s] >= middle]),
        ({"end_timestamp": middle, "sort_order": "asc"}, [s for s in by_time if updated[s] <= middle]),
    ]:
        for scope in ({}, {"user_id": "alice"}, {"agent_id": "agent-1"}):
            listed, cursor = [], None
            while True:
                page = call(
                    "GET",
                    "/sessions",
                    query={
                        **scope,
                        **query,
                        "limit": 2,
                        "include_total": "true",
                        **({"cursor": cursor} if cursor else {}),
                    },
                ).json()
                listed += [session["session_id"] for session in page["sessions"]]
                assert page["total"] == len(expected), (scope, query)
                cursor = page["next_cursor"]
                if not cursor:
                    break
            assert listed == expected, (scope, query)
