"""Collect found files into root, hash them, write the manifest.

The run, in order:

1. list the sources (finders) — pure apart from directory reads — and stat
   them; if the settings, the sources and every output are as the last
   finished run left them, repeat its answer (``_LastRun``) and stop;
2. copy (or link) each found file whose source or output changed since the
   record of the previous run, reading each source once and hashing it while
   copying; a file post-processing cannot change (not CSS/JS) gets its hashed
   name from the same copy;
3. post-process: the reference graph and hashed names (``manifest.py``,
   pure), then write only the hashed outputs that are not already there;
4. write the manifest atomically, remove what earlier runs wrote that is no
   longer wanted, save the record (unless nothing changed).

Every file is written without a name and named once whole (see
``_NewFile``), so an interrupted run never leaves a truncated file.
The record (``root/.collectstatic/state.marshal``) lists every file this tool
wrote; files in root it did not write are left alone (except by ``clear``).
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import dataclasses
import errno
import gc
import hashlib
import itertools
import marshal
import operator
import os
import struct
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ._parallel import MIN_FORK_ITEMS, Background, parallel_map
from .config import STATE_DIR, Settings
from .errors import BrokenReferencesError, CollectError
from .finders import Found, Listing, list_sources, name_collisions

if TYPE_CHECKING:
    from .manifest import Processed

__all__ = ["CollectOptions", "CollectResult", "collect", "root_has_files"]

STATE_VERSION = 5
CHUNK = 1 << 20
Log = Callable[[str, int], None]


@dataclass(frozen=True)
class CollectOptions:
    """Per-run choices that are not configuration (Django's command flags)."""

    clear: bool = False
    dry_run: bool = False
    post_process: bool = True
    extra_ignore: tuple[str, ...] = ()
    # Where compressed variants are cached by content (default: root/.collectstatic/compress).
    compress_cache: Path | None = None


@dataclass
class CollectResult:
    root: Path
    link: bool
    dry_run: bool
    copied: list[str] = field(default_factory=list)  # copied or linked
    unmodified: list[str] = field(default_factory=list)
    post_processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # shadowed duplicates
    deleted: list[str] = field(default_factory=list)
    rewritten: int = 0
    compressed: int = 0  # variants compressed in this run (not taken from the cache)
    variants: list[str] = field(default_factory=list)  # .gz/.br/.zst files in root
    manifest: dict[str, str] = field(default_factory=dict)  # logical -> hashed
    files: list[str] = field(default_factory=list)  # everything in root that is ours
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Django 6.0's closing line of ``collectstatic``."""
        deleted = len(self.deleted)
        modified = len(self.copied)
        parts = []
        if deleted:
            parts.append(f"{deleted} static file{'' if deleted == 1 else 's'} deleted, ")
        parts.append(f"{modified} static file{'' if modified == 1 else 's'} "
                     f"{'symlinked' if self.link else 'copied'} to '{self.root}'")
        if self.unmodified:
            parts.append(f", {len(self.unmodified)} unmodified")
        if self.post_processed:
            parts.append(f", {len(self.post_processed)} post-processed")
        if self.skipped:
            parts.append(f", {len(self.skipped)} skipped due to conflict")
        return "".join(parts) + "."


def root_has_files(settings: Settings) -> bool:
    """Whether root holds anything (Django prompts before overwriting then)."""
    try:
        with os.scandir(settings.root) as entries:
            return any(True for _ in entries)
    except OSError:
        return False


# -- the record of what earlier runs wrote ------------------------------------------

# What tells a file that changed without reading it. Sources: size, mtime,
# inode and ctime (which tools that reset mtimes, a git checkout, a wheel
# unpack, a Docker layer, cannot set: a rewritten file always looks changed).
# Outputs: size, mtime and inode, as this tool wrote them. Packed as bytes
# (the records load faster than with tuples of large ints), and taken with
# attrgetter and starmap: no Python runs per file in the loops over every file.
_Key = bytes
_SOURCE_FIELDS = operator.attrgetter("st_size", "st_mtime_ns", "st_ino", "st_ctime_ns")
_OUT_FIELDS = operator.attrgetter("st_size", "st_mtime_ns", "st_ino")
_PACK_SOURCE = struct.Struct("<QqQq").pack
_PACK_OUT = struct.Struct("<QqQ").pack


def _pack(pack: Callable[..., bytes], fields: tuple[int, ...]) -> _Key:
    try:
        return pack(*fields)
    except struct.error:  # out of range (Windows has 128-bit inodes): equal all the same
        return repr(fields).encode()


def _out_key(path: str) -> _Key | None:
    try:
        return _pack(_PACK_OUT, _OUT_FIELDS(os.lstat(path)))
    except OSError:
        return None


# A source's entry in the record, a tuple (tens of thousands load faster than
# dicts): where it was, its stat key, how it was brought in (link, keep the
# unhashed copy), and its md5, SRI and size.
_PATH, _STAT, _LINK, _KEEP, _MD5, _SRI, _SIZE = range(7)
_Entry = tuple[Any, ...]


class _State:
    """``root/.collectstatic/state.marshal``: sources seen and outputs written.

    A run that changed a few files saves only what changed, into
    ``state-changes.marshal`` beside the full record (written whole again
    once the changes grow past an eighth of it): the full record is most of
    the bytes a one-change run would write. The changes name the record they
    apply to (its ``id``); changes to another record are not applied.
    """

    def __init__(self, root: Path) -> None:
        self.prefix = os.path.join(root, "")  # root and a separator: output paths are prefix + name
        self.dir = root / STATE_DIR
        self.path = self.dir / "state.marshal"
        self.changes_path = self.dir / "state-changes.marshal"
        self.sources: dict[str, _Entry] = {}
        self.outputs: dict[str, _Key] = {}  # relative output path -> _out_key
        self.post: dict[str, Any] = {}  # the last post-processing answer and its input key
        self.file_mode: int | None = None  # the file-mode the outputs were written with
        # _out_key of each output at the start (_Run.stat_all), as marshal pieces.
        self.scan: tuple[list[str], list[bytes]] | None = None
        # The outputs that were as recorded at the start and that this run
        # has not written or deleted since (``set_output``): intact without a
        # stat call, however often asked.
        self.sure: set[str] = set()
        self.loaded: dict[str, Any] | None = None  # the record as read, to skip an equal save
        self.base: dict[str, Any] | None = None  # the full record, without the changes

    def load(self) -> None:
        base = _read_record(self.path)
        if base is None or not isinstance(base.get("id"), str):
            return
        data = base
        changes = _read_record(self.changes_path)
        if changes is None and os.path.lexists(self.changes_path):
            return  # damaged: everything counts as new
        if changes is not None and changes.get("base") == base["id"]:
            try:
                data = _patched(base, changes["changes"])
            except (TypeError, ValueError, KeyError, AttributeError):
                return
        # (changes to another record: left by a run stopped before it removed them)
        if all(isinstance(data.get(part), dict) for part in ("sources", "outputs", "post")):
            self.base = base
            self.loaded = data
            self.sources = dict(data.get("sources", {}))
            self.outputs = dict(data.get("outputs", {}))
            self.post = dict(data.get("post", {}))
            self.file_mode = data.get("file_mode")

    def save(self, tmp_dir: Path) -> None:
        payload = {"version": STATE_VERSION, "sources": self.sources, "outputs": self.outputs,
                   "post": self.post, "file_mode": self.file_mode}
        if self.loaded is not None:
            payload["id"] = self.loaded["id"]
            if payload == self.loaded:
                return  # a no-change run writes nothing at all
        if self.base is not None:
            changes = _changes(self.base, payload, 3)
            if _count(changes) <= (len(self.sources) + len(self.outputs)) // 8:
                _write_record(self.changes_path, {"version": STATE_VERSION,
                                                  "base": self.base["id"], "changes": changes},
                              tmp_dir)
                return
        payload["id"] = os.urandom(8).hex()
        _write_record(self.path, payload, tmp_dir)
        for old in (self.changes_path, self.dir / "state.json"):  # (state.json: before 0.2)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(old)

    def key(self) -> _Key | None:
        """The ``_out_key`` of the record's files (another key, another
        record), or None when there is no record."""
        base = _out_key(str(self.path))
        return None if base is None else base + (_out_key(str(self.changes_path)) or b"")

    def take_scan(self, as_recorded: bool) -> None:
        """Fill ``sure`` from the scan, taken before this run wrote anything
        (``as_recorded``: the scan is known to match the record throughout)."""
        if self.scan is not None:
            names, pieces = self.scan
            if as_recorded:
                self.sure = set(names)
            else:
                outputs = self.outputs
                keys = itertools.chain.from_iterable(map(marshal.loads, pieces))
                self.sure = {name for name, key in zip(names, keys) if key == outputs.get(name)}
            self.scan = None

    def set_output(self, name: str, key: _Key | None) -> None:
        """Record what this run wrote as ``name`` (None: deleted it)."""
        self.sure.discard(name)
        if key is None:
            del self.outputs[name]
        else:
            self.outputs[name] = key

    def output_intact(self, name: str) -> bool:
        """Whether the output ``name`` is as this tool wrote it (same size, mtime, inode)."""
        if name in self.sure:
            return True
        recorded = self.outputs.get(name)
        return recorded is not None and _out_key(self.prefix + name) == recorded


_Patch = tuple[dict[Any, Any], list[Any], dict[Any, Any]]
_MISSING = object()


def _changes(old: dict[Any, Any], new: dict[Any, Any], depth: int) -> _Patch:
    """What makes ``new`` of ``old``: (entries to set, keys to delete, a patch
    for each dict value ``depth`` levels down)."""
    sets, subs = {}, {}
    get = old.get
    for key, value in new.items():
        was = get(key, _MISSING)
        if was is value or was == value:
            continue
        if depth and type(was) is dict and type(value) is dict:
            subs[key] = _changes(was, value, depth - 1)
        else:
            sets[key] = value
    return sets, [key for key in old if key not in new], subs


def _count(patch: _Patch) -> int:
    sets, deletes, subs = patch
    return len(sets) + len(deletes) + sum(map(_count, subs.values()))


def _patched(old: dict[Any, Any], patch: _Patch) -> dict[Any, Any]:
    """``old`` with ``patch`` applied, as a new dict (``old`` stays as it is)."""
    sets, deletes, subs = patch
    new = dict(old)
    new.update(sets)
    for key in deletes:
        del new[key]
    for key, sub in subs.items():
        new[key] = _patched(old[key], sub)
    return new


def _fingerprint(value: Any) -> str:
    """md5 of ``value`` (strings, ints, lists, tuples): marshal's version 2 has no
    back-references, so equal values give equal bytes, and it is C throughout."""
    return hashlib.md5(marshal.dumps(value, 2)).hexdigest()


class _LastRun:
    """``root/.collectstatic/last-run.marshal``: what the last run that finished
    saw and did. Its ``inputs`` fingerprint covers the settings and every
    source's name, path and stat key; ``outputs`` lists what that run left in
    root, with a fingerprint of their ``_out_key``. When both fingerprints
    hold again, that run's answer stands: the next run repeats it without
    reading the record or the manifest (a no-change run is mostly stat calls).
    When only the outputs' hold, and ``record`` is still the ``_out_key`` of
    the record (``_State``) that run saved, every output is as recorded.

    It is read before the run takes the lock (the outputs it lists are looked
    at while the sources are listed), so ``same_as_read`` checks under the
    lock that no other run has replaced or removed it since.
    """

    FIELDS = (("inputs", str), ("outputs", list), ("outputs_key", str), ("record", bytes),
              ("manifest", dict), ("variants", list), ("rewritten", int), ("warnings", list))

    def __init__(self, root: Path) -> None:
        self.path = root / STATE_DIR / "last-run.marshal"
        self.read: list[_Key] = []  # the _out_key of the file load() read

    def load(self) -> dict[str, Any] | None:
        self.read = []
        data = _read_record(self.path, self.read)
        if data is None or \
                any(not isinstance(data.get(field), kind) for field, kind in self.FIELDS) or \
                not all(isinstance(name, str) for name in data["outputs"]):
            return None  # not this version's, or damaged: the full run decides
        return data

    def same_as_read(self) -> bool:
        """Whether the file is still the one ``load`` read (every run that
        changes anything removes it first, and a new one is a new file)."""
        return bool(self.read) and _out_key(str(self.path)) == self.read[0]

    def forget(self) -> None:
        """Before a run changes anything: a run that fails leaves no answer behind."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def save(self, answer: dict[str, Any], tmp_dir: Path) -> None:
        # (whole: the outputs it lists are the names and hashed names of its manifest)
        _write_record(self.path, {"version": STATE_VERSION, **answer}, tmp_dir, whole=True)


# Stat calls go out to the workers in runs of this many files.
_STAT_RUN = 64


def _source_keys(paths: list[str]) -> list[_Key]:
    """Each source's stat key."""
    try:
        return list(itertools.starmap(_PACK_SOURCE, map(_SOURCE_FIELDS, map(os.stat, paths))))
    except (OSError, struct.error):
        keys = []
        for path in paths:  # again, one by one: which one, for the message
            try:
                keys.append(_pack(_PACK_SOURCE, _SOURCE_FIELDS(os.stat(path))))
            except OSError as exc:
                raise CollectError(f"{path}: cannot read ({exc.strerror})") from None
        return keys


def _output_keys(prefix: str, names: list[str]) -> list[_Key | None]:
    """Each output's ``_out_key`` (None: it is gone)."""
    try:
        return list(itertools.starmap(
            _PACK_OUT, map(_OUT_FIELDS, map(os.lstat, map(prefix.__add__, names)))))
    except (OSError, struct.error):
        return [_out_key(prefix + name) for name in names]


def _outputs_piece(keys: list[_Key | None]) -> bytes:
    """Part of the outputs' fingerprint: the ``_out_key`` of up to _STAT_RUN outputs."""
    return marshal.dumps(keys, 2)


def _outputs_fingerprint(pieces: list[bytes]) -> str:
    return hashlib.md5(b"".join(pieces)).hexdigest()


# The records are marshal data: Python's own format for plain values, read and
# written in C (JSON took 0.1 s each way for the large benchmark tree's record,
# most of a one-change run). They are this tool's alone, never shipped. After
# a head line comes a run of pieces, each its size and a marshalled value: the
# record without its big dicts (more than _PIECE_ENTRIES entries, at any depth
# of dicts), then pieces that each hold, for one range of names, that range of
# every big dict (a list of (where, part)), then None (a file cut short has no
# end). Neither side holds all of the record as bytes at once (peak memory),
# and a name met in several big dicts (a source, its outputs, its memo) is one
# string in its piece, loaded once: marshal shares an object only within one
# call, and a fresh process pays for every object it loads.
_RECORD_HEAD = b"collectstatic record (marshal, by name ranges)\n"
_PIECE_SIZE = struct.Struct("=Q")
_PIECE_ENTRIES = 2048
_Where = tuple[str, ...]


def _read_record(path: Path, read: list[_Key] | None = None) -> dict[str, Any] | None:
    """A record this version of the format wrote, or None (none, or damaged:
    then everything counts as new). ``read`` is given the ``_out_key`` of the
    file that was read."""
    try:
        with open(path, "rb") as handle:
            if handle.read(len(_RECORD_HEAD)) != _RECORD_HEAD:
                return None
            stat = os.fstat(handle.fileno())
            if read is not None:
                read.append(_pack(_PACK_OUT, _OUT_FIELDS(stat)))
            left = stat.st_size - len(_RECORD_HEAD)
            value = None
            while True:
                head = handle.read(_PIECE_SIZE.size)
                (size,) = _PIECE_SIZE.unpack(head) if len(head) == _PIECE_SIZE.size else (-1,)
                left -= _PIECE_SIZE.size + size
                if size < 0 or left < 0:
                    return None  # cut short, or not a size: never a read of that much
                piece = marshal.loads(handle.read(size))
                if value is None:
                    value = piece
                    if type(value) is not dict:
                        return None
                elif piece is None:
                    break
                else:
                    for where, part in piece:
                        holder = value
                        for key in where[:-1]:
                            holder = holder[key]
                        holder.setdefault(where[-1], {}).update(part)
    except (OSError, EOFError, ValueError, TypeError, AttributeError, LookupError):
        return None
    return value if value.get("version") == STATE_VERSION else None


def _without_big_dicts(value: dict[str, Any], where: _Where
                       ) -> tuple[dict[str, Any], list[tuple[_Where, dict[str, Any]]]]:
    """``value`` without its big dicts, and those dicts with where they go."""
    small: dict[str, Any] = {}
    big = []
    for key, item in value.items():
        if type(item) is dict:
            if len(item) > _PIECE_ENTRIES:
                big.append(((*where, key), item))
                continue
            item, inner = _without_big_dicts(item, (*where, key))
            big += inner
        small[key] = item
    return small, big


def _write_record(path: Path, value: dict[str, Any], tmp_dir: Path, whole: bool = False
                  ) -> None:
    """Write ``value`` (dicts of plain values; big dicts have ``str`` keys,
    and come back in key order). ``whole``: in one piece, for a record of a
    few MB whose lists and dicts hold the same names."""
    small, big = (value, []) if whole else _without_big_dicts(value, ())

    def pieces() -> Iterator[Any]:
        yield small
        names = [(where, item, sorted(item)) for where, item in big]
        if names:
            longest = max((keys for _, _, keys in names), key=len)
            starts = [0] * len(names)
            for bound in [*longest[_PIECE_ENTRIES::_PIECE_ENTRIES], None]:
                piece = []
                for number, (where, item, keys) in enumerate(names):
                    start = starts[number]
                    end = len(keys) if bound is None else bisect.bisect_left(keys, bound, start)
                    if end > start:
                        part = keys[start:end]
                        piece.append((where, dict(zip(part, map(item.__getitem__, part)))))
                        starts[number] = end
                yield piece
        yield None

    with _atomic_file(path, tmp_dir, None) as handle:
        handle.write(_RECORD_HEAD)
        for piece in pieces():
            data = marshal.dumps(piece)
            handle.write(_PIECE_SIZE.pack(len(data)))
            handle.write(data)


# -- atomic file writing ------------------------------------------------------------

_counter = iter(range(1 << 62))
_counter_lock = threading.Lock()


def _tmp_name(tmp_dir: Path) -> str:
    with _counter_lock:
        number = next(_counter)
    return str(tmp_dir / f"{os.getpid()}-{number}")


def _open_new(path: str) -> int:
    # 0o666 & ~umask, like any new file, not mkstemp's 0o600.
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)


