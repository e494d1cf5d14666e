"""Serve static files over WSGI: collected (production headers) or from sources (development).

:class:`StaticFiles` is a WSGI application serving a collected root (or the
collected dir inside an installed package) under a URL prefix, and, given
``app=``, middleware that hands every other request to that app::

    from collectstatic.serve import StaticFiles

    application = StaticFiles.from_package("myapp", "staticfiles", app=application)

What it does, request by request (the file set is indexed once, at start-up,
as WhiteNoise does; nothing is walked per request):

- hashed files (the manifest's values) get ``Cache-Control: public,
  max-age=31536000, immutable``; others a short ``max-age`` with ``ETag`` and
  ``Last-Modified``, answering ``304`` to ``If-None-Match``/``If-Modified-Since``;
- precompressed siblings (``x.css.br``, ``.zst``, ``.gz``) are chosen from
  ``Accept-Encoding`` (q-values honoured, ``q=0`` refuses) with ``Vary:
  Accept-Encoding`` and the variant's ``Content-Encoding``/``Content-Length``;
- ``GET`` and ``HEAD``; other methods get ``405`` with ``Allow``; one byte
  ``Range`` on the uncompressed file gives ``206`` or ``416``;
- a name with ``..``/``.`` segments, empty segments, backslashes, NUL bytes,
  percent-encoded slashes/backslashes/NULs (seen in ``REQUEST_URI``/``RAW_URI``
  when the server passes it), or a file reached through a symlink that leaves
  the root is never served: ``404``.

:class:`SourceFiles` serves straight from the configured sources through the
finders, per request (changes show on the next request), with ``no-cache``:
the development mode of ``collectstatic serve``. :func:`add_arguments` and
:func:`run` are that command.
"""

from __future__ import annotations

import argparse
import calendar
import email.utils
import fnmatch
import importlib
import io
import ipaddress
import json
import mimetypes
import os
import re
import socket
import socketserver
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .config import STATE_DIR, Settings
from .errors import CollectStaticError
from .finders import find
from .runtime import ENCODING_SUFFIXES

__all__ = [
    "IMMUTABLE",
    "SourceFiles",
    "StaticFiles",
    "add_arguments",
    "build_app",
    "content_type",
    "make_server",
    "run",
]

WSGIApp = Callable[..., Iterable[bytes]]
StartResponse = Callable[..., Any]
Environ = dict[str, Any]

IMMUTABLE = "public, max-age=31536000, immutable"
DEFAULT_MAX_AGE = 60
_HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")
_CHUNK = 64 * 1024
_ALLOWED_METHODS = "GET, HEAD"
_REJECT = object()  # a request under the prefix that names no servable file, ever

# Our own table first: the system's mime.types differs between machines.
_TYPES = {
    ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript",
    ".cjs": "text/javascript", ".json": "application/json", ".map": "application/json",
    ".webmanifest": "application/manifest+json", ".wasm": "application/wasm",
    ".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".xml": "text/xml",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon", ".woff": "font/woff", ".woff2": "font/woff2",
    ".ttf": "font/ttf", ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject",
    ".pdf": "application/pdf", ".mp4": "video/mp4", ".webm": "video/webm",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".gz": "application/gzip",
    ".br": "application/x-brotli", ".zst": "application/zstd", ".zip": "application/zip",
}
_CHARSET_TYPES = ("text/", "application/json", "application/manifest+json",
                  "image/svg+xml", "application/javascript")
_mimetypes = mimetypes.MimeTypes()  # Python's built-in table only, not /etc/mime.types


def content_type(name: str) -> str:
    """The ``Content-Type`` for a file name (the file itself, not a compressed view)."""
    ext = os.path.splitext(name)[1].lower()
    kind = _TYPES.get(ext)
    if kind is None:
        guessed, encoding = _mimetypes.guess_type(name, strict=False)
        kind = guessed if guessed and not encoding else "application/octet-stream"
    if kind.startswith(_CHARSET_TYPES):
        kind += "; charset=utf-8"
    return kind


# -- what is served ---------------------------------------------------------------
@dataclass(frozen=True)
class _Variant:
    encoding: str  # "identity", "br", "zstd", "gzip"
    size: int
    etag: str
    path: str | None = None  # on disk
    data: bytes | None = None  # in memory (a zip-imported package)

    def open(self) -> Any:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb")  # closed by the WSGI server


@dataclass(frozen=True)
class _File:
    content_type: str
    last_modified: str
    mtime: int
    cache_control: str
    variants: dict[str, _Variant]  # always has "identity"


