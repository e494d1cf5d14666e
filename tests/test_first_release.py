"""README.md's "Before the first release" and "What the wheel carries", as written.

The shell block under the ``first-release`` marker is run line by line on a
copy of ``examples/hatch-django-app`` with this checkout beside it as
``../collectstatic``, once per front-end it names; the TOML blocks under the
``wheel-size`` markers are added to real projects whose wheels are then
installed (unpacked) and served.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from .support import EXAMPLE_SITE, REPO, run, wheel_members, write_tree

README = REPO / "README.md"
EXAMPLE = REPO / "examples" / "hatch-django-app"
HASHED = re.compile(r"\.[0-9a-f]{12}\.")


def block_after(marker: str) -> str:
    """The fenced block that follows ``<!-- marker`` in README.md."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- " + re.escape(marker) + r"[^\n]*-->\n```[a-z]*\n(.*?)^```",
                      text, re.S | re.M)
    assert match, f"README.md has no block after <!-- {marker} -->"
    return match.group(1)


def commands(block: str) -> list[str]:
    """Shell lines, without blank lines and trailing comments."""
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def copy_example(path: Path) -> Path:
    shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns(
        "dist", "staticfiles", "__pycache__", "*.egg-info"))
    return path


def shell_env(tmp_path: Path) -> dict[str, str]:
    """This environment's python, pip, uv and hatch first on PATH; no find-links."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PIP_FIND_LINKS", "UV_FIND_LINKS", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", SOURCE_DATE_EPOCH="1700000000",
               HATCH_DATA_DIR=str(tmp_path / "hatch-data"),
               HATCH_CACHE_DIR=str(tmp_path / "hatch-cache"))
    return env


def bash(lines: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, f"{lines}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_the_block_names_a_wheel_both_find_links_and_four_front_ends() -> None:
    lines = commands(block_after("first-release"))
    assert lines[0] == "python -m pip wheel --no-deps -w ../wheelhouse ../collectstatic"
    assert lines[1].startswith("export ") and "PIP_FIND_LINKS=" in lines[1] and \
        "UV_FIND_LINKS=" in lines[1]
    assert [line.split()[0:3] for line in lines[2:]] == [
        ["python", "-m", "build"], ["pip", "wheel", "--no-deps"], ["uv", "build"],
        ["hatch", "build"]]


@pytest.mark.slow
def test_the_block_builds_the_example_with_each_front_end(tmp_path: Path) -> None:
    wheel, export, *builds = commands(block_after("first-release"))
    (tmp_path / "collectstatic").symlink_to(REPO, target_is_directory=True)
    env = shell_env(tmp_path)
    first = copy_example(tmp_path / "project-0")
    bash([wheel], first, env)
    assert [p.name for p in (tmp_path / "wheelhouse").glob("collectstatic-*.whl")]
    for number, build in enumerate(builds):
        project = first if number == 0 else copy_example(tmp_path / f"project-{number}")
        bash([export, build], project, env)
        (built,) = (project / "dist").glob("*.whl")
        members = wheel_members(built)
        paths = json.loads(members["hatch_django_app/staticfiles/staticfiles.json"])["paths"]
        css = paths["hatch_django_app/css/app.css"]
        assert HASHED.search(css) and f"hatch_django_app/staticfiles/{css}" in members, build


# -- the wheel-size trade-off ---------------------------------------------------------
DJANGO_PAGE = """\
import posixpath, re, sys
sys.path.insert(0, sys.argv[1])
""" + EXAMPLE_SITE.replace("@HOST@", '"testserver"') + """
from django.test import Client

client = Client()
page = client.get("/")
assert page.status_code == 200, page.status_code
todo = re.findall(r'href="(/static/[^"]+)"', page.content.decode())
assert len(todo) == 3, todo
seen = set()
while todo:
    url = todo.pop()
    if url in seen:
        continue
    seen.add(url)
    response = client.get(url)
    assert response.status_code == 200, url
    body = b"".join(response.streaming_content)
    if url.endswith(".css"):  # what the stylesheets reference, by hashed name
        base = url.rsplit("/", 1)[0]
        for ref in re.findall(rb'url\\("([^"#?]+)', body):
            todo.append(ref.decode() if ref.startswith(b"/") else
                        posixpath.normpath(base + "/" + ref.decode()))
