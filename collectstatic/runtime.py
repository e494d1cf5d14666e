"""Look hashed names up at run time, from a collected root or an installed package.

A wheel built with collectstatic ships its collected tree (``myapp/staticfiles``)
with Django's manifest ``staticfiles.json``. This module reads that manifest, once
per process, and answers the questions a running app asks::

    from collectstatic.runtime import Manifest

    static = Manifest.from_package("myapp", "staticfiles")
    static.url("css/site.css")          # "/static/css/site.0123456789ab.css"
    static.hashed_name("css/site.css")  # "css/site.0123456789ab.css"
    static.integrity("css/site.css")    # "sha384-..."
    static.encodings("css/site.css")    # {"br": 40, "gzip": 50}

``from_package`` goes through :mod:`importlib.resources`, so it works for a
package imported from a zip file too. Several apps, each shipping its own
manifest, merge into one with :func:`merge` (or :meth:`Manifest.merge`); two that
claim the same logical name with different hashed names are an error.

The manifest's ``collectstatic`` key (sizes, SRI integrity, precompressed
variant sizes) is optional: a plain Django manifest works too, with integrity
computed from the file bytes and variants found beside the files when the
collected tree is reachable.

Django needs none of this: point ``STATIC_ROOT`` at the installed package's
collected dir and keep ``ManifestStaticFilesStorage``; Django reads our
``staticfiles.json`` and ``{% static %}`` returns the same URLs as :meth:`Manifest.url`,
with no ``collectstatic`` at deploy (tests/test_runtime_django.py)::

    STATIC_ROOT = str(importlib.resources.files("myapp") / "staticfiles")
    STORAGES = {..., "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import importlib.resources
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .codecs import ALGORITHMS
from .errors import CollectStaticError
from .paths import DEFAULT_MANIFEST_NAME, DEFAULT_STATIC_URL, is_within

__all__ = [
    "ENCODING_SUFFIXES",
    "Manifest",
    "ManifestConflictError",
    "ManifestError",
    "ManifestLookupError",
    "clear_cache",
    "collected_dir",
    "merge",
]

# Content-coding token -> suffix of the precompressed sibling file, in our preference order.
ENCODING_SUFFIXES: dict[str, str] = {
    algorithm.coding: algorithm.suffix
    for algorithm in sorted(ALGORITHMS.values(), key=lambda algorithm: algorithm.preference)}

# Where a manifest's files live: a directory, an importlib.resources Traversable
# (a zipfile.Path for a zip-imported package), or unknown.
Location = Any


class ManifestError(CollectStaticError):
    """The manifest cannot be read or used (missing, not JSON, wrong shape)."""


class ManifestLookupError(ManifestError, KeyError):
    """A logical name that the manifest does not list. Also a :class:`KeyError`."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, str(self)))


class ManifestConflictError(ManifestError):
    """Two merged manifests map one logical name to different hashed names."""


class _Origin:
    """Where a manifest came from: for messages, and to reach its files."""

    __slots__ = ("description", "has_extra", "location")

    def __init__(self, description: str, location: Location, has_extra: bool) -> None:
        self.description = description
        self.location = location
        self.has_extra = has_extra


