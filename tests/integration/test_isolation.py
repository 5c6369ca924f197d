"""Tenant isolation (a caller reaches only its own sessions), as properties over random interleavings and as races.

IAM mode: a user is the user_id it names; naming it, it never reads, overwrites or deletes another
user's session. JWT mode: the user is the verified token's subject, whatever the request names.
Tokens are signed here with a throw-away RS256 key and verified with PyJWT, and their claims are
placed in requestContext.authorizer.claims, as API Gateway's Cognito authorizer does after
verifying. Ownership itself is enforced by DynamoDB conditions: the races below run the service
from many threads at once against DynamoDB Local.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_store import auth, errors, idempotency, runtime
from session_store.models import SessionWrite
from tests.support import api
from tests.support.api import run_path, session_path

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
AUDIENCE = "session-store-test-client"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


# --- tokens and calls as a user ------------------------------------------------------------------
@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def verified_claims(signing_key, subject: str) -> dict[str, str]:
    """What the Cognito authorizer hands the function for a token of `subject`: the claims of a
    token it verified (signature, issuer, audience, expiry), as strings."""
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": subject,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "token_use": "id",
            "iat": now,
            "exp": now + 300,
            "cognito:username": subject,
        },
        signing_key,
        algorithm="RS256",
    )
    claims = jwt.decode(token, signing_key.public_key(), algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)
    return {name: str(value) for name, value in claims.items()}


@contextmanager
def authorized(claims: dict[str, str] | None):
    """Calls made inside carry `claims` as a Cognito user pool authorizer would pass them."""
    build_event = api.build_event

    def with_claims(request, match):
        event = build_event(request, match)
        if claims is not None:
            event["requestContext"]["authorizer"] = {"claims": claims}
        return event

    api.build_event = with_claims
    try:
        yield
    finally:
        api.build_event = build_event


@pytest.fixture
def jwt_mode(monkeypatch):
    monkeypatch.setenv(auth.ENV_AUTH_MODE, auth.JWT)


# --- the model the properties check against ------------------------------------------------------
@dataclass
class Stored:
    owner: str
    metadata: dict
    runs: list[str] = field(default_factory=list)


USERS = ("alice", "bob", "carol")
SESSIONS = ("s0", "s1", "s2")
RUNS = ("r0", "r1")

operations = st.lists(
    st.tuples(
        st.sampled_from(["put", "put_run", "get", "patch", "delete", "delete_run", "list"]),
        st.sampled_from(USERS),  # who calls
        st.sampled_from(["self", "none", "other"]),  # which user_id the request names (JWT mode)
        st.sampled_from(SESSIONS),
        st.sampled_from(RUNS),
    ),
    min_size=4,
    max_size=24,
)


class World:
    """One example's users, sessions and expectations, namespaced so examples never meet."""

    def __init__(self, mode: str, signing_key) -> None:
        self.mode = mode
        self.namespace = uuid.uuid4().hex[:8]
        self.sessions: dict[str, Stored] = {}
        self.signing_key = signing_key
        self.step = 0

    def user(self, name: str) -> str:
        return f"{name}#{self.namespace}"

    def sid(self, name: str) -> str:
        return f"{name}#{self.namespace}"

    def named(self, actor: str, choice: str) -> str | None:
        if self.mode == auth.IAM:
            return self.user(actor)  # in IAM mode a user is the user_id it names
        other = USERS[(USERS.index(actor) + 1) % len(USERS)]
        return {"self": self.user(actor), "none": None, "other": self.user(other)}[choice]

    def call(self, actor: str, method: str, path: str, body=None, **kwargs):
        claims = verified_claims(self.signing_key, self.user(actor)) if self.mode == auth.JWT else None
        with authorized(claims):
            return api.call(method, path, body, **kwargs)

    def apply(self, operation, actor: str, choice: str, name: str, run_id: str) -> None:
        self.step += 1
        named = self.named(actor, choice)
        foreign = named is not None and named != self.user(actor)  # JWT mode only
        sid, me = self.sid(name), self.user(actor)
        stored = self.sessions.get(sid)
        mine = stored is not None and stored.owner == me
        query = {"user_id": named} if named is not None else None
        marker = {"by": actor, "step": self.step}
        if operation == "put":
            body = {"session_type": "agent", "metadata": marker, **({"user_id": named} if named else {})}
            response = self.call(actor, "PUT", session_path(sid), body)
            if foreign or (stored is not None and not mine):
                assert response.status == 403, (operation, response.text)
            else:
                assert response.status == (200 if stored else 201), (operation, response.text)
                self.sessions[sid] = Stored(me, marker, stored.runs if stored else [])
        elif operation == "put_run":
            body = {"content": marker, **({"user_id": named} if named else {})}
            response = self.call(actor, "PUT", run_path(sid, run_id), body)
            if self.mode == auth.JWT and named is None:
                assert response.status == 422, response.text  # a run must name its owner (auth.Actor.run_owner)
            elif foreign or (stored is not None and not mine):
                assert response.status == 403, (operation, response.text)
            else:
                known = stored is not None and run_id in stored.runs
                assert response.status == (200 if known else 201), (operation, response.text)
                if stored is None:
                    stored = self.sessions[sid] = Stored(me, None)
                if not known:
                    stored.runs.append(run_id)
        elif operation == "get":
            response = self.call(actor, "GET", session_path(sid), query=query)
            if mine and not foreign:
                assert response.status == 200, response.text
                body = response.json()
                assert (body["user_id"], body["metadata"]) == (me, stored.metadata)
                assert [run["run_id"] for run in body["runs"]] == stored.runs
            else:
                assert response.status == 404, (operation, response.text)
        elif operation == "patch":
            response = self.call(
                actor, "PATCH", session_path(sid), {"metadata": marker}, query=query, headers=MERGE_PATCH
            )
            if mine and not foreign:
                assert response.status == 200, response.text
                stored.metadata = {**(stored.metadata or {}), **marker}
            elif foreign or stored is not None:
                # A write naming another owner is refused with 403, like PUT.
                assert response.status == 403, (operation, response.text)
            else:
                assert response.status == 404, (operation, response.text)
        elif operation == "delete":
            response = self.call(actor, "DELETE", session_path(sid), query=query)
            if mine and not foreign:
                assert response.status == 204, response.text
                del self.sessions[sid]
            else:
                assert response.status == 404, (operation, response.text)
        elif operation == "delete_run":
            response = self.call(actor, "DELETE", run_path(sid, run_id), query=query)
            if mine and not foreign and run_id in stored.runs:
                assert response.status == 204, response.text
                stored.runs.remove(run_id)
            else:
                assert response.status == 404, (operation, response.text)
        elif operation == "list":
            response = self.call(actor, "GET", "/sessions", query={"limit": 100, **(query or {})})
            if foreign:
                assert response.status == 403, response.text
            else:
                assert response.status == 200, response.text
                listed = {s["session_id"] for s in response.json()["sessions"]}
                assert listed == {sid for sid, s in self.sessions.items() if s.owner == me}

    def check_everything(self) -> None:
        """After the interleaving, every session is exactly what its owner wrote, seen unscoped."""
        for name in SESSIONS:
            sid = self.sid(name)
            response = api.call("GET", session_path(sid)) if self.mode == auth.IAM else self.call_owner(sid)
            stored = self.sessions.get(sid)
            if stored is None:
                assert response.status == 404
                continue
            body = response.json()
            assert (body["user_id"], body["metadata"]) == (stored.owner, stored.metadata)
            assert [run["run_id"] for run in body["runs"]] == stored.runs
            assert body["run_count"] == len(stored.runs)

    def call_owner(self, sid: str):
        owner = self.sessions[sid].owner.split("#")[0] if sid in self.sessions else USERS[0]
        return self.call(owner, "GET", session_path(sid))


