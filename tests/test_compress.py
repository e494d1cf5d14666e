"""Precompressed variants: rules, levels, determinism, the content-keyed cache, memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from collectstatic import codecs, compress
from collectstatic.codecs import load_codecs, missing_libraries
from collectstatic.compress import (
    compress_outputs,
    default_build_cache_dir,
    should_compress,
    worth_keeping,
)
from collectstatic.errors import CollectError

try:
    import brotli
except ImportError:  # the gzip tests still run
    brotli = None
try:
    import zstandard
except ImportError:
    zstandard = None

needs_brotli = pytest.mark.skipif(brotli is None, reason="brotli is not installed")
needs_zstandard = pytest.mark.skipif(zstandard is None, reason="zstandard is not installed")
# What this Python can do; counts below are per algorithm.
ALL = tuple(name for name, module in [("gzip", gzip), ("brotli", brotli), ("zstd", zstandard)]
            if module is not None)
N = len(ALL)
SUFFIX = {"gzip": ".gz", "brotli": ".br", "zstd": ".zst"}
ENCODING = {"gzip": "gzip", "brotli": "br", "zstd": "zstd"}


def text(seed: int, size: int) -> bytes:
    """Compressible, CSS-like bytes, different for each seed."""
    rng = random.Random(seed)
    words = ["color", "margin", "padding", "display", "flex", "grid", "none", "auto", "0",
             "1px", "solid", "#fff", "#333", "border", "font", "inherit", "block", "span"]
    out = []
    total = 0
    while total < size:
        line = f".c{rng.randrange(1000)} {{ {rng.choice(words)}: {rng.choice(words)}; }}\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()[:size]


def noise(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def decompress(algorithm: str, data: bytes) -> bytes:
    if algorithm == "gzip":
        return gzip.decompress(data)
    if algorithm == "brotli":
        return brotli.decompress(data)
    return zstandard.ZstdDecompressor().decompress(data)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make_root(tmp_path: Path, files: dict[str, bytes], name: str = "root") -> Path:
    root = tmp_path / name
    (root / ".collectstatic" / "tmp").mkdir(parents=True)
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def run(root: Path, files: dict[str, bytes] | list[str], algorithms: Any = ALL,
        levels: dict[str, int] | None = None, cache: Path | None = None,
        with_md5: bool = True, **options: Any) -> compress.CompressResult:
    names = sorted(files)
    items = [(name, md5((root / name).read_bytes()) if with_md5 else None) for name in names]
    return compress_outputs(root, items, algorithms, levels,
                            tmp_dir=root / ".collectstatic" / "tmp", cache_dir=cache, **options)


def variants_on_disk(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".gz", ".br", ".zst")
            and ".collectstatic" not in p.parts}


TREE = {
    "css/app.css": text(1, 40_000),
    "js/app.js": text(2, 5_000),
    "js/small.js": b"console.log('hi');\n" * 3,
    "img/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<g/>" * 200 + b"</svg>",
    "data/noise.bin": noise(3, 20_000),
    "img/photo.png": text(4, 10_000),  # compressible bytes, but a skipped type
    "empty.txt": b"",
}


# -- rules --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("css/app.css", True),
    ("js/app.js", True),
    ("img/logo.svg", True),
    ("README", True),
    ("fonts/x.ttf", True),
    ("data/x.wasm", True),
    ("dir.png/app.css", True),
    ("img/a.png", False),
    ("img/a.PNG", False),
    ("img/a.JpEg", False),
    ("img/a.webp", False),
    ("img/a.avif", False),
    ("img/a.heic", False),
    ("fonts/a.woff", False),
    ("fonts/a.woff2", False),
    ("a.css.gz", False),
    ("a.css.br", False),
    ("a.css.zst", False),
    ("a.7z", False),
    ("a.mp4", False),
    ("a.mp3", False),
    (".gz", False),
])
def test_should_compress(name: str, expected: bool) -> None:
    assert should_compress(name) is expected


def test_skipped_types_empty_files_and_incompressible_bytes_get_no_variant(tmp_path: Path
                                                                            ) -> None:
    root = make_root(tmp_path, TREE)
    result = run(root, TREE, cache=tmp_path / "cache")
    on_disk = variants_on_disk(root)
    for name in ("img/photo.png", "empty.txt"):
        assert name not in result.variants
        assert not [v for v in on_disk if v.startswith(name)]
    # Considered, but not one algorithm gets within 95%.
    assert result.variants["data/noise.bin"] == {}
    assert not [v for v in on_disk if v.startswith("data/noise.bin")]
    for name in ("css/app.css", "js/app.js", "js/small.js", "img/logo.svg"):
        assert list(result.variants[name]) == [ENCODING[a] for a in ALL]
    assert sorted(on_disk) == result.files


@pytest.mark.parametrize(("original", "variant", "kept"), [
    (100, 95, True),  # at 95% exactly: kept, as WhiteNoise keeps it
    (100, 96, False),
    (20, 19, True),
    (1000, 951, False),
    (1, 0, True),
    (0, 0, False),  # an empty file has no variant
])
def test_the_95_percent_rule(original: int, variant: int, kept: bool) -> None:
    assert worth_keeping(original, variant) is kept


def test_the_95_percent_rule_decides_each_algorithm_on_its_own(tmp_path: Path) -> None:
    # Tiny files: the container overhead decides. 40 bytes of text: gzip's
    # 20-byte frame loses, brotli wins; each algorithm is decided on its own.
    files = {f"t{size}.txt": text(size, size) for size in range(10, 200, 7)}
    root = make_root(tmp_path, files)
    result = run(root, files)
    for name, data in files.items():
        for algorithm in ALL:
            size = len(compress_bytes(algorithm, data))
            worth = size / len(data) <= 0.95
            assert (ENCODING[algorithm] in result.variants[name]) is worth, (name, algorithm)
            assert (root / (name + SUFFIX[algorithm])).exists() is worth
    decided = {tuple(sorted(v)) for v in result.variants.values()}
    assert len(decided) > 1  # the sizes straddle the line for some algorithm


def gzip_file_bytes(data: bytes, level: int = 9) -> bytes:
    """What WhiteNoise writes: GzipFile, no name, mtime 0 (OS byte 255, unlike gzip.compress)."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=level, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def compress_bytes(algorithm: str, data: bytes, level: int | None = None) -> bytes:
    if algorithm == "gzip":
        return gzip_file_bytes(data, level or 9)
    if algorithm == "brotli":
        return brotli.compress(data, quality=11 if level is None else level)
    cctx = zstandard.ZstdCompressor(level=level or 19)
    return cctx.compress(data)


