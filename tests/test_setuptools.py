"""The setuptools integration, from tiny real projects.

Most builds call setuptools' PEP 517 backend directly in this interpreter's
environment (where this checkout is installed, so its entry points fire) --
cheap, and it proves the same as a front-end for configuration cases. A few
tests go through the real front-ends in isolated environments (``pip wheel``,
``python -m build``, ``pip install -e`` in both editable modes, and the oldest
supported setuptools), installing ``collectstatic`` from a wheel of this
checkout in a local find-links dir, as a user's build would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from setuptools_collectstatic import is_configured
from setuptools_collectstatic.command import wheel_location

from .support import REPO, plugin_wheelhouse, run, sdist_members, wheel_members, write_tree

EPOCH = "1700000000"
FLOOR = "64.0.0"  # the first setuptools with the build sub-command protocol (PEP 660)
EXAMPLE = REPO / "examples" / "setuptools-flask-app"
HASHED = re.compile(r"\.[0-9a-f]{12}\.")

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(40))
WOFF2 = b"wOF2\x00\x01\x00\x00" + bytes(range(100, 140))
APP_CSS = """\
@font-face { font-family: Shop; src: url("../fonts/shop.woff2") format("woff2"); }
body { background: url("../img/bg.png"); }
"""
INIT = '''\
import json
from pathlib import Path

STATIC = Path(__file__).with_name("staticfiles")


def static_file(name):
    paths = json.loads((STATIC / "staticfiles.json").read_text("utf-8"))["paths"]
    return STATIC / paths[name]
'''


def pyproject(table: str | None = "", *, requires: str = '"setuptools>=64", "collectstatic"',
              setuptools: str = "", root: str = "src/shop/staticfiles") -> str:
    text = f"""\
        [build-system]
        requires = [{requires}]
        build-backend = "setuptools.build_meta"

        [project]
        name = "shop"
        version = "1.0"
        """
    if setuptools:
        text += setuptools
    if table is not None:
        text += f"""
        [tool.collectstatic]
        root = "{root}"
        dirs = ["assets"]
        """ + table
    return textwrap.dedent(text)


def make_project(path: Path, text: str | None = None, *, package: str = "src/shop",
                 extra: Mapping[str, str | bytes] | None = None) -> Path:
    """A small setuptools project: a package and assets a stylesheet references."""
    return write_tree(path, {
        "pyproject.toml": pyproject() if text is None else text,
        f"{package}/__init__.py": INIT,
        "assets/css/app.css": APP_CSS,
        "assets/img/bg.png": PNG,
        "assets/fonts/shop.woff2": WOFF2,
        **(extra or {}),
    })


def backend(project: Path, hook: str, out: Path, env: Mapping[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """Call setuptools' PEP 517 ``hook`` in a subprocess of this environment (no isolation)."""
    out.mkdir(parents=True, exist_ok=True)
    code = f"import setuptools.build_meta as b; print(b.{hook}({str(out)!r}))"
    return run([sys.executable, "-c", code], cwd=project,
               env={"SOURCE_DATE_EPOCH": EPOCH, **(env or {})}, check=check)


def build_wheel(project: Path, out: Path, env: Mapping[str, str] | None = None) -> Path:
    name = backend(project, "build_wheel", out, env).stdout.strip().splitlines()[-1]
    return out / name


def snapshot(project: Path) -> dict[str, bytes]:
    """The project's files, without what setuptools itself writes (build/, egg-info)."""
    files = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if relative.split("/")[0] in ("build", "dist") or ".egg-info" in relative:
            continue
        if path.is_file():
            files[relative] = path.read_bytes()
    return files


def static_members(wheel: Path, prefix: str = "shop/staticfiles") -> dict[str, bytes]:
    return {name[len(prefix) + 1:]: data for name, data in wheel_members(wheel).items()
            if name.startswith(prefix + "/")}