@pytest.mark.parametrize("mode", [auth.IAM, auth.JWT])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_no_interleaving_lets_a_user_reach_another_users_session(table_name, signing_key, monkeypatch, mode, steps):
    monkeypatch.setenv(auth.ENV_AUTH_MODE, mode)
    world = World(mode, signing_key)
    for step in steps:
        world.apply(*step)
    world.check_everything()


# --- JWT mode, case by case ------------------------------------------------------------------------
def test_jwt_mode_owner_comes_from_the_token_and_others_reach_nothing(table_name, jwt_mode, signing_key):
    alice, bob = verified_claims(signing_key, "alice-sub"), verified_claims(signing_key, "bob-sub")
    with authorized(alice):
        created = api.call(
            "PUT",
            session_path("s1"),
            {"session_type": "agent", "metadata": {"v": 1}, "runs": [{"run_id": "r1", "user_id": "alice-sub"}]},
        )
        assert created.status == 201 and created.json()["user_id"] == "alice-sub"
    with authorized(bob):
        assert api.call("GET", session_path("s1")).status == 404
        assert api.call("GET", session_path("s1"), query={"user_id": "alice-sub"}).status == 404
        assert api.call("GET", run_path("s1", "r1")).status == 404
        assert api.call("GET", "/sessions/s1/runs").status == 404
        assert api.call("PUT", session_path("s1"), {"metadata": {"v": 2}}).status == 403
        assert api.call("PUT", session_path("s1"), {"user_id": "alice-sub", "metadata": {"v": 2}}).status == 403
        assert api.call("PATCH", session_path("s1"), {"metadata": {"v": 2}}, headers=MERGE_PATCH).status == 403
        assert api.call("PUT", run_path("s1", "r2"), {"user_id": "bob-sub"}).status == 403
        assert api.call("PUT", run_path("s1", "r2"), {"user_id": "alice-sub"}).status == 403
        assert api.call("PUT", run_path("s1", "r2"), {"content": "no owner named"}).status == 422
        assert api.call("DELETE", run_path("s1", "r1")).status == 404
        assert api.call("DELETE", session_path("s1")).status == 404
        assert api.call("GET", "/sessions").json()["sessions"] == []
        assert api.call("GET", "/sessions", query={"user_id": "alice-sub"}).status == 403
    with authorized(alice):
        body = api.call("GET", session_path("s1")).json()
        assert body["metadata"] == {"v": 1} and body["version"] == 1
        assert [run["run_id"] for run in body["runs"]] == ["r1"]
        assert [s["session_id"] for s in api.call("GET", "/sessions").json()["sessions"]] == ["s1"]


