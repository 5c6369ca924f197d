"""The stack's settings: CDK context values (cdk.json or `-c key=value`), defaults and validation.

Every setting is defined here once, as a field of a pydantic model with its default and bounds;
docs/deploy.md lists the same keys (a test holds the two together). Values given with `-c` arrive as
strings and values from cdk.json as JSON types, so each field accepts both. All problems are
reported together in one ConfigError, in the words below rather than pydantic's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, get_args

from aws_cdk import aws_logs as logs
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from session_store import names

Environment = Literal["dev", "prod"]
ENVIRONMENTS: tuple[str, ...] = Environment.__args__
AuthMode = names.AuthMode
AUTH_MODES = names.AUTH_MODES
# "full": a dashboard and alarms per function; "lean": the few alarms that cover every failure a
# client sees (API 5xx) plus the cascade's, no dashboard: within CloudWatch's free tier of 10
# alarm metrics. docs/deploy.md prices both.
MonitoringProfile = Literal["full", "lean"]
# cdk.json's "context" holds the settings of each environment under this key:
# {"environments": {"dev": {...}, "prod": {...}}}; `-c key=value` overrides one for one command.
ENVIRONMENTS_KEY = "environments"
ENV_KEY = "env"
# The finite retention periods CloudWatch Logs accepts, in days (logs are never kept forever). The
# jsii enum carries only member names in Python, so the day counts are spelled here.
LOG_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


class ConfigError(ValueError):
    """One or more context values are invalid; the message names each."""


def _choice(value: Any) -> Any:
    return str(value).strip().lower()


def _integer(value: Any) -> Any:
    # Only whole numbers, written as such: not 1.5, not "1.0", not true (pydantic's lax mode takes those).
    if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value).strip()):
        raise ValueError("must be an integer")
    return int(str(value).strip())


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("must be true or false")


def _optional(before: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # `-c kms_key_arn=` (an empty string) turns an option from cdk.json off again.
    return lambda value: None if value is None or str(value).strip() == "" else before(value)


def _log_retention(value: Any) -> Any:
    days = _integer(value)
    if days not in LOG_RETENTION:
        raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION))}")
    return days


Choice = BeforeValidator(_choice)
Integer = BeforeValidator(_integer)
Count = Annotated[int, Integer, Field(ge=1, le=1_000_000)]
Days = Annotated[int, Integer, Field(ge=0, le=36_500)]
_PATTERN_TEXT = {
    "session_table": "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)",
    "stage": "an API Gateway stage name (1-128 of A-Z a-z 0-9 _)",
    "kms_key_arn": "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)",
    "jwt_user_pool_arn": "a Cognito user pool ARN",
}


class StackConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    env: Annotated[Environment, Choice] = "dev"
    # None: CloudFormation names the table (<stack>-SessionTable...-<suffix>), so no deploy collides
    # with a table of that name left by another stack, a retained prod table or Agno's own adapter.
    session_table: Annotated[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")] | None, BeforeValidator(_optional(str.strip))
    ] = None
    retention_days: Days = names.DEFAULT_RETENTION_DAYS
    memory_retention_days: Days = names.DEFAULT_MEMORY_RETENTION_DAYS
    stage: Annotated[str, BeforeValidator(str.strip), Field(pattern=r"^[A-Za-z0-9_]{1,128}$")] = "v1"
    kms_key_arn: Annotated[
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")] | None,
        BeforeValidator(_optional(str.strip)),
    ] = None
    waf: Annotated[bool, BeforeValidator(_boolean)] = False
    auth: Annotated[AuthMode, Choice] = names.AUTH_IAM
    jwt_user_pool_arn: Annotated[
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[\w-]+$")] | None,
        BeforeValidator(_optional(str.strip)),
    ] = None
    log_retention_days: Annotated[int, BeforeValidator(_log_retention)] = 30
    throttle_rate_limit: Count = 200
    throttle_burst_limit: Count = 400
    reserved_concurrency: Annotated[
        Annotated[int, Field(ge=1, le=10_000)] | None, BeforeValidator(_optional(_integer))
    ] = None
    # AWS WAF's rate-based rules take 10 to 2e9 requests per 5 minutes.
    waf_rate_limit: Annotated[int, Integer, Field(ge=10, le=2_000_000_000)] = 3000
    monitoring: Annotated[MonitoringProfile, Choice] = "full"

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def lean_monitoring(self) -> bool:
        return self.monitoring == "lean"

    @property
    def log_retention(self) -> logs.RetentionDays:
        return LOG_RETENTION[self.log_retention_days]

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StackConfig:
        """Read every setting with `get(key)` (e.g. `app.node.try_get_context`); None means default.

        The environment's own block (`environments.<env>` in cdk.json) comes first, then any
        setting given on its own (`-c key=value`) overrides it.
        """
        env = get(ENV_KEY)
        env = ENVIRONMENTS[0] if env is None else str(env).strip().lower()
        per_env = (get(ENVIRONMENTS_KEY) or {}).get(env) or {}
        if not isinstance(per_env, Mapping):
            raise ConfigError(f"invalid context: {ENVIRONMENTS_KEY}.{env} must be an object of settings")
        given = {name: value for name in cls.model_fields if (value := get(name)) is not None}
        return cls.from_mapping({key: value for key, value in {**per_env, **given}.items() if value is not None})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> StackConfig:
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            problems = (_problem(e, values) for e in error.errors())
            raise ConfigError("invalid context: " + "; ".join(problems)) from None

    @model_validator(mode="after")
    def _combinations(self) -> StackConfig:
        errors = []
        if self.auth == names.AUTH_NONE and self.env != "dev":
            errors.append("auth=none (no authorization at all) is only allowed with env=dev")
        if self.jwt_user_pool_arn is not None and self.auth != names.AUTH_JWT:
            errors.append("jwt_user_pool_arn is only used with auth=jwt")
        if self.throttle_burst_limit < self.throttle_rate_limit:
            errors.append("throttle_burst_limit must be at least throttle_rate_limit")
        if errors:
            raise ValueError("; ".join(errors))
        return self


def _bounds(field: Any) -> tuple[Any, Any]:
    """A field's ge and le, wherever its annotation nests them (an optional field's inner type)."""
    found: dict[str, Any] = {}

    def walk(item: Any) -> None:
        for name in ("ge", "le"):
            if getattr(item, name, None) is not None:
                found[name] = getattr(item, name)
        for inner in [*getattr(item, "metadata", ()), *get_args(item)]:
            walk(inner)

    walk(field.annotation)
    for item in field.metadata:
        walk(item)
    return found["ge"], found["le"]


def _problem(error: Any, values: Mapping[str, Any]) -> str:
    """One pydantic error in the words docs/deploy.md uses: `key=value: what it must be`."""
    if not error["loc"]:  # the combination check: its message stands alone
        return str(error["msg"]).removeprefix("Value error, ")
    key, kind, context = str(error["loc"][0]), error["type"], error.get("ctx") or {}
    value = values.get(key, error["input"])  # as given, not as converted
    if kind == "extra_forbidden":
        return f"unknown setting {key!r}"
    if kind == "literal_error":
        rule = "must be one of " + ", ".join(re.findall(r"'([^']*)'", context["expected"]))
    elif kind in ("greater_than_equal", "less_than_equal"):
        low, high = _bounds(StackConfig.model_fields[key])
        rule = f"must be between {low} and {high}"
    elif kind == "string_pattern_mismatch":
        rule = f"must be {_PATTERN_TEXT[key]}"
    else:
        rule = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}={value!r}: {rule}"