def test_variants_decompress_to_the_original_and_sizes_are_recorded(tmp_path: Path) -> None:
    root = make_root(tmp_path, TREE)
    result = run(root, TREE, cache=tmp_path / "cache")
    checked = 0
    for name, found in result.variants.items():
        original = (root / name).read_bytes()
        for algorithm in ALL:
            variant = root / (name + SUFFIX[algorithm])
            if ENCODING[algorithm] not in found:
                continue
            data = variant.read_bytes()
            assert decompress(algorithm, data) == original
            assert found[ENCODING[algorithm]] == len(data)
            assert len(data) / len(original) <= 0.95
            checked += 1
    assert checked == 4 * N


def test_md5_is_computed_when_not_given(tmp_path: Path) -> None:
    first = make_root(tmp_path, TREE, "a")
    second = make_root(tmp_path, TREE, "b")
    given = run(first, TREE, cache=tmp_path / "c1")
    computed = run(second, TREE, cache=tmp_path / "c2", with_md5=False)
    assert given.variants == computed.variants
    assert variants_on_disk(first) == variants_on_disk(second)


# -- levels and determinism ---------------------------------------------------------

@needs_brotli
def test_levels_are_honoured_and_part_of_the_cache_key(tmp_path: Path) -> None:
    files = {"css/app.css": text(7, 60_000)}
    root = make_root(tmp_path, files)
    cache = tmp_path / "cache"
    low = run(root, files, ["brotli", "gzip"], {"brotli": 1, "gzip": 1}, cache=cache)
    assert (low.compressed, low.cached) == (2, 0)
    low_br = (root / "css/app.css.br").read_bytes()
    low_gz = (root / "css/app.css.gz").read_bytes()
    assert low_br == brotli.compress(files["css/app.css"], quality=1)
    assert low_gz == gzip_file_bytes(files["css/app.css"], 1)
    high = run(root, files, ["brotli", "gzip"], cache=cache)  # defaults: 11 and 9
    assert (high.compressed, high.cached) == (2, 0)  # not served from level 1's entries
    high_br = (root / "css/app.css.br").read_bytes()
    assert high_br == brotli.compress(files["css/app.css"], quality=11)
    assert len(high_br) < len(low_br)
    assert (root / "css/app.css.gz").read_bytes() != low_gz
    again = run(root, files, ["brotli", "gzip"], {"brotli": 1, "gzip": 1}, cache=cache)
    assert (again.compressed, again.cached) == (0, 2)
    assert (root / "css/app.css.br").read_bytes() == low_br


