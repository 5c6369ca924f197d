"""session-store's import path without a server: request splitting, skipping what is present,
kinds it cannot hold, and the console script that `pip install .` installs."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from session_store_client.errors import SessionNotFound
from session_store_client.models import Session
from session_store_client.transfer import REQUEST_BUDGET_BYTES, Importer, read_jsonl, session_request_bodies


def record(runs):
    return {
        "kind": "session",
        "session_id": "s",
        "session_type": "agent",
        "user_id": "u",
        "created_at": 7,
        "session_data": {"session_name": "n"},
        "runs": runs,
    }


def test_a_session_goes_in_one_request_when_it_fits():
    (body,) = session_request_bodies(record([{"run_id": "a"}, {"run_id": "b"}]))
    assert body["created_at"] == 7 and body["user_id"] == "u" and [r["run_id"] for r in body["runs"]] == ["a", "b"]
    assert "session_id" not in body and "kind" not in body


def test_large_runs_are_spread_over_requests_within_the_budget_in_order():
    third = "x" * (REQUEST_BUDGET_BYTES // 3)
    runs = [{"run_id": str(i), "content": third} for i in range(7)]
    bodies = list(session_request_bodies(record(runs)))
    assert [r["run_id"] for body in bodies for r in body["runs"]] == [str(i) for i in range(7)]
    assert all(len(json.dumps(body)) < REQUEST_BUDGET_BYTES + 1024 for body in bodies)
    assert "created_at" in bodies[0] and all(set(b) == {"session_type", "runs"} for b in bodies[1:])


def test_a_single_run_over_the_budget_goes_alone():
    runs = [{"run_id": "big", "content": "x" * (REQUEST_BUDGET_BYTES + 10)}, {"run_id": "small"}]
    assert [[r["run_id"] for r in b["runs"]] for b in session_request_bodies(record(runs))] == [["big"], ["small"]]


class RecordingClient:
    def __init__(self, stored_runs=None):
        self.stored_runs = stored_runs
        self.puts = []
        self.memories = []

    def put_memory(self, memory_id, body):
        self.memories.append((memory_id, body))

    def get_session(self, session_id, include_runs=True):
        if self.stored_runs is None:
            raise SessionNotFound(404, "Not found")
        return Session.model_validate(
            {"session_id": session_id, "session_type": "agent", "run_count": self.stored_runs}
        )

    def put_session(self, session_id, body):
        self.puts.append((session_id, body))


def test_present_sessions_are_skipped_memories_imported_and_unknown_kinds_reported():
    present = RecordingClient(stored_runs=2)
    counts = Importer(present).import_records(
        [
            record([{"run_id": "a"}, {"run_id": "b"}]),
            {"kind": "memory", "memory_id": "m", "memory": "a fact"},
            {"kind": "knowledge", "id": "k"},
        ]
    )
    assert present.puts == [] and counts.sessions_skipped == 1
    assert present.memories == [("m", {"memory": "a fact"})] and counts.memories_imported == 1
    assert counts.not_imported == {"knowledge": 1}
    partial = RecordingClient(stored_runs=1)
    counts = Importer(partial).import_records([record([{"run_id": "a"}, {"run_id": "b"}])])
    assert len(partial.puts) == 1 and counts.sessions_imported == 1 and counts.runs_sent == 2


def test_a_malformed_line_names_its_place(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"kind": "session"}\nnot json\n')
    lines = read_jsonl(path)
    next(lines)
    try:
        next(lines)
    except ValueError as error:
        assert "x.jsonl:2" in str(error)
    else:
        raise AssertionError("a malformed line was accepted")


def test_the_console_script_is_installed():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "session-store"]
    assert script.value == "session_store_client.cli:main"
    executable = Path(sys.executable).parent / "session-store"
    result = subprocess.run([str(executable), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and all(word in result.stdout for word in ("export", "import", "migrate"))
