"""[tool.collectstatic] validation: every kind of mistake names its key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collectstatic.config import DEFAULT_IGNORE_PATTERNS, settings_from_table
from collectstatic.errors import ConfigError

from .support import cli, write_tree


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_tree(tmp_path, {
        "assets/css/a.css": "a{}",
        "more/js/b.js": "b",
        "src/myapp/__init__.py": "",
        "src/myapp/static/myapp/x.txt": "x",
        "flatapp/__init__.py": "",
        "flatapp/static/f.txt": "f",
        "nostatic/__init__.py": "",
        "a_file.txt": "not a dir",
        "out/src/z.txt": "a source dir inside root",
    })
    return tmp_path


def problems(table: dict, project: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        settings_from_table(table, project, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


def test_valid_table_gives_settings(project: Path) -> None:
    settings = settings_from_table({
        "root": "src/myapp/staticfiles",
        "dirs": ["assets", {"path": "more", "prefix": "vendor/more"}],
        "apps": ["myapp", "flatapp"],
        "ignore": ["*.map"],
        "static-url": "https://cdn.example.com/s/",
        "compress": ["gzip"],
        "compress-levels": {"gzip": 6},
        "workers": 3,
        "keep-versions": 0,
        "file-mode": "0o640",
        "dir-mode": "750",
    }, project)
    assert settings.root == project / "src/myapp/staticfiles"
    assert settings.root_relative == "src/myapp/staticfiles"
    assert [(s.path, s.prefix) for s in settings.sources] == [
        (project / "assets", ""),
        (project / "more", "vendor/more"),
        (project / "src/myapp/static", ""),
        (project / "flatapp/static", ""),
    ]
    assert settings.ignore_patterns == ("*.map", *DEFAULT_IGNORE_PATTERNS)
    assert settings.level("gzip") == 6 and settings.level("brotli") == 11
    assert (settings.workers, settings.file_mode, settings.dir_mode) == (3, 0o640, 0o750)
    assert settings.keep_versions == 0
    assert settings.static_url == "https://cdn.example.com/s/"


def test_defaults(project: Path) -> None:
    settings = settings_from_table({"root": "out"}, project)
    assert settings.sources == ()
    assert settings.manifest and settings.strict and settings.keep_unhashed
    assert settings.default_ignore and not settings.link and not settings.js_modules
    assert settings.manifest_name == "staticfiles.json"
    assert settings.static_url == "/static/"
    assert settings.workers == (os.cpu_count() or 1)
    assert settings.file_mode is None and settings.compress == ()
    assert settings.keep_versions == 2


@pytest.mark.parametrize(("table", "expected"), [
    ({}, "tool.collectstatic.root: required"),
    ({"root": "out", "rooot": 1}, "tool.collectstatic.rooot: unknown key (did you mean 'root'?)"),
    ({"root": 5}, "tool.collectstatic.root: expected a path relative to the project root, "
                  "found int 5"),
    ({"root": "../elsewhere"}, "tool.collectstatic.root: expected a path inside the project "
                               "root, found '../elsewhere'"),
    ({"root": "/tmp/abs-outside"}, "tool.collectstatic.root: expected a path inside the "
                                   "project root"),
    ({"root": "."}, "tool.collectstatic.root: expected a subdirectory of the project root"),
    ({"root": "out", "dirs": "assets"}, "tool.collectstatic.dirs: expected a list of paths or "
                                        "{path, prefix} tables, found 'assets'"),
    ({"root": "out", "dirs": ["assets", "missing"]},
     "tool.collectstatic.dirs[1]: expected an existing directory, found 'missing' "
     "(nothing is there)"),
    ({"root": "out", "dirs": ["a_file.txt"]},
     "tool.collectstatic.dirs[0]: expected an existing directory, found 'a_file.txt' "
     "(a file is there)"),
    ({"root": "out", "dirs": ["../x"]}, "tool.collectstatic.dirs[0]: expected a path inside "
                                        "the project root"),
    ({"root": "out", "dirs": [{"prefix": "v"}]}, "tool.collectstatic.dirs[0].path: expected a "
                                                "path (the key is missing)"),
    ({"root": "out", "dirs": [{"path": "assets", "prefix": "v/"}]},
     "tool.collectstatic.dirs[0].prefix: expected a relative URL path"),
    ({"root": "out", "dirs": [{"path": "assets", "prefix": "../v"}]},
     "tool.collectstatic.dirs[0].prefix: expected a relative URL path"),
    ({"root": "out", "dirs": [{"path": "assets", "pre": "v"}]},
     "tool.collectstatic.dirs[0].pre: expected only 'path' and 'prefix' keys"),
    ({"root": "assets", "dirs": ["assets"]},
     "tool.collectstatic.root: expected a directory outside every source dir, found 'assets' "
     "(it is tool.collectstatic.dirs[0]"),
    ({"root": "assets/build", "dirs": ["assets"]},
     "tool.collectstatic.root: expected a directory outside every source dir, found "
     "'assets/build' (it lies inside tool.collectstatic.dirs[0]"),
    ({"root": "out", "dirs": ["out/src"]}, "tool.collectstatic.dirs[0]: expected a source dir "
                                           "outside root"),
    ({"root": "out", "apps": ["no_such_app_xyz"]},
     "tool.collectstatic.apps[0]: expected an importable package, found 'no_such_app_xyz'"),
    ({"root": "out", "apps": ["not-an-import-name"]},
     "tool.collectstatic.apps[0]: expected an import name"),
    ({"root": "out", "apps": "myapp"}, "tool.collectstatic.apps: expected a list of import "
                                       "names, found 'myapp'"),
    ({"root": "out", "ignore": ["*.map", 3]}, "tool.collectstatic.ignore[1]: expected a "
                                              "non-empty string, found int 3"),
    ({"root": "out", "manifest": "yes"}, "tool.collectstatic.manifest: expected true or false, "
                                         "found 'yes'"),
    ({"root": "out", "strict": 1}, "tool.collectstatic.strict: expected true or false, "
                                   "found int 1"),
    ({"root": "out", "manifest-name": "a/b.json"},
     "tool.collectstatic.manifest-name: expected a plain file name"),
    ({"root": "out", "static-url": "/static"},
     "tool.collectstatic.static-url: expected a URL prefix ending in '/'"),
    ({"root": "out", "compress": ["gzip", "lzma"]},
     "tool.collectstatic.compress[1]: expected one of 'gzip', 'brotli', 'zstd', found 'lzma'"),
    ({"root": "out", "compress-levels": {"brotli": 12}},
     "tool.collectstatic.compress-levels.brotli: expected an integer from 0 to 11, found int 12"),
    ({"root": "out", "compress-levels": {"xz": 1}},
     "tool.collectstatic.compress-levels.xz: expected one of"),
    ({"root": "out", "workers": 0}, "tool.collectstatic.workers: expected an integer >= 1, "
                                    "found int 0"),
    ({"root": "out", "workers": True}, "tool.collectstatic.workers: expected an integer >= 1, "
                                       "found true"),
    ({"root": "out", "keep-versions": -1}, "tool.collectstatic.keep-versions: expected an "
                                           "integer >= 0, found int -1"),
    ({"root": "out", "keep-versions": False}, "tool.collectstatic.keep-versions: expected an "
                                              "integer >= 0, found false"),
    ({"root": "out", "keep-versions": "2"}, "tool.collectstatic.keep-versions: expected an "
                                            "integer >= 0, found '2'"),
    ({"root": "out", "file-mode": 644}, "tool.collectstatic.file-mode: expected an octal "
                                        "string such as \"0o644\", found int 644"),
    ({"root": "out", "dir-mode": "0o99"}, "tool.collectstatic.dir-mode: expected an octal "
                                          "string"),
    ({"root": "o\0ut"}, "tool.collectstatic.root: expected a path relative to the project "
                        "root, found 'o\\x00ut' (no file name can hold a NUL character)"),
    ({"root": "out", "dirs": ["a\0"]}, "tool.collectstatic.dirs[0]: expected a path relative "
                                       "to the project root, found 'a\\x00' (no file name"),
])
def test_each_mistake_names_its_key(project: Path, table: dict, expected: str) -> None:
    found = problems(table, project)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]


def test_all_problems_reported_at_once(project: Path) -> None:
    found = problems({"root": "../x", "dirs": ["nope"], "strict": "no", "workerz": 2}, project)
    keys = sorted(problem.split(":")[0] for problem in found)
    assert keys == ["tool.collectstatic.dirs[0]", "tool.collectstatic.root",
                    "tool.collectstatic.strict", "tool.collectstatic.workerz"]


def test_an_absolute_root_override_with_a_nul_is_a_config_error(project: Path) -> None:
    # found by the config fuzzer: os.path.realpath raised ValueError
    assert problems({"root": "out"}, project, overrides={"root": "/srv/\0"}) == [
        "--root: expected a path relative to the project root, found "
        "'/srv/\\x00' (no file name can hold a NUL character)"]


def test_overrides_are_named_by_their_table(project: Path) -> None:
    found = problems({"root": "out"}, project, overrides={"strict": "x"},
                     overrides_origin="tool.hatch.build.hooks.collectstatic")
    assert found == ["tool.hatch.build.hooks.collectstatic.strict: expected true or false, "
                     "found 'x'"]


def test_app_without_static_dir_is_a_warning(project: Path) -> None:
    settings = settings_from_table({"root": "out", "apps": ["nostatic"]}, project)
    assert settings.sources == ()
    assert "apps[0]: app 'nostatic' has no static/ directory" in settings.warnings[0]


def test_installed_app_found_without_importing_it(project: Path, tmp_path_factory) -> None:
    # A package on sys.path whose __init__ would fail if executed.
    site = tmp_path_factory.mktemp("site")
    write_tree(site, {"boom/__init__.py": "raise RuntimeError('executed')",
                      "boom/sub/__init__.py": "", "boom/sub/static/s.txt": "s"})
    import sys
    sys.path.insert(0, str(site))
    try:
        settings = settings_from_table({"root": "out", "apps": ["boom.sub"]}, project)
    finally:
        sys.path.remove(str(site))
    assert [s.path for s in settings.sources] == [site / "boom/sub/static"]
    assert "boom" not in sys.modules


def test_cli_reports_config_errors_in_one_line(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["assets", "missing"]\nstrict = "no"\n')
    proc = cli("collect", "--noinput", cwd=project, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "tool.collectstatic.dirs[1]" in lines[0] and "tool.collectstatic.strict" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("content", "expected"), [
    (None, "file not found"),
    ("[tool.collectstatic\nroot=1", "invalid TOML"),
    ("[project]\nname = 'x'\n", "no [tool.collectstatic] table"),
])
def test_cli_pyproject_problems(project: Path, content: str | None, expected: str) -> None:
    if content is not None:
        (project / "pyproject.toml").write_text(content)
    proc = cli("collect", "--noinput", cwd=project, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_config_flag_reads_another_file(project: Path) -> None:
    (project / "other.toml").write_text('[tool.collectstatic]\nroot = "elsewhere"\n'
                                        'dirs = ["assets"]\n')
    cli("collect", "--noinput", "--no-post-process", "--config", "other.toml", cwd=project)
    assert (project / "elsewhere/css/a.css").read_text() == "a{}"