def assert_collected(static: Mapping[str, bytes]) -> dict[str, str]:
    """Plain and hashed copies plus a manifest, the CSS rewritten; returns the paths."""
    paths = json.loads(static["staticfiles.json"])["paths"]
    logical = {"css/app.css", "img/bg.png", "fonts/shop.woff2"}
    assert set(paths) == logical
    assert all(HASHED.search(paths[name]) for name in logical)
    assert set(static) == logical | set(paths.values()) | {"staticfiles.json"}
    css = static[paths["css/app.css"]].decode()
    assert paths["img/bg.png"].split("/")[-1] in css
    assert paths["fonts/shop.woff2"].split("/")[-1] in css
    assert static[paths["img/bg.png"]] == PNG
    return paths


def frontend_env() -> dict[str, str]:
    wheelhouse = str(plugin_wheelhouse())
    return {
        "PIP_FIND_LINKS": " ".join(filter(None, [wheelhouse, os.environ.get("PIP_FIND_LINKS")])),
        "SOURCE_DATE_EPOCH": EPOCH,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def only_wheel(directory: Path) -> Path:
    (wheel,) = directory.glob("*.whl")
    return wheel


# -- activation: cheap, silent, only for projects that ask ---------------------------

@pytest.mark.parametrize(("text", "expected"), [
    (None, False),  # no pyproject.toml at all
    ('[project]\nname = "x"\n', False),
    ('[build-system]\nrequires = ["setuptools", "collectstatic"]\n', False),  # no table
    ('[tool.collectstatic]\nroot = "s"\n', False),  # table, but we are not a build requirement
    ('[build-system]\nrequires = ["setuptools"]\n[tool.collectstatic]\nroot = "s"\n', False),
    ('[build-system]\nrequires = ["collectstatic-extra"]\n[tool.collectstatic]\n', False),
    ('[build-system]\nrequires = ["collectstatic"\n[tool.collectstatic]\n', False),  # bad TOML
    ('[build-system]\nrequires = ["collectstatic"]\n[tool.collectstatic]\n', True),
    ('[build-system]\nrequires = ["Collect_Static[brotli] >= 0.1"]\n[tool.collectstatic]\n',
     False),
    ('[build-system]\nrequires = ["CollectStatic[brotli]>=0.1; python_version>\'3\'"]\n'
     '[tool.collectstatic]\nroot = "s"\n', True),
])
def test_is_configured(tmp_path: Path, text: str | None, expected: bool) -> None:
    if text is not None:
        (tmp_path / "pyproject.toml").write_text(text)
    assert is_configured(tmp_path / "pyproject.toml") is expected


@pytest.mark.parametrize(("root", "package_dir", "expected"), [
    ("src/shop/staticfiles", {"": "src"}, "shop/staticfiles"),
    ("src/shop/staticfiles", {"": "src/"}, "shop/staticfiles"),
    ("shop/staticfiles", {}, "shop/staticfiles"),
    ("shop/staticfiles", {"": "."}, "shop/staticfiles"),
    ("lib/shop/out", {"shop": "lib/shop"}, "shop/out"),
    ("lib/shop/out", {"": "src", "shop": "lib/shop"}, "shop/out"),
    ("lib/shop/out", {"shop": "lib/shop", "shop.out": "lib/shop/out"}, "shop/out"),
    ("lib/shop", {"shop": "lib/shop"}, "shop"),
    ("srcx/shop/static", {"": "src"}, None),
    ("static", {"": "src"}, None),
])
def test_wheel_location(root: str, package_dir: dict[str, str], expected: str | None) -> None:
    assert wheel_location(root, package_dir) == expected


PROBE = """\
import sys
from setuptools.dist import Distribution
dist = Distribution({"name": "probe"})
build = dist.get_command_obj("build")
print(sorted(m for m in sys.modules if m.split(".")[0] == "collectstatic"))
print("build_collectstatic" in build.get_sub_commands())
"""


def test_hook_is_a_silent_cheap_no_op_without_the_table(tmp_path: Path) -> None:
    plain = write_tree(tmp_path / "plain", {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools", "collectstatic"]\n'})
    configured = make_project(tmp_path / "configured")
    quiet = run([sys.executable, "-c", PROBE], cwd=plain)
    assert quiet.stdout.split("\n")[:2] == ["[]", "False"]  # core never imported
    assert quiet.stderr == ""
    active = run([sys.executable, "-c", PROBE], cwd=configured)
    assert active.stdout.split("\n")[1] == "True"


# -- wheels through the backend ---------------------------------------------------------

def test_wheel_holds_hashed_files_and_manifest_and_tree_is_untouched(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    before = snapshot(project)
    wheel = build_wheel(project, tmp_path / "dist")
    members = wheel_members(wheel)
    assert "shop/__init__.py" in members
    assert not any(n.startswith(("src/", "assets/")) or "/.collectstatic" in n for n in members)
    assert_collected(static_members(wheel))
    assert snapshot(project) == before
    assert not (project / "src/shop/staticfiles").exists()


def test_rebuilds_and_stale_tree_outputs_do_not_leak_into_the_wheel(tmp_path: Path) -> None:
    # A package-data glob that covers root: setuptools copies whatever an
    # editable install or a CLI run left in the tree's root into build/lib.
    text = pyproject(setuptools='[tool.setuptools.package-data]\nshop = ["staticfiles/**/*"]\n')
    project = make_project(tmp_path / "shop", text)
    run([sys.executable, "-m", "collectstatic", "collect", "--noinput"], cwd=project)
    tree = json.loads((project / "src/shop/staticfiles/staticfiles.json").read_bytes())["paths"]
    (project / "assets/css/app.css").write_text(APP_CSS + "p { color: red; }\n")
    first = json.loads(static_members(build_wheel(project, tmp_path / "one"))
                       ["staticfiles.json"])["paths"]
    assert first["css/app.css"] != tree["css/app.css"]
    (project / "assets/img/bg.png").unlink()
    (project / "assets/css/app.css").write_text("body { color: red; }\n")
    wheel = build_wheel(project, tmp_path / "two")  # same build/ dir as the first build
    static = static_members(wheel)
    paths = json.loads(static["staticfiles.json"])["paths"]
    assert set(paths) == {"css/app.css", "fonts/shop.woff2"}
    assert set(static) == set(paths) | set(paths.values()) | {"staticfiles.json"}
    for stale in (first["css/app.css"], tree["css/app.css"], tree["img/bg.png"]):
        assert stale not in static


@pytest.mark.parametrize(("setuptools", "package", "root", "location"), [
    ('[tool.setuptools]\npackages = ["shop"]\n', "shop", "shop/staticfiles",
     "shop/staticfiles"),  # flat layout
    ('[tool.setuptools]\npackages = ["shop"]\npackage-dir = {shop = "lib/shop"}\n',
     "lib/shop", "lib/shop/out", "shop/out"),
])
def test_wheel_location_follows_the_layout(tmp_path: Path, setuptools: str, package: str,
                                           root: str, location: str) -> None:
    project = make_project(tmp_path / "shop", pyproject(setuptools=setuptools, root=root),
                           package=package)
    wheel = build_wheel(project, tmp_path / "dist")
    assert_collected(static_members(wheel, location))
    assert not (project / root).exists()


@pytest.mark.parametrize(("table", "root", "message"), [
    ('dirs = ["assets", "missing"]\n', "src/shop/staticfiles",
     "tool.collectstatic.dirs[1]: expected an existing directory, found 'missing'"),
    ("manifest = 1\n", "src/shop/staticfiles",
     "tool.collectstatic.manifest: expected true or false, found int 1"),
    ("dir = []\n", "src/shop/staticfiles",
     "tool.collectstatic.dir: unknown key (did you mean 'dirs'?)"),
    ("", "../elsewhere", "tool.collectstatic.root: expected a path inside the project root"),
    ("", "staticfiles", "tool.collectstatic.root: expected a directory inside the package tree"),
])
def test_config_error_fails_the_build_in_one_line(tmp_path: Path, table: str, root: str,
                                                   message: str) -> None:
    text = pyproject(table, root=root)
    if "dir" in table:  # the table replaces the default dirs
        text = text.replace('dirs = ["assets"]\n', "")
    project = make_project(tmp_path / "shop", text)
    proc = backend(project, "build_wheel", tmp_path / "dist", check=False)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not list((tmp_path / "dist").glob("*.whl"))


def test_broken_reference_fails_the_build_in_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop", extra={
        "assets/css/app.css": 'body { background: url("../img/missing.png"); }\n'})
    proc = backend(project, "build_wheel", tmp_path / "dist", check=False)
    assert proc.returncode != 0
    assert re.search(r"^error: .*broken reference.*missing\.png", proc.stderr, re.M), proc.stderr
    assert "Traceback" not in proc.stderr


BROKEN = ('error: collectstatic: 1 broken reference: css/app.css:1:20: url("../img/missing.png")'
          ' -> img/missing.png is not among the collected files')
BAD_URL = "tool.collectstatic.static-url: expected a URL prefix ending in '/'"


def first_error(output: str) -> str:
    """The first message line a front-end shows from the backend's output."""
    lines = [line.strip() for line in output.splitlines()]
    return next(line for line in lines
                if line.startswith("error:") and "subprocess-exited-with-error" not in line)


@pytest.mark.parametrize(("table", "extra", "message"), [
    ("", {"assets/css/app.css": 'body { background: url("../img/missing.png"); }\n'}, BROKEN),
    ('static-url = "/static"\n', {}, f"error: collectstatic: {{project}}: {BAD_URL} such as "
                                     "\"/static/\", found '/static'"),
])
def test_pip_wheel_fails_in_the_wheel_build_not_in_metadata(
        tmp_path: Path, table: str, extra: dict[str, str], message: str) -> None:
    """pip prepares the metadata, then says the wheel build failed, and why."""
    project = make_project(tmp_path / "shop", pyproject(table), extra=extra)
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "dist",
                project], env=frontend_env(), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Getting requirements to build wheel: finished with status 'done'" in output
    assert "Preparing metadata (pyproject.toml): finished with status 'done'" in output
    assert "Building wheel for shop (pyproject.toml) did not run successfully" in output
    assert first_error(output) == message.format(project=project / "pyproject.toml"), output
    assert "Traceback" not in output
    assert not list((tmp_path / "dist").glob("*.whl"))


def test_pip_without_isolation_prepares_metadata_despite_a_bad_configuration(
        tmp_path: Path) -> None:
    """Without isolation pip's first backend call is the metadata: it must not fail."""
    project = make_project(tmp_path / "shop", pyproject('static-url = "/static"\n'))
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "-w", tmp_path / "dist", project], env=frontend_env(), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Preparing metadata (pyproject.toml): finished with status 'done'" in output
    assert "Building wheel for shop (pyproject.toml) did not run successfully" in output
    assert first_error(output).startswith(
        f"error: collectstatic: {project / 'pyproject.toml'}: {BAD_URL}")


