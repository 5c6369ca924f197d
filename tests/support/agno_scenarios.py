"""agno scenarios against a Session Store at ``base_url``, shared by the offline tests (the API's
handlers in-process, tests/support/fixtures.py) and the e2e tests (the local runtime), so both run
exactly the same checks.

Every id carries a fresh tag: the e2e runtime is shared by many tests, and lists are filtered by
the tag's user or component so other tests' sessions never show up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from agno.agent import Agent
from agno.db.base import BaseDb, SessionType
from agno.run.agent import RunOutput
from agno.run.team import TeamRunOutput
from agno.run.workflow import WorkflowRunOutput
from agno.session import AgentSession, TeamSession, WorkflowSession
from agno.team import Team
from agno.workflow import Step, Workflow

from session_store_client.agno import SessionStoreDb
from tests.support.fake_model import FakeModel
from tests.support.recording_client import RecordingClient

NAME_TURN = "My name is Alice"
QUESTION_TURN = "What is my name?"


def fresh_tag() -> str:
    return uuid.uuid4().hex[:12]


# --- History across processes -------------------------------------------------------------------


def _agent(db: BaseDb, session_id: str, model: FakeModel) -> Agent:
    return Agent(model=model, db=db, session_id=session_id, add_history_to_context=True)


def _team(db: BaseDb, session_id: str, model: FakeModel) -> Team:
    member = Agent(name="helper", model=FakeModel(replies=["member reply"]))
    return Team(members=[member], model=model, db=db, session_id=session_id, add_history_to_context=True)


def _workflow(db: BaseDb, session_id: str, model: FakeModel) -> Workflow:
    step = Step(name="answer", agent=Agent(name="answerer", model=model))
    return Workflow(name="wf", db=db, session_id=session_id, add_workflow_history_to_steps=True, steps=[step])


COMPONENT_BUILDERS: dict[str, Callable[[BaseDb, str, FakeModel], Any]] = {
    "agent": _agent,
    "team": _team,
    "workflow": _workflow,
}


def assert_history_reaches_a_new_component(base_url: str, kind: str) -> None:
    """A component saves a turn; a new one (new db object too, as in a new process) on the same
    session sends the model a history that holds it, and reads back both stored runs."""
    build = COMPONENT_BUILDERS[kind]
    session_id = f"{kind}-history-{fresh_tag()}"

    first_model = FakeModel(replies=["Hi Alice"])
    build(SessionStoreDb(base_url=base_url), session_id, first_model).run(NAME_TURN)

    second_model = FakeModel(replies=["You are Alice"])
    second = build(SessionStoreDb(base_url=base_url), session_id, second_model)
    second.run(QUESTION_TURN)

    sent = "\n".join(second_model.texts_sent())
    assert NAME_TURN in sent, f"the {kind}'s history did not reach the model: {sent!r}"
    assert "Hi Alice" in sent
    assert QUESTION_TURN in sent

    stored = second.get_session(session_id=session_id)
    assert stored is not None
    assert [_input_text(run) for run in stored.runs] == [NAME_TURN, QUESTION_TURN]
    assert [run.content for run in stored.runs] == ["Hi Alice", "You are Alice"]


def _input_text(run: Any) -> Any:
    # Agent and team runs keep a RunInput; workflow runs keep the input itself.
    return getattr(run.input, "input_content", run.input)


# --- Writes stay O(1) per turn ------------------------------------------------------------------


def runs_sent_per_turn(base_url: str, turns: int) -> list[list[str]]:
    """Run a conversation of ``turns`` turns; for each turn, the run ids the client sent."""
    client = RecordingClient(base_url)
    model = FakeModel(replies=["noted"])
    agent = _agent(SessionStoreDb(client=client), f"long-{fresh_tag()}", model)
    sent = []
    for turn in range(turns):
        agent.run(f"turn {turn}")
        sent.append([run_id for write in client.take_writes() for run_id in write.run_ids])
    return sent


# --- Parity with InMemoryDb ---------------------------------------------------------------------

BASE_TIME = 1_700_000_000


def _normalized(value: Any) -> Any:
    """A result with what legitimately differs between two stores removed.

    A session's updated_at is each store's own clock; a run's run_index is InMemoryDb's
    bookkeeping, which the Session Store replaces by its first-write order (see the package README).
    """
    if isinstance(value, (tuple, list)):
        return type(value)(_normalized(item) for item in value)
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        store_specific = "run_index" if "run_id" in value else "updated_at"
        return {key: _normalized(item) for key, item in value.items() if key != store_specific}
    return value


def _parity_sessions(tag: str) -> list[Any]:
    user, other = f"user-{tag}", f"other-{tag}"
    agent_id, team_id, workflow_id = f"agent-{tag}", f"team-{tag}", f"wf-{tag}"
    payload = {"pi": 3.141592653589793, "tiny": 1e-300, "big": 2**64 + 1, "nested": {"a.b": {"#": [None, "", {}]}}}
    sessions: list[Any] = []
    for index, name in enumerate(["Alpha chat", "beta CHAT", "gamma", "Delta", "epsilon chat"]):
        session_id = f"{tag}-agent-{index}"
        sessions.append(
            AgentSession(
                session_id=session_id,
                agent_id=agent_id,
                user_id=user,
                session_data={"session_name": name, "session_state": {"turn": index, **payload}},
                agent_data={"name": "parity agent"},
                metadata={"index": index},
                created_at=BASE_TIME + index * 10,
                runs=[
                    RunOutput(
                        run_id=f"{session_id}-run-0",
                        agent_id=agent_id,
                        session_id=session_id,
                        user_id=user,
                        content=f"answer {index}",
                        created_at=BASE_TIME + index * 10,
                    )
                ],
            )
        )
    for index in range(2):
        session_id = f"{tag}-team-{index}"
        sessions.append(
            TeamSession(
                session_id=session_id,
                team_id=team_id,
                user_id=user,
                session_data={"session_name": f"team chat {index}"},
                created_at=BASE_TIME + 100 + index,
                runs=[
                    TeamRunOutput(
                        run_id=f"{session_id}-run-0",
                        team_id=team_id,
                        session_id=session_id,
                        user_id=user,
                        content="team answer",
                        created_at=BASE_TIME + 100 + index,
                    )
                ],
            )
        )
    sessions.append(
        WorkflowSession(
            session_id=f"{tag}-workflow-0",
            workflow_id=workflow_id,
            user_id=user,
            session_data={"session_name": "a workflow"},
            created_at=BASE_TIME + 200,
            runs=[
                WorkflowRunOutput(
                    run_id=f"{tag}-workflow-0-run-0",
                    workflow_id=workflow_id,
                    session_id=f"{tag}-workflow-0",
                    user_id=user,
                    content="done",
                    created_at=BASE_TIME + 200,
                )
            ],
        )
    )
    sessions.append(
        AgentSession(
            session_id=f"{tag}-other-0",
            agent_id=agent_id,
            user_id=other,
            session_data={"session_name": "other chat"},
            created_at=BASE_TIME + 300,
        )
    )
    return sessions


def parity_observations(db: BaseDb, tag: str) -> list[tuple[str, Any]]:
    """The same sequence of BaseDb calls on any db; returns what each call gave, normalized."""
    user, other = f"user-{tag}", f"other-{tag}"
    agent_id = f"agent-{tag}"
    observed: list[tuple[str, Any]] = []

    def observe(label: str, value: Any) -> None:
        observed.append((label, _normalized(value)))

    for session in _parity_sessions(tag):
        observe(f"upsert {session.session_id}", db.upsert_session(session, deserialize=False))

    # Runs written one by one, as agno does after the first save: a new one, and a replacement.
    new_run = RunOutput(
        run_id=f"{tag}-agent-0-run-1",
        agent_id=agent_id,
        session_id=f"{tag}-agent-0",
        user_id=user,
        content="second answer",
        created_at=BASE_TIME + 5,
    )
    db.upsert_run(new_run, session_id=f"{tag}-agent-0", user_id=user, run_index=1)
    replaced = RunOutput(
        run_id=f"{tag}-agent-1-run-0",
        agent_id=agent_id,
        session_id=f"{tag}-agent-1",
        user_id=user,
        content="replaced answer",
        created_at=BASE_TIME + 10,
    )
    db.upsert_run(replaced, session_id=f"{tag}-agent-1", user_id=user, run_index=0)

    for session_id in (f"{tag}-agent-0", f"{tag}-agent-1", f"{tag}-team-0", f"{tag}-workflow-0"):
        observe(f"get {session_id} rows", db.get_session(session_id, deserialize=False))
        observe(f"get {session_id} objects", db.get_session(session_id))
    observe("get with owner", db.get_session(f"{tag}-agent-0", user_id=user, deserialize=False))
    observe("get with another user", db.get_session(f"{tag}-agent-0", user_id=other))
    observe("get missing", db.get_session(f"{tag}-missing"))
    observe("get newest run only", db.get_session(f"{tag}-agent-0", session_type=SessionType.AGENT, runs_limit=1))

    for order in ("asc", "desc"):
        observe(
            f"list by created_at {order}",
            db.get_sessions(user_id=user, sort_by="created_at", sort_order=order, deserialize=False),
        )
    observe(
        "list agent component",
        db.get_sessions(
            component_id=agent_id, session_type=SessionType.AGENT, sort_by="created_at", include_runs=False
        ),
    )
    observe(
        "list component of any type",
        db.get_sessions(
            component_id=agent_id, sort_by="created_at", sort_order="asc", deserialize=False, include_runs=False
        ),
    )
    observe("list teams", db.get_sessions(user_id=user, session_type=SessionType.TEAM, sort_by="created_at"))
    observe("list by name", db.get_sessions(user_id=user, session_name="CHAT", sort_by="created_at", deserialize=False))
    observe(
        "list by created_at bounds",
        db.get_sessions(
            user_id=user,
            start_timestamp=BASE_TIME + 10,
            end_timestamp=BASE_TIME + 100,
            sort_by="created_at",
            sort_order="asc",
            deserialize=False,
            include_runs=False,
        ),
    )
    for page in (1, 2, 3, 5):
        observe(
            f"page {page} of 3",
            db.get_sessions(
                user_id=user,
                sort_by="created_at",
                sort_order="asc",
                limit=3,
                page=page,
                deserialize=False,
                include_runs=False,
            ),
        )

    observe("rename", db.rename_session(f"{tag}-agent-2", SessionType.AGENT, "renamed", deserialize=False))
    observe("rename with another user", db.rename_session(f"{tag}-agent-2", SessionType.AGENT, "x", user_id=other))
    observe("after rename", db.get_session(f"{tag}-agent-2", deserialize=False))

    observe("runs of a session", db.get_runs(session_id=f"{tag}-agent-0", deserialize=False))
    observe("runs of a user and agent", db.get_runs(user_id=user, agent_id=agent_id, deserialize=False))
    observe("runs newest first", db.get_runs(session_id=f"{tag}-agent-0", sort_by="created_at", sort_order="desc"))
    observe("one run", db.get_run(f"{tag}-agent-0-run-1", deserialize=False))
    observe("delete run", db.delete_run(f"{tag}-agent-0-run-1"))
    observe("runs after delete", db.get_runs(session_id=f"{tag}-agent-0", deserialize=False))

    observe("delete as another user", db.delete_session(f"{tag}-agent-3", user_id=other))
    observe("delete as owner", db.delete_session(f"{tag}-agent-3", user_id=user))
    observe("delete again", db.delete_session(f"{tag}-agent-3"))
    db.delete_sessions([f"{tag}-agent-4", f"{tag}-team-1"], user_id=user)
    observe(
        "list after deletes", db.get_sessions(user_id=user, sort_by="created_at", deserialize=False, include_runs=False)
    )
    return observed


def assert_parity_with_in_memory_db(base_url: str) -> None:
    """The same BaseDb calls give InMemoryDb's results: records, order, filters, pages, totals."""
    from agno.db.in_memory import InMemoryDb

    tag = fresh_tag()
    expected = parity_observations(InMemoryDb(), tag)
    actual = parity_observations(SessionStoreDb(base_url=base_url), tag)
    assert [label for label, _ in actual] == [label for label, _ in expected]
    for (label, theirs), (_, ours) in zip(expected, actual, strict=True):
        assert ours == theirs, label


def assert_one_run_sent_per_turn(base_url: str, turns: int) -> None:
    sent = runs_sent_per_turn(base_url, turns=turns)
    assert all(len(run_ids) == 1 for run_ids in sent), [len(run_ids) for run_ids in sent]
    assert len({run_id for run_ids in sent for run_id in run_ids}) == turns
