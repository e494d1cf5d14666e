"""The compression algorithms: one table of their facts, their libraries, their streams.

:data:`ALGORITHMS` is the one place that says, per algorithm, its name in the
``compress`` key, its HTTP content-coding, the suffix of its variant file, its
default level and level range, and the rank in which a server prefers it.
Configuration, compression, the run-time lookups and the server read it from
here.

:func:`load_codecs` turns ``compress`` and ``compress-levels`` into
:class:`Codec` objects, each with a streaming compressor (:meth:`Codec.stream`)
and a streaming reader (:meth:`Codec.reader`); :func:`missing_libraries` says
which chosen algorithm cannot run here. :data:`SKIP_COMPRESS_EXTENSIONS` are
the types that are compressed already (the default of ``compress-skip``).

Output is deterministic: gzip is written exactly as WhiteNoise writes it
(``GzipFile`` with no file name and mtime 0), brotli and zstd are
single-threaded, so the same bytes and level give the same variant run after
run. A zstd window never exceeds 8 MiB (RFC 9659), so browsers can decode
every level.

This module imports nothing of the package: configuration imports it.
"""

from __future__ import annotations

import importlib
import sys
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, NamedTuple

__all__ = [
    "ALGORITHMS",
    "CHUNK",
    "SKIP_COMPRESS_EXTENSIONS",
    "Algorithm",
    "Codec",
    "load_codecs",
    "missing_libraries",
]


class Algorithm(NamedTuple):
    """The facts of one compression algorithm."""

    name: str  # in the compress key: "brotli"
    coding: str  # the HTTP content-coding token: "br"
    suffix: str  # of the variant file: ".br"
    default_level: int
    min_level: int
    max_level: int
    preference: int  # a server's choice when the client's q-values tie: lowest first


# In the order of variants in results and manifests.
ALGORITHMS: dict[str, Algorithm] = {algorithm.name: algorithm for algorithm in (
    Algorithm("gzip", "gzip", ".gz", 9, 1, 9, 3),
    Algorithm("brotli", "br", ".br", 11, 0, 11, 1),
    Algorithm("zstd", "zstd", ".zst", 19, 1, 22, 2),
)}

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

CHUNK = 1 << 20  # what a stream is fed at a time: memory does not grow with the file
ZSTD_MAX_WINDOW_LOG = 23  # 8 MiB: what HTTP clients must support (RFC 9659)


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


def _library(algorithm: str) -> tuple[str, Any]:
    """(version tag for the cache, module) of an installed library."""
    if algorithm == "gzip":
        return f"zlib{zlib.ZLIB_RUNTIME_VERSION}", zlib
    if algorithm == "brotli":
        module = _import("brotli")
        return f"brotli{getattr(module, '__version__', 'unknown')}", module
    kind, module = _zstd_module()
    if kind == "stdlib":  # its window cap for levels 20-22 is set another way: own entries
        return f"zstd{module.zstd_version}-std", module
    return "zstd" + ".".join(map(str, module.ZSTD_VERSION)), module


# -- streams: process(chunk) -> bytes, finish() -> bytes ------------------------------

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
        import gzip  # here: configuration imports this module, and needs no gzip

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


class _ZstandardStream:
    def __init__(self, module: Any, level: int, size: int) -> None:
        if level <= 19:
            compressor = module.ZstdCompressor(level=level)
        else:
            params = module.ZstdCompressionParameters.from_level(level, source_size=size)
            if params.window_log > ZSTD_MAX_WINDOW_LOG:
                params = module.ZstdCompressionParameters.from_level(
                    level, source_size=size, window_log=ZSTD_MAX_WINDOW_LOG)
            compressor = module.ZstdCompressor(compression_params=params)
        self.stream = compressor.compressobj(size=size)

    def process(self, data: bytes) -> bytes:
        return self.stream.compress(data)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self.stream.flush()  # type: ignore[no-any-return]


