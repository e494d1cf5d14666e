"""Configuration (and source trees) built to break the tool: every one is a
single ``error:`` line naming the file or key, refused before anything is
written; or, for what is only unwise, a warning."""

from __future__ import annotations

import codecs
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectstatic.build import load_build_settings
from collectstatic.config import load_settings, settings_from_table
from collectstatic.errors import ConfigError
from collectstatic.paths import is_within

from .support import cli, write_tree

VALID = '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_tree(tmp_path, {"s/css/a.css": "a{}", "s/img/x.png": b"\x89PNG"})
    return tmp_path


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert proc.stdout == ""
    return lines[0][len("error: "):]


def problems(table: dict, project: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        settings_from_table(table, project, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


# -- item 13: pyproject.toml bytes that are not TOML ------------------------------------

NESTED = "x = " + "[" * 2000 + "]" * 2000 + "\n"
UNDECODABLE = [
    pytest.param(VALID.encode() + b"# caf\xe9\n", "not valid UTF-8 (byte 0xe9 on line 4); "
                 "TOML is UTF-8: save the file as UTF-8", id="latin-1"),
    pytest.param(VALID.encode("utf-16"), "the file is UTF-16 text; TOML is UTF-8: save it as "
                 "UTF-8", id="utf-16"),
    pytest.param(codecs.BOM_UTF16_BE + VALID.encode("utf-16-be"), "the file is UTF-16 text",
                 id="utf-16-be"),
    pytest.param(VALID.encode("utf-32"), "the file is UTF-32 text", id="utf-32"),
    pytest.param(VALID.encode("utf-16-le"), "invalid TOML: Invalid initial character for a key "
                 "part (at line 1, column 2) (the file holds NUL bytes: UTF-16 text? TOML is "
                 "UTF-8: save it as UTF-8)", id="utf-16-without-bom"),
    pytest.param(codecs.BOM_UTF8 + VALID.encode(), "invalid TOML: Invalid statement (at line 1,"
                 " column 1) (the file starts with a byte order mark: save it as UTF-8 without "
                 "one)", id="utf-8-bom"),
    pytest.param((VALID + NESTED).encode(), "invalid TOML: arrays or inline tables nested too "
                 "deeply to read", id="2000-brackets"),
    pytest.param((VALID + "x = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n").encode(),
                 "invalid TOML: arrays or inline tables nested too deeply", id="2000-braces"),
    pytest.param((VALID + "[tool.other]\ny = " + "[" * 1000 + "]" * 1000 + "\n").encode(),
                 "invalid TOML: arrays or inline tables nested too deeply", id="in-another-table"),
    pytest.param((VALID + "workers = 1" + "0" * 5000 + "\n").encode(), "invalid TOML: an "
                 "integer of more than 4300 digits; no setting needs one", id="5000-digit-int"),
]


@pytest.mark.parametrize(("content", "expected"), UNDECODABLE)
def test_pyproject_that_is_not_toml_is_one_error_line(project: Path, content: bytes,
                                                      expected: str) -> None:
    (project / "pyproject.toml").write_bytes(content)
    error = one_line_error(cli("collect", "--noinput", cwd=project, check=False))
    assert error.startswith(f"{project / 'pyproject.toml'}: {expected}"), error
    if "UTF-16 text?" not in error:  # (a NUL hint only where there are NUL bytes)
        assert "NUL" not in error
    assert not (project / "out").exists()


@pytest.mark.parametrize(("content", "expected"), UNDECODABLE)
def test_builds_read_such_a_pyproject_as_a_config_error(project: Path, content: bytes,
                                                        expected: str) -> None:
    # What both build hooks call to read [tool.collectstatic].
    (project / "pyproject.toml").write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_build_settings(project)
    assert str(info.value).startswith(f"{project / 'pyproject.toml'}: {expected}")


def test_nesting_a_parser_can_read_is_still_read(project: Path) -> None:
    (project / "pyproject.toml").write_text(VALID + "[tool.other]\ny = [[[[[[1]]]]]]\n")
    assert load_settings(project / "pyproject.toml").root == project / "out"


# -- item 14: characters no file name can hold -----------------------------------------

NUL_HINT = "(no file name can hold a NUL character)"
SURROGATE_HINT = "(no file name can hold '\\ud800': it has no bytes in the file-system encoding)"
UNUSABLE = [
    ({"root": "out", "dirs": [{"path": "s", "prefix": "v\0x"}]},
     f"tool.collectstatic.dirs[0].prefix: expected a string such as \"vendor\", "
     f"found 'v\\x00x' {NUL_HINT}"),
    ({"root": "out", "dirs": [{"path": "s", "prefix": "v\ud800"}]},
     f"tool.collectstatic.dirs[0].prefix: expected a string such as \"vendor\", "
     f"found 'v\\ud800' {SURROGATE_HINT}"),
    ({"root": "out", "dirs": ["s"], "manifest-name": "m\0.json"},
     f"tool.collectstatic.manifest-name: expected a plain file name such as "
     f"\"staticfiles.json\", found 'm\\x00.json' {NUL_HINT}"),
    ({"root": "out", "dirs": ["s"], "manifest-name": "m\ud800.json"},
     "tool.collectstatic.manifest-name: expected a plain file name such as "
     f"\"staticfiles.json\", found 'm\\ud800.json' {SURROGATE_HINT}"),
    ({"root": "out", "dirs": ["s"], "ignore": ["*.map", "a\0"]},
     f"tool.collectstatic.ignore[1]: expected a pattern for file names, found 'a\\x00' "
     f"{NUL_HINT}"),
    ({"root": "out", "dirs": ["s"], "ignore": ["a\ud800*"]},
     f"tool.collectstatic.ignore[0]: expected a pattern for file names, found 'a\\ud800*' "
     f"{SURROGATE_HINT}"),
    ({"root": "o\ud800ut", "dirs": ["s"]},
     f"tool.collectstatic.root: expected a path relative to the project root, found "
     f"'o\\ud800ut' {SURROGATE_HINT}"),
    ({"root": "out", "dirs": ["s\ud800"]},
     f"tool.collectstatic.dirs[0]: expected a path relative to the project root, found "
     f"'s\\ud800' {SURROGATE_HINT}"),
    ({"root": "out", "dirs": [{"path": "s\0", "prefix": "v"}]},
     f"tool.collectstatic.dirs[0].path: expected a path relative to the project root, "
     f"found 's\\x00' {NUL_HINT}"),
    ({"root": "out", "dirs": ["s"], "static-url": "/st\natic/"},
     "tool.collectstatic.static-url: expected a URL prefix ending in '/' such as \"/static/\", "
     "found '/st\\natic/' (a URL holds no control character such as '\\n'; percent-encode it)"),
    ({"root": "out", "dirs": ["s"], "static-url": "/s\0/"},
     "tool.collectstatic.static-url: expected a URL prefix ending in '/' such as \"/static/\", "
     "found '/s\\x00/' (a URL holds no control character such as '\\x00'; percent-encode it)"),
    ({"root": "out", "dirs": ["s"], "static-url": "/s\udc80/"},
     "tool.collectstatic.static-url: expected a URL prefix ending in '/' such as \"/static/\", "
     "found '/s\\udc80/' ('\\udc80' has no UTF-8 form)"),
]


@pytest.mark.parametrize(("table", "expected"), UNUSABLE)
def test_characters_no_file_name_can_hold_are_refused(project: Path, table: dict,
                                                      expected: str) -> None:
    assert problems(table, project) == [expected]


def test_an_absolute_root_override_with_a_surrogate_is_refused(project: Path) -> None:
    assert problems({"root": "out", "dirs": ["s"]}, project, overrides={"root": "/srv/\ud800"}) \
        == [f"--root: expected a path relative to the project root, found '/srv/\\ud800' "
            f"{SURROGATE_HINT}"]


def test_undecodable_bytes_of_real_file_names_are_accepted(project: Path) -> None:
    # os.fsdecode's escapes for bytes such as 0xff are file names that exist.
    name = os.fsdecode(b"v\xff")
    settings = settings_from_table({"root": "out", "dirs": [{"path": "s", "prefix": name}],
                                    "ignore": [name]}, project)
    assert settings.sources[0].prefix == name and settings.ignore == (name,)


@pytest.mark.parametrize(("line", "key"), [
    ('dirs = [{path = "s", prefix = "v\\u0000"}]', "tool.collectstatic.dirs[0].prefix"),
    ('dirs = ["s"]\nmanifest-name = "staticfiles\\u0000.json"', "tool.collectstatic.manifest-name"),
    ('dirs = ["s"]\nignore = ["\\u0000"]', "tool.collectstatic.ignore[0]"),
])
def test_a_nul_from_toml_is_refused_before_anything_is_copied(project: Path, line: str,
                                                              key: str) -> None:
    (project / "pyproject.toml").write_text(f'[tool.collectstatic]\nroot = "out"\n{line}\n')
    error = one_line_error(cli("collect", "--noinput", cwd=project, check=False))
    assert error.startswith(f"{project / 'pyproject.toml'}: {key}: expected "), error
    assert error.endswith(NUL_HINT)
    assert not (project / "out").exists()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(prefix=st.text(max_size=8), manifest_name=st.text(max_size=8),
       pattern=st.text(max_size=8), static_url=st.text(max_size=8).map(lambda t: t + "/"))
def test_any_text_is_accepted_only_when_files_can_be_named_with_it(
        tmp_path_factory: pytest.TempPathFactory, prefix: str, manifest_name: str, pattern: str,
        static_url: str) -> None:
    project = tmp_path_factory.getbasetemp() / "any-text"
    (project / "s").mkdir(parents=True, exist_ok=True)
    table = {"root": "out", "dirs": [{"path": "s", "prefix": prefix}], "ignore": [pattern],
             "manifest-name": manifest_name, "static-url": static_url}
    try:
        accepted = settings_from_table(table, project)
    except ConfigError:
        return
    for name in (accepted.sources[0].prefix, accepted.manifest_name, *accepted.ignore):
        assert "\0" not in name
        os.fsencode(name)  # (raises for what no file name can hold)
    accepted.static_url.encode("utf-8")
    assert not any(char < " " or char == "\x7f" for char in accepted.static_url)


# -- item 15: permission bits -------------------------------------------------------------

@pytest.mark.parametrize(("key", "value"), [
    ("file-mode", "0o7777"), ("file-mode", "4755"), ("file-mode", "0o4644"),
    ("dir-mode", "2755"), ("dir-mode", "0o1777"), ("dir-mode", "0o04755"),
    ("file-mode", "0o10644"),
])
def test_setuid_setgid_and_sticky_bits_are_refused(project: Path, key: str, value: str) -> None:
    assert problems({"root": "out", key: value}, project) == [
        f"tool.collectstatic.{key}: expected permission bits from 0o000 to 0o777, found "
        f"{value!r} (setuid, setgid and sticky bits do not belong on collected files)"]


@pytest.mark.parametrize(("key", "value", "usual"), [
    ("file-mode", "0o666", "0o644"), ("file-mode", "0o602", "0o644"),
    ("dir-mode", "777", "0o755"), ("dir-mode", "0o0757", "0o755"),
])
def test_world_writable_modes_are_accepted_with_a_warning(project: Path, key: str, value: str,
                                                          usual: str) -> None:
    settings = settings_from_table({"root": "out", key: value}, project)
    assert settings.warnings == (
        f"tool.collectstatic.{key}: {value!r} lets every user of the machine change what is "
        f"collected (world-writable); {usual!r} is usual",)


@pytest.mark.parametrize("value", ["0o644", "0o664", "0o775", "0o000", "0o700"])
def test_modes_not_world_writable_give_no_warning(project: Path, value: str) -> None:
    settings = settings_from_table({"root": "out", "file-mode": value, "dir-mode": value},
                                   project)
    assert settings.warnings == ()
    assert settings.file_mode == settings.dir_mode == int(value, 8)


def test_the_cli_shows_the_mode_warning_on_every_run(project: Path) -> None:
    (project / "pyproject.toml").write_text(VALID + 'file-mode = "0o666"\n')
    for _ in range(2):  # (the second run takes the last run's answer)
        proc = cli("collect", "--noinput", cwd=project)
        assert proc.stderr.splitlines() == [
            "warning: tool.collectstatic.file-mode: '0o666' lets every user of the machine "
            "change what is collected (world-writable); '0o644' is usual"]
    assert (project / "out/css/a.css").stat().st_mode & 0o777 == 0o666


# -- item 16: a flood of problems ------------------------------------------------------------

def test_fifty_thousand_unknown_keys_list_twenty(project: Path) -> None:
    table = {"root": "out", **{f"k{i}": 1 for i in range(50_000)}}
    with pytest.raises(ConfigError) as info:
        settings_from_table(table, project, source="pyproject.toml")
    message = str(info.value)
    assert len(info.value.problems) == 50_000
    assert message.startswith("pyproject.toml: 50000 problems: tool.collectstatic.k0: unknown key")
    assert message.endswith("; tool.collectstatic.k19: unknown key (known keys: "
                            + ", ".join(__import__("collectstatic.config").config.KEYS)
                            + "); and 49980 more")
    assert message.count("unknown key") == 20
    assert len(message) < 10_000


def test_the_cli_error_line_for_a_flood_stays_short(project: Path) -> None:
    lines = [VALID] + [f"k{i} = 1" for i in range(50_000)]
    (project / "pyproject.toml").write_text("\n".join(lines) + "\n")
    error = one_line_error(cli("collect", "--noinput", cwd=project, check=False))
    assert error.endswith("; and 49980 more") and len(error) < 10_000


@pytest.mark.parametrize("count", [2, 20])
def test_twenty_problems_or_fewer_are_all_listed(project: Path, count: int) -> None:
    table = {"root": "out", **{f"k{i}": 1 for i in range(count)}}
    with pytest.raises(ConfigError) as info:
        settings_from_table(table, project)
    assert "more" not in str(info.value)
    assert str(info.value).count("unknown key") == count


@pytest.mark.parametrize(("table", "expected"), [
    ({"root": "out", "x" * 5_000_000: 1},
     "tool.collectstatic." + "x" * 50 + "...(5,000,000 characters): unknown key"),
    ({"root": "out", "static-url": "y" * 5_000_000},
     "tool.collectstatic.static-url: expected a URL prefix ending in '/' such as \"/static/\", "
     "found '" + "y" * 100 + "...' (5,000,000 characters)"),
    ({"root": "out", "strict": ["z" * 100] * 100_000}, "tool.collectstatic.strict: expected "
     "true or false, found a list"),
    ({"root": "out", "workers": -10 ** 5000}, "tool.collectstatic.workers: expected an integer "
     ">= 1, found int ..."),
])
def test_a_huge_key_or_value_is_cut_short_in_the_message(project: Path, table: dict,
                                                         expected: str) -> None:
    found = problems(table, project)
    assert len(found) == 1 and found[0].startswith(expected), found[0][:300]
    assert len(found[0]) < 1000


# -- item 10: loops of file symlinks -----------------------------------------------------------

LOOPS = [
    pytest.param({"l1": "l2", "l2": "l1"}, "l1", "l2", id="two-links"),
    pytest.param({"self": "self"}, "self", "self", id="a-link-to-itself"),
    pytest.param({"a": "b", "b": "c", "c": "d", "d": "a"}, "a", "b", id="four-links"),
    pytest.param({"css/in": "../l2", "l2": "l3", "l3": "l2"}, "l2", "l3",
                 id="first-link-of-the-walk"),
    pytest.param({"dir": "dir"}, "dir", "dir", id="a-name-for-a-directory"),
]


@pytest.mark.parametrize(("links", "reported", "target"), LOOPS)
def test_a_loop_of_symlinks_is_reported_as_a_loop(project: Path, links: dict[str, str],
                                                  reported: str, target: str) -> None:
    (project / "pyproject.toml").write_text(VALID)
    for name, points_to in links.items():
        os.symlink(points_to, project / "s" / name)
    error = one_line_error(cli("collect", "--noinput", cwd=project, check=False))
    assert error == (f"{project / 's' / reported}: symlink loop (it points to {target!r}, which "
                     f"leads round in a circle); remove the link or add its name to ignore")
    assert not (project / "out").exists()


@pytest.mark.parametrize(("ignore", "where"), [('["l*"]', ["s", "s/css"]),
                                               ('["css/l*"]', ["s/css"])])
def test_an_ignored_loop_or_broken_link_is_not_looked_at(project: Path, ignore: str,
                                                         where: list[str]) -> None:
    # As every such message advises: ignoring the name is a fix.
    (project / "pyproject.toml").write_text(VALID + f"ignore = {ignore}\n")
    for directory in where:
        for name, points_to in {"l1": "l2", "l2": "l1", "lgone": "nowhere"}.items():
            os.symlink(points_to, project / directory / name)
    cli("collect", "--noinput", cwd=project)
    collected = os.listdir(project / "out/css")
    assert "a.css" in collected and not any(name.startswith("l") for name in collected)


def test_a_broken_link_is_still_a_broken_link(project: Path) -> None:
    (project / "pyproject.toml").write_text(VALID)
    os.symlink("nowhere", project / "s/gone")
    error = one_line_error(cli("collect", "--noinput", cwd=project, check=False))
    assert error.startswith(f"{project / 's/gone'}: broken symlink (it points to 'nowhere'")


# -- one containment check ---------------------------------------------------------------------

@pytest.mark.parametrize(("path", "parent", "expected"), [
    ("/srv/static", "/srv/static", True),
    ("/srv/static/css/a.css", "/srv/static", True),
    ("/srv/static-old/a.css", "/srv/static", False),
    ("/srv/staticx", "/srv/static", False),
    ("/srv", "/srv/static", False),
    ("/anything", "/", True),
    ("/", "/", True),
    (Path("/srv/static/a"), Path("/srv/static"), True),
])
def test_is_within(path: str, parent: str, expected: bool) -> None:
    assert is_within(path, parent) is expected


# -- the mode warning in builds: shown once ------------------------------------------------------

def build_project(root: Path, backend: str) -> Path:
    requires, name = {"hatchling": ('"hatchling", "collectstatic"', "hatchling.build"),
                      "setuptools": ('"setuptools>=64", "collectstatic"',
                                     "setuptools.build_meta")}[backend]
    hook = "[tool.hatch.build.hooks.collectstatic]\n" if backend == "hatchling" else ""
    return write_tree(root, {
        "src/pkg/__init__.py": "",
        "src/pkg/static/pkg/a.css": "a{}",
        "pyproject.toml": f'[build-system]\nrequires = [{requires}]\nbuild-backend = "{name}"\n'
                          f'\n[project]\nname = "pkg"\nversion = "1.0"\n\n[tool.collectstatic]\n'
                          f'root = "src/pkg/staticfiles"\napps = ["pkg"]\n'
                          f'dir-mode = "0o777"\n{hook}',
    })


WARNING = ("tool.collectstatic.dir-mode: '0o777' lets every user of the machine change what "
           "is collected (world-writable); '0o755' is usual")


def test_a_hatch_build_shows_the_mode_warning_once(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from hatchling.builders.wheel import WheelBuilder

    project = build_project(tmp_path / "p", "hatchling")
    (wheel,) = WheelBuilder(str(project)).build(directory=str(tmp_path / "dist"))  # (a generator)
    assert wheel.endswith(".whl")
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count(WARNING) == 1


def test_a_setuptools_build_logs_the_mode_warning_once(tmp_path: Path) -> None:
    import sys

    from .support import run

    project = build_project(tmp_path / "p", "setuptools")
    code = f"import setuptools.build_meta as b; b.build_wheel({str(tmp_path / 'dist')!r})"
    (tmp_path / "dist").mkdir()
    proc = run([sys.executable, "-c", code], cwd=project)
    assert (proc.stdout + proc.stderr).count(WARNING) == 1
