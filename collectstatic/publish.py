"""Publish a collected tree to object storage: only what the destination lacks, the manifest last.

A collected tree is content-addressed: a hashed name never changes its bytes.
So publishing uploads only the objects the destination lacks (a hashed name
present with the right size is skipped; an unhashed name is uploaded when its
md5 differs), then writes a record of this version and, last, the manifest. A
reader of the destination sees the old manifest until every object the new
one names is in place. What the destination holds is read from its latest
record (written only once its objects were in place), the objects it does not
vouch for checked one by one; or, with ``verify`` or ``prune``, when there is
no record or the checks would cost more, from one listing of the whole
destination::

    from collectstatic.publish import publish

    result = publish("s3://my-bucket/static", root="src/myapp/staticfiles")
    print(result.summary())
    # uploaded 3 objects / 0.1 MB to s3://my-bucket/static, 240 already present, pruned 0.

The parts:

- :func:`publish_config` validates ``[tool.collectstatic.publish]`` into a
  frozen :class:`PublishConfig` (pure);
- :func:`parse_destination` reads a ``s3://``, ``gs://``, ``az://`` or
  ``file://`` URL (pure);
- :func:`read_tree` lists what a collected root publishes, with the headers of
  each object (:func:`object_headers`, pure) — from a root, an installed
  package (:func:`package_root`) or a wheel (:func:`wheel_root`);
- :func:`plan_publish` decides what to upload, skip and prune from the tree,
  what the destination holds (a listing, or one made from its records) and
  the version records (pure);
- :func:`publish` does the I/O through obstore, the uploads in parallel
  (``workers`` at once), and reports each object to a ``progress`` callback.

Versions are kept under ``.collectstatic/versions/`` in the destination
(:data:`VERSIONS_DIR`): one JSON record per published version naming every
object it needs, and a marker (``NNNNNN.pending``) before a run replaces an
unhashed object: until a record at or above its number, the latest record is
not trusted. ``prune`` deletes what only records older than the last
``keep-versions`` name; objects no record names are never deleted.

The object-store client is `obstore` (the optional extra ``collectstatic[publish]``),
imported only when something is published.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

from .config import STATE_DIR, load_pyproject
from .errors import CollectStaticError, ConfigError
from .paths import DEFAULT_MANIFEST_NAME, is_within
from .runtime import ENCODING_SUFFIXES, Manifest, ManifestError
from .serve import IMMUTABLE, content_type

__all__ = [
    "PUBLISH_KEYS",
    "VERSIONS_DIR",
    "Destination",
    "Plan",
    "Progress",
    "PublishConfig",
    "PublishError",
    "PublishResult",
    "Remote",
    "TreeObject",
    "Tree",
    "load_publish_config",
    "object_headers",
    "open_store",
    "package_root",
    "parse_destination",
    "plan_publish",
    "publish",
    "publish_config",
    "read_tree",
    "record_bytes",
    "wheel_root",
]

TABLE = "tool.collectstatic.publish"
# Where a destination keeps one record per published version (under its prefix).
VERSIONS_DIR = f"{STATE_DIR}/versions"
DEFAULT_CACHE_CONTROL = "public, max-age=60"
SCHEMES = ("s3", "gs", "az", "file")
_CODING_OF_SUFFIX = {suffix: coding for coding, suffix in ENCODING_SUFFIXES.items()}
_RECORD_NAME = re.compile(r"^(\d{6,})-([0-9a-f]{12})\.json$")
_MARKER_NAME = re.compile(r"^(\d{6,})\.pending$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1 << 20

# key -> (type description, default)
PUBLISH_KEYS: dict[str, tuple[str, Any]] = {
    "cache-control": ("str", DEFAULT_CACHE_CONTROL),
    "cache-control-hashed": ("str", IMMUTABLE),
    "encodings": ("bool", True),
    "workers": ("int from 1 to 256", 16),
    "store-options": ("table of str = str", {}),
}


class PublishError(CollectStaticError):
    """Publishing failed; the message names the object and what to do."""


# -- configuration ----------------------------------------------------------------
@dataclass(frozen=True)
class PublishConfig:
    """Validated ``[tool.collectstatic.publish]``."""

    cache_control: str = DEFAULT_CACHE_CONTROL  # unhashed names and the manifest
    cache_control_hashed: str = IMMUTABLE
    encodings: bool = True  # publish the precompressed variants (x.css.br...)
    workers: int = 16  # uploads in flight at once
    store_options: Mapping[str, str] = field(default_factory=dict)  # passed to the store


def publish_config(table: Any, source: str = "pyproject.toml") -> PublishConfig:
    """Validate the raw ``[tool.collectstatic.publish]`` table (``None``: defaults).

    Every problem is collected and raised once as a :class:`ConfigError` whose
    entries name the key (``tool.collectstatic.publish.workers``).
    """
    if table is None:
        return PublishConfig()
    if not isinstance(table, Mapping):
        raise ConfigError([f"{TABLE}: expected a table, found {type(table).__name__}"], source)
    problems: list[str] = []
    for name in table:
        if name not in PUBLISH_KEYS:
            import difflib

            close = difflib.get_close_matches(str(name), PUBLISH_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else \
                "known keys: " + ", ".join(PUBLISH_KEYS)
            problems.append(f"{TABLE}.{name}: unknown key ({hint})")
    values: dict[str, Any] = {}
    for name in ("cache-control", "cache-control-hashed"):
        value = table.get(name, PUBLISH_KEYS[name][1])
        if not isinstance(value, str) or not value.strip() or not _header_safe(value):
            problems.append(f"{TABLE}.{name}: expected a Cache-Control value such as "
                            f"{PUBLISH_KEYS[name][1]!r}, found {value!r}")
        values[name] = value
    encodings = table.get("encodings", True)
    if not isinstance(encodings, bool):
        problems.append(f"{TABLE}.encodings: expected true or false, found {encodings!r}")
    workers = table.get("workers", PUBLISH_KEYS["workers"][1])
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256:
        problems.append(f"{TABLE}.workers: expected an int from 1 to 256, found {workers!r}")
    options = table.get("store-options", {})
    if not isinstance(options, Mapping):
        problems.append(f"{TABLE}.store-options: expected a table of str = str, "
                        f"found {options!r}")
        options = {}
    for key, value in options.items():
        if not isinstance(value, str):
            problems.append(f"{TABLE}.store-options.{key}: expected a string, found {value!r}")
        elif _SECRET.search(str(key)):
            problems.append(f"{TABLE}.store-options.{key}: a secret does not belong in "
                            f"pyproject.toml; set it in the environment (AWS_SECRET_ACCESS_KEY, "
                            f"GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY...)")
    if problems:
        raise ConfigError(problems, source)
    return PublishConfig(cache_control=values["cache-control"],
                         cache_control_hashed=values["cache-control-hashed"],
                         encodings=encodings, workers=workers,
                         store_options={str(k): v for k, v in options.items()})


_SECRET = re.compile(r"secret|password|token|key$|sas", re.I)


def _header_safe(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


def load_publish_config(pyproject: Path | str) -> PublishConfig:
    """``[tool.collectstatic.publish]`` of ``pyproject``, validated; defaults when absent."""
    path = Path(pyproject)
    if not path.is_file():
        return PublishConfig()
    data = load_pyproject(path)
    table = data.get("tool", {}).get("collectstatic", {})
    return publish_config(table.get("publish") if isinstance(table, dict) else None, str(path))


# -- destinations -----------------------------------------------------------------
class Destination(NamedTuple):
    """``s3://bucket/some/prefix`` -> ``("s3", "bucket", "some/prefix")``."""

    scheme: str
    bucket: str  # the directory for file://
    prefix: str  # "" or "a/b", no leading or trailing slash

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")

    def object_url(self, name: str) -> str:
        if self.scheme == "file":
            return "file://" + os.path.join(self.bucket, name)
        return f"{self.url}/{name}"


