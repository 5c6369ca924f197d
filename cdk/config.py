"""The stack's settings: CDK context values (cdk.json or `-c key=value`), defaults and validation.

Every setting is defined here once, with its default; docs/deploy.md lists the same keys (a test
holds the two together). Values given with `-c` arrive as strings and values from cdk.json as JSON
types, so each parser accepts both. All problems are reported together in one ConfigError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import aws_logs as logs
from session_store import names

ENVIRONMENTS = ("dev", "prod")
AUTH_MODES = names.AUTH_MODES
# "full": a dashboard and alarms per function; "lean": the few alarms that cover every failure a
# client sees (API 5xx) plus the cascade's, no dashboard: within CloudWatch's free tier of 10
# alarm metrics. docs/deploy.md prices both.
MONITORING_PROFILES = ("full", "lean")
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

_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_USER_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[\w-]+$")


class ConfigError(ValueError):
    """One or more context values are invalid; the message names each."""


@dataclass(frozen=True)
class StackConfig:
    env: str = "dev"
    # None: CloudFormation names the table (<stack>-SessionTable...-<suffix>), so no deploy collides
    # with a table of that name left by another stack, a retained prod table or Agno's own adapter.
    session_table: str | None = None
    retention_days: int = names.DEFAULT_RETENTION_DAYS
    memory_retention_days: int = names.DEFAULT_MEMORY_RETENTION_DAYS
    stage: str = "v1"
    kms_key_arn: str | None = None
    waf: bool = False
    auth: str = "iam"
    jwt_user_pool_arn: str | None = None
    log_retention_days: int = 30
    throttle_rate_limit: int = 200
    throttle_burst_limit: int = 400
    reserved_concurrency: int | None = None
    waf_rate_limit: int = 3000
    monitoring: str = "full"

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
        given = {field.name: get(field.name) for field in fields(cls)}
        raw = {**per_env, **{key: value for key, value in given.items() if value is not None}}
        return cls.from_mapping({key: value for key, value in raw.items() if value is not None})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> StackConfig:
        errors: list[str] = []
        parsed: dict[str, Any] = {}
        for key, value in values.items():
            parser = _PARSERS.get(key)
            if parser is None:
                errors.append(f"unknown setting {key!r}")
                continue
            try:
                parsed[key] = parser(value)
            except ValueError as error:
                errors.append(f"{key}={value!r}: {error}")
        if not errors:
            config = cls(**parsed)
            errors.extend(config._combination_errors())
        if errors:
            raise ConfigError("invalid context: " + "; ".join(errors))
        return config

    def _combination_errors(self) -> list[str]:
        errors = []
        if self.auth == "none" and self.env != "dev":
            errors.append("auth=none (no authorization at all) is only allowed with env=dev")
        if self.jwt_user_pool_arn is not None and self.auth != "jwt":
            errors.append("jwt_user_pool_arn is only used with auth=jwt")
        if self.throttle_burst_limit < self.throttle_rate_limit:
            errors.append("throttle_burst_limit must be at least throttle_rate_limit")
        return errors


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def _integer(minimum: int, maximum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value).strip()):
            raise ValueError("must be an integer")
        number = int(str(value).strip())
        if not minimum <= number <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}")
        return number

    return parse


def _pattern(pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        if not pattern.fullmatch(text):
            raise ValueError(f"must be {what}")
        return text

    return parse


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # `-c kms_key_arn=` (an empty string) turns an option from cdk.json off again.
    return lambda value: None if str(value).strip() == "" else parse(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("must be true or false")


def _log_retention(value: Any) -> int:
    days = _integer(1, max(LOG_RETENTION))(value)
    if days not in LOG_RETENTION:
        raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION))}")
    return days


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "env": _choice(ENVIRONMENTS),
    "session_table": _optional(_pattern(_TABLE_NAME, "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")),
    "retention_days": _integer(0, 36_500),
    "memory_retention_days": _integer(0, 36_500),
    "stage": _pattern(_STAGE_NAME, "an API Gateway stage name (1-128 of A-Z a-z 0-9 _)"),
    "kms_key_arn": _optional(_pattern(_KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")),
    "waf": _boolean,
    "auth": _choice(AUTH_MODES),
    "jwt_user_pool_arn": _optional(_pattern(_USER_POOL_ARN, "a Cognito user pool ARN")),
    "log_retention_days": _log_retention,
    "throttle_rate_limit": _integer(1, 1_000_000),
    "throttle_burst_limit": _integer(1, 1_000_000),
    "reserved_concurrency": _optional(_integer(1, 10_000)),
    # AWS WAF's rate-based rules take 10 to 2e9 requests per 5 minutes.
    "waf_rate_limit": _integer(10, 2_000_000_000),
    "monitoring": _choice(MONITORING_PROFILES),
}
assert set(_PARSERS) == {field.name for field in fields(StackConfig)}, "every setting needs a parser"