@needs_zstandard
def test_zstd_level_is_honoured(tmp_path: Path) -> None:
    files = {"a.css": text(8, 50_000)}
    root = make_root(tmp_path, files)
    run(root, files, ["zstd"], {"zstd": 1})
    fast = (root / "a.css.zst").read_bytes()
    run(root, files, ["zstd"], {"zstd": 19})
    best = (root / "a.css.zst").read_bytes()
    assert len(best) < len(fast)
    params = zstandard.get_frame_parameters(best)
    assert params.content_size == 50_000


def test_gzip_has_no_name_and_no_timestamp(tmp_path: Path) -> None:
    files = {"css/app.css": text(9, 3000)}
    root = make_root(tmp_path, files)
    os.utime(root / "css/app.css", (1_700_000_000, 1_700_000_000))
    run(root, files, ["gzip"])
    data = (root / "css/app.css.gz").read_bytes()
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] == 0  # FLG: no FNAME, no FCOMMENT, no FEXTRA
    assert data[4:8] == b"\0\0\0\0"  # MTIME 0
    assert data[9] == 255  # OS "unknown": the same on every machine
    assert data == gzip_file_bytes(files["css/app.css"])


def test_output_is_identical_across_runs_and_cache_dirs(tmp_path: Path) -> None:
    first = make_root(tmp_path, TREE, "a")
    second = make_root(tmp_path, TREE, "b")
    run(first, TREE, cache=tmp_path / "c1")
    run(second, TREE, cache=tmp_path / "c2", workers=4)
    no_cache = make_root(tmp_path, TREE, "c")
    run(no_cache, TREE, cache=None)
    assert variants_on_disk(first) == variants_on_disk(second) == variants_on_disk(no_cache)
    before = variants_on_disk(first)
    run(first, TREE, cache=tmp_path / "c2")  # warm, from the other cache
    assert variants_on_disk(first) == before


# -- the cache ----------------------------------------------------------------------

def test_second_run_compresses_nothing_and_a_change_redoes_only_that_file(tmp_path: Path
                                                                         ) -> None:
    files = {f"css/f{i}.css": text(100 + i, 4000) for i in range(6)}
    files["bin/noise.dat"] = noise(5, 5000)
    root = make_root(tmp_path, files)
    cache = tmp_path / "cache"
    first = run(root, files, cache=cache)
    assert (first.compressed, first.cached) == (7 * N, 0)
    before = variants_on_disk(root)

    second = run(root, files, cache=cache)
    assert (second.compressed, second.cached) == (0, 7 * N)  # "not worth it" is cached too
    assert second.variants == first.variants
    assert variants_on_disk(root) == before

    changed = text(999, 4000)
    (root / "css/f3.css").write_bytes(changed)
    third = run(root, files, cache=cache)
    assert (third.compressed, third.cached) == (N, 6 * N)
    after = variants_on_disk(root)
    for algorithm in ALL:
        name = "css/f3.css" + SUFFIX[algorithm]
        assert decompress(algorithm, after[name]) == changed
        assert after[name] != before[name]
    assert {k: v for k, v in after.items() if not k.startswith("css/f3.css")} == \
        {k: v for k, v in before.items() if not k.startswith("css/f3.css")}


