"""The record of a collection: ``root/.collectstatic/state.marshal``.

One file, written whole by every run that changed something: each source
seen (:class:`Source`), each output written with its stat key, the last
post-processing answer with its memo, the hashed outputs of the last
versions (:class:`Versions`, for ``keep-versions``), and the last run's result
(:class:`Answer`) with the fingerprint of the settings it was made with, so
that a run over unchanged sources and outputs repeats it. A record this
version did not write, or a damaged one, reads as empty: everything is new.

It is marshal data after a one-line head (Python's own format for plain
values, read and written in C), in two parts: first what the shortcut needs
(:class:`Shortcut`: fingerprints of the settings, the sources and the
outputs, and the answer), then the rest, which a run that repeats the answer
never loads. It is this tool's alone, never shipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import marshal
import operator
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .config import STATE_DIR
from .errors import CollectError
from .files import write_whole

__all__ = ["Answer", "Record", "Shortcut", "Source", "StatKey", "Versions", "fingerprint",
           "out_key", "output_keys", "read_record", "read_shortcut", "recorded_outputs",
           "remove_record", "source_keys", "stat_key", "write_record"]

RECORD_NAME = "state.marshal"
_HEAD = b"collectstatic record 6 (marshal)\n"
_PART_SIZES = struct.Struct("<QQ")  # of the two parts: a file cut short is seen as such
# Bookkeeping files of earlier versions: removed when a record is saved.
_OLD_FILES = ("state-changes.marshal", "last-run.marshal", "state.json")

# What tells a file that changed without reading it. Sources: size, mtime,
# inode and ctime (which tools that reset mtimes, a git checkout, a wheel
# unpack, a Docker layer, cannot set: a rewritten file always looks changed).
# Outputs: size, mtime and inode, as this tool wrote them. Packed as bytes:
# compact in the record, and compared in C.
StatKey = bytes
_SOURCE_FIELDS = operator.attrgetter("st_size", "st_mtime_ns", "st_ino", "st_ctime_ns")
_OUT_FIELDS = operator.attrgetter("st_size", "st_mtime_ns", "st_ino")
_PACK_SOURCE = struct.Struct("<QqQq").pack
_PACK_OUT = struct.Struct("<QqQ").pack


def _pack(pack: Callable[..., bytes], fields: tuple[int, ...]) -> StatKey:
    try:
        return pack(*fields)
    except struct.error:  # out of range (Windows has 128-bit inodes): equal all the same
        return repr(fields).encode()


def stat_key(info: os.stat_result) -> StatKey:
    """The key of an output from its stat."""
    return _pack(_PACK_OUT, _OUT_FIELDS(info))


def out_key(path: str | Path) -> StatKey | None:
    """The key of the output at ``path`` (not following a symlink); None if it is gone."""
    try:
        return stat_key(os.lstat(path))
    except OSError:
        return None


def output_keys(prefix: str, names: list[str]) -> list[StatKey | None]:
    """:func:`out_key` of ``prefix + name`` for each name (one C loop when all exist)."""
    try:
        return list(itertools.starmap(
            _PACK_OUT, map(_OUT_FIELDS, map(os.lstat, map(prefix.__add__, names)))))
    except (OSError, struct.error):
        return [out_key(prefix + name) for name in names]


def source_keys(paths: list[str]) -> list[StatKey]:
    """Each source's stat key; a source that cannot be looked at is an error."""
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


def fingerprint(value: Any) -> str:
    """md5 of plain ``value``: marshal's version 2 has no back-references, so
    equal values give equal bytes."""
    return hashlib.md5(marshal.dumps(value, 2), usedforsecurity=False).hexdigest()


class Source(NamedTuple):
    """A source file as the run that brought it in saw it."""

    path: str  # where it was
    stat: StatKey
    link: bool  # symlinked rather than copied
    keep: bool  # its unhashed copy was kept in root
    md5: str
    sri: str
    size: int


class Answer(NamedTuple):
    """A finished run's result, to repeat when nothing has changed since."""

    files: list[str]  # every output in root, sorted
    manifest: dict[str, str]
    variants: list[str]
    rewritten: int
    warnings: list[str]
    outputs_key: str  # fingerprint of the stat keys of ``files``


class Versions(NamedTuple):
    """The hashed outputs of the last versions, as the record keeps them."""

    current: list[str]  # those the last finished run's manifest named (sorted)
    # For each earlier version kept, newest first: those it named that no
    # newer version names (a file unchanged since is the newer one's too).
    earlier: list[list[str]]

    def kept(self) -> set[str]:
        """The outputs that stay for the earlier versions."""
        return {name for names in self.earlier for name in names}


