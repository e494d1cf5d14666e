"""The hatchling build hook, driven in-process through hatchling's own builders.

Each test writes a tiny project into a temp dir, builds it with
``WheelBuilder``/``SdistBuilder`` (the code ``hatchling.build`` runs for every
front-end) and opens the artifact.
"""

from __future__ import annotations

import gzip
import json
import re
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

import pytest
from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder

from collectstatic.build import SKIP_ENV

from .support import run, sdist_members, tree_bytes, wheel_members, write_tree

HATCHLING = tuple(int(part) for part in version("hatchling").split(".")[:2])
HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")

CSS = """\
@font-face { font-family: "F"; src: url("../fonts/f.woff2") format("woff2"); }
body { background: url("../img/bg.png"); }
"""
STATIC = {
    "css/app.css": CSS,
    "fonts/f.woff2": b"wOF2\x00\x01\x00\x00font",
    "img/bg.png": b"\x89PNG\r\n\x1a\nimage",
}
LOGICAL = sorted(f"pkg/{name}" for name in STATIC)  # namespaced under the app, as in Django


def make_project(root: Path, *, layout: str = "src", collectstatic: str = "",
                 hatch: str = "[tool.hatch.build.hooks.collectstatic]\n",
                 files: dict[str, str | bytes] | None = None) -> Path:
    """A one-package project; ``collectstatic`` is extra ``[tool.collectstatic]`` lines."""
    base = "src/pkg" if layout == "src" else "pkg"
    tree: dict[str, str | bytes] = {f"{base}/__init__.py": "VALUE = 1\n"}
    tree.update({f"{base}/static/pkg/{name}": data for name, data in STATIC.items()})
    tree.update(files or {})
    tree["pyproject.toml"] = (
        '[build-system]\nrequires = ["hatchling", "collectstatic"]\n'
        'build-backend = "hatchling.build"\n\n'
        '[project]\nname = "pkg"\nversion = "1.0"\n\n'
        f'[tool.collectstatic]\nroot = "{base}/staticfiles"\napps = ["pkg"]\n{collectstatic}\n'
        f"{hatch}"
    )
    return write_tree(root, tree)


def build_wheel(project: Path, out: Path | None = None, version: str = "standard") -> Path:
    out = out or project.parent / f"{project.name}-dist"
    (artifact,) = WheelBuilder(str(project)).build(directory=str(out), versions=[version])
    return Path(artifact)


def build_sdist(project: Path, out: Path | None = None) -> Path:
    out = out or project.parent / f"{project.name}-dist"
    (artifact,) = SdistBuilder(str(project)).build(directory=str(out))
    return Path(artifact)


def build_fails(project: Path, capsys: pytest.CaptureFixture[str], target: str = "wheel"
                ) -> str:
    """Build, expect hatch's clean abort; return what was printed."""
    with pytest.raises(SystemExit) as info:
        (build_wheel if target == "wheel" else build_sdist)(project)
    assert info.value.code == 1
    err = printed(capsys)
    assert "Traceback" not in err
    return err


def printed(capsys: pytest.CaptureFixture[str]) -> str:
    """What hatch displayed (stderr since hatchling 1.24.2, stdout before)."""
    captured = capsys.readouterr()
    return captured.err + captured.out


def assert_collected(members: dict[str, bytes], prefix: str, extra: tuple[str, ...] = ()
                     ) -> dict[str, str]:
    """The collected tree under ``prefix`` in the wheel; returns the manifest paths."""
    names = {n[len(prefix) + 1:] for n in members if n.startswith(prefix + "/")}
    logical_names = sorted([*LOGICAL, *extra])
    manifest = json.loads(members[f"{prefix}/staticfiles.json"])
    paths = manifest["paths"]
    assert sorted(paths) == logical_names
    for logical, hashed in paths.items():
        assert HASHED.search(hashed) and hashed != logical
        assert hashed in names
    assert names == set(logical_names) | set(paths.values()) | {"staticfiles.json"}
    css = members[f"{prefix}/{paths['pkg/css/app.css']}"].decode()
    assert paths["pkg/fonts/f.woff2"].split("/")[-1] in css
    assert paths["pkg/img/bg.png"].split("/")[-1] in css
    return paths


