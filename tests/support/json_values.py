"""JSON test values shared by the client's unit and e2e tests."""

from __future__ import annotations

import json
import math

# Ids that break naive URL building, and the path each must be sent as.
ODD_IDS = {
    "a#b": "/sessions/a%23b",
    "a/b": "/sessions/a%2Fb",
    "what?x=1&y": "/sessions/what%3Fx%3D1%26y",
    "with space": "/sessions/with%20space",
    "100%": "/sessions/100%25",
    "%41": "/sessions/%2541",
    "ünïcødé-🙂": "/sessions/%C3%BCn%C3%AFc%C3%B8d%C3%A9-%F0%9F%99%82",
    "..": "/sessions/%2E%2E",
    ".": "/sessions/%2E",
    "a.b~c_d-e": "/sessions/a.b~c_d-e",
    "+": "/sessions/%2B",
}


def same_json(a, b) -> bool:
    """Equality that also tells -0.0 from 0.0 and 1 from 1.0 / True."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and same_types(a, b)


def same_types(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(same_types(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_types(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b)
    return True
