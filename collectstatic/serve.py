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
  the root (and the ``sources`` a root collected with ``link = true`` points
  into) is never served: ``404``.

:class:`SourceFiles` serves from the configured sources exactly the files
collect would collect (its ignore rules, through the finders), looked up per
request (changes show on the next request), with ``no-cache``: the
development mode of ``collectstatic serve``.

The header logic (negotiation, conditional requests, ranges) is the pure
functions of :mod:`collectstatic.http`; the development server itself is
:mod:`collectstatic.devserver`, run by the CLI.
"""

from __future__ import annotations

import calendar
import io
import json
import os
import re
import stat
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from .config import STATE_DIR, Settings
from .errors import CollectStaticError
from .finders import find_collectable
from .http import RequestHeaders, content_type, decide, http_date, make_etag
from .paths import DEFAULT_MANIFEST_NAME, DEFAULT_STATIC_URL, is_within
from .runtime import ENCODING_SUFFIXES, collected_dir

__all__ = [
    "IMMUTABLE",
    "SourceFiles",
    "StaticFiles",
    "content_type",
]

WSGIApp = Callable[..., Iterable[bytes]]
StartResponse = Callable[..., Any]
Environ = dict[str, Any]
# (size, mtime, path on disk or None, bytes in memory or None) of one file found
_Stat = tuple[int, float, "str | None", "bytes | None"]

IMMUTABLE = "public, max-age=31536000, immutable"
DEFAULT_MAX_AGE = 60
_HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")
_CHUNK = 64 * 1024
_ALLOWED_METHODS = "GET, HEAD"
_REJECT = object()  # a request under the prefix that names no servable file, ever
_PREFERENCE = (*ENCODING_SUFFIXES, "identity")  # the order codings are offered in


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
    variants: dict[str, _Variant]  # in preference order, "identity" last (always there)


def _make_file(name: str, found: dict[str, _Stat], cache_control: str) -> _File:
    """``found``: encoding -> facts, for the file and its precompressed siblings."""
    size, mtime, _path, data = found["identity"]
    checksum = None if data is None else zlib.crc32(data)
    variants = {}
    for encoding in _PREFERENCE:
        if encoding in found:
            v_size, _v_mtime, v_path, v_data = found[encoding]
            # One validator base for every variant: they are one resource in several codings.
            variants[encoding] = _Variant(encoding, v_size,
                                          make_etag(mtime, size, encoding, checksum),
                                          v_path, v_data)
    return _File(content_type(name), http_date(mtime), int(mtime), cache_control, variants)


def _scan_directory(root: str, sources: Sequence[str] = ()) -> dict[str, _Stat]:
    """Every regular file under ``root``, by real path inside the real root or
    (links of a root collected with ``link = true``) inside one of ``sources``."""
    real_root = os.path.realpath(root)
    allowed = (real_root, *(os.path.realpath(source) for source in sources))
    found: dict[str, _Stat] = {}
    seen_dirs: set[str] = set()
    pending = [(real_root, "")]
    while pending:  # bounded: each real directory is visited once
        directory, relative = pending.pop()
        if directory in seen_dirs:
            continue
        seen_dirs.add(directory)
        for name, real in _entries(directory, relative):
            if not any(is_within(real, top) for top in allowed):
                continue  # a symlink out of root (and the sources): never served
            try:
                info = os.stat(real)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append((real, name))
            elif stat.S_ISREG(info.st_mode):
                found[name] = (info.st_size, info.st_mtime, real, None)
    return found


def _entries(directory: str, relative: str) -> list[tuple[str, str]]:
    """(name under root, real path) of a directory's entries, bookkeeping and
    names no URL can ask for left out."""
    try:
        with os.scandir(directory) as scan:
            entries = list(scan)
    except OSError:
        return []
    found = []
    for entry in entries:
        name = f"{relative}/{entry.name}" if relative else entry.name
        if name != STATE_DIR and "\\" not in entry.name:
            found.append((name, os.path.realpath(entry.path)))
    return found


def _scan_traversable(root: Any) -> dict[str, _Stat]:
    """Every file under an importlib.resources Traversable (a zip), read into memory."""
    found: dict[str, _Stat] = {}
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


def _hashed_names(files: dict[str, _Stat], manifest_name: str) -> set[str]:
    """The names that get immutable caching: the manifest's values, else by pattern."""
    raw = files.get(manifest_name)
    if raw is not None:
        _size, _mtime, path, data = raw
        try:
            if data is None and path is not None:
                with open(path, "rb") as handle:
                    data = handle.read()
            paths = json.loads(data or b"").get("paths", {})
            return {value for value in paths.values() if isinstance(value, str)}
        except (OSError, ValueError, AttributeError, RecursionError):
            pass  # not a manifest we can read: fall back to the names
    return {name for name in files if _HASHED.search(name.rsplit("/", 1)[-1])}


