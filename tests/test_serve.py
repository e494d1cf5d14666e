"""The WSGI app through real HTTP, and the ``collectstatic serve`` development server.

Every server listens on 127.0.0.1 with an ephemeral port, runs in a thread (or
a subprocess we start and stop), and is shut down after the test. Requests are
written to a raw socket so that targets such as ``%2e%2e`` or backslashes reach
the server exactly as sent.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectstatic.devserver import make_server
from collectstatic.runtime import Manifest, clear_cache
from collectstatic.serve import IMMUTABLE, SourceFiles, StaticFiles, content_type

from .support import REPO, cli, write_tree
from .test_http import NEGOTIATION

TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_cache()


# -- HTTP plumbing -------------------------------------------------------------------------
class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.headers} {self.body[:60]!r}>"


def request(port: int, target: str, method: str = "GET", headers: dict[str, str] | None = None
            ) -> Response:
    """One raw HTTP/1.1 request (``Connection: close``); the target is sent verbatim."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    chunks = []
    deadline = time.monotonic() + TIMEOUT
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(payload)
        for _ in range(100_000):  # bounded; the server closes when done
            if time.monotonic() > deadline:
                raise AssertionError(f"no complete response to {target!r} in {TIMEOUT}s")
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        assert name.lower() not in parsed, f"duplicate header {name}"
        parsed[name.lower()] = value.strip()
    return Response(int(status_line.split()[1]), parsed, body)


class _QuietHandler(WSGIRequestHandler):  # the stock wsgiref handler, without stderr noise
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(app: Callable[..., Any], stock: bool = False) -> Iterator[int]:
    """Run ``app`` on 127.0.0.1:<ephemeral> in a thread; yield the port; shut down."""
    if stock:
        server: WSGIServer = WSGIServer(("127.0.0.1", 0), _QuietHandler)
        server.set_app(app)
    else:
        server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
        assert not thread.is_alive()