def _etag(mtime: float, size: int, encoding: str, data: bytes | None = None) -> str:
    # Files in memory (from a zip) have no trustworthy mtime: tag their content.
    tag = f"{zlib.crc32(data):x}-{size:x}" if data is not None else f"{int(mtime):x}-{size:x}"
    return f'"{tag}"' if encoding == "identity" else f'"{tag}-{encoding}"'


def _make_file(name: str, found: dict[str, tuple[int, float, str | None, bytes | None]],
               cache_control: str) -> _File:
    """``found``: encoding -> (size, mtime, path, data) for the file and its siblings."""
    size, mtime, _path, data = found["identity"]
    variants = {}
    for encoding, (v_size, _v_mtime, v_path, v_data) in found.items():
        # One validator base for every variant: they are one resource in several codings.
        variants[encoding] = _Variant(encoding, v_size, _etag(mtime, size, encoding, data),
                                      v_path, v_data)
    return _File(content_type(name), email.utils.formatdate(mtime, usegmt=True), int(mtime),
                 cache_control, variants)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _scan_directory(root: str) -> dict[str, tuple[int, float, str | None, bytes | None]]:
    """Every regular file under ``root`` (real paths inside the real root only)."""
    real_root = os.path.realpath(root)
    found: dict[str, tuple[int, float, str | None, bytes | None]] = {}
    seen_dirs: set[str] = set()
    pending = [(real_root, "")]
    while pending:  # bounded: each real directory is visited once
        directory, relative = pending.pop()
        if directory in seen_dirs:
            continue
        seen_dirs.add(directory)
        try:
            with os.scandir(directory) as scan:
                entries = list(scan)
        except OSError:
            continue
        for entry in entries:
            name = f"{relative}/{entry.name}" if relative else entry.name
            if name == STATE_DIR or "\\" in entry.name:
                continue
            real = os.path.realpath(entry.path)
            if not _within(real, real_root):
                continue  # a symlink out of root: never served
            try:
                info = os.stat(real)
            except OSError:
                continue
            if os.path.isdir(real):
                pending.append((real, name))
            elif os.path.isfile(real):
                found[name] = (info.st_size, info.st_mtime, real, None)
    return found


def _scan_traversable(root: Any) -> dict[str, tuple[int, float, str | None, bytes | None]]:
    """Every file under an importlib.resources Traversable (a zip), read into memory."""
    found: dict[str, tuple[int, float, str | None, bytes | None]] = {}
    indexed_at = time.time()
    pending = [(root, "")]
    while pending:
        directory, relative = pending.pop()
        for entry in directory.iterdir():
            name = f"{relative}/{entry.name}" if relative else entry.name
            if name == STATE_DIR:
                continue
            if entry.is_dir():
                pending.append((entry, name))
            elif entry.is_file():
                data = entry.read_bytes()
                found[name] = (len(data), _zip_mtime(entry, indexed_at), None, data)
    return found


def _zip_mtime(entry: Any, default: float) -> float:
    """A zipfile.Path entry's stored date, else ``default``."""
    try:
        stamp = entry.root.getinfo(entry.at).date_time
        return calendar.timegm((*stamp, 0, 0, 0))
    except (AttributeError, KeyError, ValueError, OverflowError, TypeError):
        return default


def _hashed_names(files: dict[str, Any], manifest_name: str) -> set[str]:
    """The names that get immutable caching: the manifest's values, else by pattern."""
    raw = files.get(manifest_name)
    if raw is not None:
        _size, _mtime, path, data = raw
        try:
            if data is None:
                with open(path, "rb") as handle:
                    data = handle.read()
            paths = json.loads(data).get("paths", {})
            return {value for value in paths.values() if isinstance(value, str)}
        except (OSError, ValueError, AttributeError):
            pass
    return {name for name in files if _HASHED.search(name.rsplit("/", 1)[-1])}


def _normalise_prefix(prefix: str) -> str:
    path = urlsplit(prefix).path if "://" in prefix else prefix
    path = "/" + path.strip("/") + "/"
    return "/" if path == "//" else path


