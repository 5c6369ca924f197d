"""Every write route fuzzed with arbitrary JSON text (the rule: no input yields a 500):
lone surrogates in keys and values, numbers no double holds (long mantissas, huge exponents,
integers of thousands of digits), nesting far deeper than allowed, odd keys, wrong types.

Each request must end in either a 2xx whose every sent value reads back exactly (numbers compared
as decimals, so 1E5 and 100000.0 are equal, -1e-400 and -0.0 are not), or a problem+json 4xx that
changed nothing."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_store import names
from tests.support.api import call, run_path, session_path

OBJECT_FIELDS = ("session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary")
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


class RawNumber(str):
    """A number written into the request as this exact text (json.dumps cannot write most of them)."""


lone_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
# Values a client may send that cannot be stored as they are: each is a branch of its own, so that
# about half the leaves of every example are one of them.
hostile_scalars = st.one_of(
    st.text(lone_surrogates, min_size=1, max_size=3),
    st.builds(lambda head, tail: head + "\ud800" + tail, st.text(max_size=3), st.text(max_size=3)),
    st.sampled_from(
        [
            "-1e-400",
            "1e400",
            "123456789012345678901234567890.123456789",
            "0.10000000000000001",
            "2.5e-324",
            "-0.0",
            "1E5",
            "0.1",
        ]
    ).map(lambda text: RawNumber(text)),
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,45})(\.[0-9]{1,45})?([eE][-+]?[0-9]{1,3})?\Z").map(RawNumber),
    st.integers(min_value=1, max_value=6000).map(lambda digits: RawNumber("9" * digits)),
)
plain_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
scalars = hostile_scalars | plain_scalars
texts = st.text(max_size=8) | st.text(lone_surrogates, min_size=1, max_size=2)
keys = texts | st.sampled_from(["a.b", "#", "$x", "with space", "", "run_id", "user_id", "session_id"])


def deeply_nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=12,
) | st.integers(min_value=300, max_value=900).map(deeply_nested)
json_objects = st.dictionaries(keys, json_values, max_size=4)
# Mostly the record's own object fields (so that most examples get past the schema and reach the
# store), sometimes any key or any value.
record_fields = st.fixed_dictionaries(
    {}, optional={name: json_objects | st.none() for name in OBJECT_FIELDS}
) | st.dictionaries(st.sampled_from(OBJECT_FIELDS) | keys, json_values, max_size=3)
runs = (
    st.lists(
        st.builds(lambda run_id, extra: {**extra, "run_id": run_id}, texts | st.integers(), json_objects),
        max_size=3,
    )
    | json_values
)


def encode(value) -> bytes:
    """JSON text with RawNumbers written as they are (and lone surrogates as \\uXXXX escapes)."""
    raws: dict[str, str] = {}

    def mark(node):
        if isinstance(node, RawNumber):
            token = f"\u0000raw{len(raws)}\u0000"
            raws[token] = str(node)
            return token
        if isinstance(node, dict):
            return {key: mark(item) for key, item in node.items()}
        if isinstance(node, list):
            return [mark(item) for item in node]
        return node

    text = json.dumps(mark(value))
    for token, number in raws.items():
        text = text.replace(json.dumps(token), number, 1)
    return text.encode()


def exact(raw: bytes | str):
    """JSON parsed with every number as a Decimal: equal values are equal however they are spelled."""
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)


def merged(target, patch):
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


def state(session_id: str) -> str:
    response = call("GET", session_path(session_id))
    assert response.status == 200, response.text
    return response.text


def check(response, before: str, session_id: str) -> bool:
    """Never a 5xx; a 4xx is a problem that changed nothing. True when the write succeeded."""
    assert response.status < 500, response.text[:500]
    if response.status >= 300:
        assert 400 <= response.status < 500 and response.headers["Content-Type"] == names.PROBLEM_CONTENT_TYPE
        assert state(session_id) == before
        return False
    return True


def new_session() -> tuple[str, str]:
    session_id = uuid.uuid4().hex
    base = {"session_type": "agent", "user_id": "alice", "metadata": {"kept": 1}, "runs": [{"run_id": "r0"}]}
    assert call("PUT", session_path(session_id), base).status == 201
    return session_id, state(session_id)


FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FUZZ
@given(fields=record_fields, sent_runs=runs)
def test_put_session_is_exact_or_refused(table_name, fields, sent_runs):
    session_id, before = new_session()
    body = {**fields, "runs": sent_runs}
    raw = encode(body)
    if not check(call("PUT", session_path(session_id), raw_body=raw), before, session_id):
        return
    sent = exact(raw)
    stored = exact(state(session_id))
    for name in OBJECT_FIELDS:
        if name in sent:
            assert stored[name] == sent[name], name
    by_id = {run["run_id"]: run for run in sent["runs"] or []}
    for run_id, run in by_id.items():
        assert exact(call("GET", run_path(session_id, run_id)).text) == run


@FUZZ
@given(run=json_values, run_id=texts.filter(lambda text: 0 < len(text)))
def test_put_run_is_exact_or_refused(table_name, run, run_id):
    session_id, before = new_session()
    raw = encode(run)
    try:
        path = run_path(session_id, run_id)
        response = call("PUT", path, raw_body=raw)
    except UnicodeEncodeError:
        return  # a lone surrogate cannot even be put in a URL: nothing to send
    if not check(response, before, session_id):
        return
    sent = exact(raw)
    assert exact(call("GET", path).text) == {**sent, "run_id": run_id}
    assert exact(response.text) == {**sent, "run_id": run_id}


@FUZZ
@given(patch=record_fields | json_values)
def test_patch_is_exact_or_refused(table_name, patch):
    session_id, before = new_session()
    raw = encode(patch)
    if not check(call("PATCH", session_path(session_id), raw_body=raw, headers=MERGE_PATCH), before, session_id):
        return
    sent, old, stored = exact(raw), exact(before), exact(state(session_id))
    for name in OBJECT_FIELDS:
        expected = merged(old[name], sent[name]) if name in sent else old[name]
        assert stored[name] == expected, name