def _index(files: dict[str, _Stat], hashed: set[str], short: str) -> dict[str, _File]:
    """Every name served, each with its precompressed siblings as variants."""
    index = {}
    for name in files:
        base = name
        for suffix in ENCODING_SUFFIXES.values():
            if name.endswith(suffix) and name[:-len(suffix)] in files:
                base = name[:-len(suffix)]  # a variant asked for by its own name
        group = {"identity": files[name]}
        for encoding, suffix in ENCODING_SUFFIXES.items():
            if name + suffix in files:
                group[encoding] = files[name + suffix]
        index[name] = _make_file(name, group, IMMUTABLE if base in hashed else short)
    return index


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
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", "Method Not Allowed",
                          [("Allow", _ALLOWED_METHODS)])
        return _respond(found, environ, start_response)

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
    no manifest) are immutable for a year. ``sources``: directories that
    symlinks in ``root`` may lead into (the source dirs of a root collected
    with ``link = true``); any other symlink out of ``root`` is not followed.
    """

    def __init__(self, root: str | os.PathLike[str] | Any, prefix: str = DEFAULT_STATIC_URL, *,
                 app: WSGIApp | None = None, max_age: int = DEFAULT_MAX_AGE,
                 manifest_name: str = DEFAULT_MANIFEST_NAME,
                 sources: Iterable[str | os.PathLike[str]] = ()) -> None:
        super().__init__(prefix, app)
        if isinstance(root, (str, os.PathLike)):
            self.root: Any = os.path.abspath(os.fspath(root))
            if not os.path.isdir(self.root):
                raise CollectStaticError(f"{self.root}: no such directory to serve static "
                                         f"files from (collect first?)")
            files = _scan_directory(self.root, [os.fspath(source) for source in sources])
        else:
            self.root = root
            files = _scan_traversable(root)
        self._files = _index(files, _hashed_names(files, manifest_name),
                             f"public, max-age={int(max_age)}")

    @classmethod
    def from_package(cls, package: str, resource: str = "staticfiles",
                     prefix: str = DEFAULT_STATIC_URL, **options: Any) -> StaticFiles:
        """Serve the collected dir shipped inside an installed (or zip-imported) package."""
        base = collected_dir(package, resource)
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
    """Development: serve from the configured sources what collect would collect.

    Each request looks the name up again (first source wins, as collect
    and ``find``), so edits show on the next request; responses say
    ``Cache-Control: no-cache`` (revalidate with ``ETag``/``Last-Modified``).
    A name collect would not collect (the ignore patterns, default ignores
    included, matched per source as collect matches them) is not served, nor
    a file whose real path leaves the project and the source dirs.
    """

    def __init__(self, settings: Settings, prefix: str | None = None, *,
                 app: WSGIApp | None = None) -> None:
        super().__init__(settings.static_url if prefix is None else prefix, app)
        self.settings = settings

    def lookup(self, name: str) -> _File | None:
        found = find_collectable(self.settings, name)
        if found is None:
            return None
        real = os.path.realpath(found.path)
        try:
            info = os.stat(real)
        except OSError:  # removed since
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        return _make_file(name, {"identity": (info.st_size, info.st_mtime, real, None)},
                          "no-cache")


# -- one response ---------------------------------------------------------------------
def _plain(start_response: StartResponse, status: str, text: str,
           extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = text.encode() + b"\n"
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body))), *(extra or [])])
    return [body]


_STATUS = {200: "200 OK", 206: "206 Partial Content", 304: "304 Not Modified",
           416: "416 Range Not Satisfiable"}


def _headers(found: _File, variant: _Variant) -> list[tuple[str, str]]:
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
    return headers


def _respond(found: _File, environ: Environ, start_response: StartResponse
             ) -> Iterable[bytes]:
    request = RequestHeaders.from_environ(environ)
    decision = decide(request, found.variants, found.last_modified, found.mtime)
    variant = found.variants[decision.coding]
    headers = _headers(found, variant)
    status = _STATUS[decision.status]
    if decision.status == 304:
        start_response(status, headers)
        return []
    if decision.status == 416:
        start_response(status, [("Content-Range", f"bytes */{variant.size}"),
                                ("Content-Length", "0"), *headers])
        return []
    if decision.status == 206:
        headers.append(("Content-Range",
                        f"bytes {decision.first}-{decision.last}/{variant.size}"))
    length = max(0, decision.last - decision.first + 1)
    headers.append(("Content-Length", str(length)))
    if request.head:
        start_response(status, headers)
        return []
    try:
        handle = variant.open()
    except OSError:  # removed since the index was built
        return _plain(start_response, "404 Not Found", "Not Found")
    start_response(status, headers)
    if decision.status == 200:
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return wrapper(handle, _CHUNK)
    return _Slice(handle, decision.first, length)


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