class Shortcut(NamedTuple):
    """The first part of the record: enough to tell whether its answer stands."""

    settings: str  # fingerprint of what ``answer`` depends on besides the files
    inputs: str  # fingerprint of every source's name, path and stat key
    answer: Answer | None  # None: the last run did not finish


@dataclass
class Record:
    sources: dict[str, Source] = field(default_factory=dict)
    outputs: dict[str, StatKey] = field(default_factory=dict)  # output name -> its key
    post: dict[str, Any] = field(default_factory=dict)  # the last post-processing answer
    file_mode: int | None = None  # the file-mode the outputs were written with
    settings: str = ""  # as in Shortcut
    inputs: str = ""
    answer: Answer | None = None
    # The hashed outputs of the last versions (keep-versions).
    versions: Versions = field(default_factory=lambda: Versions([], []))
    # The bytes read, to leave an equal record unwritten.
    raw: bytes = field(default=b"", repr=False, compare=False)


def _path(root: Path) -> Path:
    return root / STATE_DIR / RECORD_NAME


def _parts(record: Record) -> tuple[Any, dict[str, Any]]:
    answer = None if record.answer is None else tuple(record.answer)
    return ((record.settings, record.inputs, answer),
            {"sources": {name: tuple(source) for name, source in record.sources.items()},
             "outputs": record.outputs, "post": record.post, "file_mode": record.file_mode,
              "versions": tuple(record.versions)})


def _read(root: Path, whole: bool) -> tuple[bytes, Any, dict[str, Any] | None] | None:
    """The file's bytes and its parts, loaded (the second only if ``whole``:
    else only the first part is read, the bytes up to its end)."""
    start = len(_HEAD) + _PART_SIZES.size
    try:
        with open(_path(root), "rb") as handle:
            data = handle.read(start)
            if len(data) < start or not data.startswith(_HEAD):
                return None
            first_size, rest_size = _PART_SIZES.unpack_from(data, len(_HEAD))
            if start + first_size + rest_size != os.fstat(handle.fileno()).st_size:
                return None  # cut short, or sizes that are not this file's
            if whole:
                handle.seek(0)
                data = handle.read()  # (one object: not the head and a copy of the rest)
            else:
                data += handle.read(first_size)
    except OSError:
        return None
    view = memoryview(data)
    first = marshal.loads(view[start:start + first_size])
    return data, first, marshal.loads(view[start + first_size:]) if whole else None


_DAMAGED = (EOFError, ValueError, TypeError, AttributeError, LookupError, struct.error)


def read_shortcut(root: Path) -> Shortcut | None:
    """The first part of the record in ``root``; None when there is none or it is damaged."""
    try:
        read = _read(root, whole=False)
        if read is None:
            return None
        settings, inputs, answer = read[1]
        return Shortcut(str(settings), str(inputs),
                        None if answer is None else Answer._make(answer))
    except _DAMAGED:
        return None


def read_record(root: Path) -> Record:
    """The record in ``root``; empty when there is none, it is damaged or of another version."""
    try:
        read = _read(root, whole=True)
        if read is None:
            return Record()
        data, (settings, inputs, answer), rest = read
        assert rest is not None
        sources = rest["sources"]
        return Record(
            sources=dict(zip(sources, map(Source._make, sources.values()))),
            outputs=dict(rest["outputs"]), post=dict(rest["post"]),
            file_mode=rest["file_mode"], settings=str(settings), inputs=str(inputs),
            answer=None if answer is None else Answer._make(answer),
            versions=_versions(rest.get("versions")), raw=data)
    except _DAMAGED:
        return Record()


def _versions(value: Any) -> Versions:
    if value is None:  # (a record of the version before keep-versions)
        return Versions([], [])
    current, earlier = value
    return Versions(list(current), [list(names) for names in earlier])


def write_record(root: Path, record: Record, tmp_dir: Path) -> None:
    """Save ``record`` whole (unless the file holds it already)."""
    first, rest = _parts(record)
    head, body = marshal.dumps(first), marshal.dumps(rest)
    # (in pieces, not joined: the record is the run's largest bytes object)
    pieces = [_HEAD, _PART_SIZES.pack(len(head), len(body)), head, body]
    if not _holds(record.raw, pieces):
        write_whole(_path(root), pieces, tmp_dir)
    for old in _OLD_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(root / STATE_DIR / old)


def _holds(raw: bytes, pieces: list[bytes]) -> bool:
    """Whether ``raw`` is the pieces, one after the other."""
    view, start = memoryview(raw), 0
    for piece in pieces:
        if view[start:start + len(piece)] != piece:
            return False
        start += len(piece)
    return start == len(raw)


def remove_record(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_path(root))


def recorded_outputs(root: Path | str) -> list[str]:
    """Root-relative posix paths that earlier collections into ``root`` wrote
    (empty when it has no record)."""
    return sorted(read_record(Path(root)).outputs)
