"""The S3 stand-in: moto in server mode, on a free port, with the template's buckets.

moto keeps objects in memory only. With a data directory, the objects are written there when the
runtime stops and put back when it starts, so that payloads offloaded to S3 survive a restart
together with the DynamoDB items that point at them. (A hard kill loses the objects written since
the last start; DynamoDB Local itself writes through to disk.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

from moto.server import ThreadedMotoServer

from local_runtime.dynamodb_local import free_port, make_client

log = logging.getLogger(__name__)
_INDEX = "index.json"


class LocalS3:
    def __init__(self, bucket_names: list[str], persist_dir: Path | None = None) -> None:
        self.bucket_names = bucket_names
        self.persist_dir = persist_dir
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._started = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        return make_client("s3", self.endpoint_url)

    def start(self) -> LocalS3:
        self._server.start()
        self._started = True
        client = self.client()
        for name in self.bucket_names:
            client.create_bucket(Bucket=name)
            self._restore(client, name)
        return self

    def stop(self) -> None:
        if not self._started:
            return
        try:
            for name in self.bucket_names:
                self._persist(self.client(), name)
        finally:
            self._server.stop()
            self._started = False

    # One file per object, named by the hash of its key (S3 keys reach 1024 bytes, file names 255),
    # and an index from file name to key.
    def _bucket_dir(self, bucket: str) -> Path | None:
        return None if self.persist_dir is None else self.persist_dir / bucket

    def _restore(self, client, bucket: str) -> None:
        directory = self._bucket_dir(bucket)
        if directory is None or not (directory / _INDEX).is_file():
            return
        index = json.loads((directory / _INDEX).read_text())
        for file_name, key in index.items():
            client.put_object(Bucket=bucket, Key=key, Body=(directory / file_name).read_bytes())
        log.info("restored %d objects into s3://%s", len(index), bucket)

    def _persist(self, client, bucket: str) -> None:
        directory = self._bucket_dir(bucket)
        if directory is None:
            return
        staging = directory.with_name(directory.name + ".saving")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        index = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                file_name = hashlib.sha256(item["Key"].encode()).hexdigest()
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                (staging / file_name).write_bytes(body)
                index[file_name] = item["Key"]
        (staging / _INDEX).write_text(json.dumps(index))
        # Swap in the new copy only once it is complete, so an interrupted save keeps the old one.
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