def git_init(project: Path) -> None:
    run(["git", "init", "-q"], cwd=project)
    run(["git", "add", "-A"], cwd=project)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
        cwd=project)


# -- where the collected tree lands ---------------------------------------------------

LAYOUTS = [
    # (layout, [tool.hatch.build.targets.wheel] lines, where root lands in the wheel)
    ("src", "", "pkg/staticfiles"),
    ("flat", "", "pkg/staticfiles"),
    ("src", 'packages = ["src/pkg"]', "pkg/staticfiles"),
    ("src", 'only-include = ["src/pkg"]\nsources = ["src"]', "pkg/staticfiles"),
    ("src", 'only-include = ["src"]\nsources = {"src" = "lib"}', "lib/pkg/staticfiles"),
    ("flat", 'only-include = ["pkg"]', "pkg/staticfiles"),
    pytest.param("flat", 'packages = ["pkg"]\nsources = {"" = "vendored"}',
                 "vendored/pkg/staticfiles", marks=pytest.mark.skipif(
                     HATCHLING < (1, 19), reason="an empty source prefix needs hatchling 1.19")),
]


@pytest.mark.parametrize(("layout", "wheel_config", "prefix"), LAYOUTS)
def test_wheel_maps_root_like_hatchling_maps_files(tmp_path: Path, layout: str,
                                                    wheel_config: str, prefix: str) -> None:
    project = make_project(tmp_path / "p", layout=layout, hatch=(
        f"[tool.hatch.build.targets.wheel]\n{wheel_config}\n"
        "[tool.hatch.build.hooks.collectstatic]\n"))
    members = wheel_members(build_wheel(project))
    assert_collected(members, prefix)
    package = prefix.rsplit("/", 1)[0]
    assert f"{package}/__init__.py" in members
    assert f"{package}/static/pkg/css/app.css" in members  # the app's own files still ship
    assert not any(name.startswith("src/") for name in members)


def test_wheel_build_leaves_source_tree_untouched(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={".gitignore": "/src/pkg/staticfiles/\n"})
    git_init(project)
    before = tree_bytes(project, skip_state=False)
    build_wheel(project)
    build_sdist(project)
    assert tree_bytes(project, skip_state=False) == before
    assert run(["git", "status", "--porcelain", "--ignored"], cwd=project).stdout == ""


def test_git_ignored_root_still_ships_and_stale_files_in_root_never_do(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={
        ".gitignore": "/src/pkg/staticfiles/\n",
        # Leftovers of an editable install or a manual collect: never shipped.
        "src/pkg/staticfiles/pkg/css/app.css": "stale",
        "src/pkg/staticfiles/pkg/old.0123456789ab.css": "stale",
        "src/pkg/staticfiles/.collectstatic/state.json": "{}",
    })
    git_init(project)
    members = wheel_members(build_wheel(project))
    assert_collected(members, "pkg/staticfiles")
    assert "pkg/staticfiles/pkg/old.0123456789ab.css" not in members
    assert members["pkg/staticfiles/pkg/css/app.css"] == CSS.encode()
    sdist = sdist_members(build_sdist(project))
    assert not any("staticfiles" in name for name in sdist)


def test_stale_root_not_shipped_even_when_not_ignored_and_listed_as_artifact(
        tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", hatch=(
        '[tool.hatch.build.targets.wheel]\nartifacts = ["src/pkg/staticfiles"]\n'
        "[tool.hatch.build.hooks.collectstatic]\n"),
        files={"src/pkg/staticfiles/leftover.txt": "stale"})
    members = wheel_members(build_wheel(project))
    assert "pkg/staticfiles/leftover.txt" not in members
    assert_collected(members, "pkg/staticfiles")


# -- configuration ----------------------------------------------------------------------

def test_hook_table_overrides_keys_and_accepts_hatch_keys(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", hatch=(
        "[tool.hatch.build.hooks.collectstatic]\n"
        'root = "src/pkg/built"\n'
        "dependencies = []\nrequire-runtime-dependencies = false\n"
        "require-runtime-features = []\nenable-by-default = true\n"))
    members = wheel_members(build_wheel(project))
    assert_collected(members, "pkg/built")
    assert not any(name.startswith("pkg/staticfiles/") for name in members)


