"""A real S3 API server on 127.0.0.1 for the publish tests (moto in server mode).

The server runs in the test process (moto's WSGI app under werkzeug, as moto's
``ThreadedMotoServer`` runs it); its data lives in moto's in-process backend,
so :meth:`S3Server.stop` followed by :meth:`S3Server.start` on the same port is
a network outage, not a new store. Every request the server receives is logged
(:attr:`S3Server.requests`: method, path, query), so that tests can count what a
client asked for.
Clients reach it over HTTP like any S3 endpoint: obstore through
``AWS_ENDPOINT_URL``, the tests through boto3 (setup, policies) and plain
``urllib`` (reading objects and headers back).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Callable, NamedTuple

ACCESS_KEY = "testing-key"
SECRET_KEY = "testing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Request(NamedTuple):
    """One request the server received."""

    method: str
    path: str  # /bucket/key, percent-decoded
    query: Mapping[str, str]

    def listing(self, bucket: str) -> str | None:
        """The prefix listed, if this lists ``bucket`` ("" for all of it)."""
        if self.method == "GET" and self.path.rstrip("/") == f"/{bucket}" and \
                "list-type" in self.query:
            return self.query.get("prefix", "")
        return None


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.running = False
        self.requests: list[Request] = []  # every request since the last clear()

    def _logged(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def logging_app(environ: dict[str, Any], start_response: Any) -> Any:
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""),
                                          keep_blank_values=True)
            self.requests.append(Request(environ["REQUEST_METHOD"], environ["PATH_INFO"],
                                         {key: values[0] for key, values in query.items()}))
            return app(environ, start_response)

        return logging_app

    def start(self) -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        try:  # moto 5.2 and later serve with their own handler, as ThreadedMotoServer does
            from moto.server import MotoRequestHandler
            handler = {"request_handler": MotoRequestHandler}
        except ImportError:  # (older moto, as on Python 3.9: werkzeug's own, as it used)
            handler = {}
        if not self.running:
            app = self._logged(DomainDispatcherApplication(create_backend_app))
            self._server = make_server("127.0.0.1", self.port, app, threaded=True, **handler)
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
            self.running = True

    def stop(self) -> None:
        if self.running and self._server is not None and self._thread is not None:
            self._server.shutdown()  # (serve_forever then closes the socket)
            self._thread.join()
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
