"""Precompressed siblings made by `collectstatic collect` (compress = [...])."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pytest

from .support import cli, run, tree_bytes, write_tree

brotli = pytest.importorskip("brotli")

CSS = "".join(f".rule{i} {{ color: #{i:06x}; background: url(../img/a.png); }}\n"
              for i in range(300))
FILES = {
    "s/css/site.css": CSS,
    "s/css/other.css": CSS.replace("rule", "other"),
    "s/js/app.js": "function f(a, b) { return a + b; }\n" * 200,
    "s/img/a.png": os.urandom(4000),  # an image: never compressed
    "s/tiny.txt": "x",  # compresses to more than 95%: no variant
}


def make(root: Path, extra: str = 'compress = ["gzip", "brotli"]\n') -> Path:
    write_tree(root, FILES)
    (root / "pyproject.toml").write_text(
        f'[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n{extra}')
    return root


def manifest(root: Path) -> dict:
    return json.loads((root / "out/staticfiles.json").read_bytes())


def compressed_count(stdout: str) -> int:
    found = re.search(r"Compressed (\d+) variant", stdout)
    assert found, stdout
    return int(found.group(1))


def test_variants_for_hashed_and_plain_files(tmp_path: Path) -> None:
    make(tmp_path)
    cli("collect", "--noinput", cwd=tmp_path)
    out = tree_bytes(tmp_path / "out")
    data = manifest(tmp_path)
    paths, files = data["paths"], data["collectstatic"]["files"]
    for name in ("css/site.css", "css/other.css", "js/app.js"):
        for plain_or_hashed in (name, paths[name]):
            assert gzip.decompress(out[plain_or_hashed + ".gz"]) == out[plain_or_hashed]
            assert brotli.decompress(out[plain_or_hashed + ".br"]) == out[plain_or_hashed]
        assert files[paths[name]]["encodings"] == {
            "gzip": len(out[paths[name] + ".gz"]), "br": len(out[paths[name] + ".br"])}
    for name in ("img/a.png", "tiny.txt"):
        assert not any(key.startswith(name) and key != name and key != paths[name]
                       for key in out), name
        assert files[paths[name]]["encodings"] == {}


def test_gzip_is_deterministic(tmp_path: Path) -> None:
    make(tmp_path / "a")
    make(tmp_path / "b")
    cli("collect", "--noinput", cwd=tmp_path / "a")
    cli("collect", "--noinput", cwd=tmp_path / "b")
    assert tree_bytes(tmp_path / "a/out") == tree_bytes(tmp_path / "b/out")
    gz = (tmp_path / "a/out/css/site.css.gz").read_bytes()
    assert gz[4:8] == b"\0\0\0\0" and not gz[3] & 0x08  # mtime 0, no file name


def variant_mtimes(out: Path) -> dict[str, tuple[int, int]]:
    """Every variant's mtime, and its original's."""
    return {name: ((out / name).stat().st_mtime_ns, (out / name[:-3]).stat().st_mtime_ns)
            for name in tree_bytes(out) if name.endswith((".gz", ".br"))}


def test_variants_have_their_originals_mtime_after_each_run(tmp_path: Path) -> None:
    make(tmp_path)
    cli("collect", "--noinput", cwd=tmp_path)
    first = variant_mtimes(tmp_path / "out")
    assert len(first) == 12  # 3 files, plain and hashed, 2 algorithms
    assert all(variant == original for variant, original in first.values()), first
    (tmp_path / "s/js/app.js").write_text("function g(a) { return a * 2; }\n" * 200)
    cli("collect", "--noinput", cwd=tmp_path)
    second = variant_mtimes(tmp_path / "out")
    assert all(variant == original for variant, original in second.values()), second
    for name in ("css/site.css.gz", "css/site.css.br"):  # unchanged: left as they were
        assert second[name] == first[name]


def test_wheels_with_variants_are_reproducible(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from .test_hatch_hook import build_wheel, make_project

    project = make_project(tmp_path / "p", collectstatic='compress = ["gzip", "brotli"]\n',
                           files={"src/pkg/static/pkg/css/big.css": CSS.replace("url", "u")})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_wheel(project, tmp_path / "one").read_bytes()
    os.utime(project / "src/pkg/static/pkg/css/big.css")  # new mtime, same bytes
    second = build_wheel(project, tmp_path / "two").read_bytes()
    assert first == second
    assert b"big.css.br" in first and b"big.css.gz" in first


def test_warm_run_compresses_nothing_and_one_change_recompresses_its_own(tmp_path: Path
                                                                          ) -> None:
    make(tmp_path)
    cold = cli("collect", "--noinput", "-v", "2", cwd=tmp_path)
    old = manifest(tmp_path)["paths"]
    # once per distinct content and algorithm: site.css and other.css plain and
    # rewritten, app.js (plain and hashed are the same bytes), tiny.txt (tried,
    # not worth keeping): 6 contents x 2 algorithms
    assert compressed_count(cold.stdout) == 12
    warm = cli("collect", "--noinput", "-v", "2", cwd=tmp_path)
    assert "Compressed" not in warm.stdout  # the previous answer stood: nothing was redone
    (tmp_path / "s/js/app.js").write_text("function g(a) { return a * 2; }\n" * 200)
    (tmp_path / "s/img/a.png").write_bytes(os.urandom(4000))  # site.css and other.css change
    changed = cli("collect", "--noinput", "-v", "2", cwd=tmp_path)
    # app.js's new bytes, and both CSS files' new hashed copies (their plain bytes
    # did not change): 3 contents x 2 algorithms
    assert compressed_count(changed.stdout) == 3 * 2
    out = tree_bytes(tmp_path / "out")
    variants = {name for name in out if name.endswith((".gz", ".br"))}
    paths = manifest(tmp_path)["paths"]
    changed = ("css/site.css", "css/other.css", "js/app.js")
    expected = {f"{base}{suffix}" for name in changed
                for base in (name, paths[name]) for suffix in (".gz", ".br")}
    # the old hashed files' variants stay with them (keep-versions), and with
    # keep-versions = 0 they go
    kept = {f"{old[name]}{suffix}" for name in changed for suffix in (".gz", ".br")}
    assert variants == expected | kept
    (tmp_path / "pyproject.toml").write_text(
        (tmp_path / "pyproject.toml").read_text() + "keep-versions = 0\n")
    cli("collect", "--noinput", cwd=tmp_path)
    assert {name for name in tree_bytes(tmp_path / "out")
            if name.endswith((".gz", ".br"))} == expected


def test_keep_unhashed_false_compresses_only_hashed_files(tmp_path: Path) -> None:
    make(tmp_path, 'compress = ["gzip"]\nkeep-unhashed = false\n')
    cli("collect", "--noinput", cwd=tmp_path)
    paths = manifest(tmp_path)["paths"]
    variants = {name for name in tree_bytes(tmp_path / "out") if name.endswith(".gz")}
    assert variants == {paths[name] + ".gz" for name in ("css/site.css", "css/other.css",
                                                          "js/app.js")}


def test_manifest_false_compresses_plain_copies(tmp_path: Path) -> None:
    make(tmp_path, 'compress = ["gzip"]\nmanifest = false\n')
    cli("collect", "--noinput", cwd=tmp_path)
    out = tree_bytes(tmp_path / "out")
    assert {name for name in out if name.endswith(".gz")} == {
        "css/site.css.gz", "css/other.css.gz", "js/app.js.gz"}
    (tmp_path / "s/js/app.js").unlink()
    cli("collect", "--noinput", cwd=tmp_path)
    assert "js/app.js.gz" not in tree_bytes(tmp_path / "out")


def test_levels_are_honoured(tmp_path: Path) -> None:
    make(tmp_path / "fast", 'compress = ["brotli"]\ncompress-levels = {brotli = 1}\n')
    make(tmp_path / "best", 'compress = ["brotli"]\n')
    cli("collect", "--noinput", cwd=tmp_path / "fast")
    cli("collect", "--noinput", cwd=tmp_path / "best")
    fast = (tmp_path / "fast/out/js/app.js.br").read_bytes()
    best = (tmp_path / "best/out/js/app.js.br").read_bytes()
    source = (tmp_path / "best/out/js/app.js").read_bytes()
    assert fast == brotli.compress(source, quality=1)
    assert best == brotli.compress(source, quality=11)


def test_missing_library_is_a_config_error(tmp_path: Path) -> None:
    make(tmp_path)
    shadow = tmp_path / "shadow"
    write_tree(shadow, {"brotli/__init__.py": "raise ImportError('simulated: not installed')"})
    import sys

    proc = run([sys.executable, "-m", "collectstatic", "collect", "--noinput"], cwd=tmp_path,
               env={"PYTHONPATH": str(shadow)}, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f'error: {tmp_path / "pyproject.toml"}: tool.collectstatic.compress[1]: "brotli" needs '
        'the brotli package: pip install "collectstatic[brotli]"')


@pytest.mark.django
def test_same_variants_as_whitenoise_and_none_larger(tmp_path: Path, django_python: str) -> None:
    """WhiteNoise's CompressedManifestStaticFilesStorage on the same tree, same levels."""
    from .djangoref import run_django

    django_dir = run([django_python, "-c", "import django, os; print(os.path.dirname("
                                           "django.__file__))"]).stdout.strip()
    import shutil

    shutil.copytree(Path(django_dir) / "contrib/admin/static", tmp_path / "s")
    write_tree(tmp_path, {key: value for key, value in FILES.items() if "img" not in key})
    (tmp_path / "s/img").mkdir(exist_ok=True)
    (tmp_path / "s/img/a.png").write_bytes(FILES["s/img/a.png"])
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\ncompress = ["gzip", "brotli"]\n')
    proc = run_django([str(tmp_path / "s")], tmp_path / "theirs", python=django_python,
                      storage="whitenoise")
    if proc.returncode != 0 and "No module named 'whitenoise'" in proc.stderr:
        pytest.skip("whitenoise is not installed beside the reference Django")
    assert proc.returncode == 0, proc.stderr
    cli("collect", "--noinput", cwd=tmp_path)
    ours, theirs = tree_bytes(tmp_path / "out"), tree_bytes(tmp_path / "theirs")
    our_variants = {n for n in ours if n.endswith((".gz", ".br"))}
    their_variants = {n for n in theirs if n.endswith((".gz", ".br"))}
    assert len(our_variants) > 100
    assert our_variants == their_variants
    larger = [n for n in our_variants if len(ours[n]) > len(theirs[n])]
    assert larger == []
    assert all(ours[n] == theirs[n] for n in our_variants if n.endswith(".gz"))


