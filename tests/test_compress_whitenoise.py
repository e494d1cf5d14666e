"""Our variants against WhiteNoise's compressor on the same tree.

WhiteNoise's ``CompressedManifestStaticFilesStorage`` runs
``whitenoise.compress.Compressor`` over every output file; we run it over a
copy of a tree and compare: the same ``.gz``/``.br`` files exist, ours are no
larger, and gzip is byte-identical.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import pytest

from collectstatic.codecs import SKIP_COMPRESS_EXTENSIONS
from collectstatic.compress import compress_outputs, should_compress

pytest.importorskip("brotli")
whitenoise_compress = pytest.importorskip("whitenoise.compress")
Compressor = whitenoise_compress.Compressor


def admin_static() -> Path | None:
    """Django's admin assets: a real tree of CSS, JS, SVG and images, if Django is here."""
    try:
        import django
    except ImportError:
        return None
    path = Path(django.__file__).parent / "contrib" / "admin" / "static"
    return path if path.is_dir() else None


def synthetic(root: Path) -> None:
    rng = random.Random(42)
    files: dict[str, bytes] = {
        "tiny/one.js": b"x",
        "tiny/short.css": b"a{color:red}",
        "tiny/forty.js": b"console.log('collectstatic compress');\n",
        "empty.css": b"",
        "noise/random.js": rng.randbytes(30_000),
        "noise/half.bin": rng.randbytes(6_000) + b"a" * 400,
        "img/real.png": b"\x89PNG\r\n" + b"abc" * 5000,
        "img/SHOUT.PNG": b"abc" * 5000,
        "fonts/f.woff2": b"wOF2" + b"abc" * 5000,
        "fonts/f.ttf": b"\0\1\0\0" + b"glyf" * 4000,
        "data/app.json": b'{"key": "value", "list": [1, 2, 3]}\n' * 300,
        "data/app.wasm": bytes(rng.choices(range(16), k=40_000)),
    }
    for size in range(60, 400, 23):  # small files near the 95% line
        files[f"edge/e{size}.txt"] = bytes(rng.choices(b"abcdefghij {};\n", k=size))
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    source = admin_static()
    if source is not None:
        shutil.copytree(source, ours / "admin")
    synthetic(ours)
    shutil.copytree(ours, theirs)
    return ours, theirs


def listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def variants(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in listing(root)
            if name.endswith((".gz", ".br"))}


def test_our_skip_list_contains_whitenoises() -> None:
    assert set(Compressor.SKIP_COMPRESS_EXTENSIONS) <= set(SKIP_COMPRESS_EXTENSIONS)
    compressor = Compressor(quiet=True)
    for extension in Compressor.SKIP_COMPRESS_EXTENSIONS:
        for name in (f"a.{extension}", f"dir/A.{extension.upper()}"):
            assert compressor.should_compress(name) is False
            assert should_compress(name) is False


def test_same_variants_as_whitenoise_and_no_larger(trees: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    ours, theirs = trees
    originals = listing(ours)
    assert len(originals) > 20

    compressor = Compressor(quiet=True)  # gzip 9 and brotli 11, like our defaults
    for name in originals:
        if compressor.should_compress(name):
            compressor.compress(str(theirs / name))

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    items = [(name, hashlib.md5((ours / name).read_bytes()).hexdigest()) for name in originals]
    result = compress_outputs(ours, items, ["gzip", "brotli"], tmp_dir=tmp,
                              cache_dir=tmp_path / "cache", workers=2)

    mine, reference = variants(ours), variants(theirs)
    assert sorted(mine) == sorted(reference)
    assert any(name.endswith(".gz") for name in mine)
    assert any(name.endswith(".br") for name in mine)
    # Some files get a .br but no .gz: the set above covers both decisions.
    assert any(name[:-3] + ".gz" not in mine for name in mine if name.endswith(".br"))
    for name, data in mine.items():
        assert len(data) <= len(reference[name]), name
        if name.endswith(".gz"):
            assert data == reference[name], name
    assert sorted(result.files) == sorted(mine)
    for name in mine:  # a variant has its original's mtime, as WhiteNoise gives it
        original = (ours / name[:-3]).stat().st_mtime_ns
        assert (ours / name).stat().st_mtime_ns == original, name
        assert abs((theirs / name).stat().st_mtime_ns - original) < 1000, name  # (float s)
    for name, found in result.variants.items():
        for encoding, suffix in (("gzip", ".gz"), ("br", ".br")):
            if encoding in found:
                assert found[encoding] == len(reference[name + suffix])