# -- the WSGI application -------------------------------------------------------------
class _Base:
    """Request handling shared by the collected and the source-backed servers."""

    def __init__(self, prefix: str, app: WSGIApp | None) -> None:
        self.prefix = _normalise_prefix(prefix)
        self.app = app

    def lookup(self, name: str) -> _File | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        name = self._name(environ)
        if name is None:
            return self._pass(environ, start_response)
        found = None if name is _REJECT else self.lookup(name)
        if found is None:
            if self.app is not None and name is not _REJECT:
                return self.app(environ, start_response)
            return _plain(start_response, "404 Not Found", "Not Found")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", "Method Not Allowed",
                          [("Allow", _ALLOWED_METHODS)])
        return _respond(found, environ, start_response, method == "HEAD")

    def _pass(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if self.app is not None:
            return self.app(environ, start_response)
        return _plain(start_response, "404 Not Found", "Not Found")

    def _name(self, environ: Environ) -> Any:
        """The file name asked for, ``None`` if not under the prefix, or ``_REJECT``."""
        path = environ.get("PATH_INFO", "") or "/"
        if not path.startswith(self.prefix):
            return None
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if raw:
            raw_path = raw.split("?", 1)[0].lower()
            if "%2f" in raw_path or "%5c" in raw_path or "%00" in raw_path:
                return _REJECT
        try:  # PEP 3333: PATH_INFO holds the URL's bytes as latin-1
            name = path[len(self.prefix):].encode("latin-1").decode("utf-8")
        except UnicodeError:
            return _REJECT
        if not name or "\\" in name or "\x00" in name:
            return _REJECT
        if any(part in ("", ".", "..") for part in name.split("/")):
            return _REJECT
        return name


class StaticFiles(_Base):
    """Serve a collected root under ``prefix``; with ``app``, pass other requests on.

    ``root`` is a directory (or an :mod:`importlib.resources` Traversable, e.g.
    a zip-imported package's dir, whose files are then held in memory). The
    file set is indexed once, here; files added later are not served (restart).
    ``max_age`` is the ``Cache-Control`` max-age of unhashed files; hashed
    files (named in ``manifest_name``'s paths, or looking hashed when there is
    no manifest) are immutable for a year.
    """

    def __init__(self, root: str | os.PathLike[str] | Any, prefix: str = "/static/", *,
                 app: WSGIApp | None = None, max_age: int = DEFAULT_MAX_AGE,
                 manifest_name: str = "staticfiles.json") -> None:
        super().__init__(prefix, app)
        if isinstance(root, (str, os.PathLike)):
            self.root: Any = os.path.abspath(os.fspath(root))
            if not os.path.isdir(self.root):
                raise CollectStaticError(f"{self.root}: no such directory to serve static "
                                         f"files from (collect first?)")
            files = _scan_directory(self.root)
        else:
            self.root = root
            files = _scan_traversable(root)
        hashed = _hashed_names(files, manifest_name)
        short = f"public, max-age={int(max_age)}"
        self._files: dict[str, _File] = {}
        for name in files:
            base = name
            for suffix in ENCODING_SUFFIXES.values():
                if name.endswith(suffix) and name[:-len(suffix)] in files:
                    base = name[:-len(suffix)]  # a variant asked for by its own name
            group = {"identity": files[name]}
            for encoding, suffix in ENCODING_SUFFIXES.items():
                if name + suffix in files:
                    group[encoding] = files[name + suffix]
            self._files[name] = _make_file(name, group, IMMUTABLE if base in hashed else short)

    @classmethod
    def from_package(cls, package: str, resource: str = "staticfiles",
                     prefix: str = "/static/", **options: Any) -> StaticFiles:
        """Serve the collected dir shipped inside an installed (or zip-imported) package."""
        from .runtime import _package_dir

        base = _package_dir(package, resource)
        if not base.is_dir():
            raise CollectStaticError(f"{package}:{resource}: not a directory in the installed "
                                     f"package (was it built with the collectstatic hook?)")
        if isinstance(base, os.PathLike):
            base = os.fspath(base)
        return cls(base, prefix, **options)

    @property
    def names(self) -> frozenset[str]:
        """Every name served (relative to the prefix)."""
        return frozenset(self._files)

    def lookup(self, name: str) -> _File | None:
        return self._files.get(name)


class SourceFiles(_Base):
    """Development: serve from the configured sources through the finders.

    Each request looks the name up again (first source wins, as ``find``),
    so edits show on the next request; responses say ``Cache-Control:
    no-cache`` (revalidate with ``ETag``/``Last-Modified``). Names matching
    the ignore patterns (dot-files...) and files whose real path leaves the
    project and the source dirs are not served.
    """

    def __init__(self, settings: Settings, prefix: str | None = None, *,
                 app: WSGIApp | None = None) -> None:
        super().__init__(settings.static_url if prefix is None else prefix, app)
        self.settings = settings
        allowed = {os.path.realpath(settings.project_root)}
        allowed.update(os.path.realpath(source.path) for source in settings.sources)
        self._allowed = tuple(sorted(allowed))
        self._ignore = settings.ignore_patterns

    def lookup(self, name: str) -> _File | None:
        parts = name.split("/")
        for pattern in self._ignore:
            if any(fnmatch.fnmatchcase(part, pattern) for part in parts) or \
                    fnmatch.fnmatchcase(name, pattern):
                return None
        matches = find(self.settings, name, first=True)
        if not matches:
            return None
        real = os.path.realpath(matches[0])
        if not any(_within(real, root) for root in self._allowed):
            return None
        try:
            info = os.stat(real)
        except OSError:
            return None
        if not os.path.isfile(real):
            return None
        group = {"identity": (info.st_size, info.st_mtime, real, None)}
        return _make_file(name, group, "no-cache")


# -- one response ---------------------------------------------------------------------
def _plain(start_response: StartResponse, status: str, text: str,
           extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = text.encode() + b"\n"
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body))), *(extra or [])])
    return [body]


