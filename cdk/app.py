"""The CDK app: `.venv/bin/python -m cdk.app` (cdk.json's "app").

One stack per environment, the environment in its name (`SessionStore-dev`, `SessionStore-prod`):
a command run with the wrong (or no) `-c env=` names another stack and can never switch a
deployed stack's protections off. Synthesis is offline (no lookups, an environment-agnostic stack)
and runs the AWS Solutions and Serverless cdk-nag packs as validation plugins: any finding not
acknowledged in the code fails it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from cdk.config import ConfigError, StackConfig
from cdk.layers import LayerNotBuiltError
from cdk.session_store_stack import SessionStoreStack

STACK_NAME_PREFIX = "SessionStore"


def stack_name(env: str) -> str:
    """The stack of one environment: `make deploy ENV=prod` deploys SessionStore-prod."""
    return f"{STACK_NAME_PREFIX}-{env}"


def add_nag_checks(app: App) -> None:
    """Run the AWS Solutions and Serverless packs on every synth; a finding fails synthesis."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> tuple[App, SessionStoreStack]:
    """The app with its one stack; `context` adds to (and overrides) cdk.json's context."""
    app = App(context=dict(context or {}), outdir=outdir)
    config = StackConfig.from_context(app.node.try_get_context)
    stack = SessionStoreStack(app, stack_name(config.env), config=config, termination_protection=config.is_prod)
    add_nag_checks(app)
    return app, stack


def main() -> int:
    try:
        app, _ = build_app()
    except (ConfigError, LayerNotBuiltError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
