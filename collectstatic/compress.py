"""Precompressed siblings (``x.css.gz``, ``x.css.br``, ``x.css.zst``), made once per content.

The rules are WhiteNoise's, which users know:

* files whose type is already compressed are skipped (:func:`should_compress`,
  WhiteNoise's ``SKIP_COMPRESS_EXTENSIONS`` plus a few more, case-insensitive);
* a variant is kept only when ``len(variant) / len(original) <= 0.95``; an empty
  file gets none.

Output is deterministic: gzip is written exactly as WhiteNoise writes it
(``GzipFile`` with no file name and mtime 0), brotli and zstd are
single-threaded, so the same bytes and level give the same variant run after
run. A zstd window never exceeds 8 MiB (RFC 9659), so browsers can decode
every level.

Compression streams in fixed-size chunks: memory does not grow with the file.

Every result is kept in a content-keyed cache, a directory laid out as::

    <cache_dir>/v1/<algorithm>-<level>-<library version>/<md5[:2]>/<md5>       the variant
    <cache_dir>/v1/<algorithm>-<level>-<library version>/<md5[:2]>/<md5>.skip  "not worth it"

An entry is used only after it decompresses back to content with that md5, so
a corrupt or truncated entry is simply made again. Entries are written to
``<cache_dir>/tmp`` and renamed into place; deleting the cache (even during a
run) is always safe: it only costs the time to compress again. The cache is
best effort: when it cannot be written, compression goes on without it.

Variants are placed into root from the cache by hard link when possible, else
by copy. A name with nothing at it yet gets the link directly (a link is
atomic); otherwise the link or copy is made under a temporary name in the
caller's ``tmp_dir`` and renamed into place. A variant already linked to its
entry is left untouched.

Use: ``compress_outputs(root, [(name, md5), ...], settings.compress, levels,
tmp_dir=..., cache_dir=..., workers=..., file_mode=...)`` after the outputs are
written; record ``result.variants`` in the manifest and treat ``result.files``
as outputs of the run (a variant that is no longer made is the caller's to
delete, as it knows what earlier runs wrote). The cache grows with each new
content and is never pruned here.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import itertools
import os
import re
import shutil
import stat
import sys
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Optional

from .config import COMPRESSORS
from .errors import CollectError

__all__ = [
    "ALGORITHMS",
    "CACHE_ENV",
    "SKIP_COMPRESS_EXTENSIONS",
    "CompressResult",
    "compress_outputs",
    "default_build_cache_dir",
    "missing_libraries",
    "should_compress",
    "variant_name",
]

# algorithm -> (HTTP content-coding, file suffix). Order is the order of variants in results.
ALGORITHMS: dict[str, tuple[str, str]] = {
    "gzip": ("gzip", ".gz"),
    "brotli": ("br", ".br"),
    "zstd": ("zstd", ".zst"),
}
# The defaults live with the rest of the configuration (config.COMPRESSORS).
DEFAULT_LEVELS = {name: spec[0] for name, spec in COMPRESSORS.items()}
CACHE_ENV = "COLLECTSTATIC_CACHE_DIR"
CACHE_FORMAT = "v1"  # bump when the bytes we would produce for a (content, level) change

# WhiteNoise's SKIP_COMPRESS_EXTENSIONS (6.x), unchanged, as the floor...
_WHITENOISE_SKIP = (
    "jpg", "jpeg", "png", "gif", "webp",
    "zip", "gz", "tgz", "bz2", "tbz", "xz", "br",
    "swf", "flv",
    "woff", "woff2",
    "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv",
)
# ...plus other formats that are compressed already.
_MORE_SKIP = (
    # images
    "avif", "heic", "heif", "jxl", "jp2", "apng",
    # archives and compressed streams
    "zst", "zstd", "lz", "lz4", "lzma", "txz", "tbz2", "7z", "rar", "jar", "whl", "apk",
    "dmg", "cab", "deb", "rpm", "epub", "docx", "xlsx", "pptx", "odt", "ods", "odp",
    # audio
    "mp3", "m4a", "aac", "ogg", "oga", "opus", "flac", "weba",
    # video
    "mkv", "ogv", "m2ts", "mts",
)
SKIP_COMPRESS_EXTENSIONS: tuple[str, ...] = _WHITENOISE_SKIP + _MORE_SKIP
_SKIP = frozenset(SKIP_COMPRESS_EXTENSIONS)

RATIO = 0.95  # WhiteNoise: keep a variant when compressed / original <= 0.95
CHUNK = 1 << 20
ZSTD_MAX_WINDOW_LOG = 23  # 8 MiB: what HTTP clients must support (RFC 9659)
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_STALE_TMP_SECONDS = 24 * 3600


def should_compress(name: str) -> bool:
    """Whether ``name``'s type is worth trying (case-insensitive on the extension)."""
    base = name.rsplit("/", 1)[-1]
    if "." not in base:
        return True
    return base.rsplit(".", 1)[1].lower() not in _SKIP


