"""A site reuses the compressed variants that an installed app's wheel ships.

An app wheel is built with the hatchling hook (compress = brotli), unpacked
as an installed package onto the site's PYTHONPATH, and a site that lists
the app in ``apps`` is collected with the real CLI.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from .support import run, tree_bytes, write_tree

brotli = pytest.importorskip("brotli")
WheelBuilder = pytest.importorskip("hatchling.builders.wheel").WheelBuilder

CSS = "".join(f".app{i} {{ color: #{i:06x}; background: url(../img/bg.png); }}\n"
              for i in range(200))
APP_STATIC = {
    "pkg/css/app.css": CSS,  # rewritten: the plain and hashed copies differ
    "pkg/js/app.js": "function add(a, b) { return a + b; }\n" * 100,
    "pkg/img/bg.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,  # never compressed
    "pkg/tiny.txt": "x",  # tried, not worth keeping
}
SITE_JS = "function site(a) { return a * 3; }\n" * 100


@pytest.fixture(autouse=True)
def _build_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLECTSTATIC_CACHE_DIR", str(tmp_path / "build-cache"))


def app_wheel(tmp_path: Path, level: int) -> Path:
    """The app's wheel, unpacked as an installed package: the site-packages dir."""
    files: dict[str, str | bytes] = {"pkg/__init__.py": ""}
    files.update({f"pkg/static/{name}": data for name, data in APP_STATIC.items()})
    files["pyproject.toml"] = (
        '[build-system]\nrequires = ["hatchling", "collectstatic"]\n'
        'build-backend = "hatchling.build"\n\n'
        '[project]\nname = "pkg"\nversion = "1.0"\n\n'
        '[tool.collectstatic]\nroot = "pkg/staticfiles"\napps = ["pkg"]\n'
        f'compress = ["brotli"]\ncompress-levels = {{brotli = {level}}}\n\n'
        "[tool.hatch.build.hooks.collectstatic]\n")
    project = write_tree(tmp_path / "app", files)
    (wheel,) = WheelBuilder(str(project)).build(directory=str(tmp_path / "dist"),
                                                versions=["standard"])
    installed = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    assert (installed / "pkg/staticfiles/staticfiles.json").is_file()
    assert (installed / "pkg/static/pkg/css/app.css").is_file()
    return installed


def collect_site(tmp_path: Path, name: str, installed: Path | None, level: int,
                 ) -> tuple[int, int, dict[str, bytes]]:
    """Collect a site (the app plus a file of its own): (compressed, shipped, tree)."""
    site = write_tree(tmp_path / name, {"s/site.js": SITE_JS})
    (site / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\napps = ["pkg"]\n'
        f'compress = ["brotli"]\ncompress-levels = {{brotli = {level}}}\n')
    env = {"PYTHONPATH": str(installed or tmp_path / "site-packages")}
    if installed is None:  # the same app, its shipped trees left out
        env = {"PYTHONPATH": str(tmp_path / "bare")}
    proc = run([sys.executable, "-m", "collectstatic", "collect", "--noinput", "-v", "2"],
               cwd=site, env=env)
    found = re.search(r"Compressed (\d+) variant\(s\), \d+ from the cache, (\d+) shipped",
                      proc.stdout)
    assert found, proc.stdout
    return int(found.group(1)), int(found.group(2)), tree_bytes(site / "out")


def bare_copy(installed: Path, to: Path) -> None:
    """The installed app without its collected tree (as a wheel of its sources only)."""
    for path in installed.rglob("*"):
        relative = path.relative_to(installed)
        if path.is_file() and relative.parts[:2] != ("pkg", "staticfiles"):
            (to / relative).parent.mkdir(parents=True, exist_ok=True)
            (to / relative).write_bytes(path.read_bytes())


def test_same_level_takes_the_shipped_variants_byte_for_byte(tmp_path: Path) -> None:
    installed = app_wheel(tmp_path, level=5)
    shipped = json.loads((installed / "pkg/staticfiles/staticfiles.json").read_bytes())
    assert shipped["collectstatic"]["compress"]["br"]["level"] == 5
    bare_copy(installed, tmp_path / "bare")

    compressed, taken, reused = collect_site(tmp_path, "site", installed, level=5)
    # Only the site's own file is compressed (plain and hashed copies are the
    # same bytes: one content); the app's css (plain and rewritten), js and
    # tiny.txt (not worth it) are taken from the wheel.
    assert compressed == 1
    assert taken == 4
    fresh, none_taken, made = collect_site(tmp_path, "site-bare", None, level=5)
    assert (fresh, none_taken) == (5, 0)
    assert reused == made  # byte-identical to compressing everything here
    assert brotli.decompress(reused["pkg/css/app.css.br"]) == reused["pkg/css/app.css"]


def test_another_level_compresses_again(tmp_path: Path) -> None:
    installed = app_wheel(tmp_path, level=4)
    compressed, taken, tree = collect_site(tmp_path, "site", installed, level=5)
    assert (compressed, taken) == (5, 0)
    assert brotli.decompress(tree["pkg/js/app.js.br"]) == tree["pkg/js/app.js"]


def test_a_changed_file_is_compressed_again(tmp_path: Path) -> None:
    installed = app_wheel(tmp_path, level=5)
    # An edited source in the installed package: its shipped variant no longer fits.
    (installed / "pkg/static/pkg/js/app.js").write_text("function other() {}\n" * 100)
    compressed, taken, tree = collect_site(tmp_path, "site", installed, level=5)
    assert (compressed, taken) == (2, 3)
    assert brotli.decompress(tree["pkg/js/app.js.br"]) == b"function other() {}\n" * 100


def test_a_forged_variant_is_not_taken(tmp_path: Path) -> None:
    installed = app_wheel(tmp_path, level=5)
    manifest = json.loads((installed / "pkg/staticfiles/staticfiles.json").read_bytes())
    hashed = manifest["paths"]["pkg/js/app.js"]
    (installed / "pkg/staticfiles" / (hashed + ".br")).write_bytes(brotli.compress(b"evil"))
    (installed / "pkg/staticfiles/pkg/js/app.js.br").write_bytes(b"not brotli")
    compressed, taken, tree = collect_site(tmp_path, "site", installed, level=5)
    assert (compressed, taken) == (2, 3)
    assert brotli.decompress(tree[hashed + ".br"]) == tree[hashed]


def test_the_runs_own_root_is_not_a_shipped_tree(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"pkg/__init__.py": ""}
    files.update({f"pkg/static/{name}": data for name, data in APP_STATIC.items()})
    project = write_tree(tmp_path / "app", files)
    (project / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "pkg/staticfiles"\napps = ["pkg"]\n'
        'compress = ["brotli"]\ncompress-levels = {brotli = 5}\n')
    command = [sys.executable, "-m", "collectstatic", "collect", "--noinput", "-v", "2"]
    run(command, cwd=project)
    # Its records and cache gone, the root beside static/ is only its own earlier output.
    shutil.rmtree(project / "pkg/staticfiles/.collectstatic")
    again = run(command, cwd=project).stdout
    assert re.search(r"Compressed 4 variant\(s\), 0 from the cache, 0 shipped", again), again