# -- a collected root, made by the real CLI ---------------------------------------------------
CSS = 'body { background: url("../img/logo.png"); }\n' + "/* padding */\n" * 40
SOURCES: dict[str, str | bytes] = {
    "assets/css/site.css": CSS,
    "assets/img/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "assets/js/app.mjs": "export const x = 1;\n",
    "assets/wasm/mod.wasm": b"\x00asm\x01\x00\x00\x00",
    "assets/fonts/f.woff2": b"wOF2fontdata",
    "assets/site.webmanifest": '{"name": "x"}',
    "assets/LICENSE": "MIT\n",
    "assets/ünï/cödé.txt": "unicode name",
}
SECRET = b"TOP SECRET outside the root"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = tmp_path_factory.mktemp("project")
    write_tree(project, SOURCES)
    (project / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n')
    (project / "secret.txt").write_bytes(SECRET)
    cli("collect", "--noinput", "-v", "0", cwd=project)
    root = project / "out"
    manifest = Manifest.from_path(root)
    css = manifest.hashed_name("css/site.css")
    body = (root / css).read_bytes()
    variants = {"gzip": gzip.compress(body, mtime=0), "br": b"BROTLI" + body[:20],
                "zstd": b"ZSTD" + body[:30]}
    for encoding, suffix in (("gzip", ".gz"), ("br", ".br"), ("zstd", ".zst")):
        (root / (css + suffix)).write_bytes(variants[encoding])
    # Ways out of the root that must never work.
    os.symlink(project / "secret.txt", root / "leak.txt")
    os.symlink(project, root / "leakdir")
    os.symlink(root / "LICENSE", root / "inside-link.txt")  # stays inside: served
    app = StaticFiles(root)
    with serving(app) as port:
        yield {"project": project, "root": root, "manifest": manifest, "css": css,
               "css_body": body, "variants": variants, "port": port, "app": app}


def get(site: dict[str, Any], target: str, method: str = "GET", **headers: str) -> Response:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return request(site["port"], target, method, named)


# -- caching ----------------------------------------------------------------------------------
def test_hashed_file_is_immutable(site: dict[str, Any]) -> None:
    response = get(site, f"/static/{site['css']}")
    assert response.status == 200
    assert response.body == site["css_body"]
    assert response.headers["cache-control"] == IMMUTABLE == \
        "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["content-length"] == str(len(site["css_body"]))
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in response.headers
    logo = get(site, "/static/" + site["manifest"].hashed_name("img/logo.png"))
    assert logo.headers["cache-control"] == IMMUTABLE and "vary" not in logo.headers


def test_unhashed_file_short_cache_with_validators(site: dict[str, Any]) -> None:
    response = get(site, "/static/css/site.css")
    assert response.status == 200 and response.body == (site["root"] / "css/site.css"
                                                        ).read_bytes()
    assert response.headers["cache-control"] == "public, max-age=60"
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', etag)
    assert modified.endswith(" GMT")

    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", W/{etag}'},
                    {"If-None-Match": "*"}, {"If-Modified-Since": modified},
                    {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}):
        not_modified = get(site, "/static/css/site.css", **headers)
        assert not_modified.status == 304, headers
        assert not_modified.body == b""
        assert not_modified.headers["etag"] == etag
        assert not_modified.headers["cache-control"] == "public, max-age=60"

    for headers in ({"If-None-Match": '"other"'},
                    {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
                    {"If-Modified-Since": "not a date"},
                    # If-None-Match wins over a matching If-Modified-Since.
                    {"If-None-Match": '"other"', "If-Modified-Since": modified}):
        assert get(site, "/static/css/site.css", **headers).status == 200, headers


# -- content negotiation --------------------------------------------------------------------
@pytest.mark.parametrize(("accept", "chosen"), [
    (accept, None if chosen == "identity" else chosen) for accept, chosen in NEGOTIATION])
def test_precompressed_variants(site: dict[str, Any], accept: str | None,
                                chosen: str | None) -> None:
    headers = {} if accept is None else {"Accept_Encoding": accept}
    response = get(site, f"/static/{site['css']}", **headers)
    assert response.status == 200
    expected = site["css_body"] if chosen is None else site["variants"][chosen]
    assert response.body == expected
    assert response.headers.get("content-encoding") == chosen
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == IMMUTABLE
    # Each representation has its own validator.
    plain_etag = get(site, f"/static/{site['css']}").headers["etag"]
    assert (response.headers["etag"] == plain_etag) == (chosen is None)
    if chosen is not None:
        assert get(site, f"/static/{site['css']}", Accept_Encoding=accept or "",
                   If_None_Match=response.headers["etag"]).status == 304
        assert get(site, f"/static/{site['css']}", Accept_Encoding=accept or "",
                   If_None_Match=plain_etag).status == 200


def test_head(site: dict[str, Any]) -> None:
    for accept, length in (("identity", len(site["css_body"])),
                           ("br", len(site["variants"]["br"]))):
        response = get(site, f"/static/{site['css']}", "HEAD", Accept_Encoding=accept)
        assert response.status == 200 and response.body == b""
        assert response.headers["content-length"] == str(length)
        assert response.headers["cache-control"] == IMMUTABLE
    # HEAD ignores Range.
    ranged = get(site, "/static/css/site.css", "HEAD", Range="bytes=0-1")
    assert ranged.status == 200 and "content-range" not in ranged.headers


# -- ranges -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "first", "last"), [
    ("bytes=0-3", 0, 3),
    ("bytes=10-", 10, None),
    ("bytes=-5", -5, None),
    ("bytes=5-100000", 5, None),
    ("bytes=-100000", 0, None),
    ("BYTES = 2 - 4", 2, 4),
])
def test_single_range(site: dict[str, Any], spec: str, first: int, last: int | None) -> None:
    body = site["css_body"]
    size = len(body)
    start = first % size if first < 0 else first
    end = size - 1 if last is None else last
    response = get(site, f"/static/{site['css']}", Range=spec, Accept_Encoding="br, gzip")
    assert response.status == 206, response
    assert response.body == body[start:end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert "content-encoding" not in response.headers  # ranges are of the identity file
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("spec", ["bytes=100000-", "bytes=100000-200000", "bytes=-0"])
def test_unsatisfiable_range(site: dict[str, Any], spec: str) -> None:
    response = get(site, f"/static/{site['css']}", Range=spec)
    assert response.status == 416
    assert response.headers["content-range"] == f"bytes */{len(site['css_body'])}"
    assert response.body == b""


@pytest.mark.parametrize("spec", ["bytes=0-1,3-4", "items=0-1", "bytes=5-2", "bytes=x-y",
                                  "bytes"])
def test_ignored_range_sends_everything(site: dict[str, Any], spec: str) -> None:
    response = get(site, f"/static/{site['css']}", Range=spec)
    assert response.status == 200 and response.body == site["css_body"]


def test_if_range(site: dict[str, Any]) -> None:
    etag = get(site, "/static/css/site.css").headers["etag"]
    assert get(site, "/static/css/site.css", Range="bytes=0-1", If_Range=etag).status == 206
    stale = get(site, "/static/css/site.css", Range="bytes=0-1", If_Range='"stale"')
    assert stale.status == 200 and len(stale.body) > 2


# -- hostile headers: never a 500 -------------------------------------------------------------
HUGE = "9" * 5000  # past Python's int-parsing limit


@pytest.mark.parametrize("headers", [
    {"Range": "bytes=0-" + HUGE},
    {"Range": "bytes=" + HUGE + "-"},
    {"Range": "bytes=-" + HUGE},
    {"Range": "bytes=\xb2-"},  # sent as the byte 0xb2: str.isdigit() but not int()
    {"Range": "bytes=0-\xb9"},
    {"Range": "bytes=1_0-20"},
    {"Range": "bytes=0-1", "If-Range": "Mon, 01 Jan 99999999999 00:00:00 GMT"},
    {"If-Modified-Since": "Mon, 01 Jan 99999999999 00:00:00 GMT"},
    {"If-Modified-Since": "Mon, 01 Jan 9999999 00:00:00 GMT"},
    {"If-Modified-Since": "Mon, 01 Jan 0000 00:00:00 GMT"},
    {"If-Modified-Since": "\xff\xfe\x00"},
    {"If-None-Match": "\xff\x00,,W/"},
    {"Accept-Encoding": "gzip;q=nan, br;q=\xb2"},
    {"Accept-Encoding": "gzip;q=" + HUGE},
])
def test_unusable_headers_are_ignored(site: dict[str, Any], headers: dict[str, str]) -> None:
    for target in ("/static/css/site.css", f"/static/{site['css']}"):
        response = request(site["port"], target, headers=headers)
        assert response.status == 200, (headers, response)
        assert "content-encoding" not in response.headers
        assert response.body == (site["root"] / target[len("/static/"):]).read_bytes()


# Header values as WSGI passes them: any bytes, decoded as latin-1; and values
# shaped like each header's grammar, with hostile numbers in it.
_latin1 = st.binary(max_size=200).map(lambda raw: raw.decode("latin-1"))
_number = st.one_of(st.sampled_from(["", "0", "1", " 7 ", "\xb2", "\xb9", "\xbd", "1_0", "+1",
                                     "1e3", "nan", "99999999999", HUGE]),
                    st.integers(0, 10**30).map(str))
_shaped = st.one_of(
    st.builds("{}={}-{}".format, st.sampled_from(["bytes", "BYTES", "items"]), _number, _number),
    st.builds("Mon, {} Jan {} {}:00:00 GMT".format, _number, _number, _number),
    st.builds("{};q={}".format, st.sampled_from(["gzip", "br", "*", "identity"]), _number),
    st.builds('W/"{}", "{}"'.format, _number, _number))
_HEADERS = ("HTTP_RANGE", "HTTP_IF_RANGE", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
            "HTTP_ACCEPT_ENCODING")


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(_HEADERS), st.one_of(_latin1, _shaped)),
       st.sampled_from(["GET", "HEAD"]), st.booleans())