def test_python_m_build_fails_in_build_wheel_with_the_reason(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop", extra={
        "assets/css/app.css": 'body { background: url("../img/missing.png"); }\n'})
    proc = run([sys.executable, "-m", "build", "-o", tmp_path / "dist", project],
               env=frontend_env(), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert list((tmp_path / "dist").glob("*.tar.gz"))  # the sdist carries sources only
    assert "ERROR Backend subprocess exited when trying to invoke build_wheel" in output
    assert first_error(output) == BROKEN
    assert "Traceback" not in output


def test_an_sdist_still_fails_on_a_bad_configuration(tmp_path: Path) -> None:
    """The sdist lists the sources, so it needs the configuration; metadata does not."""
    project = make_project(tmp_path / "shop", pyproject('static-url = "/static"\n'))
    backend(project, "prepare_metadata_for_build_wheel", tmp_path / "metadata")
    proc = backend(project, "build_sdist", tmp_path / "sdist", check=False)
    assert proc.returncode != 0
    assert first_error(proc.stderr).startswith(
        f"error: collectstatic: {project / 'pyproject.toml'}: {BAD_URL}")


def test_skip_switch_builds_without_collecting(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    wheel = build_wheel(project, tmp_path / "dist", env={"COLLECTSTATIC_SKIP": "1"})
    assert "shop/__init__.py" in wheel_members(wheel)
    assert static_members(wheel) == {}


def test_wheels_are_reproducible(tmp_path: Path) -> None:
    one = build_wheel(make_project(tmp_path / "a" / "shop"), tmp_path / "one")
    two = build_wheel(make_project(tmp_path / "b" / "shop"), tmp_path / "two")
    assert one.read_bytes() == two.read_bytes()


def test_sdist_carries_sources_not_output_and_rebuilds_the_same_wheel(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shop")
    tree_wheel = build_wheel(project, tmp_path / "tree")
    shutil.rmtree(project / "build")
    # A collected root left in the tree (by the CLI or an editable install) stays out.
    run([sys.executable, "-m", "collectstatic", "collect", "--noinput"], cwd=project)
    out = tmp_path / "sdist"
    sdist = out / backend(project, "build_sdist", out).stdout.strip().splitlines()[-1]
    members = {name.split("/", 1)[1] for name in sdist_members(sdist)}
    assert {"assets/css/app.css", "assets/img/bg.png", "assets/fonts/shop.woff2",
            "pyproject.toml", "src/shop/__init__.py"} <= members
    assert not any("staticfiles" in name for name in members)
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp_path / "unpacked", filter="data")
        else:  # pragma: no cover - Pythons without extraction filters
            archive.extractall(tmp_path / "unpacked")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    sdist_wheel = build_wheel(unpacked, tmp_path / "from-sdist")
    assert sdist_wheel.read_bytes() == tree_wheel.read_bytes()


# -- real front-ends, isolated ----------------------------------------------------------

@pytest.fixture
def example(tmp_path: Path) -> Path:
    project = tmp_path / "setuptools-flask-app"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(
        "build", "dist", "staticfiles", "__pycache__", "*.egg-info"))
    return project


def assert_example_wheel(wheel: Path) -> None:
    static = static_members(wheel, "setuptools_flask_app/staticfiles")
    paths = json.loads(static["staticfiles.json"])["paths"]
    fonts = ("fonts/inter-latin-400-normal.woff2", "fonts/inter-latin-700-normal.woff2")
    assert set(paths) == {"css/app.css", *fonts, "fonts/OFL.txt", "img/logo.svg",
                          "img/pattern.png", "vendor/normalize/normalize.css"}
    css = static[paths["css/app.css"]].decode()
    for name in (*fonts, "img/pattern.png", "img/logo.svg"):
        assert paths[name].split("/")[-1] in css
    assert f'url("/static/{paths["img/logo.svg"]}")' in css
    assert not any(".collectstatic" in name for name in static)


def test_build_and_pip_wheel_isolated_give_the_same_wheel(example: Path, tmp_path: Path
                                                          ) -> None:
    env = frontend_env()
    before = snapshot(example)
    run([sys.executable, "-m", "build", "-o", tmp_path / "build-dist", example], env=env)
    built = only_wheel(tmp_path / "build-dist")  # sdist -> wheel
    assert_example_wheel(built)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "pip-dist",
         example], env=env)
    piped = only_wheel(tmp_path / "pip-dist")  # tree -> wheel
    assert piped.read_bytes() == built.read_bytes()
    assert snapshot(example) == before


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("venv") / "v"
    run([sys.executable, "-m", "venv", path])
    python = path / ("Scripts" if os.name == "nt" else "bin") / "python"
    install_runtime(python)
    return python