def test_identical_content_is_compressed_once(tmp_path: Path) -> None:
    data = text(11, 8000)
    files = {"app.css": data, "app.0123456789ab.css": data, "other/copy.css": data}
    root = make_root(tmp_path, files)
    result = run(root, files, cache=tmp_path / "cache")
    assert (result.compressed, result.cached) == (N, 0)
    assert len(result.files) == 3 * N
    assert len({(root / f).read_bytes() for f in result.files}) == N


def test_variants_are_hard_links_into_the_cache_and_left_alone_when_current(tmp_path: Path
                                                                          ) -> None:
    files = {"a.css": text(12, 8000)}
    root = make_root(tmp_path, files)
    run(root, files, ["gzip"], cache=tmp_path / "cache")
    variant = root / "a.css.gz"
    first = variant.stat()
    assert first.st_nlink == 2  # root and cache share the bytes
    run(root, files, ["gzip"], cache=tmp_path / "cache")
    second = variant.stat()
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)


@needs_brotli
def test_a_large_brotli_entry_is_taken_from_the_cache(tmp_path: Path) -> None:
    # Each 64 KiB of this stream decompresses to more than the reader may give
    # at once: the output still held back once all input is read is drained,
    # not taken for a truncated stream (the entry was compressed every run).
    files = {"big.js": text(16, 4_000_000)}
    root = make_root(tmp_path, files)
    cache = tmp_path / "cache"
    first = run(root, files, ["brotli"], levels={"brotli": 1}, cache=cache)
    assert (first.compressed, first.cached) == (1, 0)
    (root / "big.js.br").unlink()
    second = run(root, files, ["brotli"], levels={"brotli": 1}, cache=cache)
    assert (second.compressed, second.cached) == (0, 1)
    assert decompress("brotli", (root / "big.js.br").read_bytes()) == files["big.js"]