def test_no_header_bytes_raise_out_of_the_app(site: dict[str, Any], headers: dict[str, str],
                                              method: str, hashed: bool) -> None:
    name = site["css"] if hashed else "css/site.css"
    environ = {"REQUEST_METHOD": method, "PATH_INFO": f"/static/{name}", **headers}
    answers: list[tuple[str, list[tuple[str, str]]]] = []
    body = site["app"](environ, lambda status, head: answers.append((status, head)))
    data = b"".join(body)
    getattr(body, "close", lambda: None)()
    (status, head), = answers
    assert status[:3] in ("200", "206", "304", "416"), status
    length = dict(head).get("Content-Length")
    assert length is None or int(length) == len(data) or method == "HEAD"


@pytest.fixture(scope="module")
def source_app(tmp_path_factory: pytest.TempPathFactory) -> SourceFiles:
    from collectstatic.config import load_settings

    project = write_tree(tmp_path_factory.mktemp("fuzzed"), {
        "assets/css/a.css": "a", "assets/.env": "SECRET", "vendor/x.js": "x",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\nignore = ["private/*"]\n'
                          'dirs = ["assets", {path = "vendor", prefix = "v"}]\n'})
    return SourceFiles(load_settings(project / "pyproject.toml"))


_path_part = st.one_of(_latin1, st.sampled_from(["css/a.css", "v/x.js", "..", ".", "%2f", "/",
                                                 "\\", "\x00", ".env", "a" * 300]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_path_part, max_size=6).map("".join), st.one_of(st.none(), _latin1),
       st.sampled_from(["GET", "HEAD", "POST", "\xff"]), st.booleans())
