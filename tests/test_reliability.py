"""Reliability and security (issue 9): hostile input, odd files, environment
faults and concurrency, each through the real CLI unless the case is a pure
function (config validation, the rewriter), which is fuzzed with hypothesis.

docs/reliability.md lists every case here with the behaviour a user gets.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import resource
import selectors
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from collectstatic.config import KEYS, settings_from_table
from collectstatic.errors import ConfigError
from collectstatic.rewrite import hashed_name, rewrite_references

from .support import cli, gated_cli, open_gate, tree_bytes, write_tree

SENTINEL = b"SENTINEL-outside-the-sources-7f3a"


def make(root: Path, files: dict[str, str | bytes], extra: str = "") -> Path:
    write_tree(root, files)
    (root / "pyproject.toml").write_text(
        f'[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n{extra}')
    return root


def manifest_paths(project: Path) -> dict[str, str]:
    return json.loads((project / "out/staticfiles.json").read_bytes())["paths"]


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def popen_cli(*args: str, cwd: Path, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "collectstatic", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


# -- hostile references ------------------------------------------------------------

HOSTILE = [
    # (reference as written, the target reported)
    ("url(../../../../etc/passwd)", "../../../etc/passwd"),
    ("url(../../secret.txt)", "../secret.txt"),
    ("url(%2e%2e/%2e%2e/secret.txt)", "../secret.txt"),
    ("url(/static/../../secret.txt)", "../../secret.txt"),
    ("url(file:///etc/passwd)", "file:///etc/passwd"),
    ("url(FILE:secret.txt)", "FILE:secret.txt"),
    ("url(..\\..\\secret.txt)", "css/..\\..\\secret.txt"),
    ('url("../../secret.txt\x00.png")', "../secret.txt\x00.png"),
    ('@import "../../secret.txt";', "../secret.txt"),
]


@pytest.mark.parametrize(("reference", "target"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_reference_reads_nothing_outside_and_is_a_broken_reference(
        tmp_path: Path, reference: str, target: str) -> None:
    css = f"a {{ background: {reference} }}\n"
    make(tmp_path, {"secret.txt": SENTINEL, "s/css/a.css": css, "s/img/ok.png": b"ok"})
    proc = cli("collect", "--noinput", cwd=tmp_path, check=False)
    error = one_line_error(proc)
    shown = target.replace("\x00", "\\x00")  # control characters are escaped
    assert error.startswith("error: 1 broken reference: css/a.css:1:")
    assert f"-> {shown} " in error
    # nothing was written either: no manifest, no hashed copy
    assert not (tmp_path / "out/staticfiles.json").exists()

    # strict = false: a warning, the reference left as written, the sentinel never copied
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\nstrict = false\n')
    proc = cli("collect", "--noinput", cwd=tmp_path)
    assert f"-> {shown} " in proc.stderr and "(left unchanged: strict = false)" in proc.stderr
    out = tree_bytes(tmp_path / "out", skip_state=False)
    assert all(SENTINEL not in data and b"root:x:0:0" not in data for data in out.values())
    assert (tmp_path / "out" / manifest_paths(tmp_path)["css/a.css"]).read_text() == css


def test_absolute_url_paths_are_urls_not_files(tmp_path: Path) -> None:
    # /etc/passwd in CSS is a URL on the site (Django leaves such URLs alone):
    # nothing is looked up on disk and the text stays as written.
    css = "a { background: url(/etc/passwd) }\nb { background: url(//host/x.png) }\n"
    make(tmp_path, {"s/a.css": css})
    proc = cli("collect", "--noinput", cwd=tmp_path)
    assert "warning" not in proc.stderr
    assert (tmp_path / "out" / manifest_paths(tmp_path)["a.css"]).read_text() == css


def test_terminal_escapes_in_a_reference_are_shown_escaped(tmp_path: Path) -> None:
    make(tmp_path, {"s/a.css": 'a { background: url("x\x1b[2J\r.png") }\n'})
    error = one_line_error(cli("collect", "--noinput", cwd=tmp_path, check=False))
    assert "\x1b" not in error and "\r" not in error
    assert 'url("x\\x1b[2J\\r.png")' in error


# -- symlinks (test_collect_cli.py has the basic ones) -----------------------------

def test_symlink_outside_the_project_names_the_link_and_the_setting(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    project = make(tmp_path_factory.mktemp("p"), {"s/a.css": "a{}"})
    outside = tmp_path_factory.mktemp("hoisted")
    write_tree(outside, {"pkg/lib.js": "lib"})
    os.symlink(outside / "pkg", project / "s/node_modules")
    error = one_line_error(cli("collect", "--noinput", cwd=project, check=False))
    assert error.startswith(f"error: {project / 's/node_modules'}: symlink leads outside")
    assert "follow-external-symlinks = true" in error
    assert not (project / "out/node_modules").exists()
    # the documented opt-in: collected through the link, loops and broken links still refused
    (project / "pyproject.toml").write_text('[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n'
                                            "follow-external-symlinks = true\n")
    cli("collect", "--noinput", cwd=project)
    assert (project / "out/node_modules/lib.js").read_text() == "lib"
    os.symlink(outside, outside / "pkg/loop")
    error = one_line_error(cli("collect", "--noinput", cwd=project, check=False))
    assert "symlink loop" in error and str(project / "s/node_modules/loop") in error


def test_symlink_loop_through_two_links_is_reported(tmp_path: Path) -> None:
    make(tmp_path, {"s/a/x.css": "x", "s/b/y.css": "y"})
    os.symlink(tmp_path / "s/b", tmp_path / "s/a/to-b")
    os.symlink(tmp_path / "s/a", tmp_path / "s/b/to-a")
    error = one_line_error(cli("collect", "--noinput", cwd=tmp_path, check=False))
    assert "symlink loop" in error


def test_dangling_symlink_in_a_subdir_is_reported_with_its_path(tmp_path: Path) -> None:
    make(tmp_path, {"s/deep/er/ok.css": "ok"})
    os.symlink("gone/nowhere.png", tmp_path / "s/deep/er/broken.png")
    error = one_line_error(cli("collect", "--noinput", cwd=tmp_path, check=False))
    assert error.startswith(f"error: {tmp_path / 's/deep/er/broken.png'}: broken symlink "
                            f"(it points to 'gone/nowhere.png'")


def test_a_fifo_is_reported_not_read(tmp_path: Path) -> None:
    # Reading a FIFO waits for a writer that never comes (Django's collectstatic hangs).
    make(tmp_path, {"s/css/ok.css": "ok"})
    os.mkfifo(tmp_path / "s/css/pipe.css")
    error = one_line_error(cli("collect", "--noinput", cwd=tmp_path, check=False, timeout=60))
    assert error == (f"error: {tmp_path / 's/css/pipe.css'}: not a regular file (a FIFO, "
                     f"socket or device); remove it or add its name to ignore")
    assert not (tmp_path / "out").exists()
    make(tmp_path, {}, 'ignore = ["pipe.css"]\n')
    cli("collect", "--noinput", cwd=tmp_path, timeout=60)
    digest = hashlib.md5(b"ok").hexdigest()[:12]
    assert sorted(p.name for p in (tmp_path / "out/css").iterdir()) == [f"ok.{digest}.css",
                                                                       "ok.css"]


def test_symlinked_file_inside_the_project_is_copied_not_linked(tmp_path: Path) -> None:
    make(tmp_path, {"s/a.css": "a{}", "shared/logo.png": b"logo"})
    os.symlink(tmp_path / "shared/logo.png", tmp_path / "s/logo.png")
    cli("collect", "--noinput", cwd=tmp_path)
    out = tmp_path / "out/logo.png"
    assert not out.is_symlink() and out.read_bytes() == b"logo"


# -- odd files ---------------------------------------------------------------------

def test_invalid_utf8_is_reported_with_its_offset_and_copied_with_strict_false(
        tmp_path: Path) -> None:
    bad = b"a { color: red }\n/* caf\xe9 */ b { background: url(x.png) }"
    make(tmp_path, {"s/bad.css": bad, "s/x.png": b"x"})
    error = one_line_error(cli("collect", "--noinput", cwd=tmp_path, check=False))
    assert "bad.css: not valid UTF-8 (byte 0xe9 at offset 23)" in error
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\nstrict = false\n')
    proc = cli("collect", "--noinput", cwd=tmp_path)
    assert "warning: bad.css: not valid UTF-8 (byte 0xe9 at offset 23)" in proc.stderr
    paths = manifest_paths(tmp_path)
    assert (tmp_path / "out" / paths["bad.css"]).read_bytes() == bad  # unrewritten


def test_binary_content_named_css_and_empty_files(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    make(tmp_path, {"s/looks.css": png, "s/empty.css": b"", "s/empty.js": b"",
                    "s/empty.png": b"", "s/ref.css": "a{background:url(empty.png)}"},
         extra="strict = false\n")
    proc = cli("collect", "--noinput", cwd=tmp_path)
    assert "warning: looks.css: not valid UTF-8 (byte 0x89 at offset 0)" in proc.stderr
    paths = manifest_paths(tmp_path)
    out = tmp_path / "out"
    assert (out / paths["looks.css"]).read_bytes() == png
    for name in ("empty.css", "empty.js", "empty.png"):  # md5 of nothing: d41d8cd98f00...
        assert paths[name] == hashed_name(name, "d41d8cd98f00b204e9800998ecf8427e")
        assert (out / paths[name]).read_bytes() == b""
    assert paths["empty.png"] in (out / paths["ref.css"]).read_text()


def _timed_rewrite(text: str) -> float:
    start = time.perf_counter()
    rewrite_references("css/app.css", text, lambda target: None)
    return time.perf_counter() - start


def test_ten_megabyte_minified_file_is_rewritten_in_linear_time() -> None:
    # One line: thousands of url( and comment markers, unclosed ones included
    # (the inputs that make Django's regexes quadratic).
    unit = ('.a{background:url(img/x.png)}/*c*/url("a.png" /* url( '
            '@import "q" url("b.png" )\'\\\' ')
    small = unit * (2_500_000 // len(unit))
    large = small * 4  # 10 MB
    _timed_rewrite(small[:10_000])  # warm up
    ratio = _timed_rewrite(large) / _timed_rewrite(small)
    assert ratio < 7, f"4x the input took {ratio:.1f}x the time (linear: 4, quadratic: 16)"


SPECIAL_NAMES = ["my file.png", "a#b.png", "q?x.png", "p%41.png", "café.png", "日本.png"]


def test_names_with_spaces_hash_question_percent_and_non_ascii(tmp_path: Path) -> None:
    refs = ['url("img/my%20file.png")', 'url("img/my file.png")', "url(img/a%23b.png)",
            "url(img/q%3Fx.png)", "url(img/p%2541.png)", "url(img/café.png)",
            "url(img/%E6%97%A5%E6%9C%AC.png)"]
    css = "".join(f".r{i} {{ background: {ref} }}\n" for i, ref in enumerate(refs))
    make(tmp_path, {"s/a.css": css, **{f"s/img/{n}": n.encode() for n in SPECIAL_NAMES}})
    cli("collect", "--noinput", cwd=tmp_path)
    paths = manifest_paths(tmp_path)
    out = tmp_path / "out"
    for name in SPECIAL_NAMES:
        assert (out / paths[f"img/{name}"]).read_bytes() == name.encode()
    lines = (out / paths["a.css"]).read_text().splitlines()
    base = {n: paths[f"img/{n}"].split("/")[-1] for n in SPECIAL_NAMES}
    assert lines[0] == f'.r0 {{ background: url("img/{base["my file.png"]}") }}'
    assert lines[1] == f'.r1 {{ background: url("img/{base["my file.png"]}") }}'
    # #, ? and % stay percent-encoded so a browser asks for the right file
    assert f'url("img/{base["a#b.png"].replace("#", "%23")}")' in lines[2]
    assert f'url("img/{base["q?x.png"].replace("?", "%3F")}")' in lines[3]
    assert f'url("img/{base["p%41.png"].replace("%", "%25")}")' in lines[4]
    assert f'url("img/{base["café.png"]}")' in lines[5]
    assert f'url("img/{base["日本.png"]}")' in lines[6]


def test_nfc_reference_to_an_nfd_name_is_broken_and_collisions_warn(tmp_path: Path) -> None:
    nfc, nfd = "née.png", unicodedata.normalize("NFD", "née.png")
    assert nfc != nfd
    make(tmp_path, {f"s/img/{nfd}": b"nfd", "s/a.css": f"a {{ background: url(img/{nfc}) }}"})
    # Linux keeps the bytes of names: the NFC URL names no file (a web server
    # would answer 404), so it is reported like any broken reference.
    error = one_line_error(cli("collect", "--noinput", cwd=tmp_path, check=False))
    assert f"-> img/{nfc} is not among the collected files" in error
    # both spellings present: one file on macOS, so a warning naming both
    (tmp_path / f"s/img/{nfc}").write_bytes(b"nfc")
    (tmp_path / "s/img/Logo.png").write_bytes(b"L")
    (tmp_path / "s/img/logo.png").write_bytes(b"l")
    (tmp_path / "s/IMG").mkdir()
    (tmp_path / "s/IMG/LOGO.PNG").write_bytes(b"LL")
    proc = cli("collect", "--noinput", cwd=tmp_path)
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, proc.stderr
    assert warnings[0].startswith(
        "warning: 'IMG/LOGO.PNG' and 'img/Logo.png' and 'img/logo.png' differ only in letter "
        "case or Unicode normalization")
    assert warnings[1].startswith(
        f"warning: {'img/' + nfd!a} and {'img/' + nfc!a} differ only")
    assert "macOS, Windows" in warnings[0]
    # a warning, not a failure: every file is there on this (Linux) file system
    assert {"img/Logo.png", "img/logo.png", "IMG/LOGO.PNG", f"img/{nfc}",
            f"img/{nfd}"} <= set(manifest_paths(tmp_path))


def _name_max(path: Path) -> int:
    return os.pathconf(path, "PC_NAME_MAX")


KELVIN = "\u212a"  # KELVIN SIGN: casefolds (via NFD) to an ASCII "k"


@pytest.mark.parametrize(("names", "groups"), [
    (["a.css", "b.css", "img/a.png"], []),
    (["img/Logo.png", "css/a.css", "img/logo.png"], [("img/Logo.png", "img/logo.png")]),
    ([unicodedata.normalize("NFD", "é.png"), "é.png", "x"],
     [tuple(sorted(["é.png", unicodedata.normalize("NFD", "é.png")]))]),
    ([f"{KELVIN}.png", "k.png", "b", "B"], [("B", "b"), ("k.png", f"{KELVIN}.png")]),
])
def test_name_collisions(names: list[str], groups: list[tuple[str, ...]]) -> None:
    from collectstatic.finders import name_collisions

    assert name_collisions(names) == groups
    assert name_collisions(iter(names)) == groups  # any iterable


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "A", "b", "é", "e\u0301", KELVIN, "k", "/"]),
                         min_size=1, max_size=4).map("".join), unique=True, max_size=8))
def test_name_collisions_group_by_folded_normal_form(names: list[str]) -> None:
    from collectstatic.finders import name_collisions

    def key(name: str) -> str:
        return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())

    expected = {}
    for name in names:
        expected.setdefault(key(name), []).append(name)
    assert name_collisions(names) == sorted(tuple(sorted(group))
                                            for group in expected.values() if len(group) > 1)


def test_names_at_the_file_system_limit(tmp_path: Path) -> None:
    limit = _name_max(tmp_path)
    longest = "x" * (limit - 13 - 4) + ".css"  # the hashed copy adds ".<12 hex>"
    deep = "/".join(["d" * 200] * 18)  # a path of ~3,600 bytes below root
    make(tmp_path, {f"s/{longest}": "a{}", f"s/{deep}/deep.css": "b{}"})
    cli("collect", "--noinput", cwd=tmp_path)
    paths = manifest_paths(tmp_path)
    assert len(paths[longest].encode()) == limit
    assert (tmp_path / "out" / paths[f"{deep}/deep.css"]).read_text() == "b{}"
    before = (tmp_path / "out/staticfiles.json").read_bytes()
    # one byte more: the plain copy fits, the hashed name cannot exist here
    too_long = "y" * (limit - 13 - 3) + ".css"
    (tmp_path / "s" / too_long).write_text("c{}")
    error = one_line_error(cli("collect", "--noinput", cwd=tmp_path, check=False))
    assert error.startswith(f"error: {tmp_path / 'out' / too_long[:-4]}.")
    assert error.endswith(".css: File name too long")
    assert (tmp_path / "out/staticfiles.json").read_bytes() == before
    assert list((tmp_path / "out/.collectstatic/tmp").iterdir()) == []


@pytest.mark.slow
def test_hundred_thousand_files(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"s/d{i // 1000:03d}/f{i:06d}.txt": str(i)
                                     for i in range(100_000)}
    files["s/app.css"] = "".join(f".c{i}{{background:url(d{i // 1000:03d}/f{i:06d}.txt)}}"
                                 for i in range(0, 100_000, 97))
    make(tmp_path, files)
    proc = cli("collect", "--noinput", cwd=tmp_path)
    assert proc.stdout.strip().endswith("100001 static files copied to "
                                        f"'{tmp_path / 'out'}', 100001 post-processed.")
    assert len(manifest_paths(tmp_path)) == 100_001
    proc = cli("collect", "--noinput", cwd=tmp_path)  # incremental: a stat per file
    assert "0 static files copied" in proc.stdout and "100001 unmodified" in proc.stdout


def _peak_rss_of_collect(project: Path) -> int:
    proc = subprocess.Popen([sys.executable, "-m", "collectstatic", "collect", "--noinput"],
                            cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    return usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)


@pytest.mark.slow
def test_one_gigabyte_file_in_constant_memory(tmp_path: Path) -> None:
    # The child's peak RSS includes what it inherited from this (large) pytest
    # process before exec, so the 1 GiB run is compared with a 1 MiB run.
    peaks = {}
    for size in (1 << 20, 1 << 30):
        project = make(tmp_path / str(size), {"s/a.css": "a { background: url(huge.bin) }"})
        with open(project / "s/huge.bin", "wb") as handle:  # sparse: reads as zeros
            handle.truncate(size)
        peaks[size] = _peak_rss_of_collect(project)
    grown = peaks[1 << 30] - peaks[1 << 20]
    assert grown < 32 * 2**20, f"peak RSS grew by {grown / 2**20:.0f} MiB for 1 GiB"
    project = tmp_path / str(1 << 30)
    paths = manifest_paths(project)
    hashed = project / "out" / paths["huge.bin"]
    assert paths["huge.bin"] == hashed_name("huge.bin", "cd573cfaace07e7949bc0c46028904ff")
    assert hashed.stat().st_size == 1 << 30
    assert paths["huge.bin"] in (project / "out" / paths["a.css"]).read_text()


# -- environment faults ------------------------------------------------------------

SITE = {"s/css/a.css": "a { background: url(../img/a.png) }", "s/img/a.png": b"png"}


def _collected(project: Path) -> bytes:
    cli("collect", "--noinput", cwd=project)
    return (project / "out/staticfiles.json").read_bytes()


def test_disk_full_via_file_size_limit(tmp_path: Path) -> None:
    make(tmp_path, SITE)
    before = _collected(tmp_path)
    (tmp_path / "s/img/a.png").write_bytes(os.urandom(300_000))

    def limit() -> None:  # writes past 100 kB fail with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    proc = subprocess.run([sys.executable, "-m", "collectstatic", "collect", "--noinput"],
                          cwd=tmp_path, capture_output=True, text=True, preexec_fn=limit)
    error = one_line_error(proc)
    assert "File too large" in error
    assert (tmp_path / "out/staticfiles.json").read_bytes() == before
    assert (tmp_path / "out/img/a.png").read_bytes() == b"png"  # the old copy, whole
    assert list((tmp_path / "out/.collectstatic/tmp").iterdir()) == []
    cli("collect", "--noinput", cwd=tmp_path)  # room again: the next run completes
    assert (tmp_path / "out/img/a.png").stat().st_size == 300_000


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}",
                                            "tmpfs", str(path)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and mount(8) to make a small or read-only file system")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_disk_full_on_a_small_file_system(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "256k") as small:
        make(tmp_path, SITE)
        (tmp_path / "pyproject.toml").write_text(
            '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n')
        proc = cli("collect", "--noinput", "--root", str(small / "root"), cwd=tmp_path)
        before = (small / "root/staticfiles.json").read_bytes()
        (tmp_path / "s/img/big.png").write_bytes(os.urandom(400_000))
        proc = cli("collect", "--noinput", "--root", str(small / "root"), cwd=tmp_path,
                   check=False)
        assert "No space left on device" in one_line_error(proc)
        assert (small / "root/staticfiles.json").read_bytes() == before
        assert list((small / "root/.collectstatic/tmp").iterdir()) == []


def test_read_only_root(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "4m") as mount:
        make(tmp_path, SITE)
        cli("collect", "--noinput", "--root", str(mount / "root"), cwd=tmp_path)
        before = tree_bytes(mount / "root", skip_state=False)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        (tmp_path / "s/img/a.png").write_bytes(b"changed")
        proc = cli("collect", "--noinput", "--root", str(mount / "root"), cwd=tmp_path,
                   check=False)
        error = one_line_error(proc)
        assert error.startswith(f"error: {mount / 'root'}: ")
        assert tree_bytes(mount / "root", skip_state=False) == before


def test_source_vanishing_mid_run(tmp_path: Path) -> None:
    make(tmp_path, {"s/b.css": "b{}", "s/z.png": b"z"}, extra="workers = 1\n")
    before = _collected(tmp_path)
    write_tree(tmp_path, {"s/a.txt": "a"})  # new and copied first: the run waits there
    (tmp_path / "s/z.png").write_bytes(b"zz")  # changed, so it is read after a.txt
    gate = tmp_path / "gate"
    proc = gated_cli(gate, tmp_path / "s/a.txt", "collect", "--noinput", cwd=tmp_path)
    writer = open_gate(gate, proc)
    (tmp_path / "s/z.png").unlink()  # listed and stat'ed, gone before it is read
    os.close(writer)
    out, err = proc.communicate(timeout=60)
    error = one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    assert error == f"error: {tmp_path / 's/z.png'}: cannot read (No such file or directory)"
    assert (tmp_path / "out/staticfiles.json").read_bytes() == before
    for hashed in json.loads(before)["paths"].values():
        assert (tmp_path / "out" / hashed).exists()


# -- concurrency -------------------------------------------------------------------

def test_second_run_waits_for_the_lock_and_changes_nothing_meanwhile(tmp_path: Path) -> None:
    make(tmp_path, SITE)
    _collected(tmp_path)
    (tmp_path / "s/img/a.png").write_bytes(b"new")
    before = tree_bytes(tmp_path / "out")
    with open(tmp_path / "out/.collectstatic/lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # another run holds root
        proc = popen_cli("collect", "--noinput", cwd=tmp_path)
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "no output while waiting"
        assert proc.stdout.readline() == \
            f"Waiting for another collectstatic run into {tmp_path / 'out'}\n"
        assert proc.poll() is None
        assert tree_bytes(tmp_path / "out") == before
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (tmp_path / "out/img/a.png").read_bytes() == b"new"


def test_two_projects_into_one_root_at_once_never_mix(tmp_path: Path) -> None:
    one = make(tmp_path / "one", {f"s/one/{i}.css": f"a{{background:url(i{i}.png)}}"
                                  for i in range(150)} |
               {f"s/one/i{i}.png": os.urandom(100) for i in range(150)})
    two = make(tmp_path / "two", {f"s/two/{i}.js": f"//{i}" for i in range(300)})
    shared = tmp_path / "shared"
    expected = []
    for project in (one, two):
        cli("collect", "--noinput", cwd=project)
        expected.append(tree_bytes(project / "out"))
    for _ in range(3):
        procs = [popen_cli("collect", "--noinput", "--root", str(shared), cwd=project)
                 for project in (one, two, one, two)]
        for proc in procs:
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        # one project's tree whole, beside the other's hashed files as its
        # run left them (an earlier version, kept: keep-versions)
        tree = tree_bytes(shared)
        last = 0 if tree["staticfiles.json"] == expected[0]["staticfiles.json"] else 1
        other = expected[1 - last]
        kept = {name: other[name]
                for name in json.loads(other["staticfiles.json"])["paths"].values()}
        assert tree == {**kept, **expected[last]}


# -- config fuzzing ----------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True), st.text(max_size=30),
                     st.sampled_from(["", ".", "..", "/", "/etc", "s", "out", "../x",
                                      "s/../..", "a\x00b", "x" * 5000, "0o644", "0o7777",
                                      "gzip", "brotli", "zstd", "os", "json", "vendor/lib",
                                      "/static/", "staticfiles.json", ".collectstatic"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["path", "prefix", "gzip", "brotli", "x"]) | st.text(
        max_size=8), inner, max_size=4)), max_leaves=12)
_keys = st.sampled_from(sorted(KEYS)) | st.text(max_size=12)
_tables = st.dictionaries(_keys, _values, max_size=8)
_VALID = {"root": "out", "dirs": ["s", {"path": "s", "prefix": "lib"}], "apps": [],
          "ignore": ["*.map"], "compress": ["gzip"], "compress-levels": {"gzip": 6},
          "workers": 2, "file-mode": "0o644", "dir-mode": "0o755", "strict": False}


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    table = dict(_VALID)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        key = draw(st.sampled_from(sorted(table)) if table and action != "add" else _keys)
        if action == "delete":
            table.pop(key, None)
        else:
            table[key] = draw(_values)
    return table


def _check_table(project: Path, table: dict[str, Any], overrides: dict[str, Any]) -> None:
    try:
        settings_from_table(table, project, overrides=overrides,
                            overrides_origin="tool.hatch.build.hooks.collectstatic")
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.startswith(("tool.collectstatic.",
                                       "tool.hatch.build.hooks.collectstatic.")), problem
            assert "Traceback" not in problem


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("fuzz"), {"s/a.css": "a", "src/app/__init__.py": "",
                                                        "src/app/static/x.js": "x"})


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(table=_tables, overrides=st.dictionaries(_keys, _values, max_size=2))
def test_random_config_tables_only_give_config_errors(fuzz_project: Path, table: dict,
                                                      overrides: dict) -> None:
    _check_table(fuzz_project, table, overrides)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(table=_mutated())
def test_mutated_valid_tables_only_give_config_errors(fuzz_project: Path, table: dict) -> None:
    _check_table(fuzz_project, table, {})


# -- rewriter fuzzing --------------------------------------------------------------

COLLECTED = ["css/a.css", "css/b.css", "img/a.png", "img/sp ace.png", "img/100%.png",
             "img/q?.png", "img/#id.png", "img/é.png", "js/app.js", "js/app.js.map",
             "css/a.css.map", "js/lib.js"]
HASHED = {name: hashed_name(name, f"{index:032x}".replace("0", "ab"[index % 2]))
          for index, name in enumerate(COLLECTED)}
_pieces = st.lists(st.sampled_from([
    "url(", "URL(", ")", "'", '"', "`", "/*", "*/", "//", "\\", "\n", "\r\n", " ", "\t",
    "a", "{", "}", ";", "?", "#", "?#iefix", "#frag", "%20", "%", "%2e%2e/", "../", "./",
    "/static/", "img/a.png", "../img/a.png", "a.png", "../img/sp ace.png", "../img/sp%20ace.png",
    "../img/100%25.png", "../img/q%3F.png", "../img/%23id.png", "../img/é.png", "b.css",
    "@import ", '@import "b.css";', "/*# sourceMappingURL=a.css.map */",
    "//# sourceMappingURL=app.js.map", "import x from ", '"./lib.js"', "export {a} from ",
    "import(", "data:x", "file:///etc/passwd", "\x00", "\ufeff", "日本",
]), max_size=30).map("".join)
_names = st.sampled_from(["css/a.css", "js/app.js"])


def _rewrite(name: str, text: str, resolve: Any, js_modules: bool) -> Any:
    return rewrite_references(name, text, resolve, js_modules=js_modules)


@settings(max_examples=1500, deadline=None)
@given(name=_names, text=_pieces | st.text(max_size=60), js_modules=st.booleans())
def test_rewriter_never_raises_and_changes_only_rewritten_references(
        name: str, text: str, js_modules: bool) -> None:
    result = _rewrite(name, text, HASHED.get, js_modules)
    # Outside the references that were rewritten, every byte is unchanged: the
    # output is the input with each such reference replaced, in order. (A
    # reference to a directory, url(img/), is rewritten too: Django quotes it.)
    changed = [ref for ref in result.references if not ref.missing]
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    position, pieces = 0, []
    for ref in changed:
        offset = starts[ref.line - 1] + ref.column - 1 + \
            (1 if ref.line == 1 and text.startswith("\ufeff") else 0)
        if text[offset:offset + len(ref.written)] != ref.written or offset < position:
            return  # a later pattern matched text an earlier one produced: not mappable
        pieces.append((text[position:offset], ref))
        position = offset + len(ref.written)
    if any(not before for before, _ in pieces[1:]):
        return  # two rewritten references side by side: where one ends is ambiguous
    pattern = "".join(re.escape(before) + "(.+?)" for before, _ in pieces)
    match = re.fullmatch(pattern + re.escape(text[position:]), result.text, re.DOTALL)
    assert match is not None, (text, result.text)
    for replaced, (_, ref) in zip(match.groups(), pieces):
        if ref.hashed is None:
            continue
        tail = ref.hashed.rsplit("/", 1)[-1]
        encoded = tail.replace("%", "%25").replace("#", "%23").replace("?", "%3F")
        assert encoded in replaced, (ref, replaced)


def _unclosed_url_before(text: str, ref: Any) -> bool:
    line = text.lstrip("\ufeff").split("\n")[ref.line - 1]
    before = line[: ref.column - 1].lower()
    return before.rfind("url(") > before.rfind(")")


@settings(max_examples=1500, deadline=None)
@given(name=_names, text=_pieces, js_modules=st.booleans())
def test_rewriting_is_stable(name: str, text: str, js_modules: bool) -> None:
    result = _rewrite(name, text, HASHED.get, js_modules)
    # A URL naming a directory goes through the template again on every rewrite,
    # percent-decoded: blanks at its ends (a source map's greedy ``.*``, or a
    # %20) are read differently by the next rewrite, in Django 6.1 as here
    # (checked with its ManifestStaticFilesStorage).
    assume(not any(ref.hashed is None and not ref.missing
                   and unquote(ref.url) != unquote(ref.url).strip()
                   for ref in result.references))
    # An @import comes out as @import url("..."): after an unclosed url( on its
    # line, that new url( closes it on the next rewrite. Django never rewrites
    # its own output (each pass starts from the source file), so neither do we.
    assume(not any(ref.kind == "import" and _unclosed_url_before(text, ref)
                   for ref in result.references))
    # A URL whose query ends in "?" before its fragment (``a.map??#iefix``) gets
    # "?#" put back after its hashed name, as Django's url_converter does for
    # ``?#`` (the IE font hack), so each rewrite adds a "?": no fixed point.
    assume(not any("??" in ref.url for ref in result.references))
    first = result.text
    hashed_names = set(HASHED.values())
    again = _rewrite(name, first, lambda target: target if target in hashed_names else None,
                     js_modules)
    assert again.text == first
    assert all(ref.missing or ref.hashed in (None, ref.target) for ref in again.references)


# -- a source named like another file's hashed copy ----------------------------------

SQUATTED = {
    "css": ("a.css", b"body { color: red }\n", b"body { color: blue }\n"),
    "png (hashed while copied)": ("img/a.png", b"PNG-A", b"PNG-OTHER"),
}


@pytest.mark.parametrize("case", SQUATTED.values(), ids=SQUATTED.keys())
def test_a_source_under_a_hashed_name_is_an_error_naming_both(tmp_path: Path,
                                                             case: tuple) -> None:
    name, data, other = case
    squatter = hashed_name(name, hashlib.md5(data).hexdigest())
    project = make(tmp_path, {f"s/{name}": data, f"s/{squatter}": other})
    proc = cli("collect", "--noinput", "-v", "0", cwd=project, check=False)
    assert proc.returncode == 1
    error = proc.stderr.strip()
    assert error.count("\n") == 0 and error.startswith("error: ")
    assert squatter in error and f"({name!r})" in error, error
    assert not (project / "out/staticfiles.json").exists()


@pytest.mark.parametrize("case", SQUATTED.values(), ids=SQUATTED.keys())
def test_not_strict_the_hashed_copy_is_kept(tmp_path: Path, case: tuple) -> None:
    name, data, other = case
    squatter = hashed_name(name, hashlib.md5(data).hexdigest())
    project = make(tmp_path, {f"s/{name}": data, f"s/{squatter}": other}, "strict = false\n")
    for touch in (False, False, True):  # a first run, a repeat, a full run over the same bytes
        if touch:
            os.utime(project / "s" / name)
        proc = cli("collect", "--noinput", "-v", "1", cwd=project)
        assert f"the hashed copy of {name!r} is kept" in proc.stderr
        paths = json.loads((project / "out/staticfiles.json").read_bytes())["paths"]
        assert paths[name] == squatter
        assert (project / "out" / squatter).read_bytes() == data
        assert (project / "out" / paths[squatter]).read_bytes() == other