def test_per_target_hook_table_is_used_instead_of_the_global_one(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", hatch=(
        "[tool.hatch.build.hooks.collectstatic]\n"
        'root = "src/pkg/from-global"\n'
        "[tool.hatch.build.targets.wheel.hooks.collectstatic]\n"
        'root = "src/pkg/from-target"\n'))
    members = wheel_members(build_wheel(project))
    assert_collected(members, "pkg/from-target")
    assert not any("from-global" in name for name in members)


def test_hook_disabled_by_default_does_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    project = make_project(tmp_path / "p", hatch=(
        "[tool.hatch.build.hooks.collectstatic]\nenable-by-default = false\n"))
    members = wheel_members(build_wheel(project))
    assert not any(name.startswith("pkg/staticfiles/") for name in members)
    assert "collectstatic" not in printed(capsys)


CONFIG_ERRORS = [
    # (extra [tool.collectstatic] lines, hook tables, target, message fragment)
    ("", "[tool.hatch.build.hooks.collectstatic]\nmanfest = false\n", "wheel",
     "tool.hatch.build.hooks.collectstatic.manfest: unknown key (did you mean 'manifest'?)"),
    ("", "[tool.hatch.build.targets.wheel.hooks.collectstatic]\nstrict = 1\n", "wheel",
     "tool.hatch.build.targets.wheel.hooks.collectstatic.strict: expected true or false"),
    ('dirs = ["missing"]\n', "[tool.hatch.build.hooks.collectstatic]\n", "wheel",
     "tool.collectstatic.dirs[0]: expected an existing directory"),
    ('workers = "many"\n', "[tool.hatch.build.hooks.collectstatic]\n", "sdist",
     "tool.collectstatic.workers"),
    ("", '[tool.hatch.build.hooks.collectstatic]\nroot = "../outside"\n', "sdist",
     "tool.hatch.build.hooks.collectstatic.root: expected a path inside the project root"),
]


@pytest.mark.parametrize(("collectstatic", "hatch", "target", "message"), CONFIG_ERRORS)
def test_config_errors_fail_the_build_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], collectstatic: str, hatch: str,
        target: str, message: str) -> None:
    project = make_project(tmp_path / "p", collectstatic=collectstatic, hatch=hatch)
    err = build_fails(project, capsys, target)
    (line,) = [line for line in err.splitlines() if message in line]
    assert line.startswith("collectstatic: ")
    assert not list((tmp_path / "p-dist").glob("*.*"))


def test_missing_table_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p")
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace("[tool.collectstatic]", "[tool.other]"))
    assert "no [tool.collectstatic] table" in build_fails(project, capsys)


def test_broken_reference_fails_the_build(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={
        "src/pkg/static/pkg/css/broken.css": 'a { background: url("../img/nope.png"); }'})
    err = build_fails(project, capsys)
    assert "broken reference" in err and "nope.png" in err


def test_off_switch_skips_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", collectstatic='workers = "broken, but skipped"\n')
    monkeypatch.setenv(SKIP_ENV, "1")
    members = wheel_members(build_wheel(project))
    assert "pkg/__init__.py" in members
    assert not any(name.startswith("pkg/staticfiles/") for name in members)
    assert f"collectstatic: skipped ({SKIP_ENV} is set)" in printed(capsys)


# -- progress -----------------------------------------------------------------------