def install_runtime(python: Path) -> None:
    """The example app looks its files up with collectstatic's runtime."""
    run([python, "-m", "pip", "install", "-q", "collectstatic"], env=frontend_env())


FINDS_HASHED = """\
from setuptools_flask_app.assets import static_file, static_url
path = static_file("css/app.css")
assert path.is_file() and path.name != "app.css", path
assert static_url("css/app.css") == "/static/css/" + path.name
print(path)
"""


@pytest.mark.parametrize("mode", ["lenient", "strict"])
def test_editable_install_finds_hashed_files(example: Path, venv: Path, mode: str) -> None:
    run([venv, "-m", "pip", "install", "-q", "--no-deps", "--config-settings",
         f"editable_mode={mode}", "-e", example], env=frontend_env())
    found = Path(run([venv, "-c", FINDS_HASHED], cwd=venv.parent).stdout.strip())
    root = example / "src/setuptools_flask_app/staticfiles"
    assert (root / "staticfiles.json").is_file()  # collected in place
    if mode == "strict":  # through setuptools' link tree, linked to the collected file
        assert example / "build" in found.parents
        assert found.resolve() == (root / found.relative_to(found.parents[1])).resolve()
    else:
        assert root in found.parents


def test_project_without_table_builds_as_without_our_package(tmp_path: Path) -> None:
    import setuptools

    wheels = []
    for requires in (f'"setuptools=={setuptools.__version__}"',
                     f'"setuptools=={setuptools.__version__}", "collectstatic"'):
        project = make_project(tmp_path / f"p{len(wheels)}" / "shop",
                               pyproject(None, requires=requires))
        out = tmp_path / f"dist{len(wheels)}"
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, project],
            env=frontend_env())
        wheels.append(only_wheel(out).read_bytes())
    assert wheels[0] == wheels[1]


