"""Synthesize the CDK app once per test session (per configuration) and share the result.

Every module here is in the xdist group "infra", so with `--dist loadgroup` one worker runs them
all and each configuration is synthesized once. A synth runs the cdk-nag packs, so a fixture that
returns at all has already proved that synthesis (nag included) succeeds for that configuration.
"""

from __future__ import annotations

import pytest

from tests.infrastructure.synth import LEAN_JWT_CONTEXT, PROD_CONTEXT, Synthesized, synthesize


@pytest.fixture(scope="session")
def default_stack(tmp_path_factory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-default"), {})


@pytest.fixture(scope="session")
def prod_stack(tmp_path_factory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-prod"), PROD_CONTEXT)


@pytest.fixture(scope="session")
def lean_jwt_stack(tmp_path_factory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-lean-jwt"), LEAN_JWT_CONTEXT)
