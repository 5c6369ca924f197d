"""The functions' configuration, read from environment variables named in names.py."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, Field, field_validator

from session_store import names
from session_store.cursor import LOCAL_CURSOR_KEY


class Settings(BaseModel, frozen=True):
    table_name: str = Field(min_length=3)
    retention_days: int = Field(default=names.DEFAULT_RETENTION_DAYS, ge=0)
    memory_retention_days: int = Field(default=names.DEFAULT_MEMORY_RETENTION_DAYS, ge=0)
    payload_bucket: str | None = None
    # Signs list cursors. Tamper evidence, not authorization: a forged cursor only moves a page
    # boundary inside the caller's own query.
    cursor_key: str = LOCAL_CURSOR_KEY
    dynamodb_endpoint: str | None = None
    s3_endpoint: str | None = None
    # An unknown mode fails validation: a typo must not turn the token check off.
    auth_mode: names.AuthMode = names.AUTH_IAM
    # Fail fast in AWS (runtime.py); at most half the functions' 10 s timeout, so that one attempt
    # always fits before the invocation's deadline.
    aws_read_timeout_seconds: float = Field(default=2, gt=0, le=5)

    @field_validator("auth_mode", mode="before")
    @classmethod
    def _normalised(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        def value(name: str) -> str | None:
            return environ.get(name) or None

        fields = {
            "table_name": value(names.ENV_TABLE_NAME) or names.DEFAULT_TABLE_NAME,
            "retention_days": value(names.ENV_RETENTION_DAYS),
            "memory_retention_days": value(names.ENV_MEMORY_RETENTION_DAYS),
            "payload_bucket": value(names.ENV_PAYLOAD_BUCKET),
            "cursor_key": value(names.ENV_CURSOR_KEY),
            "dynamodb_endpoint": value(names.ENV_DYNAMODB_ENDPOINT),
            "s3_endpoint": value(names.ENV_S3_ENDPOINT),
            "auth_mode": value(names.ENV_AUTH_MODE),
            "aws_read_timeout_seconds": value(names.ENV_AWS_READ_TIMEOUT),
        }
        # Validated like a request body: the environment holds strings, pydantic converts them.
        return cls.model_validate({key: val for key, val in fields.items() if val is not None})


@cache
def current_settings() -> Settings:
    return Settings.from_environment()