def _accepted(header: str | None) -> dict[str, float]:
    """``Accept-Encoding`` -> {coding: q}; ``*`` kept as is."""
    if header is None:
        return {"identity": 1.0}
    accepted: dict[str, float] = {}
    for item in header.split(","):
        token, _, params = item.strip().partition(";")
        token = token.strip().lower()
        if not token:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        accepted[token] = q
    return accepted


def _choose(variants: dict[str, _Variant], header: str | None) -> _Variant:
    """The best variant the client accepts: highest q, then br > zstd > gzip > identity.

    Identity not named in the header is the last resort, below any accepted
    coding; ``q=0`` refuses a coding (``*;q=0`` refuses unnamed identity too).
    """
    accepted = _accepted(header)
    star = accepted.get("*")
    best, best_q = variants["identity"], -1.0
    for encoding in (*ENCODING_SUFFIXES, "identity"):
        if encoding not in variants:
            continue
        q = accepted.get(encoding)
        if q is None and star is not None and encoding != "identity":
            q = star
        if q is None:
            # Not named: identity stays acceptable, as the last choice (RFC 9110 12.5.3).
            q = 0.0 if encoding != "identity" or star == 0 else 0.001
        if q > 0 and q > best_q:
            best, best_q = variants[encoding], q
    return best  # nothing acceptable: identity anyway (RFC 9110 12.5.3 allows it)