class Manifest(Mapping[str, str]):
    """Logical name -> hashed name, with URLs, SRI integrity and variant sizes.

    Immutable once built. A Mapping of logical names to hashed names, so
    ``"css/site.css" in manifest`` and ``manifest["css/site.css"]`` work; a
    missing name raises :class:`ManifestLookupError` (a ``KeyError``) naming it
    and the closest names the manifest does list.
    """

    def __init__(self, paths: Mapping[str, str], *, static_url: str = DEFAULT_STATIC_URL,
                 files: Mapping[str, Mapping[str, Any]] | None = None,
                 location: Location = None, source: str = "<manifest>",
                 manifest_hash: str | None = None) -> None:
        """Build from a ``paths`` mapping and (optionally) our per-hashed-file data.

        ``location`` is the directory (or Traversable) holding the collected
        files, used to compute integrity and find variants when ``files`` has
        no entry. Most code wants :meth:`from_path` or :meth:`from_package`.
        """
        self._static_url = _check_static_url(static_url)
        self._paths: dict[str, str] = dict(paths)
        self._files: dict[str, Mapping[str, Any]] = dict(files or {})
        if isinstance(location, (str, os.PathLike)):
            location = Path(location)
        origin = _Origin(source, location, files is not None)
        self._origins: dict[str, _Origin] = dict.fromkeys(self._paths, origin)
        self._sources: tuple[str, ...] = (source,)
        self.manifest_hash = manifest_hash
        self._computed: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- loading ---------------------------------------------------------------
    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, static_url: str = DEFAULT_STATIC_URL,
                  location: Location = None, source: str = "<manifest>") -> Manifest:
        """From the parsed JSON of a manifest (Django's format, our extra key optional)."""
        paths, files, manifest_hash = _parse(data, source)
        return cls(paths, static_url=static_url, files=files, location=location,
                   source=source, manifest_hash=manifest_hash)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], *,
                  static_url: str = DEFAULT_STATIC_URL) -> Manifest:
        """The manifest file at ``path`` (its directory is the collected root).

        ``path`` may also name the collected root itself, in which case
        ``staticfiles.json`` inside it is read. Cached: the file is read once
        per process (see :func:`clear_cache`).
        """
        target = Path(path)
        if target.is_dir():
            target = target / DEFAULT_MANIFEST_NAME
        target = Path(os.path.abspath(target))
        return _cached(("path", str(target)), static_url,
                       lambda: (target.read_bytes(), target.parent, str(target)))

    @classmethod
    def from_package(cls, package: str, resource: str = "staticfiles", *,
                     manifest_name: str = DEFAULT_MANIFEST_NAME,
                     static_url: str = DEFAULT_STATIC_URL) -> Manifest:
        """The manifest shipped inside an installed (or zip-imported) package.

        ``resource`` is the collected dir relative to the package
        (``"staticfiles"`` for ``root = "src/myapp/staticfiles"``); it may
        contain ``/``. Cached: read once per process.
        """
        def load() -> tuple[bytes, Location, str]:
            base = collected_dir(package, resource)
            manifest = base.joinpath(manifest_name)
            description = f"{package}:{resource}/{manifest_name}"
            try:
                data = manifest.read_bytes()
            except (FileNotFoundError, KeyError, NotADirectoryError):
                raise ManifestError(
                    f"{description}: no manifest in the installed package (was it built "
                    f"with the collectstatic hook, with manifest = true?)") from None
            return data, base, description
        return _cached(("package", package, resource, manifest_name), static_url, load)

    def with_static_url(self, static_url: str) -> Manifest:
        """The same manifest, URLs under another prefix (a CDN, a mount point)."""
        clone = self._copy()
        clone._static_url = _check_static_url(static_url)
        return clone

    # -- merging ---------------------------------------------------------------
    @classmethod
    def merge(cls, *manifests: Manifest, static_url: str | None = None) -> Manifest:
        """One manifest answering for all of ``manifests`` (see :func:`merge`)."""
        return merge(*manifests, static_url=static_url)

    # -- lookups ---------------------------------------------------------------
    @property
    def static_url(self) -> str:
        return self._static_url

    @property
    def paths(self) -> Mapping[str, str]:
        """A copy of logical name -> hashed name."""
        return dict(self._paths)

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the merged manifests came from (one entry unless merged)."""
        return self._sources

    def hashed_name(self, name: str) -> str:
        """``css/site.css`` -> ``css/site.0123456789ab.css``; a query or fragment is kept."""
        path, suffix = _split_suffix(name)
        return self._lookup(path, name) + suffix

    def url(self, name: str) -> str:
        """The URL of the hashed file: static URL + hashed name (+ query/fragment).

        Not percent-quoted, exactly as Django's ``{% static %}`` returns it
        (its storage unquotes the URL it builds); quote it yourself where a
        strict URL is needed.
        """
        path, suffix = _split_suffix(name)
        return self._static_url + self._lookup(path, name) + suffix

    def integrity(self, name: str, algorithm: str = "sha384") -> str:
        """The SRI ``integrity`` value (``sha384-...``) of the file behind ``name``.

        From the manifest's extra data when it has it; otherwise computed from
        the file bytes (once) when the collected tree is reachable.
        """
        path, _ = _split_suffix(name)
        hashed = self._lookup(path, name)
        stored = self._files.get(hashed, {}).get("integrity")
        if isinstance(stored, str) and stored.startswith(algorithm + "-"):
            return stored
        key = f"{algorithm}:{hashed}"
        with self._lock:
            if key in self._computed:
                return self._computed[key]
        data = self._read(hashed, path)
        digest = hashlib.new(algorithm, data).digest()
        value = f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"
        with self._lock:
            self._computed[key] = value
        return value

    def encodings(self, name: str) -> dict[str, int]:
        """Precompressed variants of ``name``: ``{"br": size, "gzip": size, ...}``.

        From the manifest's extra data; for a plain Django manifest, from the
        sibling files (``x.css.br``...) when the collected tree is reachable.
        """
        path, _ = _split_suffix(name)
        hashed = self._lookup(path, name)
        origin = self._origins[path]
        if origin.has_extra:
            raw = self._files.get(hashed, {}).get("encodings")
            if not isinstance(raw, Mapping):
                return {}
            return {str(k): v for k, v in raw.items() if _is_size(v)}
        found = {}
        for encoding, suffix in ENCODING_SUFFIXES.items():
            size = _size(origin.location, hashed + suffix)
            if size is not None:
                found[encoding] = size
        return found

    def size(self, name: str) -> int | None:
        """The size in bytes of the hashed file, when known or reachable."""
        path, _ = _split_suffix(name)
        hashed = self._lookup(path, name)
        stored = self._files.get(hashed, {}).get("size")
        if _is_size(stored):
            return stored  # type: ignore[no-any-return]
        return _size(self._origins[path].location, hashed)

    # -- Mapping ---------------------------------------------------------------
    def __getitem__(self, name: str) -> str:
        return self._lookup(name, name)

    def get(self, name: str, default: Any = None) -> Any:  # no suggestions computed
        return self._paths.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def __repr__(self) -> str:
        return f"<Manifest {', '.join(self._sources)}: {len(self._paths)} names>"

    # -- internals -------------------------------------------------------------
    def _lookup(self, path: str, asked: str) -> str:
        try:
            return self._paths[path]
        except KeyError:
            pass
        close = difflib.get_close_matches(path, list(self._paths), n=3, cutoff=0.6)
        if not close:  # names differing only in their directory
            base = path.rsplit("/", 1)[-1]
            close = [n for n in self._paths if n.rsplit("/", 1)[-1] == base][:3]
        hint = ("; did you mean " + " or ".join(repr(n) for n in close) + "?") if close else ""
        if path in self._paths.values():
            hint = "; that is already a hashed name: pass the logical (unhashed) name"
        where = " + ".join(self._sources)
        raise ManifestLookupError(asked, f"{asked!r} is not in the static files manifest "
                                         f"({where}){hint}")

    def _read(self, hashed: str, logical: str) -> bytes:
        location = self._origins[logical].location
        if location is None:
            raise ManifestError(f"no integrity for {logical!r}: the manifest has none and "
                                f"its files are not reachable")
        target = _confined(location, hashed)
        if target is None:
            raise ManifestError(f"no integrity for {logical!r}: its hashed name {hashed!r} "
                                f"leads out of the collected root, and no file outside it "
                                f"is read (the manifest was not written by collectstatic "
                                f"or Django)")
        try:
            return target.read_bytes()  # type: ignore[no-any-return]
        except (OSError, KeyError) as exc:
            raise ManifestError(f"no integrity for {logical!r}: cannot read {hashed!r} "
                                f"beside the manifest ({exc})") from None

    def _copy(self) -> Manifest:
        clone = object.__new__(Manifest)
        clone.__dict__.update(self.__dict__)
        clone._computed = {}
        clone._lock = threading.Lock()
        return clone


def merge(*manifests: Manifest, static_url: str | None = None) -> Manifest:
    """One manifest for several apps' manifests, searched as one.

    The same logical name with the same hashed name in two manifests is fine
    (a shared vendored file); with different hashed names it is a
    :class:`ManifestConflictError` naming both sources. ``static_url``
    defaults to the first manifest's.
    """
    if not manifests:
        raise ManifestError("merge() needs at least one manifest")
    merged = manifests[0]._copy()
    merged._paths = {}
    merged._files = {}
    merged._origins = {}
    merged.manifest_hash = None
    if static_url is not None:
        merged._static_url = _check_static_url(static_url)
    conflicts = []
    for manifest in manifests:
        for name, hashed in manifest._paths.items():
            existing = merged._paths.get(name)
            if existing is None:
                merged._paths[name] = hashed
                merged._origins[name] = manifest._origins[name]
            elif existing != hashed:
                conflicts.append(f"{name!r} is {existing!r} in "
                                 f"{merged._origins[name].description} but {hashed!r} in "
                                 f"{manifest._origins[name].description}")
        for hashed, info in manifest._files.items():
            merged._files.setdefault(hashed, info)
    if conflicts:
        head = (f"{len(conflicts)} static file names claimed differently by two manifests"
                if len(conflicts) > 1 else "a static file name claimed differently by two "
                                           "manifests")
        raise ManifestConflictError(f"{head}: " + "; ".join(conflicts) +
                                    " (namespace each app's files under its own directory)")
    merged._sources = tuple(s for m in manifests for s in m._sources)
    return merged


# -- loading and caching ---------------------------------------------------------
_cache_lock = threading.Lock()
_data_cache: dict[tuple[str, ...], Manifest] = {}
_url_cache: dict[tuple[tuple[str, ...], str], Manifest] = {}


def clear_cache() -> None:
    """Forget every manifest read so far (tests; a redeploy in a long-lived process)."""
    with _cache_lock:
        _data_cache.clear()
        _url_cache.clear()


def _cached(key: tuple[str, ...], static_url: str, load: Any) -> Manifest:
    _check_static_url(static_url)
    with _cache_lock:
        hit = _url_cache.get((key, static_url))
        if hit is not None:
            return hit
        base = _data_cache.get(key)
        if base is None:
            try:
                raw, location, description = load()
            except OSError as exc:
                raise ManifestError(f"{key[-1]}: cannot read the static files manifest "
                                    f"({exc.strerror or exc})") from None
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise ManifestError(f"{description}: not a JSON manifest ({exc})") from None
            except RecursionError:  # (a manifest is two levels deep; json recurses)
                raise ManifestError(f"{description}: not a static files manifest (JSON "
                                    f"nested too deeply)") from None
            base = Manifest.from_data(data, static_url=static_url, location=location,
                                      source=description)
            _data_cache[key] = base
        manifest = base if base.static_url == static_url else base.with_static_url(static_url)
        _url_cache[(key, static_url)] = manifest
        return manifest


def _parse(data: Any, source: str
           ) -> tuple[dict[str, str], dict[str, Mapping[str, Any]] | None, str | None]:
    if not isinstance(data, Mapping) or not isinstance(data.get("paths"), Mapping):
        raise ManifestError(f"{source}: not a static files manifest (expected a JSON object "
                            f"with a 'paths' object, as Django writes)")
    version = data.get("version")
    if version not in ("1.0", "1.1", None):
        raise ManifestError(f"{source}: unsupported manifest version {version!r} "
                            f"(expected '1.0' or '1.1')")
    paths = {}
    for name, hashed in data["paths"].items():
        if not isinstance(name, str) or not isinstance(hashed, str):
            raise ManifestError(f"{source}: paths[{name!r}] must map a string to a string")
        paths[name] = hashed
    extra = data.get("collectstatic")
    files: dict[str, Mapping[str, Any]] | None = None
    if isinstance(extra, Mapping) and isinstance(extra.get("files"), Mapping):
        files = {str(k): v for k, v in extra["files"].items() if isinstance(v, Mapping)}
    manifest_hash = data.get("hash")
    return paths, files, manifest_hash if isinstance(manifest_hash, str) else None


def collected_dir(package: str, resource: str = "staticfiles") -> Any:
    """The collected dir ``resource`` inside an installed package, as an
    :mod:`importlib.resources` Traversable (a zip-imported package's too);
    ``resource`` may contain ``/`` but not leave the package."""
    try:
        base = importlib.resources.files(package)
    except (ModuleNotFoundError, TypeError) as exc:
        raise ManifestError(f"{package}: cannot find the package ({exc})") from None
    for part in resource.strip("/").split("/"):
        if part in ("", ".", ".."):
            raise ManifestError(f"{resource!r}: expected a path inside the package")
        base = base.joinpath(part)
    return base


def _confined(location: Location, name: str) -> Any:
    """The file ``name`` (a hashed name from a manifest) under ``location``,
    or ``None`` when it would lead out of it: ``..``, ``.`` or empty segments,
    an absolute name, backslashes, NUL, or (on disk) a symlink out of the
    collected root. Names come from a file anyone may have edited."""
    parts = name.split("/")
    if "\\" in name or "\x00" in name or any(part in ("", ".", "..") for part in parts):
        return None
    if not isinstance(location, Path):  # a Traversable (zip): no links, no absolute parts
        target = location
        for part in parts:
            target = target.joinpath(part)
        return target
    top = os.path.realpath(location)
    real = os.path.realpath(location.joinpath(*parts))
    if real == top or not is_within(real, top):
        return None
    return Path(real)


def _size(location: Location, name: str) -> int | None:
    if location is None:
        return None
    try:
        target = _confined(location, name)
        if target is None:
            return None
        if isinstance(target, Path):
            return target.stat().st_size
        # a Traversable (zip): no stat, read it
        return len(target.read_bytes()) if target.is_file() else None
    except (OSError, KeyError, ValueError):
        return None


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _split_suffix(name: str) -> tuple[str, str]:
    """``"f.woff?#iefix"`` -> ``("f.woff", "?#iefix")``, as Django's storage keeps them."""
    cut = min((i for i in (name.find("?"), name.find("#")) if i >= 0), default=len(name))
    return name[:cut], name[cut:]


def _check_static_url(static_url: str) -> str:
    if not isinstance(static_url, str) or not static_url.endswith("/"):
        raise ManifestError(f"static_url: expected a URL prefix ending in '/', "
                            f"found {static_url!r}")
    return static_url