def variant_name(name: str, algorithm: str) -> str:
    """``css/app.css`` + ``brotli`` -> ``css/app.css.br``."""
    return name + ALGORITHMS[algorithm][1]


# -- libraries ----------------------------------------------------------------------

def _import(module: str) -> Any:
    """The module, or None when it is not installed (or blocked in sys.modules)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _zstd_module() -> tuple[str, Any]:
    """("stdlib", compression.zstd or its backport) or ("zstandard", zstandard) or ("", None)."""
    if sys.version_info >= (3, 14):
        stdlib = _import("compression.zstd")
        if stdlib is not None:
            return "stdlib", stdlib
    module = _import("zstandard")
    if module is not None:
        return "zstandard", module
    backport = _import("backports.zstd")  # the same API as compression.zstd
    return ("stdlib", backport) if backport is not None else ("", None)


def _library_problem(algorithm: str) -> str | None:
    """Why ``algorithm`` cannot run here, or None when it can."""
    if algorithm == "brotli" and _import("brotli") is None:
        return 'needs the brotli package: pip install "collectstatic[brotli]"'
    if algorithm == "zstd" and _zstd_module()[1] is None:
        if sys.version_info >= (3, 14):
            return ("needs compression.zstd (this Python was built without it) or the "
                    "zstandard package: pip install zstandard")
        return 'needs the zstandard package: pip install "collectstatic[zstd]"'
    return None


def missing_libraries(algorithms: Iterable[str], key: str = "compress") -> list[str]:
    """One message per algorithm whose library is not installed, named by its index.

    ``missing_libraries(["gzip", "brotli"])`` without brotli ->
    ``['compress[1]: "brotli" needs the brotli package: pip install "collectstatic[brotli]"']``.
    """
    problems = []
    for index, algorithm in enumerate(algorithms):
        problem = _library_problem(algorithm)
        if problem:
            problems.append(f'{key}[{index}]: "{algorithm}" {problem}')
    return problems


# -- codecs: (level, size) -> a compressor with process()/finish(); a reader ----------

class _Sink:
    """A write-only file object that hands back what was written since the last take()."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class _GzipStream:
    # Exactly WhiteNoise's gzip (GzipFile, filename "", mtime 0), fed in chunks.
    def __init__(self, level: int) -> None:
        self.sink = _Sink()
        self.file = gzip.GzipFile(filename="", mode="wb", fileobj=self.sink,  # type: ignore[arg-type]
                                  compresslevel=level, mtime=0)

    def process(self, data: bytes) -> bytes:
        self.file.write(data)
        return self.sink.take()

    def finish(self) -> bytes:
        self.file.close()
        return self.sink.take()


class _ZstdStdlibStream:
    def __init__(self, module: Any, level: int, size: int) -> None:
        parameter = module.CompressionParameter
        options = {parameter.compression_level: level}
        if level > 19:  # levels 20-22 widen the window past 8 MiB
            options[parameter.window_log] = ZSTD_MAX_WINDOW_LOG
        self.compressor = module.ZstdCompressor(options=options)
        if hasattr(self.compressor, "set_pledged_input_size"):
            self.compressor.set_pledged_input_size(size)

    def process(self, data: bytes) -> bytes:
        return self.compressor.compress(data)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self.compressor.flush()  # type: ignore[no-any-return]