def old_python() -> str | None:
    """A Python < 3.12 with venv: setuptools < 66.1 cannot import on 3.12 (ImpImporter)."""
    if sys.version_info < (3, 12):
        return sys.executable
    candidates = [shutil.which(f"python3.{minor}") for minor in (11, 10, 9)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
    candidates += [str(p / "bin" / "python3") for p in sorted(pyenv.glob("3.1[01].*"))]
    candidates += [str(p / "bin" / "python3") for p in sorted(pyenv.glob("3.9.*"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import ensurepip, venv, sys; "
                                "assert (3, 9) <= sys.version_info < (3, 12)"],
                               capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def test_oldest_setuptools(example: Path, tmp_path: Path) -> None:
    python = old_python()
    if python is None:
        pytest.skip(f"setuptools {FLOOR} needs a Python 3.9-3.11 (none found)")
    pyproject_path = example / "pyproject.toml"
    pinned = pyproject_path.read_text().replace('"setuptools>=64"', f'"setuptools=={FLOOR}"')
    assert pinned != pyproject_path.read_text()
    pyproject_path.write_text(pinned)
    run([python, "-m", "venv", tmp_path / "old"])
    old = tmp_path / "old" / ("Scripts" if os.name == "nt" else "bin") / "python"
    install_runtime(old)
    env = frontend_env()
    run([old, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "dist", example], env=env)
    assert_example_wheel(only_wheel(tmp_path / "dist"))
    proc = run([old, "-m", "pip", "install", "-v", "--no-deps", "--config-settings",
                "editable_mode=strict", "-e", example], env=env)
    assert f"setuptools=={FLOOR}" in proc.stdout + proc.stderr or \
        f"setuptools-{FLOOR}" in proc.stdout + proc.stderr
    run([old, "-c", FINDS_HASHED], cwd=tmp_path)