# -- compress-skip ------------------------------------------------------------------

FLAT_PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" * 500  # an image type, compressible bytes


@pytest.mark.parametrize(("value", "message"), [
    ('"png"', 'tool.collectstatic.compress-skip: expected a list of extensions such as '
              '["png", "woff2"], found'),
    ("[1]", 'tool.collectstatic.compress-skip[0]: expected a file extension such as "png", '
            "found"),
    ('["png", "tar.gz"]', "tool.collectstatic.compress-skip[1]: expected a file extension"),
    ('["img/a"]', "tool.collectstatic.compress-skip[0]: expected a file extension"),
    ('[""]', "tool.collectstatic.compress-skip[0]: expected a file extension"),
    ('[["png"]]', "tool.collectstatic.compress-skip[0]: expected a file extension"),
])
def test_compress_skip_is_validated(tmp_path: Path, value: str, message: str) -> None:
    make(tmp_path, f'compress = ["gzip"]\ncompress-skip = {value}\n')
    proc = cli("collect", "--noinput", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {tmp_path / 'pyproject.toml'}: {message}"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def collect_with_skip(project: Path, skip: str) -> dict[str, bytes]:
    (project / "pyproject.toml").write_text(
        f'[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\ncompress = ["gzip"]\n{skip}')
    cli("collect", "--noinput", cwd=project)
    return tree_bytes(project / "out")


def test_an_empty_compress_skip_compresses_every_type(tmp_path: Path) -> None:
    write_tree(tmp_path, {**FILES, "s/img/flat.png": FLAT_PNG})
    default = collect_with_skip(tmp_path, "")
    assert "img/flat.png.gz" not in default
    everything = collect_with_skip(tmp_path, "compress-skip = []\n")
    assert gzip.decompress(everything["img/flat.png.gz"]) == FLAT_PNG
    paths = manifest(tmp_path)["paths"]
    assert gzip.decompress(everything[paths["img/flat.png"] + ".gz"]) == FLAT_PNG
    assert "gzip" in manifest(tmp_path)["collectstatic"]["files"][paths["img/flat.png"]][
        "encodings"]
    again = collect_with_skip(tmp_path, "")  # the default again: the image's variants go
    assert not any(name.startswith("img/flat") and name.endswith(".gz") for name in again)


def test_a_custom_compress_skip_skips_what_it_names_and_only_that(tmp_path: Path) -> None:
    write_tree(tmp_path, {**FILES, "s/img/flat.png": FLAT_PNG})
    out = collect_with_skip(tmp_path, 'compress-skip = ["JS", ".txt"]\n')
    assert not any(name.endswith((".js.gz", ".txt.gz")) for name in out)
    assert "img/flat.png.gz" in out  # png is not in this list
    assert gzip.decompress(out["css/site.css.gz"]) == out["css/site.css"]