def _zstandard_stream(module: Any, level: int, size: int) -> Any:
    if level <= 19:
        compressor = module.ZstdCompressor(level=level)
    else:
        params = module.ZstdCompressionParameters.from_level(level, source_size=size)
        if params.window_log > ZSTD_MAX_WINDOW_LOG:
            params = module.ZstdCompressionParameters.from_level(
                level, source_size=size, window_log=ZSTD_MAX_WINDOW_LOG)
        compressor = module.ZstdCompressor(compression_params=params)
    stream = compressor.compressobj(size=size)

    class _Stream:
        process = stream.compress

        @staticmethod
        def finish() -> bytes:
            return stream.flush()  # type: ignore[no-any-return]

    return _Stream()


class _BrotliReader:
    """``read(n)`` over a brotli stream with bounded output per call."""

    def __init__(self, module: Any, raw: BinaryIO) -> None:
        self.raw = raw
        self.decompressor = module.Decompressor()
        self.limited = hasattr(self.decompressor, "can_accept_more_data")
        self.eof = False

    def read(self, size: int) -> bytes:
        while not self.eof:
            if self.limited and not self.decompressor.can_accept_more_data():
                data = self.decompressor.process(b"", output_buffer_limit=size)
            else:
                piece = self.raw.read(1 << 16)
                if not piece:
                    if not self.decompressor.is_finished():
                        raise ValueError("truncated brotli stream")
                    self.eof = True
                    return b""
                if self.limited:
                    data = self.decompressor.process(piece, output_buffer_limit=size)
                else:  # brotli < 1.2: output not bounded, input pieces are small
                    data = self.decompressor.process(piece)
            if data:
                return data  # type: ignore[no-any-return]
        return b""


def _library(algorithm: str) -> tuple[str, Any]:
    """(version tag for the cache, module); CollectError when not installed."""
    problem = _library_problem(algorithm)
    if problem:
        raise CollectError(f'compress: "{algorithm}" {problem}')
    if algorithm == "gzip":
        return f"zlib{zlib.ZLIB_RUNTIME_VERSION}", zlib
    if algorithm == "brotli":
        module = _import("brotli")
        return f"brotli{getattr(module, '__version__', 'unknown')}", module
    kind, module = _zstd_module()
    if kind == "stdlib":  # its window cap for levels 20-22 is set another way: own entries
        return f"zstd{module.zstd_version}-std", module
    return "zstd" + ".".join(map(str, module.ZSTD_VERSION)), module


class _OneShot:
    """A compressor's one-shot call behind the streaming interface.

    For brotli it gives the same bytes as the streaming encoder and takes
    about 8% less time (measured on the benchmark's CSS/JS at quality 11):
    the encoder knows the whole input. Only for inputs that fit in memory
    anyway (one read).
    """

    def __init__(self, compress: Callable[[bytes], bytes]) -> None:
        self.compress = compress
        self.parts: list[bytes] = []

    def process(self, chunk: bytes) -> bytes:
        self.parts.append(chunk)
        return b""

    def finish(self) -> bytes:
        return self.compress(b"".join(self.parts))


@dataclass(frozen=True)
class _Codec:
    algorithm: str
    level: int
    version: str
    module: Any

    @property
    def suffix(self) -> str:
        return ALGORITHMS[self.algorithm][1]

    @property
    def encoding(self) -> str:
        return ALGORITHMS[self.algorithm][0]

    def stream(self, size: int) -> Any:
        if self.algorithm == "gzip":
            return _GzipStream(self.level)
        if self.algorithm == "brotli":
            if size <= CHUNK:  # one read: the one-shot call, same bytes, faster
                return _OneShot(lambda data: self.module.compress(data, quality=self.level))
            return self.module.Compressor(quality=self.level)
        if hasattr(self.module, "ZstdFile"):
            return _ZstdStdlibStream(self.module, self.level, size)
        return _zstandard_stream(self.module, self.level, size)

    def reader(self, raw: BinaryIO) -> Any:
        if self.algorithm == "gzip":
            return gzip.GzipFile(fileobj=raw, mode="rb")
        if self.algorithm == "brotli":
            return _BrotliReader(self.module, raw)
        if hasattr(self.module, "ZstdFile"):
            return self.module.ZstdFile(raw)
        return self.module.ZstdDecompressor().stream_reader(raw, read_across_frames=True)