def parse_destination(url: str) -> Destination:
    """Read a destination URL; a malformed one is a :class:`PublishError` saying why."""
    scheme, sep, rest = str(url).partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise PublishError(f"{url!r}: expected a destination such as s3://bucket/prefix, "
                           f"gs://bucket/prefix, az://container/prefix or file:///abs/dir")
    scheme = scheme.lower()
    if "?" in rest or "#" in rest or "\\" in rest or not _header_safe(rest):
        raise PublishError(f"{url!r}: the destination may hold no query, fragment, backslash "
                           f"or control character")
    if scheme == "file":
        if not rest.startswith("/"):
            raise PublishError(f"{url!r}: expected an absolute path, file:///abs/dir")
        return Destination("file", os.path.normpath(rest), "")
    bucket, _, prefix = rest.partition("/")
    parts = [part for part in prefix.split("/") if part]
    if not bucket or any(part in (".", "..") for part in parts):
        raise PublishError(f"{url!r}: expected {scheme}://bucket/prefix with a bucket name and "
                           f"no '.' or '..' in the prefix")
    return Destination(scheme, bucket, "/".join(parts))


# -- the tree to publish ----------------------------------------------------------
class TreeObject(NamedTuple):
    """One object to publish: its name under the prefix and where its bytes are."""

    name: str
    path: str  # absolute path of the local file
    size: int
    hashed: bool  # a hashed name (or a variant of one): its bytes never change
    md5: str | None  # hex, for unhashed names (compared with what the destination holds)
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Tree:
    """What a collected root publishes: every object, then the manifest (if any)."""

    root: Path
    objects: tuple[TreeObject, ...]
    manifest: TreeObject | None


def object_headers(name: str, hashed: bool, config: PublishConfig,
                   coding: str | None = None) -> dict[str, str]:
    """The headers stored with ``name``: its type and caching; for a precompressed
    variant (``coding`` given: ``x.css.br`` beside ``x.css``) the type of the
    uncompressed content and its Content-Encoding. A collected ``.gz`` file that
    is no variant (a tarball) is stored as what it is."""
    base = name[: -len(ENCODING_SUFFIXES[coding])] if coding else name
    headers = {"Content-Type": content_type(base),
               "Cache-Control": config.cache_control_hashed if hashed else config.cache_control}
    if coding:
        headers["Content-Encoding"] = coding
    return headers