def test_jwt_mode_without_verified_claims_is_refused(table_name, jwt_mode):
    with authorized(None):
        assert api.call("GET", session_path("s1")).status == 403
        assert api.call("PUT", session_path("s1"), {"session_type": "agent"}).status == 403
        assert api.call("GET", "/sessions").status == 403
    with authorized({"sub": ""}):
        assert api.call("PUT", session_path("s1"), {"session_type": "agent"}).status == 403


def test_an_unknown_auth_mode_fails_closed(table_name, monkeypatch):
    monkeypatch.setenv(auth.ENV_AUTH_MODE, "jwt-typo")
    response = api.call("GET", "/sessions")
    assert response.status == 500 and "Traceback" not in response.text


def test_idempotency_keys_are_scoped_to_the_token_subject(table_name, jwt_mode, signing_key):
    headers = {idempotency.HEADER: "same-key"}
    with authorized(verified_claims(signing_key, "alice-sub")):
        first = api.call("PUT", session_path("a"), {"session_type": "agent"}, headers=headers)
    with authorized(verified_claims(signing_key, "bob-sub")):
        # Bob's identical request under the same key is his own: it runs, and is not Alice's replay.
        second = api.call("PUT", session_path("a"), {"session_type": "agent"}, headers=headers)
        assert second.status == 403 and "Idempotent-Replayed" not in second.headers
        own = api.call("PUT", session_path("b"), {"session_type": "agent"}, headers=headers)
        assert own.status == 201
    assert first.status == 201