def _codecs(algorithms: Iterable[str], levels: Mapping[str, int] | None) -> list[_Codec]:
    wanted = list(dict.fromkeys(algorithms))
    unknown = [name for name in wanted if name not in ALGORITHMS]
    if unknown:
        raise ValueError(f"unknown compression algorithm {unknown[0]!r}")
    problems = [f'"{name}" {_library_problem(name)}' for name in wanted
                if _library_problem(name)]
    if problems:
        raise CollectError("compress: " + "; ".join(problems))
    codecs = []
    for name in wanted:
        level = (levels or {}).get(name, DEFAULT_LEVELS[name])
        version, module = _library(name)
        codecs.append(_Codec(name, level, version, module))
    return codecs


# -- files --------------------------------------------------------------------------

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def _tmp_name(directory: str | Path) -> str:
    # "z" keeps our names apart from collect.py's "<pid>-<n>" in the same directory.
    with _counter_lock:
        number = next(_counter)
    return os.path.join(directory, f"{os.getpid()}-z{number}")


def _open_new(directory: str | Path) -> tuple[str, int]:
    """A new file in ``directory`` (0o666 & ~umask, not mkstemp's 0o600)."""
    while True:
        path = _tmp_name(directory)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666)
        except FileExistsError:  # another process with our pid, e.g. on a shared disk
            continue
        return path, fd


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


class _NotWorthIt(Exception):
    pass


def _compress_file(codec: _Codec, source: str | Path,
                   out_dir: str | Path) -> tuple[str | None, int, str]:
    """Compress ``source`` into a new file in ``out_dir``.

    Returns (that file or None when not worth it, variant size, md5 of what was read).
    Stops early once the output passes 95% of the input: it can only grow.
    """
    digest = hashlib.md5()
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CollectError(f"{source}: cannot read ({exc.strerror})") from None
    tmp: str | None = None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            tmp, fd = _open_new(out_dir)
        except OSError as exc:
            raise CollectError(f"{out_dir}: cannot write ({exc.strerror})") from None
        written = 0
        try:
            with open(fd, "wb") as out:
                stream = codec.stream(size)
                read = 0
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
                        if size and not _worth_keeping(size, written):
                            raise _NotWorthIt  # it can only grow
                    if not chunk:
                        break
            if not _worth_keeping(read, written):
                raise _NotWorthIt
        except _NotWorthIt:
            _unlink_quietly(tmp)
            for chunk in iter(lambda: handle.read(CHUNK), b""):  # finish the md5
                digest.update(chunk)
            return None, 0, digest.hexdigest()
        except OSError as exc:
            _unlink_quietly(tmp)
            raise CollectError(f"{tmp}: cannot write ({exc.strerror})") from None
        except BaseException:
            _unlink_quietly(tmp)
            raise
    return tmp, written, digest.hexdigest()


def _decompresses_to(codec: _Codec, path: str | Path, md5: str) -> bool:
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

    def codec_dir(self, codec: _Codec) -> str:
        return os.path.join(self.root, f"{codec.algorithm}-{codec.level}-{codec.version}")

    def note_empty(self, codecs: Iterable[_Codec]) -> None:
        """Remember which codecs have no entries yet: a cold run looks nothing up.

        Entries another process adds meanwhile are only missed, never wrong.
        """
        self.empty = {codec.algorithm for codec in codecs
                      if not os.path.isdir(self.codec_dir(codec))}

    def entry(self, codec: _Codec, md5: str) -> str:
        return os.path.join(self.codec_dir(codec), md5[:2], md5)

    def lookup(self, codec: _Codec, md5: str, size: int) -> tuple[str, str | None, int] | None:
        """("variant", entry, size), ("skip", None, 0), or None when not (validly) cached."""
        if codec.algorithm in self.empty:
            return None
        entry = self.entry(codec, md5)
        try:
            variant_size = os.stat(entry).st_size
        except OSError:
            variant_size = -1
        if variant_size >= 0 and _decompresses_to(codec, entry, md5):
            return "variant", entry, variant_size
        try:
            with open(entry + ".skip", "rb") as handle:
                marker = handle.read()
        except OSError:
            return None
        if marker == _skip_marker(size):
            return "skip", None, 0
        return None

    def store(self, codec: _Codec, md5: str, size: int, tmp: str | None) -> str | None:
        """Move a fresh variant (or a skip marker when ``tmp`` is None) into the cache."""
        entry = self.entry(codec, md5)
        marker = None
        try:
            self.ensure_dir(os.path.dirname(entry))
            if tmp is None:
                marker, fd = _open_new(self.tmp)
                with open(fd, "wb") as out:
                    out.write(_skip_marker(size))
                os.replace(marker, entry + ".skip")
                return None
            os.replace(tmp, entry)
            return entry
        except OSError:
            _unlink_quietly(marker)
            return None

    def ensure_dir(self, directory: str) -> None:
        if directory not in self.made:
            os.makedirs(directory, exist_ok=True)
            with self.lock:
                self.made.add(directory)