@pytest.mark.parametrize("damage", ["garbage", "truncate", "other-content", "delete-all"])
def test_a_damaged_cache_entry_is_detected_and_redone(tmp_path: Path, damage: str) -> None:
    files = {"a.css": text(13, 20_000), "b.css": text(14, 20_000)}
    root = make_root(tmp_path, files)
    cache = tmp_path / "cache"
    run(root, files, cache=cache)
    good = variants_on_disk(root)
    entries = sorted(p for p in (cache / "v1").rglob("*") if p.is_file())
    assert len(entries) == 2 * N
    victims = [e for e in entries if e.name == md5(files["a.css"])]
    assert len(victims) == N
    for entry in victims:
        data = entry.read_bytes()
        entry.unlink()  # break the hard link first: a damaged cache, not a damaged root
        if damage == "garbage":
            entry.write_bytes(b"\0" * len(data))
        elif damage == "truncate":
            entry.write_bytes(data[: len(data) // 2])
        elif damage == "other-content":  # a valid stream, but of other bytes
            algorithm = entry.parent.parent.name.split("-")[0]  # gzip-9-zlib1.2.13
            entry.write_bytes((root / ("b.css" + SUFFIX[algorithm])).read_bytes())
    if damage == "delete-all":
        shutil.rmtree(cache)
    for variant in variants_on_disk(root):
        (root / variant).unlink()
    result = run(root, files, cache=cache)
    expected = (2 * N, 0) if damage == "delete-all" else (N, N)
    assert (result.compressed, result.cached) == expected
    assert variants_on_disk(root) == good


def test_a_damaged_skip_marker_is_redone(tmp_path: Path) -> None:
    files = {"noise.dat": noise(15, 3000)}
    root = make_root(tmp_path, files)
    cache = tmp_path / "cache"
    run(root, files, ["gzip"], cache=cache)
    (marker,) = [p for p in cache.rglob("*.skip")]
    marker.write_bytes(b"nonsense")
    result = run(root, files, ["gzip"], cache=cache)
    assert (result.compressed, result.cached) == (1, 0)
    assert marker.read_bytes() != b"nonsense"
    assert run(root, files, ["gzip"], cache=cache).cached == 1


def test_an_unusable_cache_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    files = {"a.css": text(16, 3000)}
    root = make_root(tmp_path, files)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = run(root, files, ["gzip"], cache=blocker / "cache")
    assert result.variants == {"a.css": {"gzip": len((root / "a.css.gz").read_bytes())}}
    assert len(result.warnings) == 1 and "compression cache" in result.warnings[0]
    assert list((root / ".collectstatic" / "tmp").iterdir()) == []


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    root = make_root(tmp_path, TREE)
    cache = tmp_path / "cache"
    run(root, TREE, cache=cache)
    run(root, TREE, cache=None)
    assert list((root / ".collectstatic" / "tmp").iterdir()) == []
    assert list((cache / "tmp").iterdir()) == []


# -- edges --------------------------------------------------------------------------

def test_a_collected_file_is_never_overwritten_by_a_variant(tmp_path: Path) -> None:
    files = {"a.css": text(17, 3000), "a.css.gz": b"the user's own gzip file"}
    root = make_root(tmp_path, files)
    result = run(root, files)
    assert (root / "a.css.gz").read_bytes() == b"the user's own gzip file"
    assert "gzip" not in result.variants["a.css"]
    assert set(result.variants["a.css"]) == {ENCODING[a] for a in ALL} - {"gzip"}
    assert "a.css.gz" not in result.files
    assert any("a.css.gz" in warning for warning in result.warnings)


def test_file_mode(tmp_path: Path) -> None:
    files = {"a.css": text(18, 3000)}
    root = make_root(tmp_path, files)
    other = make_root(tmp_path, files, "other")
    cache = tmp_path / "cache"
    run(root, files, cache=cache, file_mode=0o640)
    for algorithm in ALL:
        variant = root / ("a.css" + SUFFIX[algorithm])
        assert variant.stat().st_mode & 0o777 == 0o640
        assert variant.stat().st_nlink == 2  # made with the mode, so still linked
    # Another root wanting another mode gets copies: a chmod there must not reach here.
    run(other, files, cache=cache, file_mode=0o604)
    for algorithm in ALL:
        assert (other / ("a.css" + SUFFIX[algorithm])).stat().st_mode & 0o777 == 0o604
        assert (root / ("a.css" + SUFFIX[algorithm])).stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(("skip", "compressed"), [
    (None, {"css/app.css", "js/app.js"}),
    ([], {"css/app.css", "js/app.js", "img/photo.png", "img/more.PNG"}),
    (["css", "png"], {"js/app.js"}),
])
def test_skip_names_the_extensions_left_alone(tmp_path: Path, skip: Any, compressed: set[str]
                                               ) -> None:
    files = {"css/app.css": text(45, 5000), "js/app.js": text(46, 5000),
             "img/photo.png": text(47, 5000), "img/more.PNG": text(48, 5000)}
    root = make_root(tmp_path, files)
    result = run(root, files, ["gzip"], skip=skip)
    assert set(result.variants) == compressed
    assert {name[:-3] for name in variants_on_disk(root)} == compressed


def test_the_default_skip_list_is_the_documented_one() -> None:
    from .support import REPO

    text = (REPO / "docs/configuration.md").read_text(encoding="utf-8")
    paragraph = text.split("- **`compress-skip`**", 1)[1].split("\n- **", 1)[0]
    listed = re.findall(r"`([a-z0-9]+)`", paragraph.split("The default is", 1)[1])
    assert sorted(listed) == sorted(codecs.SKIP_COMPRESS_EXTENSIONS)


# -- modification times --------------------------------------------------------------

def mtimes(root: Path, names: Any) -> dict[str, int]:
    return {name: (root / name).stat().st_mtime_ns for name in names}


def entries(cache: Path) -> dict[str, tuple[int, int]]:
    """Every cache entry: (inode, mtime)."""
    return {p.relative_to(cache).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((cache / "v1").rglob("*")) if p.is_file()}


@pytest.mark.parametrize("cached", [True, False])
def test_variants_have_their_originals_mtime(tmp_path: Path, cached: bool) -> None:
    files = {"css/a.css": text(41, 6000), "js/b.js": text(42, 6000)}
    root = make_root(tmp_path, files)
    os.utime(root / "css/a.css", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    os.utime(root / "js/b.js", ns=(1_500_000_000_000_000_001, 1_500_000_000_000_000_001))
    result = run(root, files, cache=tmp_path / "cache" if cached else None)
    assert len(result.files) == 2 * N
    for variant in result.files:
        original = variant.rsplit(".", 1)[0]
        assert mtimes(root, [variant])[variant] == mtimes(root, [original])[original]


def test_names_sharing_content_keep_their_own_mtimes_and_entries_are_never_changed(
        tmp_path: Path) -> None:
    data = text(43, 8000)
    files = {"app.css": data, "app.0123456789ab.css": data, "copy/app.css": data}
    first, second = make_root(tmp_path, files, "one"), make_root(tmp_path, files, "two")
    for number, name in enumerate(sorted(files)):
        os.utime(first / name, ns=(10**18 + number, 10**18 + number))
        os.utime(second / name, ns=(2 * 10**18 + number, 2 * 10**18 + number))
    cache = tmp_path / "cache"
    assert run(first, files, cache=cache).compressed == N
    made = entries(cache)
    assert run(second, files, cache=cache).cached == N  # the same entries, other times
    assert entries(cache) == made
    for root in (first, second):
        for name in files:
            for algorithm in ALL:
                variant = name + SUFFIX[algorithm]
                assert mtimes(root, [variant])[variant] == mtimes(root, [name])[name]
                assert decompress(algorithm, (root / variant).read_bytes()) == data
    assert variants_on_disk(first) == variants_on_disk(second)


def test_a_touched_original_gives_its_variant_the_new_mtime(tmp_path: Path) -> None:
    data = text(44, 8000)
    files = {"a.css": data, "b.css": data}
    root = make_root(tmp_path, files)
    os.utime(root / "a.css", ns=(10**18, 10**18))
    cache = tmp_path / "cache"
    run(root, files, cache=cache)
    made, before = entries(cache), variants_on_disk(root)
    kept = {p: (root / p).stat() for p in before}
    again = run(root, files, cache=cache)  # nothing changed: nothing is rewritten
    assert (again.compressed, again.cached) == (0, N)
    assert {p: ((root / p).stat().st_ino, (root / p).stat().st_mtime_ns) for p in before} == {
        p: (info.st_ino, info.st_mtime_ns) for p, info in kept.items()}
    os.utime(root / "a.css", ns=(3 * 10**17, 3 * 10**17))  # same bytes, new mtime
    run(root, files, cache=cache)
    for algorithm in ALL:
        assert mtimes(root, ["a.css" + SUFFIX[algorithm]])["a.css" + SUFFIX[algorithm]] == \
            3 * 10**17
    assert variants_on_disk(root) == before
    assert entries(cache) == made


def test_a_cache_with_nothing_for_a_codec_is_not_searched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A first run looks up no entry (two failed file system calls per variant
    # before); a later run finds its entries by looking them up.
    files = {"a.css": text(31, 5000), "b.css": text(32, 5000)}
    root = make_root(tmp_path, files)
    cache = tmp_path / "cache"
    missed: list[str] = []
    real_stat = os.stat

    def stat_spy(path: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return real_stat(path, *args, **kwargs)
        except FileNotFoundError:
            name = os.fspath(path)
            if name.startswith(os.fspath(cache)) and len(os.path.basename(name)) == 32:
                missed.append(name)  # an entry (not a directory made for one)
            raise

    monkeypatch.setattr(os, "stat", stat_spy)
    first = run(root, files, cache=cache)
    assert (first.compressed, first.cached, missed) == (2 * N, 0, [])
    for variant in variants_on_disk(root):
        (root / variant).unlink()
    second = run(root, files, cache=cache)
    assert (second.compressed, second.cached) == (0, 2 * N)
    assert sorted(variants_on_disk(root)) == sorted(name + SUFFIX[a] for name in files
                                                    for a in ALL)


def test_deleting_the_cache_during_a_run_is_safe(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"a.css": text(21, 5000), "b.css": text(22, 5000)}
    root = make_root(tmp_path, files)
    cache = tmp_path / "cache"
    run(root, files, cache=cache)
    expected = variants_on_disk(root)
    for variant in expected:
        (root / variant).unlink()
    real_link = os.link

    def delete_then_link(source: Any, dest: Any, *args: Any, **kwargs: Any) -> Any:
        shutil.rmtree(cache, ignore_errors=True)  # between finding an entry and placing it
        return real_link(source, dest, *args, **kwargs)

    monkeypatch.setattr(os, "link", delete_then_link)
    result = run(root, files, cache=cache)
    assert variants_on_disk(root) == expected
    assert result.compressed == 2 * N


def test_a_missing_output_is_an_error_naming_it(tmp_path: Path) -> None:
    root = make_root(tmp_path, {})
    with pytest.raises(CollectError, match=r"gone\.css"):
        compress_outputs(root, [("gone.css", None)], ["gzip"],
                         tmp_dir=root / ".collectstatic" / "tmp")


def test_unknown_algorithm(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lzma"):
        compress_outputs(tmp_path, [], ["lzma"], tmp_dir=tmp_path)


def stdlib_zstd() -> Any:
    """compression.zstd (Python 3.14+) or its backport, or skip."""
    for name in ("compression.zstd", "backports.zstd"):
        try:
            return __import__(name, fromlist=["ZstdCompressor"])
        except ImportError:
            pass
    pytest.skip("neither compression.zstd nor backports.zstd is installed")


@pytest.fixture(params=[pytest.param("zstandard", marks=needs_zstandard), "stdlib"])
def zstd_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each zstd implementation."""
    if request.param == "stdlib":
        stdlib_zstd()
        monkeypatch.setitem(sys.modules, "zstandard", None)
    else:
        monkeypatch.setitem(sys.modules, "compression.zstd", None)
        monkeypatch.setitem(sys.modules, "backports.zstd", None)
    return str(request.param)


@needs_zstandard
@pytest.mark.parametrize("level", [1, 19, 22])
def test_zstd_implementations_agree(tmp_path: Path, zstd_backend: str, level: int) -> None:
    files = {name: data for name, data in TREE.items() if should_compress(name)}
    root = make_root(tmp_path, files)
    result = run(root, files, ["zstd"], {"zstd": level}, cache=tmp_path / "cache")
    for name, found in result.variants.items():
        if found:
            data = (root / (name + ".zst")).read_bytes()
            assert decompress("zstd", data) == files[name]
            assert data == zstandard.ZstdCompressor(level=level).compress(files[name])
    assert sum(1 for found in result.variants.values() if found) == 4
    again = run(root, files, ["zstd"], {"zstd": level}, cache=tmp_path / "cache")
    assert (again.compressed, again.cached) == (0, 5)


@pytest.mark.slow
@needs_zstandard
def test_zstd_window_stays_within_8_mib_at_ultra_levels(tmp_path: Path, zstd_backend: str
                                                         ) -> None:
    files = {"big.txt": text(19, 12 << 20)}
    root = make_root(tmp_path, files)
    run(root, files, ["zstd"], {"zstd": 22})
    data = (root / "big.txt.zst").read_bytes()
    assert zstandard.get_frame_parameters(data).window_size <= 8 << 20
    assert decompress("zstd", data) == files["big.txt"]


# -- missing libraries --------------------------------------------------------------

def test_missing_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_libraries(ALL) == []
    monkeypatch.setitem(sys.modules, "brotli", None)
    monkeypatch.setitem(sys.modules, "zstandard", None)
    monkeypatch.setitem(sys.modules, "compression.zstd", None)
    monkeypatch.setitem(sys.modules, "backports.zstd", None)
    assert missing_libraries(["gzip", "brotli"]) == [
        'compress[1]: "brotli" needs the brotli package: pip install "collectstatic[brotli]"']
    problems = missing_libraries(["zstd"], key="tool.collectstatic.compress")
    assert len(problems) == 1
    assert problems[0].startswith('tool.collectstatic.compress[0]: "zstd" needs ')
    assert "zstandard" in problems[0]


@needs_brotli
def test_compressing_without_the_library_is_a_clear_error(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    files = {"a.css": text(20, 3000)}
    root = make_root(tmp_path, files)
    monkeypatch.setitem(sys.modules, "brotli", None)
    with pytest.raises(CollectError, match=r'"brotli" needs the brotli package: '
                                           r'pip install "collectstatic\[brotli\]"'):
        run(root, files, ["gzip", "brotli"])
    assert variants_on_disk(root) == {}
    run(root, files, ["gzip"])  # gzip needs nothing
    assert list(variants_on_disk(root)) == ["a.css.gz"]


# -- where the build cache lives ----------------------------------------------------

def test_default_build_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLLECTSTATIC_CACHE_DIR", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    one = default_build_cache_dir(tmp_path / "p1")
    two = default_build_cache_dir(tmp_path / "p2")
    assert one.parent == tmp_path / "xdg" / "collectstatic"
    assert one != two
    assert default_build_cache_dir(tmp_path / "p1" / ".." / "p1") == one
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_build_cache_dir(tmp_path / "p1").parent == \
        tmp_path / "home" / ".cache" / "collectstatic"
    monkeypatch.setenv("COLLECTSTATIC_CACHE_DIR", str(tmp_path / "mine"))
    assert default_build_cache_dir(tmp_path / "p1") == tmp_path / "mine"


# -- memory -------------------------------------------------------------------------

MEMORY_PROBE = textwrap.dedent("""
    import hashlib, random, resource, sys
    from pathlib import Path
    from collectstatic.compress import compress_outputs

    root = Path(sys.argv[1])
    size = int(sys.argv[2])
    (root / "tmp").mkdir()
    rng = random.Random(0)
    words = [bytes(rng.choices(b"abcdefghijklmnop {};:#", k=rng.randrange(3, 12)))
             for _ in range(5000)]
    md5 = hashlib.md5()
    with open(root / "big.css", "wb") as out:
        written = 0
        while written < size:
            chunk = b" ".join(rng.choices(words, k=20000)) + b"\\n"
            out.write(chunk)
            md5.update(chunk)
            written += len(chunk)

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # MiB on Linux

    before = peak()
    levels = {"gzip": 6, "brotli": 5, "zstd": 3}
    for _ in range(2):  # cold, then from the cache (verified by decompressing)
        result = compress_outputs(root, [("big.css", md5.hexdigest())], sys.argv[3:], levels,
                                  tmp_dir=root / "tmp", cache_dir=root / "cache")
    assert result.cached == len(sys.argv[3:]), result
    print(before, peak(), written, result.variants)
""")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss units differ")
def test_memory_stays_flat_on_a_large_file(tmp_path: Path) -> None:
    size = 200 << 20
    proc = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(tmp_path), str(size),
                           *ALL], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    before, after, written, variants = proc.stdout.split(" ", 3)
    assert int(written) >= size
    assert all(f"'{ENCODING[a]}'" in variants for a in ALL)
    growth = int(after) - int(before)
    assert growth < 64, f"peak RSS grew by {growth} MiB compressing a {size >> 20} MiB file"


@needs_brotli
@pytest.mark.parametrize("size", [200, 700, 40_000, codecs.CHUNK, codecs.CHUNK + 1,
                                  3 * codecs.CHUNK + 5])
def test_brotli_variants_are_the_streaming_encoders_bytes_at_every_size(
        tmp_path: Path, size: int) -> None:
    # Files that fit one read go through brotli's one-shot call (faster, the
    # encoder knows the input); the bytes must be what the stream gives.
    level = 11 if size < 50_000 else 5
    (codec,) = load_codecs(["brotli"], {"brotli": level})
    files = {"a.css": text(size, size)}
    root = make_root(tmp_path, files)
    result = run(root, files, ["brotli"], {"brotli": level}, cache=tmp_path / "cache")
    streamed = brotli.Compressor(quality=level)
    expected = streamed.process(files["a.css"]) + streamed.finish()
    assert (root / "a.css.br").read_bytes() == expected
    assert result.variants["a.css"] == {"br": len(expected)}
    stream = codec.stream(size)  # the codec's own stream, fed in pieces
    pieces = [stream.process(files["a.css"][at:at + codecs.CHUNK])
              for at in range(0, size, codecs.CHUNK)]
    assert b"".join(pieces) + stream.finish() == expected
    assert brotli.decompress(expected) == files["a.css"]