def _not_modified(environ: Environ, variant: _Variant, mtime: int) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:  # takes precedence over If-Modified-Since
        tags = [tag.strip() for tag in if_none_match.split(",")]
        # Weak comparison, as RFC 9110 asks for If-None-Match.
        return "*" in tags or any((tag[2:] if tag.startswith("W/") else tag) == variant.etag
                                  for tag in tags)
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            parsed = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if parsed is None:
            return False
        return mtime <= int(parsed.timestamp())
    return False


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """A single ``bytes=`` range -> (first, last); ``None`` to ignore; ``False`` if
    unsatisfiable."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # other units and multiple ranges: send the whole file
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignore
    if start >= size:
        return False
    return start, end


def _respond(found: _File, environ: Environ, start_response: StartResponse,
             head: bool) -> Iterable[bytes]:
    range_header = None if head else environ.get("HTTP_RANGE")
    if range_header is not None:
        if_range = environ.get("HTTP_IF_RANGE")
        identity = found.variants["identity"]
        if if_range and if_range.strip() not in (identity.etag, found.last_modified):
            range_header = None
    variant = (found.variants["identity"] if range_header is not None
               else _choose(found.variants, environ.get("HTTP_ACCEPT_ENCODING")))
    headers = [("Content-Type", found.content_type),
               ("Cache-Control", found.cache_control),
               ("Last-Modified", found.last_modified),
               ("ETag", variant.etag),
               ("Access-Control-Allow-Origin", "*"),
               ("X-Content-Type-Options", "nosniff")]
    if len(found.variants) > 1:
        headers.append(("Vary", "Accept-Encoding"))
    if variant.encoding != "identity":
        headers.append(("Content-Encoding", variant.encoding))
    else:
        headers.append(("Accept-Ranges", "bytes"))
    if _not_modified(environ, variant, found.mtime):
        start_response("304 Not Modified", headers)
        return []
    first, last = 0, variant.size - 1
    status = "200 OK"
    if range_header is not None:
        wanted = _byte_range(range_header, variant.size)
        if wanted is False:
            start_response("416 Range Not Satisfiable", [
                ("Content-Range", f"bytes */{variant.size}"), ("Content-Length", "0"),
                *[h for h in headers if h[0] != "Content-Length"]])
            return []
        if isinstance(wanted, tuple):
            first, last = wanted
            status = "206 Partial Content"
            headers.append(("Content-Range", f"bytes {first}-{last}/{variant.size}"))
    length = max(0, last - first + 1)
    headers.append(("Content-Length", str(length)))
    if head:
        start_response(status, headers)
        return []
    try:
        handle = variant.open()
    except OSError:  # removed since the index was built
        return _plain(start_response, "404 Not Found", "Not Found")
    start_response(status, headers)
    if status == "200 OK":
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return wrapper(handle, _CHUNK)
    return _Slice(handle, first, length)


class _Slice:
    """Iterate ``length`` bytes of a file from ``first``, in bounded chunks."""

    def __init__(self, handle: Any, first: int, length: int) -> None:
        self.handle = handle
        self.first = first
        self.length = length

    def __iter__(self) -> Iterator[bytes]:
        self.handle.seek(self.first)
        left = self.length
        while left > 0:
            chunk = self.handle.read(min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk

    def close(self) -> None:
        self.handle.close()


# -- the development server -------------------------------------------------------------
class _Handler(WSGIRequestHandler):
    """wsgiref's handler, passing the raw request target as ``REQUEST_URI`` and
    logging through the server's callback (or not at all)."""

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["REQUEST_URI"] = self.path
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        log = getattr(self.server, "log", None)
        if log is not None:
            log(f"{self.address_string()} - {format % args}")


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    log: Callable[[str], None] | None = None


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(app: WSGIApp, host: str = "127.0.0.1", port: int = 0, *,
                log: Callable[[str], None] | None = None) -> WSGIServer:
    """A threaded :mod:`wsgiref` server for ``app`` (port 0: pick a free one).

    The server passes the raw request target as ``REQUEST_URI``, so encoded
    slashes are seen. Call ``serve_forever()``; ``shutdown()`` from another thread.
    """
    server_class = _Server6 if ":" in host else _Server
    server = server_class((host, port), _Handler)
    server.log = log
    server.set_app(app)
    return server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``collectstatic serve`` (defined with the rest of the CLI)."""
    from .cli import add_serve_arguments

    add_serve_arguments(parser)


def _load_app(spec: str) -> WSGIApp:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CollectStaticError(f"--app: expected MODULE:CALLABLE, found {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise CollectStaticError(f"--app: cannot load {spec!r} ({exc})") from None
    if not callable(target):
        raise CollectStaticError(f"--app: {spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def build_app(args: argparse.Namespace, settings: Settings) -> _Base:
    """The WSGI application ``collectstatic serve`` runs, from its options."""
    app = _load_app(args.app) if getattr(args, "app", None) else None
    prefix = args.prefix if getattr(args, "prefix", None) else settings.static_url
    if getattr(args, "collected", False):
        if not settings.root.is_dir():
            raise CollectStaticError(f"{settings.root}: root does not exist; run "
                                     f"'collectstatic collect' first, or drop --collected")
        return StaticFiles(settings.root, prefix, app=app,
                           manifest_name=settings.manifest_name)
    return SourceFiles(settings, prefix, app=app)


def run(args: argparse.Namespace, settings: Settings, *,
        log: Callable[[str], None] | None = None,
        ready: Callable[[WSGIServer], None] | None = None) -> int:
    """``collectstatic serve``: serve until interrupted; returns the exit status.

    ``log`` receives the start-up line and request lines (default: print to
    stdout); ``ready`` is called with the server once it listens.
    """
    emit = log or (lambda line: print(line, flush=True))
    app = build_app(args, settings)
    try:
        server = make_server(app, args.host, args.port,
                             log=None if getattr(args, "quiet", False) else emit)
    except OSError as exc:
        raise CollectStaticError(f"cannot listen on {args.host}:{args.port} "
                                 f"({exc.strerror or exc})") from None
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    what = (f"the collected root {settings.root}" if isinstance(app, StaticFiles)
            else f"{len(settings.sources)} source dir(s), through the finders")
    emit(f"Serving static files from {what} at http://{shown}:{port}{app.prefix} "
         f"- for development only, do not use it in production. Quit with CONTROL-C.")
    if not _is_loopback(str(host)):
        emit(f"warning: listening on {host}, which is not a loopback address")
    if ready is not None:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: list[str] | None = None) -> int:
    """``python -m collectstatic.serve``: the command without the rest of the CLI."""
    from .config import load_settings

    parser = argparse.ArgumentParser(prog="collectstatic serve",
                                     description="development server for static files")
    parser.add_argument("--config", metavar="FILE", default="pyproject.toml")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, load_settings(args.config))
    except CollectStaticError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
