"""Where a run's JSON lives: inline in its item (text, or gzip above a threshold), or in S3 when
even gzipped it does not fit in a 400 KB item."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

from session_store import codec, errors, keys
from session_store.items import PAYLOAD_OBJECT_ATTRIBUTE, RUN_ATTRIBUTE


class PayloadStore:
    def __init__(self, bucket: str | None = None, s3_client: Callable[[], Any] | None = None) -> None:
        self._bucket = bucket
        self._s3_client = s3_client  # created on first offload: most requests never need S3

    def encode_run(self, session_id: str, run_sk: str, run: dict[str, Any]) -> dict[str, Any]:
        attribute = codec.encode(run)
        if codec.encoded_size(attribute) <= codec.MAX_INLINE_PAYLOAD_BYTES:
            return {RUN_ATTRIBUTE: attribute}
        if not self._bucket or self._s3_client is None:
            raise errors.PayloadTooLarge(
                f"run {run['run_id']!r} is {codec.encoded_size(attribute)} bytes after compression, "
                f"over the {codec.MAX_INLINE_PAYLOAD_BYTES} bytes an item holds, and no payload "
                "bucket is configured"
            )
        object_key = self.object_key(session_id, run_sk)
        body = attribute["B"] if "B" in attribute else gzip.compress(attribute["S"].encode(), mtime=0)
        self._s3_client().put_object(
            Bucket=self._bucket, Key=object_key, Body=body, ContentEncoding="gzip",
            ContentType="application/json",
        )
        return {PAYLOAD_OBJECT_ATTRIBUTE: {"S": object_key}}

    def decode_run(self, item: dict[str, Any]) -> dict[str, Any]:
        if RUN_ATTRIBUTE in item:
            return codec.decode(item[RUN_ATTRIBUTE])
        object_key = item[PAYLOAD_OBJECT_ATTRIBUTE]["S"]
        body = self._s3_client().get_object(Bucket=self._bucket, Key=object_key)["Body"].read()
        return codec.loads(gzip.decompress(body))

    def delete_objects(self, object_keys: list[str]) -> None:
        if not object_keys or not self._bucket or self._s3_client is None:
            return
        for start in range(0, len(object_keys), 1000):
            batch = object_keys[start : start + 1000]
            self._s3_client().delete_objects(
                Bucket=self._bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )

    @staticmethod
    def object_key(session_id: str, run_sk: str) -> str:
        # The run's sort key is unique within the session and never reused; escaping keeps `#`
        # and `/` in session ids from shaping the S3 key.
        safe_session = keys.escape(session_id).replace("/", "%2F")
        return f"runs/{safe_session}/{run_sk.replace('#', '/')}.json.gz"


def offloaded_object_key(item: dict[str, Any]) -> str | None:
    attribute = item.get(PAYLOAD_OBJECT_ATTRIBUTE)
    return attribute["S"] if attribute else None