# Where the OS allows it (Linux, O_TMPFILE), a new file is an inode with no
# name in its destination's own directory, named with linkat(2) through
# /proc/self/fd once whole: a killed run leaves nothing behind, and no rename
# between directories takes the file system's rename lock (the benchmark's
# 15,700 files, one thread, two sets of interleaved runs: medians 2.3 s and
# 3.1 s against 3.5 s and 4.5 s for a temp file renamed into place).
# Elsewhere it is a named file under root/.collectstatic/tmp, renamed into
# place. An existing name is always replaced by a rename, so it is never
# missing or half-written.
_O_TMPFILE: int = getattr(os, "O_TMPFILE", 0)
_UNNAMED = bool(_O_TMPFILE) and os.path.isdir("/proc/self/fd")
_NO_UNNAMED = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)  # the file system has none
_anchor: list[int] = []


def _link_fd(fd: int, dest: str | Path) -> None:
    """Give the open file ``fd`` the name ``dest``."""
    if not _anchor:
        with _counter_lock:
            if not _anchor:
                _anchor.append(os.open("/", os.O_RDONLY))
    # Given a directory fd, os.link calls linkat(AT_SYMLINK_FOLLOW), which
    # follows the /proc link to the file (plain link(2) would not); the path is
    # absolute, so which directory does not matter.
    os.link(f"/proc/self/fd/{fd}", dest, src_dir_fd=_anchor[0], follow_symlinks=True)