def test_no_request_target_raises_out_of_the_apps(site: dict[str, Any], source_app: SourceFiles,
                                                  path: str, raw: str | None, method: str,
                                                  collected: bool) -> None:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/static/" + path}
    if raw is not None:
        environ["REQUEST_URI"] = raw
    answers: list[str] = []
    app = site["app"] if collected else source_app
    body = app(environ, lambda status, head: answers.append(status))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    assert [status[:3] for status in answers] in (["200"], ["404"], ["405"]), answers


# -- types and methods --------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), [
    ("js/app.mjs", "text/javascript; charset=utf-8"),
    ("wasm/mod.wasm", "application/wasm"),
    ("fonts/f.woff2", "font/woff2"),
    ("site.webmanifest", "application/manifest+json; charset=utf-8"),
    ("img/logo.png", "image/png"),
    ("LICENSE", "application/octet-stream"),
    ("staticfiles.json", "application/json; charset=utf-8"),
])
def test_content_types(site: dict[str, Any], name: str, expected: str) -> None:
    for served in (name, site["manifest"].get(name)):
        if served is None:
            continue
        response = get(site, f"/static/{served}")
        assert response.status == 200 and response.headers["content-type"] == expected


def test_compressed_sibling_asked_for_by_name(site: dict[str, Any]) -> None:
    response = get(site, f"/static/{site['css']}.gz")
    assert response.status == 200 and response.body == site["variants"]["gzip"]
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers
    assert content_type("x.css.br") == "application/x-brotli"


def test_unicode_names(site: dict[str, Any]) -> None:
    hashed = site["manifest"].hashed_name("ünï/cödé.txt")
    quoted = "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode())
                     for c in hashed)
    response = get(site, f"/static/{quoted}")
    assert response.status == 200 and response.body == b"unicode name"
    assert get(site, "/static/%ff%fe.txt").status == 404  # not UTF-8


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods(site: dict[str, Any], method: str) -> None:
    response = get(site, "/static/css/site.css", method, Content_Length="0")
    assert response.status == 405
    assert response.headers["allow"] == "GET, HEAD"