def _worth_keeping(original_size: int, variant_size: int) -> bool:
    """WhiteNoise's rule: ``variant / original <= 0.95``; an empty original has no variant."""
    return original_size > 0 and variant_size / original_size <= RATIO


def _skip_marker(size: int) -> bytes:
    return f"not worth it for {size} bytes\n".encode()


class _EntryGone(Exception):
    """The cache entry vanished (someone deleted the cache during the run)."""


def _place(entry: str | Path, dest: str, tmp_dir: str | Path, file_mode: int | None) -> None:
    """Put ``entry``'s bytes at ``dest`` atomically: hard link when possible, else copy.

    A link shares the entry's inode, so it is made only when that inode already
    has the wanted mode: a chmod through one root must not change another's.
    """
    try:
        want = os.stat(entry)
    except FileNotFoundError:
        raise _EntryGone from None
    except OSError:
        want = None
    linkable = False
    if want is not None and (file_mode is None or stat.S_IMODE(want.st_mode) == file_mode):
        linkable = True
        # Nothing at dest yet (a first run): a link made there is atomic as it is.
        with contextlib.suppress(OSError):
            os.link(entry, dest)
            return
        with contextlib.suppress(OSError):
            if os.path.samestat(os.lstat(dest), want):
                return  # already that very file
    tmp = None
    try:
        if linkable:
            candidate = _tmp_name(tmp_dir)
            try:
                os.link(entry, candidate)
                tmp = candidate
            except OSError:  # another file system, no hard links here, too many links, ...
                pass
        if tmp is None:
            try:
                source = open(entry, "rb")  # noqa: SIM115 - closed by the with below
            except FileNotFoundError:
                raise _EntryGone from None
            with source:
                tmp, fd = _open_new(tmp_dir)
                with open(fd, "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
            if file_mode is not None:
                os.chmod(tmp, file_mode)
        os.replace(tmp, dest)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise CollectError(f"{dest}: cannot write ({exc.strerror})") from None


# -- the run ------------------------------------------------------------------------

@dataclass
class CompressResult:
    """What :func:`compress_outputs` did.

    ``variants`` maps every output name that was considered (its type is
    compressible, it is not empty) to ``{content-coding: variant size}``, e.g.
    ``{"css/app.css": {"gzip": 812, "br": 700}}``; an empty dict means no
    variant was worth keeping. ``files`` lists every variant now in root
    (root-relative, sorted). ``compressed`` and ``cached`` count
    (content, algorithm) pairs compressed in this run or found in the cache.
    """

    variants: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    compressed: int = 0
    cached: int = 0
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
) -> CompressResult:
    """Write the worthwhile variants of ``items`` beside them in ``root``.

    ``items`` are ``(root-relative posix name, md5 hex of its content or None)``;
    a missing md5 is computed. Files of a skipped type or empty files are left
    alone. Each distinct content is compressed once per algorithm and level,
    or not at all when ``cache_dir`` already holds the result. ``tmp_dir``
    must be on root's file system (it is where variants are staged before an
    atomic rename). Raises :class:`CollectError` naming the file on I/O
    problems and when an algorithm's library is missing.
    """
    codecs = _codecs(algorithms, levels)
    result = CompressResult()
    items = list(items)
    names = {name for name, _ in items}
    cache, warning = _Cache.open(cache_dir)
    if warning:
        result.warnings.append(warning)
    if not codecs:
        return result

    # Which names, and their sizes; empty files have no variants.
    todo: list[tuple[str, str | None, int]] = []
    for name, md5 in sorted(dict(items).items()):
        if not should_compress(name):
            continue
        try:
            size = os.stat(root / name).st_size
        except OSError as exc:
            raise CollectError(f"{root / name}: cannot read ({exc.strerror})") from None
        if size:
            todo.append((name, md5 if md5 and _MD5.match(md5) else None, size))
    for name, _, _ in todo:
        for codec in codecs:
            clash = variant_name(name, codec.algorithm)
            if clash in names:
                result.warnings.append(f"'{clash}' is a collected file: not replaced by the "
                                       f"compressed variant of '{name}'")

    top = str(root)
    if cache is not None:
        cache.note_empty(codecs)
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None

    def run_all(function: Callable[[Any], Any], jobs: list[Any]) -> list[Any]:
        if pool is None:
            return [function(job) for job in jobs]
        return list(pool.map(function, jobs))

    try:
        unhashed = [name for name, md5, _ in todo if md5 is None]
        computed = dict(zip(unhashed, run_all(lambda n: _md5_file(root / n), unhashed)))
        groups: dict[str, list[str]] = {}
        sizes: dict[str, int] = {}
        for name, md5, size in todo:
            key = md5 or computed[name]
            groups.setdefault(key, []).append(name)
            sizes[key] = size
            result.variants[name] = {}

        def make(codec: _Codec, md5: str, store: _Cache | None) -> tuple[int, bool]:
            """Variant size (-1: not worth it) and whether it was compressed now."""
            group = groups[md5]
            found = store.lookup(codec, md5, sizes[md5]) if store else None
            fresh = found is None
            temporary = None  # a variant made outside the cache, deleted once placed
            if found is None:
                out_dir = store.tmp if store and os.path.isdir(store.tmp) else tmp_dir
                tmp, variant_size, actual = _compress_file(codec, os.path.join(top, group[0]),
                                                           out_dir)
                if tmp is not None and file_mode is not None and file_mode & 0o400:
                    os.chmod(tmp, file_mode)  # so that the entry can be hard-linked as is
                entry = store.store(codec, actual, sizes[md5], tmp) if store else None
                if tmp is not None and entry is None:  # no cache, or not writable
                    entry = temporary = tmp
                found = ("variant", entry, variant_size) if tmp else ("skip", None, 0)
            kind, entry, variant_size = found
            try:
                if kind == "variant" and entry is not None:
                    for name in group:
                        dest = variant_name(name, codec.algorithm)
                        if dest not in names:
                            _place(entry, os.path.join(top, dest), tmp_dir, file_mode)
            finally:
                _unlink_quietly(temporary)
            return (variant_size if kind == "variant" else -1), fresh

        def job(task: tuple[_Codec, str]) -> tuple[int, bool]:
            codec, md5 = task
            if cache is not None:
                try:
                    return make(codec, md5, cache)
                except _EntryGone:  # the cache was deleted under us: do without it
                    pass
            return make(codec, md5, None)

        # Largest first: the long jobs start early and the pool ends together.
        tasks = [(codec, md5) for md5 in sorted(groups, key=lambda m: (-sizes[m], m))
                 for codec in codecs]
        outcomes = run_all(job, tasks)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    for (codec, md5), (variant_size, fresh) in zip(tasks, outcomes):
        if fresh:
            result.compressed += 1
        else:
            result.cached += 1
        if variant_size < 0:
            continue
        for name in groups[md5]:
            if variant_name(name, codec.algorithm) in names:
                continue
            result.variants[name][codec.encoding] = variant_size
            result.files.append(variant_name(name, codec.algorithm))
    order = {ALGORITHMS[a][0]: i for i, a in enumerate(ALGORITHMS)}
    for name, found in result.variants.items():
        result.variants[name] = dict(sorted(found.items(), key=lambda kv: order[kv[0]]))
    result.files.sort()
    return result


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