class _NewFile:
    """A file being written; it has a name only once :meth:`publish` gives it one."""

    def __init__(self, directory: str | Path, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.tmp: str | None = None  # the named stand-in, where unnamed files are not possible
        fd = -1
        if _UNNAMED:
            try:
                fd = os.open(directory, _O_TMPFILE | os.O_WRONLY, 0o666)
            except OSError as exc:
                if exc.errno not in _NO_UNNAMED:
                    raise
        if fd < 0:
            self.tmp = _tmp_name(tmp_dir)
            fd = _open_new(self.tmp)
        self.fd = fd

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def publish(self, dests: list[str] | list[Path], mode: int | None) -> _Key:
        """Name the file ``dests``, each whole or not at all; return its ``_out_key``."""
        if mode is not None and self.tmp is not None:
            os.chmod(self.tmp, mode)  # (no os.fchmod on Windows before Python 3.13)
        elif mode is not None:
            os.fchmod(self.fd, mode)
        info = os.fstat(self.fd)
        if self.tmp is None:
            for dest in dests:
                try:
                    _link_fd(self.fd, dest)
                except FileExistsError:
                    tmp = _tmp_name(self.tmp_dir)
                    _link_fd(self.fd, tmp)
                    _replace(tmp, dest)
        elif dests:
            for dest in dests[1:]:
                if not _link_atomic(Path(self.tmp), dest, self.tmp_dir):
                    import shutil  # (only where hard links fail)

                    copy = _tmp_name(self.tmp_dir)
                    shutil.copyfile(self.tmp, copy)
                    _replace(copy, dest)
            os.replace(self.tmp, dests[0])
            self.tmp = None
        return _pack(_PACK_OUT, _OUT_FIELDS(info))

    def close(self) -> None:
        os.close(self.fd)
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


def _replace(tmp: str, dest: str | Path) -> None:
    try:
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _new_file(directory: str | Path, tmp_dir: Path) -> Iterator[_NewFile]:
    new = _NewFile(directory, tmp_dir)
    try:
        yield new
    finally:
        new.close()


@contextlib.contextmanager
def _atomic_file(dest: Path, tmp_dir: Path, mode: int | None) -> Iterator[Any]:
    """A binary file that appears at ``dest`` whole, or not at all."""
    with _new_file(dest.parent, tmp_dir) as new:
        yield new
        new.publish([dest], mode)


def _write_bytes_atomic(dest: str | Path, data: bytes, tmp_dir: Path, mode: int | None
                        ) -> _Key:
    """Write ``data`` as ``dest`` (whole or not at all); return its ``_out_key``."""
    with _new_file(os.path.dirname(dest), tmp_dir) as new:
        new.write(data)
        return new.publish([dest], mode)


_buffers = threading.local()


def _read_buffer() -> memoryview:
    """This thread's read buffer. (``read(CHUNK)`` allocates CHUNK bytes for every
    call, a 14 KB file included, above malloc's mmap threshold: py-spy put 3 s
    of a cold run's CPU on that read.)"""
    view = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = memoryview(bytearray(CHUNK))
    return view


def _copy_hashing(source: str, directory: str | Path | None, tmp_dir: Path,
                  names: Callable[[str], list[str]] | None = None, mode: int | None = None
                  ) -> tuple[str, str, int, _Key | None]:
    """Stream ``source`` into a new file in ``directory`` (if given) named
    ``names(md5)``; return (md5, sha384 SRI, size, the new file's ``_out_key``)."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha384()
    total = 0  # bytes read
    try:
        src = open(source, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CollectError(f"{source}: cannot read ({exc.strerror})") from None
    buffer = _read_buffer()
    with src, (_new_file(directory, tmp_dir) if directory is not None
               else contextlib.nullcontext()) as new:
        while True:
            try:
                size = src.readinto(buffer)
            except OSError as exc:
                raise CollectError(f"{source}: cannot read ({exc.strerror})") from None
            if not size:
                break
            total += size
            chunk = buffer[:size]
            md5.update(chunk)
            sha.update(chunk)
            if new is not None:
                new.write(chunk)
        digest = md5.hexdigest()
        key = new.publish(names(digest), mode) if new is not None and names else None
    return digest, _sri(sha), total, key


def _variant_of(name: str) -> str:
    """``css/a.css.gz`` -> ``css/a.css``; other names unchanged."""
    from .codecs import ALGORITHMS

    for algorithm in ALGORITHMS.values():
        if name.endswith(algorithm.suffix):
            return name[: -len(algorithm.suffix)]
    return name


def _link_atomic(existing: str | Path, dest: str | Path, tmp_dir: Path) -> bool:
    """Hard-link ``existing`` as ``dest``; False where links are not possible."""
    try:
        os.link(existing, dest)  # a link appears whole or not at all
        return True
    except FileExistsError:
        pass
    except OSError:
        return False
    tmp = _tmp_name(tmp_dir)
    try:
        os.link(existing, tmp)
        os.replace(tmp, dest)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file ``path`` holds ``data`` (read a piece at a time, never a
    second copy of it whole; reading is cheaper than hashing it)."""
    view = memoryview(data)
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size != len(data):
                return False
            return all(handle.read(CHUNK) == view[start:start + CHUNK]
                       for start in range(0, len(data), CHUNK))
    except OSError:
        return False


def _sri(sha: Any) -> str:
    return "sha384-" + base64.b64encode(sha.digest()).decode("ascii")


# -- the run ------------------------------------------------------------------------

class _Copied(NamedTuple):
    """What ``copy_one`` did, for the run to record (it may run in another process)."""

    entry: _Entry  # the source's record
    copied: bool  # False: the same bytes as recorded, nothing written
    out_key: _Key | None  # the new file's _out_key, if one was written
    plain: bool  # the new file has the plain name
    hashed: str  # the hashed name it was given as well, or ""
    messages: list[tuple[str, int]]


class _Plan(NamedTuple):
    """What post-processing decided, before anything is written."""

    paths: dict[str, str]  # logical -> hashed
    extra: dict[str, Any]  # hashed -> {"integrity", "size"}
    jobs: list[tuple[str, str, bytes | None]]  # hashed outputs to write
    warnings: list[str]
    final_digests: dict[str, str]  # logical -> md5 of the hashed file's bytes
    memo: dict[str, Any]  # for the next run (manifest.post_process)


class _Run:
    def __init__(self, settings: Settings, options: CollectOptions, log: Log | None,
                 verbosity: int = 3) -> None:
        self.settings = settings
        self.options = options
        self.root = settings.root
        self.verbosity = verbosity if log is not None else 0
        self.log: Log = lambda message, level: None
        if log is not None:
            def filtered(message: str, level: int) -> None:
                if level <= verbosity:
                    log(message, level)

            # (the loops over every file do not even make their messages then)
            self.log = log if verbosity >= 3 else filtered
        self.link = settings.link
        self.post = settings.manifest and options.post_process
        self.keep_plain = settings.keep_unhashed or not self.post
        self.state = _State(self.root)
        self.tmp_dir = self.root / STATE_DIR / "tmp"
        self.result = CollectResult(root=self.root, link=self.link, dry_run=options.dry_run)
        self.made_dirs: set[str] = set()
        self._previous_manifest: dict[str, Any] | None = None
        self.dir_lock = threading.Lock()
        # From what copy_one returned: output name -> _out_key of what this
        # run wrote, and logical name -> hashed name written early.
        self.written: dict[str, _Key] = {}
        self.early: dict[str, str] = {}

    # directories -----------------------------------------------------------------
    def ensure_dir(self, directory: str | Path) -> None:
        # (strings, not Paths: this runs for every file copied)
        directory = os.fspath(directory)
        if directory in self.made_dirs:
            return
        with self.dir_lock:
            missing = []
            current = directory
            while current and not os.path.isdir(current):
                missing.append(current)
                parent = os.path.dirname(current)
                if parent == current:
                    break
                current = parent
            for path in reversed(missing):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(path)
                if self.settings.dir_mode is not None:
                    os.chmod(path, self.settings.dir_mode)
            self.made_dirs.add(directory)

    def parallel(self, function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``[function(item) for item in items]`` on the workers, in order; the
        function may run in another process (``_parallel``): it returns what it did."""
        return parallel_map(function, items, self.settings.workers)

    # phase 0 ---------------------------------------------------------------------
    def clear(self) -> None:
        if not self.root.exists():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in sorted(filenames) + [d for d in dirnames
                                              if os.path.islink(os.path.join(dirpath, d))]:
                rel = os.path.relpath(os.path.join(dirpath, name), self.root)
                if rel.split(os.sep)[0] == STATE_DIR:
                    continue
                self.result.deleted.append(rel.replace(os.sep, "/"))
                self.log(f"{'Pretending to delete' if self.options.dry_run else 'Deleting'} "
                         f"'{rel}'", 2)
        if self.options.dry_run:
            return
        for entry in os.scandir(self.root):
            if entry.name == STATE_DIR:
                continue  # holds the lock of this run; the record is reset below
            try:
                if entry.is_dir(follow_symlinks=False):
                    import shutil  # (only here: a run that clears)

                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError as exc:
                raise CollectError(f"{entry.path}: cannot delete ({exc.strerror})") from None
        for path in (self.state.path, self.state.changes_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.state = _State(self.root)

    # phase 1 ---------------------------------------------------------------------
    def scan_outputs(self, outputs: list[str], early: bool) -> Background[list[bytes]]:
        """The ``_out_key`` of each of ``outputs``, as ``_outputs_piece`` s;
        ``early``: begun now in another process, while this one lists the
        sources (most of a no-change run is these stat calls and the listing)."""
        prefix = self.state.prefix

        def scan() -> list[bytes]:
            return [_outputs_piece(_output_keys(prefix, outputs[start:start + _STAT_RUN]))
                    for start in range(0, len(outputs), _STAT_RUN)]

        return Background(scan, forked=early and self.settings.workers > 1 and
                          len(outputs) >= MIN_FORK_ITEMS)

    def stat_all(self, files: list[Found], outputs: list[str], scan: Background[list[bytes]]
                 ) -> tuple[list[_Key], str]:
        """Each source's stat key, in order, and the fingerprint of ``outputs``
        (the last run's, ``_LastRun``) as ``scan`` found them. The outputs'
        keys are kept (``_State.scan``): a full run takes from them the
        outputs that are as recorded (``sure``)."""
        paths = [found.path for found in files]

        def stat_run(start: int) -> list[_Key]:
            return _source_keys(paths[start:start + _STAT_RUN])

        starts = list(range(0, len(paths), _STAT_RUN))
        if scan.child is not None:  # the other core is on the outputs
            done = list(map(stat_run, starts))
        else:  # (stat calls hold the GIL between them: threads would take turns)
            done = parallel_map(stat_run, starts, self.settings.workers, threads=False)
        pieces: list[bytes] = scan.result()
        if outputs:
            self.state.scan = (outputs, pieces)
        return [key for run in done for key in run], _outputs_fingerprint(pieces)

    def inputs_key(self, files: list[Found], keys: list[_Key]) -> str:
        """The fingerprint of everything a run's answer depends on: this tool,
        the settings, the options that change outputs, and every source."""
        from . import __version__

        settings = repr(dataclasses.replace(self.settings, workers=1))
        return _fingerprint([__version__, settings, self.options.post_process,
                             [found.name for found in files],
                             [found.path for found in files], keys])

    def unchanged(self, files: list[Found], keys: list[_Key]
                  ) -> tuple[dict[str, _Entry], list[tuple[Found, _Key]]]:
        """The record entries of the files that, with their outputs, are as
        recorded (by their stat ``keys``); the others with their keys.

        (The loop every run makes over every file, so written out flat.)"""
        sources, keep_plain, link = self.state.sources, self.keep_plain, self.link
        intact, sure = self.state.output_intact, self.state.sure
        same: dict[str, _Entry] = {}
        changed = []
        for found, key in zip(files, keys):
            old = sources.get(found.name)
            # (same_kind, inline)
            if old is not None and old[_STAT] == key and old[_PATH] == found.path and \
                    old[_LINK] == link and old[_KEEP] == keep_plain and \
                    (not keep_plain or found.name in sure or intact(found.name)):
                same[found.name] = old
            else:
                changed.append((found, key))
        return same, changed

    def same_kind(self, old: _Entry, found: Found) -> bool:
        """Whether the recorded output was made from this source, the same way."""
        return old[_PATH] == found.path and old[_LINK] == self.link and \
            old[_KEEP] == self.keep_plain

    def copy_one(self, job: tuple[Found, _Key]) -> _Copied:
        """Bring ``found`` into root."""
        found, key = job
        old = self.state.sources.get(found.name)
        keep_plain = self.keep_plain
        same_source = old is not None and self.same_kind(old, found)
        dest = self.state.prefix + found.name
        verb = "link" if self.link else "copy"
        if self.options.dry_run:
            entry = (found.path, key, self.link, keep_plain, *(old[_MD5:] if old else ("", "", 0)))
            return _Copied(entry, True, None, False, "", [(f"Pretending to {verb} "
                                                           f"'{found.path}'", 1)])
        if same_source and (not keep_plain or self.state.output_intact(found.name)):
            # Touched (checkout, cache restore) but maybe the same bytes: a
            # read is cheaper than a write.
            md5, _, _, _ = _copy_hashing(found.path, None, self.tmp_dir)
            if md5 == old[_MD5]:
                return _Copied((*old[:_STAT], key, *old[_STAT + 1:]), False, None, False, "",
                               [(f"Skipping '{found.name}' (not modified)", 2)])
        from .rewrite import hashed_name, is_adjustable  # not needed when nothing changed

        # A file post-processing cannot change (not CSS/JS) gets its hashed
        # name now, from the same bytes: no second pass reads or links it.
        early = self.post and not is_adjustable(found.name, self.settings.js_modules)
        plain = keep_plain and not self.link  # a copy; with link, a symlink below
        hashed = ""

        def names(md5: str) -> list[str]:
            nonlocal hashed
            dests = [dest] if plain else []
            if early:
                candidate = hashed_name(found.name, md5)
                if not self.state.output_intact(candidate):
                    hashed = candidate
                    dests.append(self.state.prefix + hashed)
            return dests

        directory = os.path.dirname(dest)
        if plain or early:
            self.ensure_dir(directory)
        md5, sri, size, out_key = _copy_hashing(
            found.path, directory if plain or early else None, self.tmp_dir, names,
            self.settings.file_mode)
        messages = []
        if out_key is not None and hashed:
            messages.append((f"Post-processed '{found.name}' as '{hashed}'", 2))
        if self.link and keep_plain:
            self.ensure_dir(directory)
            tmp = _tmp_name(self.tmp_dir)
            try:
                os.symlink(found.path, tmp)
                os.replace(tmp, dest)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise CollectError(f"{dest}: cannot create symlink ({exc.strerror})") from None
        messages.append((f"{'Linking' if self.link else 'Copying'} '{found.path}'", 2))
        entry = (found.path, key, self.link, keep_plain, md5, sri, size)
        return _Copied(entry, True, out_key, plain, hashed, messages)

    def record_copies(self, pending: list[tuple[Found, _Key]], done: list[_Copied],
                      records: dict[str, _Entry]) -> None:
        """Take in what ``copy_one`` did for each of ``pending``."""
        for (found, _), copied in zip(pending, done):
            records[found.name] = copied.entry
            for message, level in copied.messages:
                self.log(message, level)
            (self.result.copied if copied.copied else self.result.unmodified).append(found.name)
            if copied.out_key is not None:
                if copied.plain:
                    self.written[found.name] = copied.out_key
                if copied.hashed:
                    self.written[copied.hashed] = copied.out_key
                    self.early[found.name] = copied.hashed

    # phase 2 ---------------------------------------------------------------------
    def post_key(self) -> str:
        """What the whole post-processing answer depends on, but the files'
        digests (the memo has those, and a dict compares faster than a
        fingerprint of 15,000 of them is made)."""
        settings = self.settings
        return _fingerprint([settings.static_url, settings.js_modules,
                             settings.strict, self.keep_plain, settings.manifest_name,
                             [(name, settings.level(name)) for name in settings.compress],
                             settings.compress_skip])

    def previous_paths(self, key: str, digests: Mapping[str, str]) -> dict[str, str] | None:
        """The last run's hashed names if its answer stands: same settings
        (``key``) and digests, its outputs and manifest intact."""
        previous = self.state.post
        same = previous.get("key") == key and previous["memo"].get("digests") == digests
        old_paths = self.previous_manifest().get("paths") if same else None
        if old_paths is not None and all(
                self.state.output_intact(output)
                for output in [*old_paths.values(), *previous.get("variants", [])]):
            return old_paths
        return None

    def post_process(self, files: Mapping[str, Found],
                     records: Mapping[str, _Entry]) -> None:
        """Hashed names, the hashed outputs, compressed variants and the manifest."""
        settings = self.settings
        digests = {name: records[name][_MD5] for name in files}
        key = self.post_key()
        old_paths = self.previous_paths(key, digests)
        previous = self.state.post
        if old_paths is not None:
            # The previous answer stands, and nothing is written.
            paths, variants = old_paths, previous.get("variants", [])
            self.result.warnings.extend(previous["warnings"])
            self.result.rewritten = previous["rewritten"]
        else:
            plan = self.plan_hashes(records, self.process(files, digests))
            paths, extra = plan.paths, plan.extra
            self.write_hashed(files, plan.jobs)
            plan.jobs.clear()  # written: their bytes go before the manifest is built
            variants = []
            if settings.compress:
                outputs = {paths[name]: plan.final_digests[name] for name in files}
                if self.keep_plain:
                    outputs.update(digests)
                made = self.compress(outputs)
                for hashed in paths.values():
                    extra[hashed]["encodings"] = made.get(hashed, {})
                variants = self.result.variants
            self.state.post = {"key": key, "warnings": plan.warnings,
                               "rewritten": self.result.rewritten, "memo": plan.memo,
                               "variants": variants}
            self.write_manifest(paths, extra)
        self.result.manifest = paths
        self.result.variants = list(variants)

    def previous_manifest(self) -> dict[str, Any]:
        """The manifest the last run wrote if it is still as written, parsed, or
        {} (read once)."""
        from .manifest import read_manifest

        if self._previous_manifest is None:
            self._previous_manifest = {}
            name = self.settings.manifest_name
            if self.state.output_intact(name):
                with contextlib.suppress(OSError, ValueError):
                    self._previous_manifest = read_manifest((self.root / name).read_bytes())
        return self._previous_manifest

    def compress(self, outputs: Mapping[str, str]) -> dict[str, dict[str, int]]:
        """Precompressed siblings of ``outputs`` (root-relative name -> md5)."""
        from .compress import compress_outputs

        settings = self.settings
        cache = self.options.compress_cache or self.root / STATE_DIR / "compress"
        with _cyclic_gc(True):  # (each GzipFile is a cycle, with a 128 KiB buffer)
            made = compress_outputs(self.root, sorted(outputs.items()), settings.compress,
                                    {name: settings.level(name) for name in settings.compress},
                                    tmp_dir=self.tmp_dir, cache_dir=cache, workers=settings.workers,
                                    file_mode=settings.file_mode, skip=settings.compress_skip)
        self.result.warnings.extend(made.warnings)
        self.result.compressed = made.compressed
        self.result.variants = list(made.files)
        for name in made.files:
            self.state.set_output(name, _out_key(os.path.join(self.root, name)) or b"")
        self.log(f"Compressed {made.compressed} variant(s), {made.cached} from the cache", 2)
        return made.variants

    def process(self, files: Mapping[str, Found], digests: Mapping[str, str]) -> Processed:
        """Every hashed name and rewritten file (``manifest.post_process``)."""
        from .manifest import post_process

        def read(name: str) -> bytes:
            try:
                with open(files[name].path, "rb") as handle:
                    return handle.read()
            except OSError as exc:
                raise CollectError(f"{files[name].path}: cannot read ({exc.strerror})") from None

        def map_files(function: Callable[[str], Any], names: list[str]) -> list[Any]:
            # Rewriting is Python through and through: threads would only take turns.
            return parallel_map(function, names, self.settings.workers, threads=False)

        memo = self.state.post.get("memo")
        options = {"static_url": self.settings.static_url, "js_modules": self.settings.js_modules,
                   "map_files": map_files}
        processed = post_process(digests, read, memo=memo, **options)
        reused = {processed.paths[name] for name in processed.reused}
        if not all(map(self.state.output_intact, reused - self.state.sure)):
            # A remembered output was damaged or removed: its bytes are needed again.
            processed = post_process(digests, read, **options)
        return processed

    def plan_hashes(self, records: Mapping[str, _Entry], processed: Processed
                    ) -> _Plan:
        """Integrity of every hashed output, and which ones to write."""
        remembered = processed.memo["files"]
        warnings = list(processed.warnings)
        if processed.errors:
            if self.settings.strict:
                raise BrokenReferencesError(processed.errors)
            warnings += [f"{problem} (left unchanged: strict = false)"
                         for problem in processed.errors]
        self.result.warnings.extend(warnings)
        self.result.rewritten = processed.rewritten_count
        paths = dict(processed.paths)  # (in name order, as every mapping of Processed)
        extra: dict[str, Any] = {}
        jobs = []
        # (a loop over every file of every run that post-processes: names looked up once)
        reused, rewritten, early = processed.reused, processed.rewritten, self.early
        intact, sure = self.state.output_intact, self.state.sure
        for name, hashed in paths.items():
            data = rewritten.get(name)
            if name in reused and "final" in remembered[name]:
                entry = remembered[name]  # (rewritten by an earlier run)
                extra[hashed] = {"integrity": entry["integrity"], "size": entry["size"]}
            elif data is not None:
                extra[hashed] = {"integrity": processed.integrity[name], "size": len(data)}
            else:
                record = records[name]
                extra[hashed] = {"integrity": record[_SRI], "size": record[_SIZE]}
            # (process() found every reused output intact just now)
            if name not in early and name not in reused and hashed not in sure and \
                    not intact(hashed):
                jobs.append((name, hashed, data))
        return _Plan(paths, dict(sorted(extra.items())), jobs, warnings,
                     dict(processed.final_digests), processed.memo)

    def write_hashed(self, files: Mapping[str, Found], jobs: list[tuple[str, str, bytes | None]]
                     ) -> None:
        def write(job: tuple[str, str, bytes | None]) -> _Key | None:
            """Write one hashed output; return its _out_key if known already."""
            name, hashed, data = job
            dest = self.state.prefix + hashed
            directory = os.path.dirname(dest)
            self.ensure_dir(directory)
            if data is not None:
                return _write_bytes_atomic(dest, data, self.tmp_dir, self.settings.file_mode)
            # Same bytes as the plain copy just made: share them.
            if not self.link and self.state.output_intact(name) and \
                    _link_atomic(self.state.prefix + name, dest, self.tmp_dir):
                return None
            return _copy_hashing(files[name].path, directory, self.tmp_dir,
                                 lambda _: [dest], self.settings.file_mode)[3]

        for (name, hashed, _), key in zip(jobs, self.parallel(write, jobs)):
            self.log(f"Post-processed '{name}' as '{hashed}'", 2)
            self.result.post_processed.append(name)
            self.state.set_output(hashed, key or _out_key(str(self.root / hashed)) or b"")

    def write_manifest(self, paths: Mapping[str, str], extra: Mapping[str, Any]) -> None:
        """Write the manifest unless the one in root, as this tool left it, has
        these bytes already."""
        from .manifest import manifest_bytes

        self._previous_manifest = {}  # (its memory goes before the new one is made)
        name = self.settings.manifest_name
        manifest_path = self.root / name
        data = manifest_bytes(paths, {"collectstatic": {"version": 1, "files": extra}})
        if not (self.state.output_intact(name) and _holds(manifest_path, data)):
            _write_bytes_atomic(manifest_path, data, self.tmp_dir, self.settings.file_mode)
        self.state.set_output(name, _out_key(str(manifest_path)) or b"")

    # phase 3 ---------------------------------------------------------------------
    def remove_stale(self, wanted: set[str]) -> None:
        """Delete what earlier runs wrote and this one no longer wants (never a dry run)."""
        for name in sorted(set(self.state.outputs) - wanted):
            path = self.root / name
            if os.path.lexists(path) and self.state.output_intact(name):
                self.log(f"Deleting '{name}' (no longer collected)", 2)
                os.unlink(path)
                self.prune_empty_dirs(path.parent)
                self.result.deleted.append(name)
            self.state.set_output(name, None)

    def apply_file_mode(self) -> None:
        """A changed file-mode reaches files that were not rewritten, once."""
        mode = self.settings.file_mode
        if mode is not None and self.state.file_mode != mode:
            for name in self.state.outputs:
                path = os.path.join(self.root, name)
                if not os.path.islink(path):
                    with contextlib.suppress(FileNotFoundError):
                        os.chmod(path, mode)
        self.state.file_mode = mode

    def prune_empty_dirs(self, directory: Path) -> None:
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def run(self) -> CollectResult:
        options = self.options
        last_run = _LastRun(self.root)
        answer = None if options.clear or options.dry_run else last_run.load()
        scan = self.scan_outputs(answer["outputs"] if answer else [], early=True)
        try:
            return self.run_scanning(last_run, answer, scan)
        finally:
            scan.close()

    def run_scanning(self, last_run: _LastRun, answer: dict[str, Any] | None,
                     scan: Background[list[bytes]]) -> CollectResult:
        """The run, ``scan`` of the outputs ``answer`` lists under way."""
        settings, options = self.settings, self.options
        listing = list_sources(settings, options.extra_ignore)
        self.check_reserved_names(listing)
        self.result.skipped = [found.name for found in listing.conflicts]
        for found in listing.conflicts:
            self.log(f"Found another file with the destination path '{found.name}'. It will be "
                     f"ignored since only the first encountered file is collected. If this is "
                     f"not what you want, make sure every static file has a unique path.", 2)
        for pattern in listing.unused_patterns:
            self.result.warnings.append(
                f"ignore pattern {pattern!r} matched nothing (directories match by name only, "
                f"e.g. 'vendor'; files by name or by path relative to their source dir, "
                f"e.g. 'css/*.map')")
        self.result.warnings.extend(settings.warnings)
        for group in name_collisions(listing.files):
            # NFC and NFD spellings look alike: show those with escapes.
            alike = len({unicodedata.normalize("NFC", name) for name in group}) < len(group)
            self.result.warnings.append(
                " and ".join(map(ascii if alike else repr, group)) + " differ only in letter "
                "case or Unicode normalization: they are one file on case- or "
                "normalization-insensitive file systems (macOS, Windows); rename all but one")

        settled = len(self.result.warnings)  # those before are the listing's, made anew each run
        with self.locked():
            files = list(listing.files.values())
            if answer is not None and not last_run.same_as_read():
                # Another run ended while this one waited: its answer, a new scan.
                scan.close()
                answer = last_run.load()
                scan = self.scan_outputs(answer["outputs"] if answer else [], early=False)
            keys, outputs_key = self.stat_all(files, answer["outputs"] if answer else [], scan)
            inputs = ""
            record: _Key | None = None  # the record's _out_key when the outputs were as left
            if not options.dry_run:
                inputs = self.inputs_key(files, keys)
                if answer is not None and answer["outputs_key"] == outputs_key:
                    if answer["inputs"] == inputs:
                        self.repeat(answer, files)
                        return self.result
                    record = answer["record"]
                del answer  # (its manifest is not needed: memory for the full run)
                last_run.forget()
            if options.clear:
                self.clear()
            elif self.root.exists():
                self.state.load()
                # Every output as the last run left it, and this is its record:
                # the scan matches the record without a look at each key.
                self.state.take_scan(record is not None and
                                     self.state.key() == record)
            records, pending = self.unchanged(files, keys)
            self.result.unmodified.extend(records)
            if self.verbosity >= 2:
                for name in records:
                    self.log(f"Skipping '{name}' (not modified)", 2)
            self.record_copies(pending, self.parallel(self.copy_one, pending), records)
            wanted: set[str] = set()
            order: list[str] = []  # wanted as added, near name order: sorted at little cost
            copied = set(self.result.copied)
            for found in files:
                if records[found.name][_KEEP] and not options.dry_run:
                    wanted.add(found.name)
                    order.append(found.name)
                    if found.name in copied or found.name not in self.state.outputs:
                        self.state.set_output(found.name, self.written.get(found.name) or
                                              _out_key(str(self.root / found.name)) or b"")
            for name, hashed in self.early.items():
                self.state.set_output(hashed, self.written[hashed])
                self.result.post_processed.append(name)
            old_plain = {name for name, entry in self.state.sources.items() if entry[_KEEP]}
            finished = False
            try:
                if self.post and not options.dry_run:
                    self.post_process(listing.files, records)
                    hashed = [*self.result.manifest.values(), settings.manifest_name]
                    wanted.update(hashed)
                    order += hashed
                elif settings.compress and options.post_process and not options.dry_run:
                    # manifest = false: the plain copies get their siblings.
                    self.compress({name: records[name][_MD5] for name in records})
                    old_plain |= {name for name in self.state.outputs
                                  if _variant_of(name) in old_plain}
                wanted.update(self.result.variants)
                order += self.result.variants
                finished = True
            finally:
                if not options.dry_run:
                    self.state.sources = records
                    if not self.post or not finished:
                        # The manifest and hashed outputs of earlier runs stay
                        # (after a failure: the old manifest must keep working);
                        # only plain copies whose source is gone go.
                        kept = set(self.state.outputs) - old_plain - wanted
                        wanted |= kept
                        order += kept
                    self.remove_stale(wanted)
                    self.apply_file_mode()
                    self.state.save(self.tmp_dir)
            self.result.copied.sort()
            self.result.unmodified.sort()
            self.result.post_processed.sort()
            # (order repeats a name only if a plain name is also a hashed one)
            self.result.files = sorted(order if len(order) == len(wanted) else wanted)
            if not options.dry_run:
                self.remember(last_run, inputs, self.result.warnings[settled:])
        return self.result

    def remember(self, last_run: _LastRun, inputs: str, warnings: list[str]) -> None:
        """Save this run's answer for ``repeat``, if every output is accounted for."""
        outputs = self.state.outputs
        names = self.result.files  # (sorted, each name once)
        if len(names) != len(outputs) or not all(map(outputs.__contains__, names)) or \
                not all(outputs.values()):
            return  # (not expected: then every run takes the full path)
        pieces = [_outputs_piece(list(map(outputs.__getitem__, names[start:start + _STAT_RUN])))
                  for start in range(0, len(names), _STAT_RUN)]
        last_run.save({"inputs": inputs, "outputs": names,
                       "outputs_key": _outputs_fingerprint(pieces),
                       "record": self.state.key() or b"",
                       "manifest": self.result.manifest, "variants": self.result.variants,
                       "rewritten": self.result.rewritten, "warnings": warnings},
                      self.tmp_dir)

    def repeat(self, answer: dict[str, Any], files: list[Found]) -> None:
        """Take the last run's ``answer`` as this run's: its sources, settings
        and outputs are as they were (``_LastRun``)."""
        result = self.result
        if self.verbosity >= 2:
            for found in files:
                self.log(f"Skipping '{found.name}' (not modified)", 2)
        result.unmodified = sorted(found.name for found in files)
        result.files = answer["outputs"]
        result.manifest = answer["manifest"]
        result.variants = answer["variants"]
        result.rewritten = answer["rewritten"]
        result.warnings.extend(answer["warnings"])

    def check_reserved_names(self, listing: Listing) -> None:
        """Names in root that are ours: a source file there would be clobbered."""
        manifest_name = self.settings.manifest_name
        # (a cheap sieve first: this looks at every name of every run)
        for name in [name for name in listing.files
                     if name.startswith(STATE_DIR) or name == manifest_name]:
            found = listing.files[name]
            if name.split("/", 1)[0] == STATE_DIR:
                raise CollectError(f"{found.path}: collects as {name!r}, but {STATE_DIR}/ in "
                                   f"root holds collectstatic's own record; rename it or add "
                                   f"{STATE_DIR!r} to ignore")
            if self.post and name == manifest_name:
                raise CollectError(f"{found.path}: collects as {name!r}, the name of the "
                                   f"manifest; rename it, ignore it, or set manifest-name")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        if self.options.dry_run:
            yield
            return
        try:
            self.ensure_dir(self.root)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CollectError(f"{self.root}: cannot create root ({exc.strerror}); check the "
                               f"path and its permissions") from None
        if not os.access(self.root, os.W_OK):
            raise CollectError(f"{self.root}: root is not writable; fix its permissions or "
                               f"choose another root")
        lock_path = self.root / STATE_DIR / "lock"
        handle = open(lock_path, "a+b")  # noqa: SIM115 - closed in finally
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: no advisory lock
                fcntl = None  # type: ignore[assignment]
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self.log(f"Waiting for another collectstatic run into {self.root}", 1)
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            for leftover in self.tmp_dir.iterdir():  # from a run that was killed
                with contextlib.suppress(OSError):
                    leftover.unlink()
            yield
        finally:
            handle.close()


@contextlib.contextmanager
def _cyclic_gc(enabled: bool) -> Iterator[None]:
    """Python's cycle collector on or off for a while, then as it was.

    A run makes no cyclic garbage (tests/test_writes.py checks), but it holds
    a large record and makes many objects: the collector's passes over them
    were a tenth of a one-change run. Compression turns it back on.
    """
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        yield
    finally:
        (gc.enable if was else gc.disable)()


# Finished runs, kept rather than freed when the process ends right after them
# (``keep_runs``).
_kept_runs: list[_Run] | None = None


def keep_runs() -> None:
    """Keep every run's objects to the end of the process, for a caller that
    ends it with ``os._exit`` (the command line): freeing a large tree's
    record object by object is work the exit does at once."""
    global _kept_runs
    _kept_runs = []


def collect(settings: Settings, options: CollectOptions | None = None, *,
            log: Log | None = None, verbosity: int = 3) -> CollectResult:
    """Collect into ``settings.root``; see the module docstring for the phases.
    ``log(message, level)`` is given the messages up to level ``verbosity``
    (Django's: 1 says what was done, 2 every file, 3 more)."""
    run = _Run(settings, options or CollectOptions(), log, verbosity)
    if _kept_runs is not None:
        _kept_runs.append(run)
    try:
        with _cyclic_gc(False):
            return run.run()
    except OSError as exc:
        # os.replace/os.link name our temporary file first: the output is the
        # second name, and the one the user can do something about.
        path = exc.filename2 if exc.filename2 is not None else exc.filename
        if isinstance(exc, PermissionError):
            raise CollectError(f"{path}: permission denied ({exc.strerror})") from None
        if path:
            raise CollectError(f"{path}: {exc.strerror}") from None
        raise CollectError(f"{settings.root}: {exc.strerror or exc}") from None