def test_summary_line_and_per_file_detail_with_verbose(
        kept_project_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(kept_project_dir)
    build_wheel(project)
    err = printed(capsys)
    summary = re.search(r"^collectstatic: 3 files, (\d+ rewritten, )?\d+\.\d s$", err, re.M)
    assert summary, err
    assert "Copying" not in err
    monkeypatch.setenv("HATCH_VERBOSE", "1")
    (project / "src/pkg/static/pkg/img/bg.png").write_bytes(b"\x89PNG changed")
    build_wheel(project)  # a rebuild: the changed file is copied, the others skipped
    verbose = printed(capsys)
    assert f"collectstatic: Copying '{project / 'src/pkg/static/pkg/img/bg.png'}'" in verbose
    assert "collectstatic: Skipping 'pkg/fonts/f.woff2' (not modified)" in verbose


# -- sdist ----------------------------------------------------------------------------

def npm_project(root: Path) -> Path:
    """Sources in a git-ignored, npm-built dir plus the app's own static dir."""
    project = make_project(root, collectstatic='dirs = [{path = "frontend/dist", '
                           'prefix = "bundle"}]\n', files={
                               ".gitignore": "/frontend/dist/\n/src/pkg/staticfiles/\n",
                               "frontend/package.json": "{}\n",
                               "frontend/dist/main.js": "console.log(1);\n",
                               "frontend/dist/main.css": "b { color: red }\n",
                               "src/pkg/staticfiles/stale.txt": "collected earlier",
                           })
    git_init(project)
    return project


def test_sdist_carries_sources_even_git_ignored_and_not_the_collected_tree(
        tmp_path: Path) -> None:
    project = npm_project(tmp_path / "p")
    members = sdist_members(build_sdist(project))
    top = "pkg-1.0/"
    assert f"{top}pyproject.toml" in members
    assert f"{top}frontend/dist/main.js" in members
    assert f"{top}frontend/dist/main.css" in members
    for name in STATIC:
        assert f"{top}src/pkg/static/pkg/{name}" in members
    assert not any(name.startswith(f"{top}src/pkg/staticfiles") for name in members)
    assert len(members) == len(set(members))


def test_off_switch_still_puts_sources_in_the_sdist(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Without them the wheel built from that sdist would fail (the npm output is
    # git-ignored), so the switch only skips collection.
    project = npm_project(tmp_path / "p")
    monkeypatch.setenv(SKIP_ENV, "1")
    members = sdist_members(build_sdist(project))
    assert "pkg-1.0/frontend/dist/main.js" in members


def test_wheel_from_sdist_is_byte_identical_to_wheel_from_tree(tmp_path: Path) -> None:
    project = npm_project(tmp_path / "p")
    from_tree = build_wheel(project, tmp_path / "tree")
    sdist = build_sdist(project, tmp_path / "sdist")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(unpacked, filter="data")
        else:  # pragma: no cover - Python without PEP 706 backports
            archive.extractall(unpacked)
    from_sdist = build_wheel(unpacked / "pkg-1.0", tmp_path / "from-sdist")
    assert from_sdist.name == from_tree.name
    members = wheel_members(from_sdist)
    assert_collected(members, "pkg/staticfiles", ("bundle/main.css", "bundle/main.js"))
    assert from_sdist.read_bytes() == from_tree.read_bytes()


# -- reproducibility and editable installs ----------------------------------------------

def test_same_source_date_epoch_gives_identical_wheels(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "p")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_wheel(project, tmp_path / "one").read_bytes()
    (project / "src/pkg/static/pkg/img/bg.png").touch()  # new mtime, same bytes
    second = build_wheel(project, tmp_path / "two").read_bytes()
    assert first == second
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    assert build_wheel(project, tmp_path / "three").read_bytes() != first


def test_editable_collects_into_root_and_second_install_does_no_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # dev-mode-dirs: a .pth editable, which needs no `editables` in this process
    project = make_project(tmp_path / "p", hatch=(
        '[tool.hatch.build.targets.wheel]\ndev-mode-dirs = ["src"]\n'
        "[tool.hatch.build.hooks.collectstatic]\n"))
    members = wheel_members(build_wheel(project, version="editable"))
    assert not any("staticfiles" in name for name in members)
    root = project / "src/pkg/staticfiles"
    collected = tree_bytes(root)
    assert set(LOGICAL) <= set(collected)
    assert "staticfiles.json" in collected
    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()
              and ".collectstatic" not in p.parts}
    capsys.readouterr()
    build_wheel(project, version="editable")
    assert re.search(r"^collectstatic: 3 files \(3 unmodified\)", printed(capsys), re.M)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert tree_bytes(root) == collected


def test_no_temporary_directories_are_left_behind(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    project = make_project(tmp_path / "p")
    build_wheel(project)
    assert list(temp.iterdir()) == []
    # A failure after collection started cleans up too.
    (project / "src/pkg/static/pkg/css/bad.css").write_text('a{b:url("gone.png")}')
    build_fails(project, capsys)
    assert list(temp.iterdir()) == []


def test_compressed_siblings_ship_beside_their_files(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    big = "".join(f".c{i} {{ color: #{i:06x}; }}\n" for i in range(400))
    project = make_project(tmp_path / "p", collectstatic='compress = ["gzip"]\n',
                           files={"src/pkg/static/pkg/css/big.css": big})
    members = wheel_members(build_wheel(project))
    compressed = [name for name in members if name.endswith(".gz")]
    assert "pkg/staticfiles/pkg/css/big.css.gz" in compressed
    for name in compressed:
        assert gzip.decompress(members[name]) == members[name[:-3]]
    assert f"{len(compressed)} compressed variants" in printed(capsys)


@pytest.fixture
def kept_project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project outside the system temp dir (as a checkout is): builds keep state."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "systemp"))
    (tmp_path / "systemp").mkdir()
    return tmp_path / "checkout"


def test_rebuild_reuses_the_staging_dir_and_never_ships_stale_files(
        kept_project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from collectstatic.build import build_staging_dir, load_build_settings

    project = make_project(kept_project_dir)
    first = wheel_members(build_wheel(project, tmp_path / "one"))
    staging = build_staging_dir(load_build_settings(project))
    assert staging is not None
    staged = {p: p.stat().st_mtime_ns for p in staging.rglob("*") if p.is_file()
              and ".collectstatic" not in p.parts}
    assert len(staged) == 7  # 3 plain, 3 hashed, the manifest
    printed(capsys)
    again = wheel_members(build_wheel(project, tmp_path / "two"))
    assert again == first
    assert {p: p.stat().st_mtime_ns for p in staged} == staged  # nothing was rewritten
    # a rebuild says that it did nothing
    assert re.search(r"^collectstatic: 3 files \(3 unmodified\), 1 rewritten \(1 reused\), "
                     r"\d+\.\d s$", printed(capsys), re.M)
    # what changed is redone, and what is gone does not ship from the staging dir
    (project / "src/pkg/static/pkg/img/bg.png").unlink()
    (project / "src/pkg/static/pkg/css/app.css").write_text("body { color: red }\n")
    third = wheel_members(build_wheel(project, tmp_path / "three"))
    names = {name for name in third if name.startswith("pkg/staticfiles/")}
    assert not any("bg." in name for name in names)
    manifest = json.loads(third["pkg/staticfiles/staticfiles.json"])
    assert names == {f"pkg/staticfiles/{n}" for n in
                     {*manifest["paths"], *manifest["paths"].values(), "staticfiles.json"}}


def test_a_throwaway_project_leaves_no_staging_behind(tmp_path: Path) -> None:
    # An sdist unpacked in the temp dir gets a new path every build: nothing kept
    # for it could be reused, so nothing is kept (pytest's tmp_path is such a dir).
    import os

    cache = Path(os.environ["COLLECTSTATIC_CACHE_DIR"])
    before = set(cache.rglob("wheel-*"))
    project = make_project(tmp_path / "p")
    members = wheel_members(build_wheel(project))
    assert "pkg/staticfiles/staticfiles.json" in members
    assert set(cache.rglob("wheel-*")) == before


def test_a_build_of_a_throwaway_project_says_once_that_nothing_is_kept(
        tmp_path: Path, kept_project_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLLECTSTATIC_CACHE_DIR")
    throwaway = make_project(Path(tempfile.gettempdir()) / "unpacked-sdist",
                             collectstatic='compress = ["gzip"]')
    build_wheel(throwaway, tmp_path / "one")
    notes = [line for line in printed(capsys).splitlines() if "nothing is kept" in line]
    assert len(notes) == 1, notes
    assert "set COLLECTSTATIC_CACHE_DIR to a directory to keep compressed variants" in notes[0]
    monkeypatch.setenv("COLLECTSTATIC_CACHE_DIR", str(tmp_path / "cache"))
    build_wheel(throwaway, tmp_path / "two")
    assert "set COLLECTSTATIC_CACHE_DIR" not in printed(capsys)  # set: variants are kept
    build_wheel(make_project(kept_project_dir), tmp_path / "three")
    assert "nothing is kept" not in printed(capsys)  # a checkout keeps its staging dir
