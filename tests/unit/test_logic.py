import pytest
from pydantic import ValidationError

from session_store import codec, cursor, errors, writes
from session_store.models import SessionListQuery, SessionWrite
from session_store.retention import expiry_after_write, is_expired
from session_store.service import merge_patch


@pytest.mark.parametrize(
    "target, patch, result",
    [  # RFC 7396, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target, patch, result):
    assert merge_patch(target, patch) == result


def test_cursor_round_trips_and_detects_tampering_and_reuse():
    token = cursor.encode({"after": "0000000001#x"}, "key", "scope-a")
    assert cursor.decode(token, "key", "scope-a") == {"after": "0000000001#x"}
    for bad_token, scope, key in (
        (token, "scope-b", "key"),
        (token, "scope-a", "other-key"),
        (token[:-1] + ("A" if token[-1] != "A" else "B"), "scope-a", "key"),
        ("no-dot", "scope-a", "key"),
        ("a.b.c", "scope-a", "key"),
    ):
        with pytest.raises(errors.InvalidRequest):
            cursor.decode(bad_token, key, scope)


def test_expiry_rules():
    assert expiry_after_write("sliding", None, 1000, 1) == 1000 + 86_400
    assert expiry_after_write("sliding", None, 1000, 0) is None
    assert expiry_after_write("pinned", 5, 1000, 30) == 5
    assert expiry_after_write("never", None, 1000, 30) is None
    assert is_expired(999, 1000) and is_expired(1000, 1000) and not is_expired(1001, 1000)
    assert not is_expired(None, 1000)


def test_codec_keeps_small_values_readable_and_gzips_large_ones():
    assert codec.encode({"a": 1}) == {"S": '{"a":1}'}
    large = {"text": "abc" * 20_000}
    encoded = codec.encode(large)
    assert "B" in encoded and codec.decode(encoded) == large
    assert codec.decode({"NULL": True}) is None


def test_chunks_respect_item_and_size_limits():
    small = [[{"Put": {"Item": {"pk": {"S": "x"}}}}] * 2 for _ in range(120)]
    chunks = writes.chunk(small)
    assert all(sum(len(group) for group in chunk) <= 99 for chunk in chunks)
    assert sum(len(chunk) for chunk in chunks) == 120
    big = [[{"Put": {"Item": {"run": {"S": "x" * 300_000}}}}] for _ in range(30)]
    assert all(
        sum(writes.operation_size(op) for g in chunk for op in g) <= writes.MAX_TRANSACTION_BYTES
        for chunk in writes.chunk(big)
    )


def test_models_reject_what_the_contract_forbids():
    with pytest.raises(ValidationError):
        SessionWrite.model_validate({"runs": [{"run_id": ""}]})
    with pytest.raises(ValidationError):
        SessionWrite.model_validate({"created_at": True})
    with pytest.raises(ValidationError):
        SessionListQuery(agent_id="a", session_type="team")
    assert SessionListQuery(team_id="t").component == ("team", "t")
    assert SessionListQuery(component_id="c").component == (None, "c")