# -- no way out of root -------------------------------------------------------------------------
TRAVERSALS = [
    "/static/../secret.txt",
    "/static/css/../../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/%2e%2e/project/secret.txt",
    "/static/css/..%2f..%2fsecret.txt",
    "/static/..%2fsecret.txt",
    "/static/css%2fsite.css",  # an encoded slash, even to a file that exists
    "/static/..\\secret.txt",
    "/static/%5c..%5csecret.txt",
    "/static/css\\site.css",
    "/static/css/site.css%00",
    "/static/css/site.css%00.png",
    "/static/leak.txt",
    "/static/leakdir/secret.txt",
    "/static/leakdir/out/LICENSE",
    "/static/./css/site.css",
    "/static//css/site.css",
    "/static/css//site.css",
    "/static/%252e%252e/secret.txt",
    "/static/.collectstatic/state.json",
    "/static/",
    "/static",
    "/secret.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_attempts_are_404(site: dict[str, Any], target: str) -> None:
    response = get(site, target)
    assert response.status == 404, response
    assert SECRET not in response.body


@pytest.mark.parametrize("target", [t for t in TRAVERSALS if "%2f" not in t.lower()
                                    and "%5c" not in t.lower()])
def test_traversal_attempts_under_the_stock_wsgiref_server(site: dict[str, Any],
                                                           target: str) -> None:
    # The stock handler passes no raw URI: everything but encoded slashes is still caught.
    with serving(site["app"], stock=True) as port:
        response = request(port, target)
    assert response.status == 404 and SECRET not in response.body


def test_symlink_inside_root_is_served(site: dict[str, Any]) -> None:
    response = get(site, "/static/inside-link.txt")
    assert response.status == 200 and response.body == b"MIT\n"


def test_file_set_is_indexed_once(site: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_tree(root, {"a.txt": "a", "b.txt": "b"})
    app = StaticFiles(root)
    (root / "late.txt").write_text("late")
    (root / "b.txt").unlink()
    with serving(app) as port:
        assert request(port, "/static/a.txt").status == 200
        assert request(port, "/static/late.txt").status == 404  # not walked per request
        assert request(port, "/static/b.txt").status == 404  # gone since: no crash
    assert app.names == {"a.txt", "b.txt"}
    assert StaticFiles(root).names == {"a.txt", "late.txt"}


def test_unhashed_looking_names_without_a_manifest(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "root", {"a.0123456789ab.css": "a", "a.css": "a"})
    with serving(StaticFiles(root, "/assets", max_age=5)) as port:
        assert request(port, "/assets/a.0123456789ab.css").headers["cache-control"] == IMMUTABLE
        assert request(port, "/assets/a.css").headers["cache-control"] == "public, max-age=5"
        assert request(port, "/static/a.css").status == 404


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such directory"):
        StaticFiles(tmp_path / "missing")


# -- middleware and the WSGI details --------------------------------------------------------
def inner_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    body = f"app saw {environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


def test_as_middleware(site: dict[str, Any]) -> None:
    with serving(StaticFiles(site["root"], app=inner_app)) as port:
        assert request(port, "/hello").body == b"app saw GET /hello"
        assert request(port, "/static/nope.css").body == b"app saw GET /static/nope.css"
        assert request(port, "/static/nope", "POST", {"Content-Length": "0"}
                       ).body == b"app saw POST /static/nope"
        served = request(port, f"/static/{site['css']}")
        assert served.body == site["css_body"] and served.headers["cache-control"] == IMMUTABLE
        # A traversal attempt is answered here, not handed on.
        assert request(port, "/static/%2e%2e/secret.txt").status == 404
        assert request(port, "/static/css%2fsite.css").status == 404


def test_uses_wsgi_file_wrapper_and_closes(site: dict[str, Any]) -> None:
    wrapped: list[Any] = []

    def file_wrapper(handle: Any, size: int) -> list[bytes]:
        wrapped.append(handle)
        data = handle.read()
        handle.close()
        return [data]

    statuses: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/static/{site['css']}",
               "wsgi.file_wrapper": file_wrapper}
    body = site["app"](environ, lambda status, headers: statuses.append(status))
    assert b"".join(body) == site["css_body"] and statuses == ["200 OK"] and len(wrapped) == 1
    # Without one (and for ranges) the app iterates the file itself and closes it.
    del environ["wsgi.file_wrapper"]
    environ["HTTP_RANGE"] = "bytes=1-2"
    body = site["app"](environ, lambda status, headers: statuses.append(status))
    assert b"".join(body) == site["css_body"][1:3] and statuses[-1] == "206 Partial Content"
    body.close()  # type: ignore[attr-defined]
    assert body.handle.closed  # type: ignore[attr-defined]


def test_from_a_zip_imported_package(site: dict[str, Any], tmp_path: Path) -> None:
    archive = tmp_path / "served_zip_pkg.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("served_zip_pkg/__init__.py", "")
        for path in sorted(site["root"].rglob("*")):
            relative = path.relative_to(site["root"]).as_posix()
            if path.is_file() and not path.is_symlink() and ".collectstatic" not in relative:
                zipped.write(path, f"served_zip_pkg/staticfiles/{relative}")
    sys.path.insert(0, str(archive))
    try:
        app = StaticFiles.from_package("served_zip_pkg", "staticfiles")
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop("served_zip_pkg", None)
    with serving(app) as port:
        response = request(port, f"/static/{site['css']}", headers={"Accept-Encoding": "br"})
        assert response.status == 200 and response.body == site["variants"]["br"]
        assert response.headers["cache-control"] == IMMUTABLE
        assert request(port, "/static/css/site.css", headers={"Range": "bytes=0-3"}
                       ).body == b"body"
        assert request(port, "/static/leak.txt").status == 404
        plain = request(port, "/static/LICENSE")
        assert plain.body == b"MIT\n" and plain.headers["cache-control"] == "public, max-age=60"
        # Validators from the zip entry (its date, a content checksum), not an mtime of 0.
        assert " 1970 " not in plain.headers["last-modified"]
        assert plain.headers["etag"] != get(site, "/static/LICENSE").headers["etag"]
        assert request(port, "/static/LICENSE", headers={
            "If-None-Match": plain.headers["etag"]}).status == 304
        assert request(port, "/static/LICENSE", headers={
            "If-Modified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"}).status == 200


def test_from_an_installed_package_dir(site: dict[str, Any], tmp_path: Path) -> None:
    package = tmp_path / "served_dir_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    os.symlink(site["root"], package / "staticfiles")
    sys.path.insert(0, str(tmp_path))
    try:
        app = StaticFiles.from_package("served_dir_pkg", "staticfiles", "/s/")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("served_dir_pkg", None)
    assert f"{site['css']}.br" in app.names and "leak.txt" not in app.names
    with serving(app) as port:
        assert request(port, f"/s/{site['css']}").body == site["css_body"]


# -- SourceFiles in-process ---------------------------------------------------------------------
def test_source_files_follow_edits(tmp_path: Path) -> None:
    from collectstatic.config import load_settings

    project = write_tree(tmp_path, {
        "assets/css/a.css": "one", "assets/.env": "SECRET=1", "vendor/lib.js": "lib",
        "outside.txt": "outside",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\n'
                          'dirs = ["assets", {path = "vendor", prefix = "v"}]\n'})
    os.symlink(Path("/etc/hostname") if Path("/etc/hostname").exists() else
               project / "missing", project / "assets/escape.txt")
    settings = load_settings(project / "pyproject.toml")
    with serving(SourceFiles(settings)) as port:
        first = request(port, "/static/css/a.css")
        assert first.status == 200 and first.body == b"one"
        assert first.headers["cache-control"] == "no-cache"
        assert request(port, "/static/css/a.css", headers={"If-None-Match": first.headers[
            "etag"]}).status == 304
        (project / "assets/css/a.css").write_text("two, longer")
        assert request(port, "/static/css/a.css").body == b"two, longer"
        (project / "assets/css/new.css").write_text("new")
        assert request(port, "/static/css/new.css").body == b"new"
        assert request(port, "/static/v/lib.js").body == b"lib"
        for target in ("/static/.env", "/static/escape.txt", "/static/../outside.txt",
                       "/static/%2e%2e/outside.txt", "/static/v/../css/a.css",
                       "/static/lib.js"):
            assert request(port, target).status == 404, target


IGNORE_TREE: dict[str, str | bytes] = {
    "assets/css/a.css": "a", "assets/css/a.css~": "backup", "assets/.env": "SECRET=1",
    "assets/CVS/Entries": "cvs", "assets/private/key.txt": "assets key",
    "assets/docs/private/key.txt": "nested key", "assets/deep/x.map": "map",
    "assets/x.map": "top map", "assets/build/out.js": "built", "assets/keep/build": "a file",
    "assets/shadow.txt": "ignored in assets", "assets/.hidden/in.txt": "hidden dir",
    "vendor/private/key.txt": "vendor key", "vendor/lib.js": "lib", "vendor/a.css": "shadowed",
    "vendor/shadow.txt": "from vendor", "vendor/css/a.css": "prefixed",
    "other/private/key.txt": "other key", "other/shadow.txt": "x",
}
IGNORE_CONFIG = ('[tool.collectstatic]\nroot = "out"\nignore = ["private/*", "deep/*.map", '
                 '"build", "shadow.txt"]\ndirs = ["assets", {path = "vendor", prefix = "v"}, '
                 '{path = "other", prefix = "v/private"}]\n')


@pytest.mark.parametrize("default_ignore", [True, False])
def test_source_files_serve_exactly_what_collect_collects(tmp_path: Path,
                                                          default_ignore: bool) -> None:
    from collectstatic.config import load_settings
    from collectstatic.finders import list_sources

    config = IGNORE_CONFIG + ("" if default_ignore else "default-ignore = false\n")
    project = write_tree(tmp_path, {**IGNORE_TREE, "pyproject.toml": config})
    settings = load_settings(project / "pyproject.toml")
    listing = list_sources(settings).files
    # Every name a request could ask for: each file under each source, with and
    # without each prefix.
    candidates = {path.relative_to(project / top).as_posix()
                  for top in ("assets", "vendor", "other")
                  for path in (project / top).rglob("*") if path.is_file()}
    candidates |= {f"{head}/{name}" for head in ("v", "v/private") for name in set(candidates)}
    app = SourceFiles(settings)
    for name in sorted(candidates):
        answers: list[str] = []
        body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": f"/static/{name}"},
                            lambda status, headers, seen=answers: seen.append(status)))
        if name in listing:
            assert answers == ["200 OK"], name
            assert body == Path(listing[name].path).read_bytes(), name
        else:
            assert answers == ["404 Not Found"], name
    assert "v/private/key.txt" not in listing and "private/key.txt" not in listing
    cli("collect", "--noinput", "-v", "0", cwd=project)
    collected = {path.relative_to(project / "out").as_posix()
                 for path in (project / "out").rglob("*") if path.is_file()}
    assert set(listing) <= collected


