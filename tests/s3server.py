"""A real S3 API server on 127.0.0.1 for the publish tests (moto in server mode).

The server runs in the test process (``ThreadedMotoServer``); its data lives in
moto's in-process backend, so :meth:`S3Server.stop` followed by
:meth:`S3Server.start` on the same port is a network outage, not a new store.
Clients reach it over HTTP like any S3 endpoint: obstore through
``AWS_ENDPOINT_URL``, the tests through boto3 (setup, policies) and plain
``urllib`` (reading objects and headers back).
"""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

ACCESS_KEY = "testing-key"
SECRET_KEY = "testing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class S3Server:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None
        self.running = False

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        if not self.running:
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port,
                                              verbose=False)
            self._server.start()
            self.running = True

    def stop(self) -> None:
        if self.running and self._server is not None:
            self._server.stop()
            self.running = False

    @property
    def env(self) -> dict[str, str]:
        """What a client process needs to reach this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1"}

    @contextmanager
    def environment(self) -> Iterator[None]:
        saved = {key: os.environ.get(key) for key in self.env}
        os.environ.update(self.env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1")

    def create_bucket(self, name: str, *, public_read: bool = True) -> None:
        """A new bucket; ``public_read`` lets plain HTTP GETs read its objects."""
        client = self.client()
        client.create_bucket(Bucket=name)
        if public_read:
            self.set_policy(name, [])

    def set_policy(self, bucket: str, statements: list[Mapping[str, Any]]) -> None:
        """The bucket's policy: anonymous reads, plus ``statements`` (e.g. a Deny)."""
        allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{bucket}/*"}
        self.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [allow, *statements]}))

    def keys(self, bucket: str, prefix: str = "") -> dict[str, int]:
        """Every object under ``prefix``: key (without the prefix) -> size."""
        found = {}
        pages = self.client().get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                found[item["Key"][len(prefix):]] = item["Size"]
        return found

    def etags(self, bucket: str, prefix: str = "") -> dict[str, tuple[int, str]]:
        """key (without the prefix) -> (size, ETag: the md5 of a single-part upload)."""
        found = {}
        pages = self.client().get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                found[item["Key"][len(prefix):]] = (item["Size"], item["ETag"].strip('"'))
        return found

    def get(self, bucket: str, key: str) -> tuple[bytes, Mapping[str, str]]:
        """An object read over plain HTTP: its bytes and response headers."""
        with urllib.request.urlopen(f"{self.endpoint}/{bucket}/{key}", timeout=30) as response:
            return response.read(), {k.lower(): v for k, v in response.headers.items()}
