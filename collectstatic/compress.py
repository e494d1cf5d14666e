"""Precompressed siblings (``x.css.gz``, ``x.css.br``, ``x.css.zst``), made once per content.

The rules are WhiteNoise's, which users know, with a longer skip list:

* files whose type is compressed already are skipped (:func:`should_compress`;
  by default ``codecs.SKIP_COMPRESS_EXTENSIONS``, WhiteNoise's list plus other
  compressed images, archives, audio and video; case-insensitive);
* a variant is kept only when ``len(variant) / len(original) <= 0.95``; an empty
  file gets none;
* a variant has its original's modification time, so that servers and caches
  comparing the two see them as one file.

The algorithms themselves (levels, libraries, streams) are in :mod:`.codecs`.

Every result is kept in a content-keyed cache, a directory laid out as::

    <cache_dir>/v1/<algorithm>-<level>-<library version>/<md5[:2]>/<md5>       the variant
    <cache_dir>/v1/<algorithm>-<level>-<library version>/<md5[:2]>/<md5>.skip  "not worth it"

An entry is used only after it decompresses back to content with that md5, so
a corrupt or truncated entry is simply made again. Entries are written to
``<cache_dir>/tmp`` and renamed into place; deleting the cache (even during a
run) is always safe: it only costs the time to compress again. The cache is
best effort: when it cannot be written, compression goes on without it.

Variants are placed into root from the cache by hard link when the entry
already has the variant's mode and modification time (a new entry takes those
of the first name it is made for), else by copy: a link shares the entry's
inode with every root and name linked to it, so nothing here ever changes an
entry's metadata. A name with nothing at it yet gets the link directly (a link
is atomic); otherwise the link or copy is made under a temporary name in the
caller's ``tmp_dir`` and renamed into place. A variant already linked to its
entry, or already a copy of it with the right time and mode, is left untouched.

Use: ``compress_outputs(root, [(name, md5), ...], settings.compress, levels,
tmp_dir=..., cache_dir=..., workers=..., file_mode=..., skip=...)`` after the
outputs are written; record ``result.variants`` in the manifest and treat
``result.files`` as outputs of the run (a variant that is no longer made is
the caller's to delete, as it knows what earlier runs wrote). The cache grows
with each new content and is never pruned here.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import re
import shutil
import stat
import sys
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, NamedTuple, Optional

from .codecs import ALGORITHMS, CHUNK, SKIP_COMPRESS_EXTENSIONS, Codec, load_codecs
from .errors import CollectError
from .files import new_file, tmp_name, write_whole

if TYPE_CHECKING:
    from .shipped import ShippedTrees

__all__ = [
    "CACHE_ENV",
    "CompressResult",
    "compress_outputs",
    "default_build_cache_dir",
    "should_compress",
    "variant_name",
    "worth_keeping",
]

CACHE_ENV = "COLLECTSTATIC_CACHE_DIR"
CACHE_FORMAT = "v1"  # bump when the bytes we would produce for a (content, level) change
RATIO = 0.95  # WhiteNoise: keep a variant when compressed / original <= 0.95
_SKIP = frozenset(SKIP_COMPRESS_EXTENSIONS)
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_STALE_TMP_SECONDS = 24 * 3600


def should_compress(name: str, skip: Collection[str] = _SKIP) -> bool:
    """Whether ``name``'s type is worth trying: its extension, lowercased, is not in ``skip``.

    ``skip`` holds lowercase extensions without the dot (``"png"``).
    """
    base = name.rsplit("/", 1)[-1]
    if "." not in base:
        return True
    return base.rsplit(".", 1)[1].lower() not in skip


def variant_name(name: str, algorithm: str) -> str:
    """``css/app.css`` + ``brotli`` -> ``css/app.css.br``."""
    return name + ALGORITHMS[algorithm].suffix


# -- the records --------------------------------------------------------------------

class _Target(NamedTuple):
    """An output that gets variants, and what its variants take from it."""

    name: str  # root-relative, posix
    md5: Optional[str]  # None: not given, computed
    size: int
    times: tuple[int, int]  # (atime, mtime) in ns


@dataclass(frozen=True)
class _Content:
    """Distinct bytes among the targets: compressed once per codec."""

    md5: str
    size: int
    targets: tuple[_Target, ...]  # every output with these bytes, by name


class _Verdict(enum.Enum):
    VARIANT = "variant"
    NOT_WORTH_IT = "not worth it"  # compressed, more than 95% of the original was left


class _Found(NamedTuple):
    """A variant's bytes for one (codec, content), or that none is kept."""

    verdict: _Verdict
    path: Optional[str] = None  # the cache entry, or a temporary file
    size: int = 0


