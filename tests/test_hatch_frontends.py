"""The hook through real front-ends, each at least once, on the example project.

Every build is isolated: the front-end installs ``build-system.requires``
(hatchling from the index, ``collectstatic`` from a wheel of this checkout in
a local find-links dir) into a fresh environment, as a user's build would.
These are the slow tests of the hook; the many configuration cases live in
``test_hatch_hook.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from .support import REPO, plugin_wheelhouse, run, sdist_members, wheel_members

EXAMPLE = REPO / "examples" / "hatch-django-app"
PACKAGE = "hatch_django_app"
PREFIX = f"{PACKAGE}/staticfiles"
CSS = "hatch_django_app/css/app.css"
EPOCH = "1700000000"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The example project, copied without build leftovers, committed to git."""
    project = tmp_path / "hatch-django-app"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(
        "dist", "staticfiles", "__pycache__", "*.egg-info"))
    run(["git", "init", "-q"], cwd=project)
    run(["git", "add", "-A"], cwd=project)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
        cwd=project)
    return project


def frontend_env(tmp_path: Path) -> dict[str, str]:
    """Where isolated builds find ``collectstatic``; a fixed SOURCE_DATE_EPOCH."""
    wheelhouse = str(plugin_wheelhouse())
    return {
        "PIP_FIND_LINKS": " ".join(filter(None, [wheelhouse, os.environ.get("PIP_FIND_LINKS")])),
        "UV_FIND_LINKS": wheelhouse,
        "SOURCE_DATE_EPOCH": EPOCH,
        "HATCH_DATA_DIR": str(tmp_path / "hatch-data"),
        "HATCH_CACHE_DIR": str(tmp_path / "hatch-cache"),
    }


def assert_example_wheel(wheel: Path) -> dict[str, bytes]:
    members = wheel_members(wheel)
    names = {n[len(PREFIX) + 1:] for n in members if n.startswith(PREFIX + "/")}
    logical = {"vendor/reset.css", CSS, "hatch_django_app/css/fonts.css",
               "hatch_django_app/fonts/inter-latin-400-normal.woff2",
               "hatch_django_app/fonts/inter-latin-700-normal.woff2",
               "hatch_django_app/fonts/OFL.txt", "hatch_django_app/img/logo.svg",
               "hatch_django_app/img/pattern.png"}
    assert logical <= names
    assert f"{PACKAGE}/__init__.py" in members
    assert not any(n.startswith(("src/", f"{PREFIX}/.collectstatic")) for n in members)
    manifest = json.loads(members[f"{PREFIX}/staticfiles.json"])
    paths = manifest["paths"]
    assert set(paths) == logical
    # the example asks for gzip: every variant the manifest declares ships, and
    # the plain copies' variants beside them (keep-unhashed is on)
    variants = {f"{hashed}.gz" for hashed, info in manifest["collectstatic"]["files"].items()
                if "gzip" in info["encodings"]}
    assert variants, "the example's CSS should be worth compressing"
    plain_variants = {f"{name}.gz" for name in logical if f"{paths[name]}.gz" in variants}
    assert names == logical | set(paths.values()) | {"staticfiles.json"} | variants | \
        plain_variants
    css = members[f"{PREFIX}/{paths[CSS]}"].decode()
    assert paths["hatch_django_app/css/fonts.css"].rsplit("/", 1)[1] in css
    fonts = members[f"{PREFIX}/{paths['hatch_django_app/css/fonts.css']}"].decode()
    assert paths["hatch_django_app/fonts/inter-latin-400-normal.woff2"].rsplit("/", 1)[1] in fonts
    return members


def assert_example_sdist(sdist: Path) -> None:
    members = sdist_members(sdist)
    top = sdist.name[: -len(".tar.gz")] + "/"
    assert f"{top}pyproject.toml" in members
    assert f"{top}assets/reset.css" in members
    assert f"{top}src/{PACKAGE}/static/{CSS}" in members
    assert not any("staticfiles" in name for name in members)


def assert_tree_clean(project: Path) -> None:
    status = run(["git", "status", "--porcelain", "--ignored"], cwd=project).stdout
    assert [line for line in status.splitlines() if line != "!! dist/"] == []


def only(directory: Path, pattern: str) -> Path:
    (artifact,) = directory.glob(pattern)
    return artifact


def test_python_m_build_and_pip_wheel_give_the_same_wheel(example: Path, tmp_path: Path
                                                          ) -> None:
    """``python -m build`` builds the wheel from its sdist, ``pip wheel`` from the tree."""
    env = frontend_env(tmp_path)
    run([sys.executable, "-m", "build", "--outdir", tmp_path / "build", example], env=env)
    assert_example_sdist(only(tmp_path / "build", "*.tar.gz"))
    via_sdist = only(tmp_path / "build", "*.whl")
    assert_example_wheel(via_sdist)
    assert_tree_clean(example)

    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "pip",
         example], env=env)
    from_tree = only(tmp_path / "pip", "*.whl")
    assert_example_wheel(from_tree)
    assert from_tree.read_bytes() == via_sdist.read_bytes()
    assert_tree_clean(example)


def test_uv_build(example: Path, tmp_path: Path) -> None:
    env = frontend_env(tmp_path)
    run([sys.executable, "-m", "uv", "build", "--quiet", "--find-links", plugin_wheelhouse(),
         "--out-dir", tmp_path / "uv", example], env=env)
    assert_example_sdist(only(tmp_path / "uv", "*.tar.gz"))
    assert_example_wheel(only(tmp_path / "uv", "*.whl"))
    assert_tree_clean(example)


def hatch_command() -> list[str]:
    beside = Path(sys.executable).with_name("hatch")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "hatch"]


def test_hatch_build_shows_progress(example: Path, tmp_path: Path) -> None:
    proc = run([*hatch_command(), "build"], cwd=example, env=frontend_env(tmp_path))
    output = proc.stdout + proc.stderr
    assert "collectstatic: 8 files" in output
    assert "collectstatic: 8 source files for the sdist" in output
    assert_example_sdist(only(example / "dist", "*.tar.gz"))
    assert_example_wheel(only(example / "dist", "*.whl"))
    assert_tree_clean(example)


def test_pip_install_editable_collects_into_the_checkout(example: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = frontend_env(tmp_path)
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", "-e",
         example], env=env)
    check = (
        "import json, hatch_django_app as app\n"
        "root = app.STATIC_ROOT\n"
        "print(root)\n"
        "paths = json.loads((root / 'staticfiles.json').read_text())['paths']\n"
        f"name = paths[{CSS!r}]\n"
        "assert (root / name).is_file(), name\n"
        "print(name)\n"
    )
    proc = run([python, "-c", check], cwd=tmp_path, env=env)
    root_line, name = proc.stdout.split()
    assert Path(root_line) == (example / "src" / PACKAGE / "staticfiles").resolve()
    assert re.fullmatch(r"hatch_django_app/css/app\.[0-9a-f]{12}\.css", name)


def test_config_error_fails_a_frontend_build_with_the_message(example: Path, tmp_path: Path
                                                              ) -> None:
    pyproject = example / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.hatch.build.hooks.collectstatic]\n",
        '[tool.hatch.build.hooks.collectstatic]\nstatic-url = "/static"\n'))
    proc = run([sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "out", example],
               env=frontend_env(tmp_path), check=False)
    assert proc.returncode != 0
    assert ("collectstatic: " in proc.stderr + proc.stdout and
            "tool.hatch.build.hooks.collectstatic.static-url: expected a URL prefix ending in '/'"
            in proc.stderr + proc.stdout)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.whl"))