def _safe_name(name: str) -> bool:
    if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name \
            or not name.isprintable():
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def read_tree(root: Path | str, manifest_name: str = DEFAULT_MANIFEST_NAME,
              config: PublishConfig | None = None) -> Tree:
    """List what ``root`` publishes.

    With a manifest: every hashed name it maps to (and its precompressed
    variants, from the manifest's extra data), and every logical name present in
    root (``keep-unhashed``) with its variants. Hashed files of earlier runs kept
    in root are not published: the destination keeps its own earlier versions.
    Without a manifest (``manifest = false``): every file but our state dir.
    """
    config = config or PublishConfig()
    root = Path(os.path.abspath(root))
    real_root = os.path.realpath(root)
    manifest_path = root / manifest_name
    if not root.is_dir():
        raise PublishError(f"{root}: no collected tree there; run 'collectstatic collect' "
                           f"first, or name the tree with --package or --wheel")
    manifest_object = None
    files = _scan(root)
    if manifest_path.is_file():
        raw, manifest = _read_manifest(root, manifest_path)
        entries = _manifest_entries(root, manifest_path, manifest, config, files)
        manifest_object = TreeObject(manifest_name, str(manifest_path), len(raw), False,
                                     hashlib.md5(raw).hexdigest(),
                                     tuple(object_headers(manifest_name, False, config).items()))
    else:
        entries = _tree_entries(root, config)
    objects = _stat_objects(root, real_root, entries, config, files)
    return Tree(root, objects, manifest_object)


# name -> (hashed, the coding of a variant, or None)
_Entries = dict[str, tuple[bool, "str | None"]]


def _scan(root: Path) -> dict[str, int] | None:
    """Every regular file under ``root``: name -> size, from one walk; ``None``
    when the tree holds a symbolic link (a link may lead out of root) or cannot
    be walked whole: each name is then resolved and read on its own."""
    files: dict[str, int] = {}
    pending = [("", str(root))]
    try:
        while pending:
            relative, directory = pending.pop()
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        return None
                    if entry.is_dir():
                        pending.append((f"{relative}{entry.name}/", entry.path))
                    elif entry.is_file():
                        files[relative + entry.name] = entry.stat().st_size
    except OSError:
        return None
    return files


def _is_file(root: Path, name: str, files: dict[str, int] | None) -> bool:
    return name in files if files is not None else (root / name).is_file()


def _read_manifest(root: Path, manifest_path: Path) -> tuple[bytes, Manifest]:
    try:
        raw = manifest_path.read_bytes()
        return raw, Manifest.from_data(json.loads(raw), location=root, source=str(manifest_path))
    except (OSError, ValueError, ManifestError) as exc:
        raise PublishError(f"{manifest_path}: cannot read the manifest ({exc}); run "
                           f"'collectstatic collect' again") from None


def _manifest_entries(root: Path, manifest_path: Path, manifest: Manifest,
                      config: PublishConfig, files: dict[str, int] | None) -> _Entries:
    """What a tree with a manifest publishes: its hashed names, the logical
    names present in root, and (with encodings) their variants."""
    entries: _Entries = {}
    paths = sorted(manifest.paths.items())
    for logical, hashed in paths:
        for name in (logical, hashed):
            if not _safe_name(name):
                raise PublishError(f"{manifest_path}: the manifest names {name!r}, which "
                                   f"is not a name inside root; run 'collectstatic "
                                   f"collect' again")
        entries[hashed] = (True, None)
        if logical != hashed and _is_file(root, logical, files):
            entries.setdefault(logical, (False, None))
    # Variants after every collected name: a collected x.tar.gz is no variant of x.tar.
    for logical, hashed in paths if config.encodings else ():
        for coding in manifest.encodings(logical):
            entries.setdefault(hashed + ENCODING_SUFFIXES[coding], (True, coding))
        if entries.get(logical) == (False, None):
            for coding, suffix in ENCODING_SUFFIXES.items():
                if _is_file(root, logical + suffix, files):
                    entries.setdefault(logical + suffix, (False, coding))
    return entries


def _tree_entries(root: Path, config: PublishConfig) -> _Entries:
    """What a tree without a manifest publishes: every file but our state dir."""
    found = set()
    for directory, dirs, files in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        if relative == ".":
            dirs[:] = [d for d in dirs if d != STATE_DIR]
        found.update(name if relative == "." else f"{relative}/{name}" for name in files)
    entries: _Entries = {}
    for name in sorted(found):
        base, suffix = os.path.splitext(name)
        coding = _CODING_OF_SUFFIX.get(suffix) if base in found else None
        if coding is None or config.encodings:
            entries[name] = (False, coding)
    return entries


def _stat_objects(root: Path, real_root: str, entries: _Entries, config: PublishConfig,
                  files: dict[str, int] | None) -> tuple[TreeObject, ...]:
    items = sorted(entries.items())
    located = [_locate(root, real_root, name, files) for name, _ in items]
    md5s = _md5s([(os.path.join(root, name), real) for (name, (hashed, _)), (real, _) in
                  zip(items, located) if not hashed])
    return tuple(TreeObject(name, real, size, hashed, None if hashed else md5s[real],
                            tuple(object_headers(name, hashed, config, coding).items()))
                 for (name, (hashed, coding)), (real, size) in zip(items, located))


def _locate(root: Path, real_root: str, name: str,
            files: dict[str, int] | None) -> tuple[str, int]:
    """Where the bytes of ``name`` are and their size: from the walk, or (a tree
    with links) resolved, refusing a link that leads out of root."""
    path = os.path.join(root, name)
    if files is not None:
        if name not in files:
            raise PublishError(f"{path}: named by the manifest but missing; run "
                               f"'collectstatic collect' again")
        return os.path.join(real_root, name), files[name]
    real = os.path.realpath(path)
    if not is_within(real, real_root):
        raise PublishError(f"{path}: a link leading outside the collected root is not "
                           f"published (a root collected with --link: collect without "
                           f"it, or publish the built wheel)")
    try:
        return real, os.stat(real).st_size
    except FileNotFoundError:
        raise PublishError(f"{path}: named by the manifest but missing; run "
                           f"'collectstatic collect' again") from None
    except OSError as exc:
        raise PublishError(f"{path}: cannot read ({exc.strerror})") from None


