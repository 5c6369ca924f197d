"""The data lifecycle end to end on the local runtime (the synthesized stack: the erasure worker on
its filtered stream mapping, the cascade, moto's S3): erase a user holding 2,000 sessions and
20,000 runs plus offloaded runs, export a user (inline and through a staged file), import an
export and migrate an Agno SqliteDb written by real Agno agents, with the console script."""

from __future__ import annotations

import json
import re

import pytest
from agno.agent import Agent
from agno.db.base import SessionType
from agno.db.sqlite import SqliteDb
from botocore.exceptions import ClientError

from bench.data import incompressible
from bench.lifecycle import session_items, small_sessions, user_sessions, write_agno_db
from bench.loader import loader_client, put_all
from local_runtime.dynamodb_local import make_client
from session_store import erasure, names
from session_store_client import SessionStoreClient
from session_store_client.cli import main
from session_store_client.errors import SessionNotFound
from session_store_client.models import SESSION_BODY_FIELDS
from tests.support.fake_model import FakeModel

# Groups and a local runtime of their own: these tests take minutes, so the erasure and the
# migration run beside the other e2e tests (and each other) on the workers, and the erasure's
# thousands of sessions stay out of the lists the other tests make.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("lifecycle")]

MB = 1024 * 1024
ERASED, KEPT = "erase-me", "keep-me"
# The product's scale: a user with 2,000 sessions and 20,000 runs erased, and a 1,000-session,
# 10,000-run Agno database migrated (docs/design.md has the measured times).
SESSIONS, RUNS = 2_000, 10
AGNO_SESSIONS, AGNO_RUNS = 1_000, 10


@pytest.fixture(scope="module")
def local_runtime(start_runtime, tmp_path_factory):
    """This module's own runtime (the synthesized stack, as `make local` serves it)."""
    return start_runtime("--in-memory", "--cdk-out", str(tmp_path_factory.mktemp("cdk-out-lifecycle")))


@pytest.fixture(scope="module")
def local_api_url(local_runtime):
    return local_runtime.url


@pytest.fixture(scope="module")
def local_dynamodb(local_runtime):
    return local_runtime.dynamodb()


@pytest.fixture(scope="module")
def local_table_name(local_runtime):
    (name,) = local_runtime.table_names
    return name


def scan(dynamodb, table_name):
    """Every item (a Scan in the test, never on a request path)."""
    found, start = [], None
    while True:
        page = dynamodb.scan(TableName=table_name, **({"ExclusiveStartKey": start} if start else {}))
        found += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def s3_of(runtime):
    endpoint = re.search(r"moto S3 on (http://\S+)\): (\S+)", runtime.log())
    return make_client("s3", endpoint.group(1)), endpoint.group(2)