print(len(seen))
"""


def unpack(wheel: Path, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(into)
    return into


def wheel_size_toml(backend: str, package: str) -> str:
    return block_after(f"wheel-size: {backend}").replace("myapp", package)


def test_hatch_wheel_without_sources_or_unhashed_copies_still_serves(tmp_path: Path) -> None:
    pytest.importorskip("django")
    pytest.importorskip("whitenoise")
    project = copy_example(tmp_path / "hatch-django-app")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace("[tool.collectstatic]\n",
                                         "[tool.collectstatic]\nkeep-unhashed = false\n")
    pyproject.write_text(text + "\n" + wheel_size_toml("hatch", "hatch_django_app"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", tmp_path / "dist", project])
    (built,) = (tmp_path / "dist").glob("*.whl")
    names = set(wheel_members(built))
    assert not [n for n in names if n.startswith("hatch_django_app/static/")]
    static = {n.split("/", 2)[2] for n in names
              if n.startswith("hatch_django_app/staticfiles/")}
    plain = {n for n in static if n != "staticfiles.json" and
             not HASHED.search(n.rsplit("/", 1)[-1])}
    assert plain == set(), plain  # only hashed names (and their .gz variants)
    assert "hatch_django_app/templates/hatch_django_app/base.html" in names

    site = unpack(built, tmp_path / "site")
    (tmp_path / "page.py").write_text(DJANGO_PAGE)
    served = run([sys.executable, tmp_path / "page.py", site], cwd=tmp_path).stdout
    assert int(served) >= 7  # 3 stylesheets, 2 fonts, the logo and the pattern


SHOP_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64", "collectstatic"]
build-backend = "setuptools.build_meta"

[project]
name = "shop"
version = "1.0"

[tool.collectstatic]
root = "src/shop/staticfiles"
apps = ["shop"]
"""

SERVE_SHOP = """\
import sys
sys.path.insert(0, sys.argv[1])
from wsgiref.util import setup_testing_defaults
from collectstatic.runtime import Manifest
from collectstatic.serve import StaticFiles

url = Manifest.from_package("shop", "staticfiles").url("shop/css/app.css")
app = StaticFiles.from_package("shop", "staticfiles")
environ = {"PATH_INFO": url}
setup_testing_defaults(environ)
status = []
body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
assert status == ["200 OK"], status
sys.stdout.write(url + " " + body.decode())
"""


def test_setuptools_wheel_without_the_app_sources_still_serves(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "shop", {
        "pyproject.toml": SHOP_PYPROJECT + "\n" + wheel_size_toml("setuptools", "shop"),
        "src/shop/__init__.py": "",
        "src/shop/static/shop/css/app.css": "body { color: #1d2b25; }\n",
    })
    code = f"import setuptools.build_meta as b; print(b.build_wheel({str(tmp_path / 'd')!r}))"
    name = run([sys.executable, "-c", code], cwd=project).stdout.strip().splitlines()[-1]
    names = set(wheel_members(tmp_path / "d" / name))
    assert not [n for n in names if n.startswith("shop/static/")], sorted(names)
    assert "shop/staticfiles/staticfiles.json" in names
    site = unpack(tmp_path / "d" / name, tmp_path / "site")
    (tmp_path / "serve.py").write_text(SERVE_SHOP)
    url, body = run([sys.executable, tmp_path / "serve.py", site]).stdout.split(" ", 1)
    assert re.fullmatch(r"/static/shop/css/app\.[0-9a-f]{12}\.css", url)
    assert body == "body { color: #1d2b25; }\n"


def test_without_the_excludes_the_sources_ship(tmp_path: Path) -> None:
    """What the README's setuptools block is for: by default static/ is in the wheel."""
    project = write_tree(tmp_path / "shop", {
        "pyproject.toml": SHOP_PYPROJECT,
        "src/shop/__init__.py": "",
        "src/shop/static/shop/css/app.css": "body { color: #1d2b25; }\n",
    })
    code = f"import setuptools.build_meta as b; print(b.build_wheel({str(tmp_path / 'd')!r}))"
    name = run([sys.executable, "-c", code], cwd=project).stdout.strip().splitlines()[-1]
    assert "shop/static/shop/css/app.css" in wheel_members(tmp_path / "d" / name)


def test_readme_gitignore_names_the_quick_start_root() -> None:
    gitignore = commands(block_after_fence("gitignore"))
    toml = README.read_text(encoding="utf-8")
    root = re.search(r'^root = "([^"]+)"', toml, re.M)
    assert root and gitignore == [f"/{root.group(1)}/"]


def block_after_fence(language: str) -> str:
    match = re.search(r"^```" + language + r"\n(.*?)^```", README.read_text(encoding="utf-8"),
                      re.S | re.M)
    assert match
    return textwrap.dedent(match.group(1))
