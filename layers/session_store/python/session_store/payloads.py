"""Where a run's JSON lives: inline in its item (text, or gzip above a threshold), or in S3 when
even gzipped it does not fit in a 400 KB item.

Offloaded runs follow three rules, so that an item never points at a missing or wrong object:
- Every offload writes a new object under a key used once (`runs/<session digest>/<run sort
  key>/<random token>.json.gz`); an object is never overwritten. A failed or retried write can
  therefore never change what a stored run item serves.
- The object is written before the item that points at it.
- An object goes only after the item stops pointing at it: the stream cascade (cascade.py)
  deletes it when the run item is removed or rewritten with another key. A reader holding the old
  item may find the object gone in that window; it gets a 503 with Retry-After, and its retry
  reads the new item.
A write whose transaction fails leaves its object unreferenced (see offloaded_keys()).

The session id is hashed in the key: escaped, an id of 256 characters in any script can exceed
S3's 1,024-byte key limit, and hashed prefixes spread the objects over S3's partitions. The
object's metadata names its run item (session id percent-encoded, run sort key), so an operator
can tell a referenced object from an orphan.

Export files (ExportStore) are the bucket's other tenant: staged under their own prefix, expired
by a lifecycle rule, handed out as presigned URLs.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any, cast
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from session_store import codec, errors, names
from session_store.items import PAYLOAD_ENCODING_ATTRIBUTE, PAYLOAD_OBJECT_ATTRIBUTE, RUN_ATTRIBUTE

OBJECT_PREFIX = "runs/"
# S3 error codes that mean "try again later", as opposed to a fault of this request or setup.
_TRANSIENT_S3_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}
_DELETE_BATCH = 1000  # DeleteObjects' limit


class PayloadStore:
    def __init__(self, bucket: str | None = None, s3_client: Callable[[], Any] | None = None) -> None:
        self._bucket = bucket
        self._s3_client = s3_client  # created on first offload: most requests never need S3

    @property
    def offloads(self) -> bool:
        return bool(self._bucket) and self._s3_client is not None

    def encode_run(self, session_id: str, run_sk: str, run: dict[str, Any]) -> dict[str, Any]:
        """The run's payload attribute: inline, or the key of the S3 object just written."""
        attribute = codec.encode(run, gzip_above=codec.RUN_GZIP_THRESHOLD_BYTES)
        size = codec.encoded_size(attribute)
        if size <= codec.MAX_INLINE_PAYLOAD_BYTES:
            if "B" in attribute:
                return {RUN_ATTRIBUTE: attribute, PAYLOAD_ENCODING_ATTRIBUTE: {"S": codec.GZIP_ENCODING}}
            return {RUN_ATTRIBUTE: attribute}
        if not self.offloads:
            raise errors.PayloadTooLarge(
                f"run {run['run_id']!r} is {size} bytes after compression, over the "
                f"{codec.MAX_INLINE_PAYLOAD_BYTES} bytes an item holds, and no payload bucket is configured"
            )
        object_key = self.new_object_key(session_id, run_sk)
        # Above the inline limit the codec has always gzipped the text (its threshold is far lower).
        body = attribute["B"] if "B" in attribute else gzip.compress(attribute["S"].encode(), mtime=0)
        self._s3(
            "write run payloads to",
            "put_object",
            Bucket=self._bucket,
            Key=object_key,
            Body=body,
            ContentEncoding="gzip",
            ContentType="application/json",
            Metadata={"session-id": quote(session_id, safe=""), "run-sk": run_sk},
        )
        return {PAYLOAD_OBJECT_ATTRIBUTE: {"S": object_key}}

    def copy_payload(self, session_id: str, run_sk: str, item: dict[str, Any]) -> dict[str, Any]:
        """The payload attributes of a copy of run `item` at `run_sk`: inline ones are the item's
        own; an offloaded payload is copied to a new object (the stream cascade deletes the old
        one with the old item)."""
        object_key = offloaded_object_key(item)
        if object_key is None:
            return {}
        new_key = self.new_object_key(session_id, run_sk)
        self._s3(
            "copy run payloads in",
            "copy_object",
            Bucket=self._bucket,
            Key=new_key,
            CopySource={"Bucket": self._bucket, "Key": object_key},
            MetadataDirective="REPLACE",
            ContentEncoding="gzip",
            ContentType="application/json",
            Metadata={"session-id": quote(session_id, safe=""), "run-sk": run_sk},
        )
        return {PAYLOAD_OBJECT_ATTRIBUTE: {"S": new_key}}

    def decode_run(self, item: dict[str, Any]) -> dict[str, Any]:
        if RUN_ATTRIBUTE in item:
            return _run_object(codec.decode(item[RUN_ATTRIBUTE]))
        object_key = item[PAYLOAD_OBJECT_ATTRIBUTE]["S"]
        if not self.offloads:
            raise RuntimeError(f"run payload {object_key} is in S3, but no payload bucket is configured")
        try:
            response = self._s3("read run payloads from", "get_object", Bucket=self._bucket, Key=object_key)
        except _MissingObject:
            # The run was replaced or deleted after its item was read, and the cascade removed the
            # old object: a retry reads the current item.
            raise errors.ServiceUnavailable(f"run payload {object_key} was replaced while it was read; retry") from None
        return _run_object(codec.loads(gzip.decompress(response["Body"].read())))

    def delete_objects(self, object_keys: Iterable[str]) -> None:
        """Delete offloaded payloads (idempotent: a missing object is not an error). Raises when S3
        refuses any, so that the stream record is retried instead of leaking the object."""
        keys = sorted(set(object_keys))
        if not keys:
            return
        if not self.offloads:
            raise RuntimeError(f"{len(keys)} run payloads are in S3, but no payload bucket is configured")
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            response = self._s3(
                "delete run payloads from",
                "delete_objects",
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            failed = response.get("Errors") or []
            if failed:
                sample = ", ".join(f"{error.get('Key')}: {error.get('Code')}" for error in failed[:3])
                raise RuntimeError(f"S3 did not delete {len(failed)} run payloads ({sample})")

    @staticmethod
    def new_object_key(session_id: str, run_sk: str) -> str:
        digest = hashlib.sha256(session_id.encode()).hexdigest()[:32]
        # Run sort keys hold only key-scheme characters (RUN#<incarnation>#<order id>).
        return f"{OBJECT_PREFIX}{digest}/{run_sk.replace('#', '/')}/{secrets.token_hex(8)}.json.gz"

    def _s3(self, purpose: str, operation: str, **arguments: Any) -> dict[str, Any]:
        """One S3 call; throttling and unreachability become a 503 (the client retries)."""
        if self._s3_client is None:
            raise RuntimeError(f"cannot {purpose} S3: no payload bucket is configured")
        try:
            # boto3's clients are untyped (their methods are made at run time): S3 answers a JSON
            # object for every operation used here.
            return cast(dict[str, Any], getattr(self._s3_client(), operation)(**arguments))
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404"):
                raise _MissingObject() from error
            # S3 answers a GET of a missing object with 403 to a caller without s3:ListBucket. The
            # stack grants ListBucket, so AWS answers 404; should a bucket policy or an SCP take it
            # away, a payload the cascade removed still reads as missing (a 503 to retry), not a 500.
            if operation == "get_object" and code in ("AccessDenied", "403"):
                raise _MissingObject() from error
            if code in _TRANSIENT_S3_CODES:
                raise errors.ServiceUnavailable(f"could not {purpose} S3 ({code}); retry") from error
            raise
        except BotoCoreError as error:  # connection refused, timeouts
            raise errors.ServiceUnavailable(f"could not {purpose} S3: it is out of reach; retry") from error


class _MissingObject(Exception):
    pass


def _run_object(decoded: Any) -> dict[str, Any]:
    # Holds for every stored payload: a run is validated as a JSON object before it is encoded.
    assert isinstance(decoded, dict), f"a stored run payload is not a JSON object but {type(decoded).__name__}"
    return decoded


def offloaded_object_key(item: dict[str, Any]) -> str | None:
    attribute = item.get(PAYLOAD_OBJECT_ATTRIBUTE)
    return attribute["S"] if attribute else None


def offloaded_keys(operations: Iterable[dict[str, Any]]) -> list[str]:
    """The S3 objects the Put operations of a transaction point at. When DynamoDB cancels the
    transaction (TransactionCanceledException: nothing was written) these objects are referenced
    by no item and may be deleted at once; after any other failure the write may have happened."""
    puts = (operation.get("Put", {}).get("Item", {}) for operation in operations)
    return [key for item in puts if (key := offloaded_object_key(item)) is not None]


# A staged export's presigned URL is good for this long (the object itself lives a day).
EXPORT_URL_SECONDS = 900


class ExportStore:
    """Stages export files in the payload bucket under EXPORT_OBJECT_PREFIX (expired by a
    lifecycle rule) and presigns them; the S3 counterpart of the repository for exports."""

    def __init__(self, bucket: str | None, s3_client: Callable[[], Any]) -> None:
        self._bucket = bucket
        self._s3_client = s3_client

    @property
    def available(self) -> bool:
        return bool(self._bucket)

    def stage(self, user_id: str, text: str) -> str:
        digest = hashlib.sha256(user_id.encode()).hexdigest()[:32]
        key = f"{names.EXPORT_OBJECT_PREFIX}{digest}/{secrets.token_hex(8)}.jsonl.gz"
        client = self._s3_client()
        try:
            client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=gzip.compress(text.encode(), mtime=0),
                ContentType=names.NDJSON_CONTENT_TYPE,
                ContentEncoding="gzip",
            )
        except (ClientError, BotoCoreError) as error:
            raise errors.ServiceUnavailable("could not stage the export in S3; retry") from error
        url: str = client.generate_presigned_url(  # boto3's client is untyped: this answers a URL string
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=EXPORT_URL_SECONDS
        )
        return url