# --- races: the service from many threads, ownership held by DynamoDB conditions ---------------
def _in_threads(count: int, work) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except errors.SessionStoreError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_creators_of_one_session_leave_exactly_one_owner(table_name):
    service = runtime.service()

    def create(index: int):
        write = SessionWrite(
            session_type="agent", user_id=f"user-{index}", metadata={"by": index}, runs=[{"run_id": f"run-of-{index}"}]
        )
        return service.upsert_session("contested", write)

    results = _in_threads(12, create)
    winners = [index for index, result in enumerate(results) if not isinstance(result, Exception)]
    assert len(winners) == 1 and results[winners[0]].created
    assert all(isinstance(result, errors.Forbidden) for index, result in enumerate(results) if index != winners[0])
    body = service.get_session("contested")
    (winner,) = winners
    assert body["user_id"] == f"user-{winner}" and body["metadata"] == {"by": winner}
    assert [run["run_id"] for run in body["runs"]] == [f"run-of-{winner}"]
    assert body["version"] == 1 and body["run_count"] == 1


def test_intruders_racing_the_owner_change_nothing(table_name):
    service = runtime.service()
    service.upsert_session("owned", SessionWrite(session_type="agent", user_id="owner", metadata={"n": 0}))

    def act(index: int):
        outcomes = []
        for turn in range(4):
            if index % 3 == 0:  # the owner appends runs and updates
                write = SessionWrite(
                    user_id="owner", metadata={"n": index * 10 + turn}, runs=[{"run_id": f"owner-{index}-{turn}"}]
                )
                outcomes.append(service.upsert_session("owned", write))
                continue
            intruder = f"intruder-{index}"
            for attempt in (
                lambda: service.upsert_session(
                    "owned", SessionWrite(user_id=intruder, metadata={"x": 1}, runs=[{"run_id": f"{intruder}-{turn}"}])
                ),
                lambda: service.delete_session("owned", intruder),
                lambda: service.get_session("owned", intruder),
                lambda: service.delete_run("owned", "owner-0-0", intruder),
            ):
                try:
                    attempt()
                    outcomes.append("succeeded")
                except (errors.Forbidden, errors.NotFound) as error:
                    outcomes.append(type(error).__name__)
        return outcomes

    results = _in_threads(9, act)
    for index, outcomes in enumerate(results):
        assert not isinstance(outcomes, Exception), outcomes
        if index % 3:
            assert "succeeded" not in outcomes, (index, outcomes)
    body = service.get_session("owned")
    assert body["user_id"] == "owner"
    owner_runs = sorted(f"owner-{index}-{turn}" for index in (0, 3, 6) for turn in range(4))
    assert sorted(run["run_id"] for run in body["runs"]) == owner_runs
    assert body["run_count"] == len(owner_runs) and body["version"] == 1 + len(owner_runs)


def test_a_large_write_loses_its_race_for_an_unowned_session_without_writing_a_run(table_name):
    """A write of more runs than one transaction holds goes in several transactions, under a lease
    taken only while the owner is still the one read (large_updates.take_lease); a claim landing between
    the read and the lease must make the write retry and be refused, or part of a refused write
    lands in a session someone else just claimed. (Once the lease is held, a claim waits for it.)"""
    service = runtime.service()
    service.upsert_session("unowned", SessionWrite(session_type="agent", metadata={"claimed": False}))
    client = runtime.repository()._client
    claimed = []

    def claim_first(**_):
        if not claimed:  # just before the large write takes its lease (its first write)
            claimed.append("bob")
            service.upsert_session("unowned", SessionWrite(user_id="bob", metadata={"claimed": True}))

    client.meta.events.register("before-call.dynamodb.UpdateItem", claim_first)
    large = SessionWrite(user_id="alice", runs=[{"run_id": f"r{i}"} for i in range(60)])
    with pytest.raises(errors.Forbidden):
        service.upsert_session("unowned", large)
    body = service.get_session("unowned")
    assert body["user_id"] == "bob" and body["metadata"] == {"claimed": True}
    assert body["runs"] == [] and body["run_count"] == 0