_NOT_WORTH_IT = _Found(_Verdict.NOT_WORTH_IT)


class _Made(NamedTuple):
    """What compressing a file gave."""

    path: Optional[str]  # a new file, or None when not worth it
    size: int
    md5: str  # of the bytes that were read


class _Outcome(NamedTuple):
    """One (codec, content) job's share of the result."""

    codec: Codec
    content: _Content
    size: Optional[int]  # the variant's size, None when none is kept
    fresh: bool  # compressed in this run, not found in the cache
    shipped: bool = False  # taken from a tree an installed package ships


# -- files --------------------------------------------------------------------------

def _unlink_quietly(path: str | Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _md5_file(path: Path) -> str:
    digest = hashlib.md5()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise CollectError(f"{path}: cannot read ({exc.strerror})") from None
    return digest.hexdigest()


def _md5_or_none(path: str) -> str | None:
    try:
        return _md5_file(Path(path))
    except CollectError:
        return None


def _same_bytes(one: str, other: str) -> bool:
    try:
        with open(one, "rb") as first, open(other, "rb") as second:
            while True:
                chunk = first.read(CHUNK)
                if chunk != second.read(CHUNK):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


# -- compressing --------------------------------------------------------------------

def worth_keeping(original_size: int, variant_size: int) -> bool:
    """WhiteNoise's rule: ``variant / original <= 0.95``; an empty original has no variant."""
    return original_size > 0 and variant_size / original_size <= RATIO


def _pump(codec: Codec, source: str, handle: BinaryIO, out: Any, digest: Any
          ) -> int | None:
    """Compress ``handle`` into ``out``: the variant's size, None when not worth it.

    Stops early once the output passes 95% of the input: it can only grow.
    """
    size = os.fstat(handle.fileno()).st_size
    stream = codec.stream(size)
    read = written = 0
    while True:
        try:
            chunk = handle.read(CHUNK)
        except OSError as exc:
            raise CollectError(f"{source}: cannot read ({exc.strerror})") from None
        data = stream.process(chunk) if chunk else stream.finish()
        read += len(chunk)
        digest.update(chunk)
        if data:
            out.write(data)
            written += len(data)
            if size and not worth_keeping(size, written):
                return None
        if not chunk:
            return written if worth_keeping(read, written) else None


def _compress_file(codec: Codec, source: str, out_dir: str) -> _Made:
    """Compress ``source`` into a new file in ``out_dir``."""
    digest = hashlib.md5()
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise CollectError(f"{source}: cannot read ({exc.strerror})") from None
    with handle:
        try:
            with new_file(out_dir, out_dir) as out:
                written = _pump(codec, source, handle, out, digest)
                tmp = None
                if written is not None:  # named (to move into the cache) once whole
                    tmp = tmp_name(out_dir)
                    out.publish([tmp], None)
        except OSError as exc:
            raise CollectError(f"{out_dir}: cannot write ({exc.strerror})") from None
        if tmp is None:
            for chunk in iter(lambda: handle.read(CHUNK), b""):  # the md5 names the entry
                digest.update(chunk)
            return _Made(None, 0, digest.hexdigest())
    return _Made(tmp, written or 0, digest.hexdigest())


def _decompresses_to(codec: Codec, path: str | Path, md5: str) -> bool:
    """Whether the variant at ``path`` decompresses to content with this md5."""
    digest = hashlib.md5()
    try:
        with open(path, "rb") as raw:
            reader = codec.reader(raw)
            for chunk in iter(lambda: reader.read(CHUNK), b""):
                digest.update(chunk)
    except Exception:  # any corruption: OSError, zlib.error, EOFError, brotli.error, ...
        return False
    return digest.hexdigest() == md5


# -- the cache ----------------------------------------------------------------------

class _Cache:
    # Paths are strings: a cold run makes several per variant, and pathlib's
    # joins and conversions cost more than the file system calls they name.
    def __init__(self, root: Path) -> None:
        self.root = os.path.join(root, CACHE_FORMAT)
        self.tmp = os.path.join(root, "tmp")
        self.made: set[str] = set()
        self.lock = threading.Lock()
        self.empty: set[str] = set()  # algorithms with no cache dir when the run began

    @classmethod
    def open(cls, directory: Path | None) -> tuple[_Cache | None, str | None]:
        """(the cache, None), or (None, a warning) when it cannot be used."""
        if directory is None:
            return None, None
        cache = cls(Path(directory))
        try:
            os.makedirs(cache.tmp, exist_ok=True)
            cutoff = time.time() - _STALE_TMP_SECONDS
            for entry in os.scandir(cache.tmp):  # left by killed runs, not by running ones
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
        except OSError as exc:
            return None, (f"compression cache {directory} is not usable ({exc.strerror}); "
                          f"compressing without it")
        return cache, None

    def codec_dir(self, codec: Codec) -> str:
        return os.path.join(self.root, f"{codec.name}-{codec.level}-{codec.version}")

    def note_empty(self, codecs: Iterable[Codec]) -> None:
        """Remember which codecs have no entries yet: a cold run looks nothing up.

        Entries another process adds meanwhile are only missed, never wrong.
        """
        self.empty = {codec.name for codec in codecs
                      if not os.path.isdir(self.codec_dir(codec))}

    def entry(self, codec: Codec, md5: str) -> str:
        return os.path.join(self.codec_dir(codec), md5[:2], md5)

    def lookup(self, codec: Codec, content: _Content) -> _Found | None:
        """The cached answer for ``content``, or None when it is not (validly) cached."""
        if codec.name in self.empty:
            return None
        entry = self.entry(codec, content.md5)
        try:
            variant_size = os.stat(entry).st_size
        except OSError:
            variant_size = -1
        if variant_size >= 0 and _decompresses_to(codec, entry, content.md5):
            return _Found(_Verdict.VARIANT, entry, variant_size)
        try:
            with open(entry + ".skip", "rb") as handle:
                marker = handle.read()
        except OSError:
            return None
        return _NOT_WORTH_IT if marker == _skip_marker(content.size) else None

    def store(self, codec: Codec, md5: str, tmp: str) -> str | None:
        """Move a fresh variant into the cache: its entry, or None when that failed."""
        entry = self.entry(codec, md5)
        try:
            self.ensure_dir(os.path.dirname(entry))
            os.replace(tmp, entry)
        except OSError:
            return None
        return entry

    def store_not_worth_it(self, codec: Codec, md5: str, size: int) -> None:
        entry = self.entry(codec, md5)
        with contextlib.suppress(OSError):
            self.ensure_dir(os.path.dirname(entry))
            write_whole(entry + ".skip", _skip_marker(size), self.tmp)

    def ensure_dir(self, directory: str) -> None:
        if directory not in self.made:
            os.makedirs(directory, exist_ok=True)
            with self.lock:
                self.made.add(directory)


def _skip_marker(size: int) -> bytes:
    return f"not worth it for {size} bytes\n".encode()


# -- placing a variant in root --------------------------------------------------------

class _EntryGone(Exception):
    """The cache entry vanished (someone deleted the cache during the run)."""


def _wanted(info: os.stat_result, times: tuple[int, int], file_mode: int | None) -> bool:
    """Whether a file has a variant's modification time and mode."""
    return info.st_mtime_ns == times[1] and (
        file_mode is None or stat.S_IMODE(info.st_mode) == file_mode)


def _place(entry: str, dest: str, times: tuple[int, int], tmp_dir: str,
           file_mode: int | None) -> None:
    """Put ``entry``'s bytes at ``dest`` atomically, with ``times`` and ``file_mode``.

    A hard link when the entry already has that time and mode (a link shares
    the entry's inode: changing it through one name would change it for every
    root linked to it), else a copy.
    """
    try:
        have = os.stat(entry)
    except FileNotFoundError:
        raise _EntryGone from None
    except OSError:
        have = None
    linkable = have is not None and _wanted(have, times, file_mode)
    if linkable and _linked_in_place(entry, dest, have):
        return
    if have is not None and not linkable and _copy_in_place(entry, dest, have, times, file_mode):
        return
    tmp = None
    try:
        tmp = _link_tmp(entry, tmp_dir) if linkable else None
        if tmp is None:
            tmp = _copy_tmp(entry, tmp_dir, file_mode)
            os.utime(tmp, ns=times)
        os.replace(tmp, dest)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise CollectError(f"{dest}: cannot write ({exc.strerror})") from None


def _linked_in_place(entry: str, dest: str, have: os.stat_result) -> bool:
    """Whether ``dest`` is now the entry's inode: linked there, or already so."""
    with contextlib.suppress(OSError):
        os.link(entry, dest)  # nothing at dest yet (a first run): atomic as it is
        return True
    with contextlib.suppress(OSError):
        return os.path.samestat(os.lstat(dest), have)
    return False


def _copy_in_place(entry: str, dest: str, have: os.stat_result, times: tuple[int, int],
                   file_mode: int | None) -> bool:
    """Whether ``dest`` is already a copy of the entry with the wanted time and mode."""
    try:
        info = os.lstat(dest)
    except OSError:
        return False
    return (stat.S_ISREG(info.st_mode) and info.st_size == have.st_size
            and _wanted(info, times, file_mode) and _same_bytes(entry, dest))


def _link_tmp(entry: str, tmp_dir: str) -> str | None:
    """A new hard link to ``entry`` in ``tmp_dir``, or None when none can be made."""
    candidate = tmp_name(tmp_dir)
    try:
        os.link(entry, candidate)
    except OSError:  # another file system, no hard links here, too many links, ...
        return None
    return candidate


def _copy_tmp(entry: str, tmp_dir: str, file_mode: int | None) -> str:
    """A new copy of ``entry`` in ``tmp_dir``."""
    try:
        source = open(entry, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise _EntryGone from None
    with source, new_file(tmp_dir, tmp_dir) as out:
        shutil.copyfileobj(source, out, CHUNK)
        tmp = tmp_name(tmp_dir)
        out.publish([tmp], file_mode)
    return tmp


# -- the variant maker --------------------------------------------------------------

@dataclass(frozen=True)
class _Maker:
    """Makes (or finds) one codec's variant of one content and places it for every name."""

    root: str
    names: frozenset[str]  # every output of the run: a variant never replaces one
    tmp_dir: str
    file_mode: Optional[int]
    cache: Optional[_Cache]
    shipped: Optional[ShippedTrees] = None
    progress: Optional[_Progress] = None

    def make(self, job: tuple[Codec, _Content]) -> _Outcome:
        codec, content = job
        outcome = None
        if self.cache is not None:
            with contextlib.suppress(_EntryGone):  # the cache was deleted under us
                outcome = self._make(codec, content, self.cache)
        if outcome is None:
            outcome = self._make(codec, content, None)
        if self.progress is not None:
            self.progress.done(content.size)
        return outcome

    def _make(self, codec: Codec, content: _Content, cache: _Cache | None) -> _Outcome:
        found = cache.lookup(codec, content) if cache is not None else None
        shipped = False
        if found is None and self.shipped:
            found = self._from_shipped(codec, content)
            shipped = found is not None
        fresh = found is None
        temporary = None  # a variant made outside the cache, deleted once placed
        if found is None:
            found, temporary = self._compress(codec, content, cache)
        try:
            if found.verdict is _Verdict.VARIANT and found.path is not None:
                self._place_all(codec, content, found.path)
        finally:
            _unlink_quietly(temporary)
        size = found.size if found.verdict is _Verdict.VARIANT else None
        return _Outcome(codec, content, size, fresh, shipped)

    def _from_shipped(self, codec: Codec, content: _Content) -> _Found | None:
        """A shipped package's answer for ``content``, verified as cache entries are:
        its variant decompresses to the content's md5, or (none worth keeping)
        its original has that md5."""
        assert self.shipped is not None
        names = [target.name for target in content.targets]
        for candidate in self.shipped.candidates(codec, names, content.size):
            if candidate.variant is None:
                if _md5_or_none(candidate.original) == content.md5:
                    return _NOT_WORTH_IT
                continue
            try:
                size = os.stat(candidate.variant).st_size
            except OSError:
                continue
            if _decompresses_to(codec, candidate.variant, content.md5):
                return _Found(_Verdict.VARIANT, candidate.variant, size)
        return None

    def _place_all(self, codec: Codec, content: _Content, path: str) -> None:
        for target in self.targets(codec, content):
            dest = os.path.join(self.root, target.name + codec.algorithm.suffix)
            _place(path, dest, target.times, self.tmp_dir, self.file_mode)

    def targets(self, codec: Codec, content: _Content) -> list[_Target]:
        """The names that get this codec's variant (those that are not outputs themselves)."""
        return [target for target in content.targets
                if target.name + codec.algorithm.suffix not in self.names]

    def _compress(self, codec: Codec, content: _Content, cache: _Cache | None
                  ) -> tuple[_Found, str | None]:
        """A new variant, stored in the cache when it can be: (found, temporary file)."""
        out_dir = cache.tmp if cache is not None and os.path.isdir(cache.tmp) else self.tmp_dir
        made = _compress_file(codec, os.path.join(self.root, content.targets[0].name), out_dir)
        if made.path is None:
            if cache is not None:
                cache.store_not_worth_it(codec, made.md5, content.size)
            return _NOT_WORTH_IT, None
        self._stamp(made.path, codec, content)
        entry = cache.store(codec, made.md5, made.path) if cache is not None else None
        if entry is None:  # no cache, or not writable
            return _Found(_Verdict.VARIANT, made.path, made.size), made.path
        return _Found(_Verdict.VARIANT, entry, made.size), None

    def _stamp(self, path: str, codec: Codec, content: _Content) -> None:
        """Give a new variant the mode and time of its first name, so that it can be
        linked there as it is (nothing links to it yet)."""
        if self.file_mode is not None and self.file_mode & 0o400:
            os.chmod(path, self.file_mode)
        targets = self.targets(codec, content)
        if targets:
            os.utime(path, ns=targets[0].times)


# -- the run ------------------------------------------------------------------------

class _Progress:
    """Counts finished jobs for a ``progress(done, total, nbytes)`` callback, from any thread."""

    def __init__(self, callback: Callable[[int, int, int], None], total: int) -> None:
        self.callback = callback
        self.total = total
        self.count = 0
        self.nbytes = 0
        self.lock = threading.Lock()

    def done(self, size: int) -> None:
        with self.lock:
            self.count += 1
            self.nbytes += size
            count, nbytes = self.count, self.nbytes
        self.callback(count, self.total, nbytes)


@dataclass
class CompressResult:
    """What :func:`compress_outputs` did.

    ``variants`` maps every output name that was considered (its type is
    compressible, it is not empty) to ``{content-coding: variant size}``, e.g.
    ``{"css/app.css": {"gzip": 812, "br": 700}}``; an empty dict means no
    variant was worth keeping. ``files`` lists every variant now in root
    (root-relative, sorted). ``compressed`` and ``cached`` count
    (content, algorithm) pairs compressed in this run or found in the cache;
    ``shipped`` those taken from a tree an installed package ships (counted in
    neither).
    """

    variants: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    compressed: int = 0
    cached: int = 0
    shipped: int = 0
    warnings: list[str] = field(default_factory=list)


def compress_outputs(
    root: Path,
    items: Iterable[tuple[str, Optional[str]]],
    algorithms: Iterable[str],
    levels: Mapping[str, int] | None = None,
    *,
    tmp_dir: Path,
    cache_dir: Path | None = None,
    workers: int = 1,
    file_mode: int | None = None,
    skip: Iterable[str] | None = None,
    shipped: ShippedTrees | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> CompressResult:
    """Write the worthwhile variants of ``items`` (root-relative posix name, md5
    of its content or None: computed) beside them in ``root``.

    Files whose extension is in ``skip`` (default
    :data:`codecs.SKIP_COMPRESS_EXTENSIONS`; ``[]`` compresses every type) and
    empty files are left alone. Each distinct content is compressed once per
    algorithm and level, unless ``cache_dir`` holds the result or ``shipped``
    (:func:`.shipped.find_shipped`) a variant made alike that decompresses to
    it. ``tmp_dir`` is on root's file system. ``progress(done, total, nbytes)``
    is called from the workers after each (content, algorithm) job. Raises
    :class:`CollectError` naming the file on I/O problems and when an
    algorithm's library is missing.
    """
    try:
        codecs = load_codecs(algorithms, levels)
    except LookupError as exc:
        raise CollectError(f"compress: {exc}") from None
    given = dict(items)
    cache, warning = _Cache.open(cache_dir)
    result = CompressResult(warnings=[warning] if warning else [])
    if not codecs:
        return result
    skipped = _SKIP if skip is None else frozenset(extension.lower() for extension in skip)
    targets = _targets(root, given, skipped)
    result.warnings.extend(_clashes(targets, codecs, given))
    if cache is not None:
        cache.note_empty(codecs)
    with _mapper(workers) as run_all:
        contents = _contents(root, targets, run_all)
        jobs = [(codec, content) for content in contents for codec in codecs]
        maker = _Maker(str(root), frozenset(given), str(tmp_dir), file_mode, cache,
                       shipped or None, _Progress(progress, len(jobs)) if progress else None)
        outcomes = run_all(maker.make, jobs)
    _fill(result, targets, outcomes, maker)
    return result


def _targets(root: Path, given: Mapping[str, str | None], skip: Collection[str]
             ) -> list[_Target]:
    """The outputs worth trying, by name, with their sizes and times; empty files have none."""
    targets = []
    for name, md5 in sorted(given.items()):
        if not should_compress(name, skip):
            continue
        try:
            info = os.stat(root / name)
        except OSError as exc:
            raise CollectError(f"{root / name}: cannot read ({exc.strerror})") from None
        if info.st_size:
            targets.append(_Target(name, md5 if md5 and _MD5.match(md5) else None,
                                   info.st_size, (info.st_atime_ns, info.st_mtime_ns)))
    return targets


def _clashes(targets: Iterable[_Target], codecs: Sequence[Codec], names: Collection[str]
             ) -> list[str]:
    return [f"'{clash}' is a collected file: not replaced by the compressed variant of "
            f"'{target.name}'"
            for target in targets for codec in codecs
            for clash in [target.name + codec.algorithm.suffix] if clash in names]


def _contents(root: Path, targets: Sequence[_Target], run_all: _Map) -> list[_Content]:
    """The distinct contents among ``targets``, largest first (the long jobs start
    early and the pool ends together)."""
    unhashed = [target.name for target in targets if target.md5 is None]
    computed = dict(zip(unhashed, run_all(lambda name: _md5_file(root / name), unhashed)))
    groups: dict[str, list[_Target]] = {}
    for target in targets:
        groups.setdefault(target.md5 or computed[target.name], []).append(target)
    contents = [_Content(md5, group[0].size, tuple(group)) for md5, group in groups.items()]
    return sorted(contents, key=lambda content: (-content.size, content.md5))


def _fill(result: CompressResult, targets: Iterable[_Target], outcomes: Iterable[_Outcome],
          maker: _Maker) -> None:
    """Counts, variant sizes per name (in the table's order of algorithms), files."""
    found: dict[str, dict[str, int]] = {target.name: {} for target in targets}
    for outcome in outcomes:
        if outcome.shipped:
            result.shipped += 1
        elif outcome.fresh:
            result.compressed += 1
        else:
            result.cached += 1
        if outcome.size is None:
            continue
        for target in maker.targets(outcome.codec, outcome.content):
            found[target.name][outcome.codec.algorithm.coding] = outcome.size
            result.files.append(target.name + outcome.codec.algorithm.suffix)
    order = {algorithm.coding: rank for rank, algorithm in enumerate(ALGORITHMS.values())}
    result.variants = {name: dict(sorted(sizes.items(), key=lambda item: order[item[0]]))
                       for name, sizes in found.items()}
    result.files.sort()


_Map = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


@contextlib.contextmanager
def _mapper(workers: int) -> Iterator[_Map]:
    """``map`` on a pool of ``workers`` threads (the compressors release the GIL), or
    in this thread for one."""
    if workers <= 1:
        yield lambda function, jobs: [function(job) for job in jobs]
        return
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield lambda function, jobs: list(pool.map(function, jobs))
    finally:
        pool.shutdown(cancel_futures=True)


# -- where the cache lives for builds -------------------------------------------------

def default_build_cache_dir(project_root: Path) -> Path:
    """The compression cache for builds of the project at ``project_root``.

    ``$COLLECTSTATIC_CACHE_DIR`` when set (used as is; sharing it between
    projects is safe, entries are keyed by content). Otherwise a per-project
    directory in the user's cache: ``$XDG_CACHE_HOME`` or ``~/.cache`` on
    Linux and other Unixes, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%``
    on Windows, then ``collectstatic/<hash of the project path>``.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    project = str(Path(project_root).resolve())
    tag = hashlib.sha256(project.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return base / "collectstatic" / tag