def test_linked_root_serves_links_into_the_sources_only(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/css/a.css": "body{}", "assets/b.txt": "b", "secret.txt": "SECRET",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'})
    cli("collect", "--noinput", "-v", "0", "--link", cwd=project)
    root = project / "out"
    assert (root / "css/a.css").is_symlink()
    os.symlink(project / "secret.txt", root / "leak.txt")  # inside the project, not a source
    os.symlink("/etc/passwd", root / "passwd.txt")
    hashed = Manifest.from_path(root).hashed_name("css/a.css")
    with serving(StaticFiles(root, sources=[project / "assets"])) as port:
        for name, body in (("css/a.css", b"body{}"), ("b.txt", b"b"), (hashed, b"body{}")):
            response = request(port, f"/static/{name}")
            assert response.status == 200 and response.body == body, name
        assert request(port, "/static/leak.txt").status == 404
        assert request(port, "/static/passwd.txt").status == 404
    # Without the sources, links out of root are never followed.
    assert "css/a.css" not in StaticFiles(root).names and hashed in StaticFiles(root).names


# -- the development server, as a process ---------------------------------------------------------
@contextlib.contextmanager
def dev_server(project: Path, *args: str, rest: list[str] | None = None
               ) -> Iterator[tuple[int, str]]:
    """``python -m collectstatic serve --port 0 ...``; yield (port, start-up line).
    Once it is stopped, what it wrote after that line goes to ``rest`` (stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "collectstatic", "serve", "--port", "0", *args]
    proc = subprocess.Popen(command,
                            cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(TIMEOUT)
    try:
        if not (lines and lines[0]):
            errors = stderr.read() if proc.poll() is not None else "(still running)"
            raise AssertionError(f"no start-up line in {TIMEOUT}s; stderr: {errors}")
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", lines[0])
        assert match, lines[0]
        yield int(match.group(1)), lines[0]
    finally:
        proc.terminate()
        try:
            output = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate(timeout=TIMEOUT)
        if rest is not None:
            rest.extend(output)


def test_dev_server_serves_sources_and_says_it_is_for_development(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/css/site.css": "v1",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'})
    with dev_server(project) as (port, line):
        assert "for development only" in line and "do not use it in production" in line
        assert "source dir" in line
        first = request(port, "/static/css/site.css")
        assert first.status == 200 and first.body == b"v1"
        assert first.headers["cache-control"] == "no-cache"
        (project / "assets/css/site.css").write_text("v2 changed")
        assert request(port, "/static/css/site.css").body == b"v2 changed"
        assert request(port, "/static/%2e%2e/pyproject.toml").status == 404
        assert request(port, "/elsewhere").status == 404
    assert not (project / "out").exists()  # nothing was collected


def test_dev_server_collected_uses_production_headers(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/css/site.css": "body{}",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'
                          'static-url = "https://cdn.example.com/assets/"\n'})
    missing = subprocess.run([sys.executable, "-m", "collectstatic", "serve", "--collected",
                              "--port", "0"], cwd=project, capture_output=True, text=True,
                             timeout=60, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ") and "collect" in missing.stderr
    cli("collect", "--noinput", "-v", "0", cwd=project)
    hashed = json.loads((project / "out/staticfiles.json").read_text())["paths"]["css/site.css"]
    with dev_server(project, "--collected") as (port, line):
        assert "collected root" in line and "/assets/" in line
        response = request(port, f"/assets/{hashed}")
        assert response.status == 200 and response.headers["cache-control"] == IMMUTABLE
        assert request(port, "/assets/css/site.css").headers["cache-control"] == \
            "public, max-age=60"


def test_dev_server_wraps_an_app(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/a.txt": "a",
        "mywsgi.py": "def application(environ, start_response):\n"
                     "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                     "    return [b'the app']\n",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'})
    with dev_server(project, "--app", "mywsgi:application", "-q") as (port, _line):
        assert request(port, "/").body == b"the app"
        assert request(port, "/static/a.txt").body == b"a"


def test_dev_server_port_in_use(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/a.txt": "a",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "collectstatic", "serve", "--port", str(port)],
                              cwd=project, capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")


def test_variants_made_by_collect_compress(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/css/big.css": ".rule { color: red; margin: 0 auto; }\n" * 500,
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'
                          'compress = ["gzip"]\n'})
    cli("collect", "--noinput", "-v", "0", cwd=project)
    root = project / "out"
    manifest = Manifest.from_path(root)
    hashed = manifest.hashed_name("css/big.css")
    gz = (root / f"{hashed}.gz").read_bytes()
    assert manifest.encodings("css/big.css") == {"gzip": len(gz)}
    with serving(StaticFiles(root)) as port:
        response = request(port, manifest.url("css/big.css"),
                           headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-length"] == str(len(gz))
    assert gzip.decompress(response.body) == (root / hashed).read_bytes()


def test_dev_server_escapes_control_characters_in_its_log(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/a.txt": "a",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'})
    rest: list[str] = []
    with dev_server(project, rest=rest) as (port, _line):
        assert request(port, "/static/\x1b[2J\x1b]0;owned\x07\x9b31m\\x1b.txt").status == 404
        assert request(port, "/static/a.txt").status == 200
    stdout, stderr = rest
    logged = [line for line in stdout.splitlines() if "GET" in line]
    assert len(logged) == 2, stdout
    assert logged[0].endswith('"GET /static/\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\\\x1b.txt '
                              'HTTP/1.1" 404 10'), logged[0]
    assert logged[1].endswith('"GET /static/a.txt HTTP/1.1" 200 1')
    assert all(char.isprintable() for char in stdout.replace("\n", "")), stdout
    assert stderr == ""


@pytest.mark.parametrize("options", [["--port", "99999"], ["--port", "-1"],
                                     ["--port", str(2**70)], ["--host", "no-such-host.invalid"],
                                     ["--host", "::1::1"]])
def test_dev_server_bad_address_is_one_error_line(tmp_path: Path, options: list[str]) -> None:
    project = write_tree(tmp_path, {
        "assets/a.txt": "a",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'})
    proc = cli("serve", *options, cwd=project, check=False, timeout=60)
    assert proc.returncode == 1, proc
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: cannot listen on ") and proc.stderr.count("\n") == 1, \
        proc.stderr
    assert options[1] in proc.stderr


def test_dev_server_serves_what_collect_collects(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/css/a.css": "a", "vendor/private/key.txt": "KEY", "vendor/lib.js": "lib",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\nignore = ["private/*"]\n'
                          'dirs = ["assets", {path = "vendor", prefix = "v"}]\n'})
    with dev_server(project) as (port, _line):
        assert request(port, "/static/v/lib.js").body == b"lib"
        assert request(port, "/static/v/private/key.txt").status == 404
        assert request(port, "/static/private/key.txt").status == 404
    cli("collect", "--noinput", "-v", "0", cwd=project)
    assert not (project / "out/v/private").exists() and (project / "out/v/lib.js").exists()


def test_dev_server_collected_with_link(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {
        "assets/css/a.css": "body{}", "secret.txt": "SECRET",
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'})
    cli("collect", "--noinput", "-v", "0", "--link", cwd=project)
    os.symlink(project / "secret.txt", project / "out/leak.txt")
    hashed = json.loads((project / "out/staticfiles.json").read_text())["paths"]["css/a.css"]
    with dev_server(project, "--collected") as (port, _line):
        plain = request(port, "/static/css/a.css")
        assert plain.status == 200 and plain.body == b"body{}"
        assert plain.headers["cache-control"] == "public, max-age=60"
        assert request(port, f"/static/{hashed}").headers["cache-control"] == IMMUTABLE
        assert request(port, "/static/leak.txt").status == 404