class _OneShot:
    """A compressor's one-shot call behind the streaming interface.

    For brotli it gives the same bytes as the streaming encoder, faster: the
    encoder knows the whole input. Only for inputs that fit in one read.
    """

    def __init__(self, compress: Callable[[bytes], bytes]) -> None:
        self.compress = compress
        self.parts: list[bytes] = []

    def process(self, chunk: bytes) -> bytes:
        self.parts.append(chunk)
        return b""

    def finish(self) -> bytes:
        return self.compress(b"".join(self.parts))


# -- readers: read(n) -> bytes --------------------------------------------------------

class _BrotliReader:
    """``read(n)`` over a brotli stream with bounded output per call."""

    def __init__(self, module: Any, raw: BinaryIO) -> None:
        self.raw = raw
        self.decompressor = module.Decompressor()
        self.limited = hasattr(self.decompressor, "can_accept_more_data")
        self.eof = False

    def read(self, size: int) -> bytes:
        while not self.eof:
            data = self._step(size)
            if data:
                return data
        return b""

    def _step(self, size: int) -> bytes:
        if self.limited and not self.decompressor.can_accept_more_data():
            return self.decompressor.process(b"", output_buffer_limit=size)  # type: ignore[no-any-return]
        piece = self.raw.read(1 << 16)
        if not piece:
            # All input given, output may still be held back by the limit (brotli
            # 1.2 takes more input while it holds some): drain it first.
            data = self.decompressor.process(b"", output_buffer_limit=size) \
                if self.limited else b""
            if data:
                return data  # type: ignore[no-any-return]
            if not self.decompressor.is_finished():
                raise ValueError("truncated brotli stream")
            self.eof = True
            return b""
        if self.limited:
            return self.decompressor.process(piece, output_buffer_limit=size)  # type: ignore[no-any-return]
        # brotli < 1.2 cannot bound the output: the small input pieces do
        return self.decompressor.process(piece)  # type: ignore[no-any-return]


# -- codecs ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Codec:
    """An algorithm at a level, with its library loaded."""

    algorithm: Algorithm
    level: int
    version: str  # the library and its version: part of the cache key
    module: Any

    @property
    def name(self) -> str:
        return self.algorithm.name

    def stream(self, size: int) -> Any:
        """A compressor for ``size`` bytes: ``process(chunk) -> bytes``, ``finish() -> bytes``."""
        if self.name == "gzip":
            return _GzipStream(self.level)
        if self.name == "brotli":
            if size <= CHUNK:  # one read: the one-shot call, same bytes, faster
                return _OneShot(lambda data: self.module.compress(data, quality=self.level))
            return self.module.Compressor(quality=self.level)
        if hasattr(self.module, "ZstdFile"):
            return _ZstdStdlibStream(self.module, self.level, size)
        return _ZstandardStream(self.module, self.level, size)

    def reader(self, raw: BinaryIO) -> Any:
        """``read(n)`` of the decompressed bytes of ``raw``."""
        if self.name == "gzip":
            import gzip

            return gzip.GzipFile(fileobj=raw, mode="rb")
        if self.name == "brotli":
            return _BrotliReader(self.module, raw)
        if hasattr(self.module, "ZstdFile"):
            return self.module.ZstdFile(raw)
        return self.module.ZstdDecompressor().stream_reader(raw, read_across_frames=True)


def load_codecs(algorithms: Iterable[str], levels: Mapping[str, int] | None = None
                ) -> list[Codec]:
    """One :class:`Codec` per distinct algorithm, in the given order.

    ValueError for an unknown name; LookupError naming every algorithm whose
    library is not installed (``'"brotli" needs the brotli package: ...'``).
    """
    wanted = list(dict.fromkeys(algorithms))
    unknown = [name for name in wanted if name not in ALGORITHMS]
    if unknown:
        raise ValueError(f"unknown compression algorithm {unknown[0]!r}")
    problems = [f'"{name}" {_library_problem(name)}' for name in wanted
                if _library_problem(name)]
    if problems:
        raise LookupError("; ".join(problems))
    codecs = []
    for name in wanted:
        algorithm = ALGORITHMS[name]
        version, module = _library(name)
        codecs.append(Codec(algorithm, (levels or {}).get(name, algorithm.default_level),
                            version, module))
    return codecs