def object_keys(s3, bucket):
    keys, token = [], None
    while True:
        page = s3.list_objects_v2(Bucket=bucket, **({"ContinuationToken": token} if token else {}))
        keys += [entry["Key"] for entry in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not token:
            return set(keys)


def big_run(run_id, seed, user):
    return {"run_id": run_id, "user_id": user, "content": incompressible(2 * MB, seed)}


def session_body(user, runs, kind="agent"):
    return {
        "session_type": kind,
        "user_id": user,
        "agent_id": "lifecycle-agent",
        "session_data": {"session_name": f"{user} chat"},
        "runs": runs,
    }


def mentions(item, user_id):
    # Other tests share the table, and their gzip run payloads come back from a Scan as bytes.
    return user_id in json.dumps(item, default=repr)


@pytest.mark.xdist_group("lifecycle_erasure")
def test_erasing_a_user_with_many_sessions_and_runs(
    local_api_url, local_runtime, local_dynamodb, local_table_name, eventually
):
    # Seeded through the service's own item-building code, batch-written (2,000 PUTs would only
    # measure HTTP); the offloaded runs and the idempotency records go through the API.
    seeded = put_all(
        loader_client(local_runtime.dynamodb_endpoint),
        local_table_name,
        session_items(local_table_name, small_sessions(ERASED, SESSIONS, RUNS)),
    )
    assert seeded == SESSIONS * (1 + 2 * RUNS)
    client = SessionStoreClient(local_api_url)
    for number in range(2):
        client.put_session(f"{ERASED}-big-{number}", session_body(ERASED, [big_run("big", number, ERASED)], "team"))
    client.put_session(f"{ERASED}-keyed", session_body(ERASED, []), idempotency_key=f"{ERASED}-key")
    for number in range(3):
        client.put_session(
            f"{KEPT}-{number}",
            session_body(KEPT, [{"run_id": "r", "content": "mine"}]),
            idempotency_key=f"{KEPT}-key-{number}",
        )
    client.put_session(f"{KEPT}-big", session_body(KEPT, [big_run("big", 9, KEPT)]))
    for number in range(25):
        client.put_memory(f"{ERASED}-memory-{number}", {"memory": f"fact {number}", "user_id": ERASED})
    client.put_memory(f"{KEPT}-memory", {"memory": "a kept fact", "user_id": KEPT})
    s3, bucket = s3_of(local_runtime)

    def kept_items(items):
        return sorted(
            (item for item in items if mentions(item, KEPT)), key=lambda item: (item["pk"]["S"], item["sk"]["S"])
        )

    kept_before = kept_items(scan(local_dynamodb, local_table_name))
    assert len(kept_before) == 4 + 3 * 2 + 2 + 3 + 1  # sessions, runs and lookups, idempotency records, memory
    assert len(_objects_of(ERASED, s3, bucket)) == 2

    started = client.erase_user(ERASED)
    assert started["status"] == "running"
    assert client.erase_user(ERASED)["erasure_id"] == started["erasure_id"]
    with pytest.raises(SessionNotFound):
        client.get_session(f"{ERASED}-00007")  # gone for reads at once
    assert client.list_sessions(user_id=ERASED).sessions == []
    assert list(client.iter_memories(user_id=ERASED)) == []

    def finished():
        return client.get_erasure(ERASED, started["erasure_id"])["status"] != erasure.RUNNING

    assert eventually(finished, timeout=900, interval=1.0)
    receipt = client.get_erasure(ERASED, started["erasure_id"])
    assert receipt["status"] == "done", receipt
    assert receipt["counts"] == {
        "sessions": SESSIONS + 3,
        "runs": SESSIONS * RUNS + 2,
        "run_lookups": SESSIONS * RUNS + 2,
        "s3_objects": 2,
        "memories": 25,
        "idempotency_records": 1,
    }

    remaining = scan(local_dynamodb, local_table_name)
    left = [
        item for item in remaining if mentions(item, ERASED) and not item["pk"]["S"].startswith(names.ERASURE_PREFIX)
    ]
    assert left == []
    assert _objects_of(ERASED, s3, bucket) == []
    assert kept_items(remaining) == kept_before  # no other user's item was touched
    assert client.get_session(f"{KEPT}-big").runs[0].to_dict() == big_run("big", 9, KEPT)  # nor object


def _objects_of(session_prefix, s3, bucket):
    """Offloaded objects whose metadata names a session of that prefix."""
    found = []
    for key in object_keys(s3, bucket):
        if not key.startswith("runs/"):
            continue
        try:
            session_id = s3.head_object(Bucket=bucket, Key=key)["Metadata"].get("session-id", "")
        except ClientError:
            continue  # deleted since it was listed (the cascade of another test's session)
        if session_id.startswith(session_prefix):
            found.append(key)
    return found


def test_export_inline_and_staged_and_import_of_the_export(local_api_url, tmp_path):
    client = SessionStoreClient(local_api_url)
    user = "exporter"
    client.put_session("exp-1", {**session_body(user, [{"run_id": "a", "content": 0.1}]), "created_at": 1_600_000_000})
    client.put_session("exp-2", session_body(user, [{"run_id": "b", "content": {"deep": [1, None, "x"]}}], "team"))
    client.put_memory(
        "exp-memory",
        {
            "memory": "likes 0.1",
            "topics": ["numbers"],
            "user_id": user,
            "created_at": 1_600_000_001,
            "updated_at": 1_600_000_002,
        },
    )
    target = tmp_path / "export.jsonl"
    assert main(["export", user, "--url", local_api_url, "-o", str(target)]) == 0
    everything = [json.loads(line) for line in target.read_text().splitlines()]
    assert {line["kind"] for line in everything} == {"session", "memory"}
    (memory,) = [line for line in everything if line["kind"] == "memory"]
    assert memory == {
        "kind": "memory",
        "memory_id": "exp-memory",
        "memory": "likes 0.1",
        "topics": ["numbers"],
        "user_id": user,
        "agent_id": None,
        "team_id": None,
        "input": None,
        "feedback": None,
        "created_at": 1_600_000_001,
        "updated_at": 1_600_000_002,
    }
    lines = [line for line in everything if line["kind"] == "session"]
    for line in lines:
        stored = client.get_session(line["session_id"]).to_dict()
        assert {k: v for k, v in line.items() if k != "kind"} == {
            k: v for k, v in stored.items() if k not in ("version", "expires_at", "run_count")
        }
    assert next(line for line in lines if line["session_id"] == "exp-1")["created_at"] == 1_600_000_000

    # Import as another user's copy: created, then on a second run nothing is imported twice.
    copies = tmp_path / "copies.jsonl"
    copies.write_text(
        "".join(json.dumps({**line, "session_id": "copy-" + line["session_id"]}) + "\n" for line in lines)
        + json.dumps({**memory, "memory_id": "copy-exp-memory", "user_id": "copier"})
        + "\n"
    )
    assert main(["import", str(copies), "--url", local_api_url]) == 0
    for line in lines:
        copy = client.get_session("copy-" + line["session_id"]).to_dict()
        assert copy["runs"] == line["runs"] and copy["created_at"] == line["created_at"]
        assert copy["version"] == 1
    copied_memory = client.get_memory("copy-exp-memory").to_dict()
    assert {k: copied_memory[k] for k in ("memory", "topics", "user_id", "created_at", "updated_at")} == {
        "memory": "likes 0.1",
        "topics": ["numbers"],
        "user_id": "copier",
        "created_at": 1_600_000_001,
        "updated_at": 1_600_000_002,
    }
    assert main(["import", str(copies), "--url", local_api_url]) == 0
    assert client.get_session("copy-exp-1").to_dict()["version"] == 1  # skipped: already present
    assert [m.memory_id for m in client.iter_memories(user_id="copier")] == ["copy-exp-memory"]

    # Larger than a response: 303 to the staged file, followed by the client.
    big_user = "big-exporter"
    for number in range(4):
        client.put_session(f"bigexp-{number}", session_body(big_user, [big_run("r", 20 + number, big_user)]))
    staged = tmp_path / "big.jsonl"
    assert client.export_user(big_user, staged) == 4
    exported = {json.loads(line)["session_id"]: json.loads(line) for line in staged.read_text().splitlines()}
    assert exported["bigexp-2"]["runs"] == client.get_session("bigexp-2").to_dict()["runs"]


def _agno_agent_sessions(db, count, turns):
    """Sessions written by real Agno agents (fake model): Agno's own record shapes."""
    for number in range(count):
        agent = Agent(
            model=FakeModel(replies=[f"reply {number}"]),
            db=db,
            session_id=f"agent-session-{number}",
            user_id="migrating-user",
            id="migrating-agent",
            add_history_to_context=True,
            telemetry=False,
        )
        for turn in range(turns):
            agent.run(f"message {turn}")


def test_migrating_an_agno_sqlite_database_record_by_record(local_api_url, tmp_path):
    url = f"sqlite:///{tmp_path}/agno.db"
    db = SqliteDb(db_url=url)
    _agno_agent_sessions(db, count=3, turns=4)
    # The bulk of the database through Agno's own writes (upsert_sessions, upsert_run).
    write_agno_db(db, user_sessions("migrating-user", AGNO_SESSIONS - 3, AGNO_RUNS, seed=31, prefix="bulk-"))
    from agno.db.schemas.memory import UserMemory

    for number in range(5):
        db.upsert_user_memory(
            UserMemory(
                memory=f"fact {number}",
                memory_id=f"migrated-memory-{number}",
                topics=["facts"],
                user_id="migrating-user",
                updated_at=1_700_000_000 + number,
            )
        )
    agno_memories = {row["memory_id"]: row for row in db.get_user_memories(deserialize=False)[0]}
    rows = []
    for kind in ("agent", "team", "workflow"):
        rows += db.get_sessions(session_type=SessionType(kind), deserialize=False)[0]
    assert len(rows) == AGNO_SESSIONS
    assert sum(len(row.get("runs") or []) for row in rows) == 3 * 4 + (AGNO_SESSIONS - 3) * AGNO_RUNS

    assert main(["migrate", "--from", url, "--url", local_api_url, "--workers", "4"]) == 0
    client = SessionStoreClient(local_api_url)
    # Record by record, read a page of 100 sessions with their runs at a time (a session whose runs
    # do not fit in its page is listed without them, and read on its own).
    listed = {
        session.session_id: session for session in client.iter_sessions(user_id="migrating-user", include_runs=True)
    }
    assert set(listed) == {row["session_id"] for row in rows}
    for row in rows:
        stored = listed[row["session_id"]].to_dict()
        if stored.get("runs") is None:
            stored = client.get_session(row["session_id"]).to_dict()
        for name in SESSION_BODY_FIELDS:
            assert stored[name] == row[name], (row["session_id"], name)
        assert stored["runs"] == (row.get("runs") or []), row["session_id"]
    versions = {
        row["session_id"]: client.get_session(row["session_id"], include_runs=False).version for row in rows[:50]
    }
    for memory_id, row in agno_memories.items():
        stored = client.get_memory(memory_id).to_dict()
        for name in ("memory", "topics", "user_id", "created_at", "updated_at"):
            assert stored[name] == row[name], (memory_id, name)
    assert main(["migrate", "--from", url, "--url", local_api_url]) == 0  # re-run: nothing twice
    assert {sid: client.get_session(sid, include_runs=False).version for sid in versions} == versions