def _md5s(paths: list[tuple[str, str]]) -> dict[str, str]:
    """real path -> md5, for each (path shown in errors, real path); a few
    threads, each hashing its share (hashlib releases the GIL on large blocks)."""
    def share(part: list[tuple[str, str]]) -> list[tuple[str, str]]:
        done = []
        for path, real in part:
            try:
                done.append((real, _file_md5(real)))
            except FileNotFoundError:
                raise PublishError(f"{path}: named by the manifest but missing; run "
                                   f"'collectstatic collect' again") from None
            except OSError as exc:
                raise PublishError(f"{path}: cannot read ({exc.strerror})") from None
        return done

    count = max(1, min(8, (os.cpu_count() or 1) * 2, len(paths)))
    with ThreadPoolExecutor(max_workers=count) as pool:
        shares = pool.map(share, [paths[i::count] for i in range(count)])
        return dict(pair for part in shares for pair in part)


def _file_md5(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def package_root(spec: str) -> Path:
    """``myapp`` (its ``staticfiles`` dir) or ``myapp:some/dir``: an installed package's tree."""
    import importlib.resources

    package, _, resource = spec.partition(":")
    resource = resource or "staticfiles"
    try:
        base = importlib.resources.files(package)
    except (ModuleNotFoundError, TypeError, ValueError) as exc:
        raise PublishError(f"--package {spec}: cannot find the package ({exc}); install it "
                           f"in this environment") from None
    if not _safe_name(resource.strip("/")):
        raise PublishError(f"--package {spec}: expected PKG or PKG:DIR with DIR inside the "
                           f"package")
    target = base.joinpath(*resource.strip("/").split("/"))
    if not isinstance(target, Path) and not isinstance(base, Path):
        raise PublishError(f"--package {spec}: the package is not installed as files (a zip "
                           f"import); publish its wheel with --wheel instead")
    path = Path(str(target))
    if not path.is_dir():
        raise PublishError(f"--package {spec}: no collected dir {resource!r} in the package "
                           f"(was it built with the collectstatic hook?)")
    return path


@contextlib.contextmanager
def wheel_root(wheel: Path | str, manifest_name: str = DEFAULT_MANIFEST_NAME) -> Iterator[Path]:
    """The collected tree inside a built wheel, extracted to a temporary dir for the block."""
    wheel = Path(wheel)
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PublishError(f"{wheel}: cannot read the wheel ({exc})") from None
    with archive, tempfile.TemporaryDirectory(prefix="collectstatic-publish-") as tmp:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        manifests = [n for n in names if n.rsplit("/", 1)[-1] == manifest_name and "/" in n
                     and ".dist-info/" not in n]
        if len(manifests) != 1:
            found = ", ".join(manifests) if manifests else "none"
            raise PublishError(f"{wheel}: expected one collected tree with {manifest_name} in "
                               f"the wheel, found {found}; publish the tree itself with "
                               f"--package or a root")
        prefix = manifests[0][: -len(manifest_name)]
        out = Path(tmp) / "tree"
        for name in names:
            if not name.startswith(prefix):
                continue
            relative = name[len(prefix):]
            if not _safe_name(relative):
                raise PublishError(f"{wheel}: member {name!r} is not a name inside the tree")
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as member, open(target, "wb") as handle:
                shutil.copyfileobj(member, handle)
        yield out


# -- planning -----------------------------------------------------------------------
class Remote(NamedTuple):
    """One object the destination listing shows."""

    size: int
    md5: str | None  # when the store's ETag is the content's md5 (a single-part S3 upload)


@dataclass(frozen=True)
class Plan:
    """What a publish does, in order: ``upload``, then ``record``, then ``manifest``,
    then ``delete`` (only with prune)."""

    upload: tuple[TreeObject, ...]
    present: tuple[str, ...]  # already in the destination: not uploaded
    record: tuple[str, bytes] | None  # (name, bytes) of this version's record, if new
    manifest: TreeObject | None  # None when the destination holds these bytes already
    delete: tuple[str, ...]
    kept_versions: tuple[str, ...]  # the records whose objects are kept
    # The uploads that replace an unhashed object present: they go after the others,
    # behind the marker (name, bytes), which says until the next record is written
    # that the latest one may no longer hold.
    overwrite: tuple[str, ...] = ()
    marker: tuple[str, bytes] | None = None

    @property
    def upload_bytes(self) -> int:
        return sum(obj.size for obj in self.upload) + \
            (self.manifest.size if self.manifest else 0)


def record_bytes(tree: Tree) -> bytes:
    """A version's record: every object it needs, with sizes and (unhashed) md5s."""
    objects = {obj.name: [obj.size, obj.md5] for obj in tree.objects}
    payload = {"version": 1,
               "manifest": tree.manifest.name if tree.manifest else None,
               "manifest_md5": tree.manifest.md5 if tree.manifest else None,
               "objects": objects}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _record_objects(data: bytes) -> dict[str, list[Any]]:
    return _parse_record(data) or {}


def _parse_record(data: bytes) -> dict[str, list[Any]] | None:
    """A record's objects; ``None`` if it is no record."""
    try:
        objects = json.loads(data).get("objects")
    except (ValueError, AttributeError):
        return None
    return objects if isinstance(objects, dict) else None


def _numbered(listing: Mapping[str, Any], pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    """(number, name) of the version records (or markers) listed, in order."""
    found = []
    for name in listing:
        match = pattern.match(name[len(VERSIONS_DIR) + 1:]) \
            if name.startswith(VERSIONS_DIR + "/") else None
        if match:
            found.append((int(match.group(1)), name))
    return sorted(found, key=lambda item: item[0])


def _pending(listing: Mapping[str, Any]) -> bool:
    """Whether a marker is listed that no record follows: a run that overwrote
    unhashed names was stopped, so the latest record may no longer hold."""
    records = _numbered(listing, _RECORD_NAME)
    latest = records[-1][0] if records else 0
    return any(number > latest for number, _ in _numbered(listing, _MARKER_NAME))


def plan_publish(tree: Tree, listing: Mapping[str, Remote],
                 records: Mapping[str, bytes | None], *, remote_manifest: bytes | None,
                 keep_versions: int = 2, prune: bool = False) -> Plan:
    """Decide what to upload, skip and delete. Pure.

    ``listing`` is the destination's one listing (name -> :class:`Remote`);
    ``records`` maps each version record listed (``.collectstatic/versions/...``)
    to its bytes (``None`` where not fetched: only the latest and, for prune,
    all are needed); ``remote_manifest`` is the destination's manifest bytes.
    A marker listed above the latest record (a run replacing unhashed names
    was stopped) makes a new record even for the same version; replacing
    unhashed names present makes a marker (:attr:`Plan.marker`).
    """
    ordered = [name for _, name in _numbered(listing, _RECORD_NAME)]
    latest = _record_objects(records.get(ordered[-1]) or b"") if ordered else {}
    upload, present = [], []
    for obj in tree.objects:
        remote = listing.get(obj.name)
        if remote is not None and remote.size == obj.size and (
                obj.hashed or remote.md5 == obj.md5 or
                (remote.md5 is None and latest.get(obj.name) == [obj.size, obj.md5])):
            present.append(obj.name)
        else:
            upload.append(obj)
    overwrite = tuple(obj.name for obj in upload if not obj.hashed and obj.name in listing)
    current, record, marker = _next_record(tree, ordered, bool(overwrite) or
                                           _pending(listing), bool(overwrite))
    earlier = [name for name in ordered if name != current]
    kept = earlier[len(earlier) - keep_versions:] if keep_versions else []
    manifest = tree.manifest
    if manifest is not None and remote_manifest is not None and \
            hashlib.md5(remote_manifest).hexdigest() == manifest.md5 and record is None:
        manifest = None
    delete = _doomed(tree, listing, records, earlier, kept) if prune else ()
    return Plan(tuple(upload), tuple(present), record, manifest, delete, tuple(kept),
                overwrite, marker)


def _next_record(tree: Tree, ordered: list[str], renew: bool, overwrite: bool
                 ) -> tuple[str, tuple[str, bytes] | None, tuple[str, bytes] | None]:
    """This version's record name, its (name, bytes) when it is to be written (a
    new version, or ``renew``: after a marker), and the marker to write first."""
    data = record_bytes(tree)
    digest = hashlib.md5(data).hexdigest()[:12]
    if ordered and ordered[-1].endswith(f"-{digest}.json") and not renew:
        return ordered[-1], None, None
    number = int(ordered[-1][len(VERSIONS_DIR) + 1:].split("-", 1)[0]) + 1 if ordered else 1
    current = f"{VERSIONS_DIR}/{number:06d}-{digest}.json"
    marker = (f"{VERSIONS_DIR}/{number:06d}.pending",
              json.dumps({"record": current}).encode()) if overwrite else None
    return current, (current, data), marker


def _doomed(tree: Tree, listing: Mapping[str, Remote], records: Mapping[str, bytes | None],
            earlier: list[str], kept: list[str]) -> tuple[str, ...]:
    """What prune deletes: the objects only older records name, then those
    records, then the markers (which the record written now supersedes)."""
    wanted = {obj.name for obj in tree.objects}
    if tree.manifest is not None:
        wanted.add(tree.manifest.name)
    for name in kept:
        wanted.update(_record_objects(records.get(name) or b""))
    old = [name for name in earlier if name not in kept]
    doomed = {obj for name in old for obj in _record_objects(records.get(name) or b"")}
    markers = [name for _, name in _numbered(listing, _MARKER_NAME)]
    return tuple(sorted(name for name in doomed - wanted if name in listing) + old + markers)


# -- results and progress -------------------------------------------------------------
class Progress(NamedTuple):
    """Reported after each object is uploaded or deleted."""

    action: str  # "upload" or "delete"
    name: str
    done: int
    total: int
    bytes_done: int
    bytes_total: int


@dataclass(frozen=True)
class PublishResult:
    destination: str
    uploaded: tuple[str, ...]
    uploaded_bytes: int
    present: int
    pruned: tuple[str, ...]
    manifest_written: bool
    dry_run: bool = False
    plan: Plan | None = None

    def summary(self) -> str:
        size = f"{self.uploaded_bytes / 1e6:.1f} MB"
        count = len(self.uploaded)
        objects = f"{count} object{'' if count == 1 else 's'}"
        if self.dry_run:
            return (f"would upload {objects} / {size} to {self.destination}, "
                    f"{self.present} already present, would prune {len(self.pruned)}.")
        return (f"uploaded {objects} / {size} to {self.destination}, {self.present} already "
                f"present, pruned {len(self.pruned)}.")


# -- the I/O ------------------------------------------------------------------------
def publish(dest: str, *, root: Path | str | None = None, package: str | None = None,
            wheel: Path | str | None = None, settings: Any = None,
            config: PublishConfig | None = None, keep_versions: int | None = None,
            prune: bool = False, dry_run: bool = False, verify: bool = False,
            progress: Callable[[Progress], None] | None = None) -> PublishResult:
    """Publish a collected tree to ``dest`` (see the module docstring).

    The tree is ``root``, an installed ``package`` (``PKG`` or ``PKG:DIR``), or a
    ``wheel``; by default ``settings.root``. ``settings`` (a
    :class:`collectstatic.config.Settings`) gives the manifest name and
    ``keep-versions`` when they are not passed. ``verify`` lists the whole
    destination instead of trusting its version records (for a bucket whose
    objects something else deleted or changed); ``prune`` lists it too.
    """
    config = config or PublishConfig()
    destination = parse_destination(dest)
    manifest_name = getattr(settings, "manifest_name", DEFAULT_MANIFEST_NAME)
    if keep_versions is None:  # the key of [tool.collectstatic], validated with it
        keep_versions = 2 if settings is None else settings.keep_versions
    if isinstance(keep_versions, bool) or not isinstance(keep_versions, int) or \
            keep_versions < 0:
        raise PublishError(f"keep-versions: expected an int >= 0, found {keep_versions!r}")
    if sum(x is not None for x in (root, package, wheel)) > 1:
        raise PublishError("name one tree: a root, --package or --wheel")
    with contextlib.ExitStack() as stack:
        if wheel is not None:
            tree_root: Path = stack.enter_context(wheel_root(wheel, manifest_name))
        elif package is not None:
            tree_root = package_root(package)
        elif root is not None:
            tree_root = Path(root)
        elif settings is not None:
            tree_root = settings.root
        else:
            raise PublishError("no tree to publish: pass a root, --package or --wheel")
        return asyncio.run(_publish(tree_root, manifest_name, destination, config,
                                    keep_versions, prune, verify, dry_run,
                                    progress))


def _obstore() -> Any:
    try:
        import obstore
        import obstore.store
    except ImportError:
        raise PublishError("publishing needs the object-store client: pip install "
                           "'collectstatic[publish]'") from None
    return obstore


def open_store(destination: Destination, config: PublishConfig) -> Any:
    """The obstore store for ``destination`` (credentials from the environment)."""
    obstore = _obstore()
    from datetime import timedelta

    if destination.scheme == "file":
        try:
            return obstore.store.LocalStore(destination.bucket, mkdir=True)
        except Exception as exc:
            raise _store_error(exc, destination.url, "create the directory") from None
    options = dict(config.store_options)
    endpoint = options.get("endpoint") or os.environ.get("AWS_ENDPOINT_URL") or \
        os.environ.get("AWS_ENDPOINT") or ""
    client = {"connect_timeout": "10s", "timeout": "300s"}
    if destination.scheme == "s3" and endpoint.startswith("http://"):
        client["allow_http"] = True  # type: ignore[assignment]  # a local S3-compatible server
    url = f"{'gs' if destination.scheme == 'gs' else destination.scheme}://{destination.bucket}"
    if destination.prefix:
        url += "/" + destination.prefix
    try:
        return obstore.store.from_url(
            url, client_options=client, config=options or None,
            retry_config={"max_retries": 3, "backoff": {"init_backoff": timedelta(seconds=0.2),
                                                        "max_backoff": timedelta(seconds=5),
                                                        "base": 2},
                          "retry_timeout": timedelta(seconds=60)})
    except Exception as exc:
        raise _store_error(exc, destination.url, "open the store") from None


_WHAT_TO_DO = {
    "credentials": "no usable credentials for the store: set them in the environment "
                   "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE; "
                   "GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_ACCOUNT_NAME and a key) "
                   "and publish again",
    "bucket": "the bucket (or container) does not exist: create it or fix the destination URL",
    "denied": "permission denied: give these credentials list, read, write (and, for "
              "--prune, delete) access to the bucket, then publish again",
    "network": "cannot reach the store: check the network and the endpoint, then publish "
               "again (what arrived is not uploaded again; the destination's manifest is "
               "unchanged)",
}


def _classify(exc: BaseException) -> str | None:
    text = str(exc)
    kind = type(exc).__name__
    # (with no credentials set, the client asks the instance metadata service for some)
    if kind == "UnauthenticatedError" or re.search(
            r"credential|InvalidAccessKeyId|SignatureDoesNotMatch|169\.254\.169\.254|"
            r"/latest/api/token|/latest/meta-data", text, re.I):
        return "credentials"
    if re.search(r"NoSuchBucket|ContainerNotFound|bucket does not exist", text, re.I):
        return "bucket"
    if kind == "PermissionDeniedError" or re.search(r"AccessDenied|\b403\b|Forbidden", text):
        return "denied"
    if re.search(r"error sending request|connect|timed out|timeout|reset by peer|"
                 r"broken pipe|dns", text, re.I):
        return "network"
    if isinstance(exc, PermissionError):
        return "denied"
    return None


def _store_error(exc: BaseException, where: str, action: str) -> PublishError:
    kind = _classify(exc)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(detail) > 200:
        detail = detail[:200] + "..."
    if kind is None:
        return PublishError(f"{where}: cannot {action} ({detail}); publish again once fixed "
                            f"(the destination's manifest is unchanged)")
    return PublishError(f"{where}: cannot {action}: {_WHAT_TO_DO[kind]} ({detail})")


def _remote(meta: Mapping[str, Any]) -> Remote:
    etag = (meta.get("e_tag") or "").strip('"').lower()
    return Remote(int(meta["size"]), etag if _MD5.match(etag) else None)


def _not_found(exc: BaseException) -> bool:
    return isinstance(exc, FileNotFoundError) or type(exc).__name__ == "NotFoundError"


async def _list(obstore: Any, store: Any, destination: Destination,
                prefix: str | None = None) -> dict[str, Remote]:
    listing: dict[str, Remote] = {}
    try:
        async for chunk in obstore.list(store, prefix):
            listing.update((meta["path"], _remote(meta)) for meta in chunk)
    except Exception as exc:
        raise _store_error(exc, destination.url, "list the destination") from None
    return listing


async def _get(obstore: Any, store: Any, destination: Destination, name: str,
               missing_ok: bool = False) -> Any:
    try:
        result = await obstore.get_async(store, name)
        return bytes(await result.bytes_async())
    except Exception as exc:
        if missing_ok and _not_found(exc):  # (obstore's "not found")
            return None
        raise _store_error(exc, destination.object_url(name), "read it") from None


async def _heads(obstore: Any, store: Any, destination: Destination,
                 objects: list[TreeObject], workers: int) -> dict[str, Remote]:
    """What the destination holds of ``objects`` (absent: left out), ``workers`` at a time."""
    semaphore = asyncio.Semaphore(workers)
    found: dict[str, Remote] = {}

    async def one(obj: TreeObject) -> None:
        async with semaphore:
            try:
                found[obj.name] = _remote(await obstore.head_async(store, obj.name))
            except Exception as exc:
                if not _not_found(exc):
                    raise _store_error(exc, destination.object_url(obj.name),
                                       "check it") from None

    await _all(one(obj) for obj in objects)
    return found


async def _publish(tree_root: Path, manifest_name: str, destination: Destination,
                   config: PublishConfig, keep_versions: int, prune: bool, verify: bool,
                   dry_run: bool, progress: Callable[[Progress], None] | None
                   ) -> PublishResult:
    obstore = _obstore()
    tree, store, listing, remote_manifest = await _read_and_list(
        obstore, tree_root, manifest_name, destination, config, prune or verify)
    survey = _Survey(obstore, store, destination, config.workers)
    if not (prune or verify):
        listing, fetched = await survey.records_first(tree, listing)
    else:
        fetched = {}
    fetched.update(await survey.records(tree, listing, fetched, prune))
    plan = plan_publish(tree, listing, fetched, remote_manifest=remote_manifest,
                        keep_versions=keep_versions, prune=prune)
    uploaded = tuple(o.name for o in plan.upload) + \
        ((plan.manifest.name,) if plan.manifest else ())
    if dry_run:
        return PublishResult(destination.url, uploaded, plan.upload_bytes, len(plan.present),
                             plan.delete, False, dry_run=True, plan=plan)
    writer = _Writer(obstore, store, destination, config, plan, progress)
    await writer.upload()
    pruned = await writer.prune()
    return PublishResult(destination.url, uploaded, plan.upload_bytes, len(plan.present),
                         pruned, plan.manifest is not None, plan=plan)


async def _read_and_list(obstore: Any, tree_root: Path, manifest_name: str,
                         destination: Destination, config: PublishConfig, full: bool
                         ) -> tuple[Tree, Any, Any, Any]:
    """The tree (its md5s read in a thread) while the destination is listed (in
    ``full``, else its version records only) and its manifest fetched: the tree,
    the store, the listing, the remote manifest."""
    reading = asyncio.get_running_loop().run_in_executor(None, read_tree, tree_root,
                                                         manifest_name, config)
    try:
        store = open_store(destination, config)
        listed = await asyncio.gather(_list(obstore, store, destination,
                                            None if full else VERSIONS_DIR),
                                      _get(obstore, store, destination, manifest_name,
                                           missing_ok=True),
                                      return_exceptions=True)
    finally:
        tree = await reading  # (a bad tree is reported before a store problem)
    for outcome in listed:
        if isinstance(outcome, BaseException):
            raise outcome
    listing, remote_manifest = listed
    return tree, store, listing, remote_manifest if tree.manifest is not None else None


class _Survey:
    """What the destination holds of a tree, for :func:`plan_publish`."""

    def __init__(self, obstore: Any, store: Any, destination: Destination,
                 workers: int) -> None:
        self.obstore, self.store, self.destination = obstore, store, destination
        self.workers = workers

    async def records_first(self, tree: Tree, records: dict[str, Remote]
                            ) -> tuple[dict[str, Remote], dict[str, bytes | None]]:
        """From the version records alone (``records``: their listing) when they
        vouch for the tree, else from one full listing: (listing, records read).

        A record is written once every object it names is in place, so the
        latest one stands for the destination, unless a marker says a later run
        overwrote some of its names and stopped. The objects it does not vouch
        for are checked one by one (a stopped run may have uploaded them), when
        that costs less than a listing.
        """
        ordered = [name for _, name in _numbered(records, _RECORD_NAME)]
        if not ordered or _pending(records):
            return await _list(self.obstore, self.store, self.destination), {}
        own = record_bytes(tree)
        latest = ordered[-1]
        data = own if latest.endswith(f"-{hashlib.md5(own).hexdigest()[:12]}.json") else \
            await _get(self.obstore, self.store, self.destination, latest, missing_ok=True)
        vouched = _parse_record(data) if data is not None else None
        unsure = [obj for obj in tree.objects if vouched is None or
                  not _vouched(obj, vouched.get(obj.name))]
        fetched = {latest: data}
        if vouched is None or len(unsure) > _head_limit(self.workers, len(vouched)):
            return await _list(self.obstore, self.store, self.destination), fetched
        listing = dict(records)
        listing.update((obj.name, Remote(obj.size, obj.md5)) for obj in tree.objects)
        for obj in unsure:
            del listing[obj.name]
        listing.update(await _heads(self.obstore, self.store, self.destination, unsure,
                                    self.workers))
        return listing, fetched

    async def records(self, tree: Tree, listing: Mapping[str, Remote],
                      fetched: Mapping[str, bytes | None], prune: bool
                      ) -> dict[str, bytes | None]:
        """The version records plan_publish needs that are not read yet: all of
        them for prune; else the latest, only for what the listing cannot tell (an
        unhashed name present with its size whose ETag is no md5: a local
        directory, a multipart upload)."""
        ordered = [name for _, name in _numbered(listing, _RECORD_NAME)]
        unsure = any(not obj.hashed and obj.name in listing and listing[obj.name].md5 is None
                     and listing[obj.name].size == obj.size for obj in tree.objects)
        wanted = [name for name in (ordered if prune else ordered[-1:] if unsure else [])
                  if name not in fetched]
        return dict(zip(wanted, await asyncio.gather(
            *(_get(self.obstore, self.store, self.destination, name) for name in wanted))))


def _vouched(obj: TreeObject, entry: Any) -> bool:
    """Whether a record's ``entry`` for ``obj.name`` says the destination holds its bytes."""
    if not isinstance(entry, list) or len(entry) != 2 or entry[0] != obj.size:
        return False
    return obj.hashed or (obj.md5 is not None and entry[1] == obj.md5)


def _head_limit(workers: int, objects: int) -> int:
    """How many objects to check one by one before one listing is cheaper: the
    checks go ``workers`` at a time; a listing takes a request per 1000 objects,
    one after another, each a few checks' time."""
    return workers * 4 * (1 + objects // 1000)


_STATE_HEADERS = (("Content-Type", "application/json; charset=utf-8"),
                  ("Cache-Control", "no-cache"))


class _Writer:
    """Carries out a plan: the objects (``workers`` at a time), then the
    version record, then the manifest, last; then the prune."""

    def __init__(self, obstore: Any, store: Any, destination: Destination,
                 config: PublishConfig, plan: Plan,
                 progress: Callable[[Progress], None] | None) -> None:
        self.obstore, self.store, self.destination = obstore, store, destination
        self.workers = config.workers
        self.plan = plan
        self.progress = progress
        self.attributes = destination.scheme != "file"  # (a local directory keeps no headers)
        self.total = len(plan.upload) + (plan.marker is not None) + \
            (plan.record is not None) + (plan.manifest is not None)
        self.done = self.bytes = 0

    def report(self, action: str, name: str, size: int, count: int) -> None:
        self.done += 1
        self.bytes += size
        if self.progress is not None:
            self.progress(Progress(action, name, self.done, count, self.bytes,
                                   self.plan.upload_bytes))

    async def put(self, name: str, data: Any, headers: tuple[tuple[str, str], ...],
                  size: int) -> None:
        try:
            await self.obstore.put_async(self.store, name, data,
                                         attributes=dict(headers) if self.attributes else None)
        except Exception as exc:
            raise _store_error(exc, self.destination.object_url(name), "upload it") from None
        self.report("upload", name, size, self.total)

    async def upload(self) -> None:
        plan = self.plan
        semaphore = asyncio.Semaphore(self.workers)

        async def bounded(obj: TreeObject) -> None:
            async with semaphore:
                await self.put(obj.name, Path(obj.path), obj.headers, obj.size)

        # New names first: a run stopped among them leaves the latest record true.
        replacing = set(plan.overwrite)
        await _all(bounded(obj) for obj in plan.upload if obj.name not in replacing)
        if plan.marker is not None:
            await self.put(*plan.marker, _STATE_HEADERS, 0)
        await _all(bounded(obj) for obj in plan.upload if obj.name in replacing)
        # Only once every object is in place: the record, then the manifest, last.
        if plan.record is not None:
            await self.put(*plan.record, _STATE_HEADERS, 0)  # (no bytes counted)
        if plan.manifest is not None:
            await self.put(plan.manifest.name, Path(plan.manifest.path), plan.manifest.headers,
                           plan.manifest.size)

    async def prune(self) -> tuple[str, ...]:
        delete = self.plan.delete
        pruned: list[str] = []
        self.done = 0
        # In bulk (S3 deletes 1000 per request), objects before the records naming them, so
        # that a prune stopped half-way is finished by the next one.
        for start in range(0, len(delete), 1000):
            batch = list(delete[start:start + 1000])
            try:
                await self.obstore.delete_async(self.store, batch)
            except FileNotFoundError:  # (a local directory: one went meanwhile)
                pass
            except Exception as exc:
                raise _store_error(exc, self.destination.object_url(batch[0]),
                                   "delete it") from None
            for name in batch:
                pruned.append(name)
                self.report("delete", name, 0, len(delete))
        return tuple(pruned)


async def _all(coroutines: Any) -> None:
    """Run them all; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    if not tasks:
        return
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
