"""`collectstatic collect` and `collectstatic find` through the real CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from collectstatic import cli as cli_module

from .support import cli, tree_bytes, write_tree

PLAIN = "--no-post-process"  # these tests are about collection; hashing has its own


def make_project(root: Path, config: str, files: dict[str, str | bytes]) -> Path:
    write_tree(root, files)
    (root / "pyproject.toml").write_text("[tool.collectstatic]\n" + config)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, 'root = "out"\ndirs = ["assets", {path = "vendor", '
                        'prefix = "lib"}]\napps = ["myapp", "second"]\n', {
                            "assets/css/site.css": "site",
                            "assets/img/logo.png": b"\x89PNG",
                            "vendor/jq/jq.js": "jq",
                            "src/myapp/__init__.py": "",
                            "src/myapp/static/css/site.css": "shadowed by assets",
                            "src/myapp/static/myapp/app.js": "app",
                            "second/__init__.py": "",
                            "second/static/myapp/app.js": "shadowed by myapp",
                            "second/static/second.txt": "second",
                        })


def test_prefixes_app_order_and_conflicts(project: Path) -> None:
    proc = cli("collect", "--noinput", PLAIN, cwd=project)
    assert tree_bytes(project / "out") == {
        "css/site.css": b"site",
        "img/logo.png": b"\x89PNG",
        "lib/jq/jq.js": b"jq",
        "myapp/app.js": b"app",
        "second.txt": b"second",
    }
    assert proc.stdout.strip() == (f"5 static files copied to '{project / 'out'}', "
                                   f"2 skipped due to conflict.")


def test_conflicts_reported_at_verbosity_2(project: Path) -> None:
    proc = cli("collect", "--noinput", PLAIN, "-v", "2", cwd=project)
    assert "Found another file with the destination path 'css/site.css'" in proc.stdout
    assert "Found another file with the destination path 'myapp/app.js'" in proc.stdout
    assert f"Copying '{project / 'assets/css/site.css'}'" in proc.stdout
    quiet = cli("collect", "--noinput", PLAIN, "-v", "1", "--clear", cwd=project)
    assert "Found another file" not in quiet.stdout


def test_verbosity_0_prints_nothing(project: Path) -> None:
    proc = cli("collect", "--noinput", PLAIN, "-v", "0", cwd=project)
    assert proc.stdout == "" and proc.stderr == ""
    assert (project / "out/css/site.css").exists()


def test_singular_summary(tmp_path: Path) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = ["a"]\n', {"a/one.txt": "1"})
    proc = cli("collect", "--noinput", PLAIN, cwd=tmp_path)
    assert proc.stdout.strip() == f"1 static file copied to '{tmp_path / 'out'}'."
    (tmp_path / "a/one.txt").unlink()
    (tmp_path / "a/two.txt").write_text("2")
    proc = cli("collect", "--noinput", PLAIN, cwd=tmp_path)
    assert proc.stdout.strip() == (f"1 static file deleted, 1 static file copied to "
                                   f"'{tmp_path / 'out'}'.")


# Django's ignore semantics, case by case: (patterns, files kept).
IGNORE_CASES = [
    # default patterns: dot-files, dot-dirs pruned, CVS, backups
    ([], {"css/a.css", "css/a.css.map", "notes.txt", "deep/x/notes.txt", "vendor/v.js",
          "vendor/v.js.map", "css/vendor/c.css"}),
    # *.txt matches the basename at any depth
    (["*.txt"], {"css/a.css", "css/a.css.map", "vendor/v.js", "vendor/v.js.map",
                 "css/vendor/c.css"}),
    # a path pattern matches the path relative to the source dir
    (["vendor/*.map"], {"css/a.css", "css/a.css.map", "notes.txt", "deep/x/notes.txt",
                        "vendor/v.js", "css/vendor/c.css"}),
    # a directory is pruned by basename wherever it is
    (["vendor"], {"css/a.css", "css/a.css.map", "notes.txt", "deep/x/notes.txt"}),
    # directories never match by path: css/vendor keeps css/vendor/c.css (Django's rule)
    (["css/vendor"], {"css/a.css", "css/a.css.map", "notes.txt", "deep/x/notes.txt",
                      "vendor/v.js", "vendor/v.js.map", "css/vendor/c.css"}),
    # matching is case-sensitive
    (["*.CSS"], {"css/a.css", "css/a.css.map", "notes.txt", "deep/x/notes.txt", "vendor/v.js",
                 "vendor/v.js.map", "css/vendor/c.css"}),
]
IGNORE_TREE = {
    "s/css/a.css": "a", "s/css/a.css.map": "m", "s/notes.txt": "n", "s/deep/x/notes.txt": "n",
    "s/vendor/v.js": "v", "s/vendor/v.js.map": "m", "s/css/vendor/c.css": "c",
    "s/.hidden": "h", "s/.git/config": "g", "s/css/CVS": "cvs", "s/css/a.css~": "backup",
}


@pytest.mark.parametrize(("patterns", "kept"), IGNORE_CASES)
def test_ignore_patterns(tmp_path: Path, patterns: list[str], kept: set[str]) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = ["s"]\n', IGNORE_TREE)
    args = [arg for pattern in patterns for arg in ("-i", pattern)]
    proc = cli("collect", "--noinput", PLAIN, *args, cwd=tmp_path)
    assert set(tree_bytes(tmp_path / "out")) == kept
    if patterns == ["css/vendor"] or patterns == ["*.CSS"]:
        assert f"warning: ignore pattern {patterns[0]!r} matched nothing" in proc.stderr
    else:
        assert "warning" not in proc.stderr


def test_prefix_is_not_part_of_the_matched_path(tmp_path: Path) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = [{path = "s", prefix = "lib"}]\n',
                 {"s/x/a.map": "a", "s/b.map": "b"})
    cli("collect", "--noinput", PLAIN, "-i", "lib/*.map", "-i", "x/*.map", cwd=tmp_path)
    # x/*.map matches x/a.map; lib/*.map matches nothing since the prefix is not matched
    assert set(tree_bytes(tmp_path / "out")) == {"lib/b.map"}


def test_ignore_key_in_config_and_no_default_ignore(tmp_path: Path) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = ["s"]\nignore = ["*.map"]\n', IGNORE_TREE)
    cli("collect", "--noinput", PLAIN, "--no-default-ignore", cwd=tmp_path)
    collected = set(tree_bytes(tmp_path / "out"))
    assert {".hidden", ".git/config", "css/CVS", "css/a.css~"} <= collected
    assert not any(name.endswith(".map") for name in collected)


def test_incremental_second_run_copies_nothing(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    before = {p: os.stat(project / "out" / p).st_mtime_ns for p in tree_bytes(project / "out")}
    proc = cli("collect", "--noinput", PLAIN, cwd=project)
    assert proc.stdout.strip() == (f"0 static files copied to '{project / 'out'}', "
                                   f"5 unmodified, 2 skipped due to conflict.")
    after = {p: os.stat(project / "out" / p).st_mtime_ns for p in tree_bytes(project / "out")}
    assert before == after


def test_changed_file_with_older_mtime_is_copied(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    source = project / "assets/css/site.css"
    old = source.stat()
    source.write_text("SITE")  # same size, different bytes
    os.utime(source, ns=(old.st_atime_ns, old.st_mtime_ns - 10**12))  # an hour older
    proc = cli("collect", "--noinput", PLAIN, cwd=project)
    assert (project / "out/css/site.css").read_text() == "SITE"
    assert proc.stdout.startswith("1 static file copied") and "4 unmodified" in proc.stdout


def test_touched_but_identical_file_counts_as_unmodified(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    os.utime(project / "assets/css/site.css")
    proc = cli("collect", "--noinput", PLAIN, cwd=project)
    assert proc.stdout.startswith("0 static files copied") and "5 unmodified" in proc.stdout


def test_damaged_output_is_repaired(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    (project / "out/css/site.css").write_text("tampered")
    (project / "out/lib/jq/jq.js").unlink()
    proc = cli("collect", "--noinput", PLAIN, cwd=project)
    assert (project / "out/css/site.css").read_text() == "site"
    assert (project / "out/lib/jq/jq.js").read_text() == "jq"
    assert proc.stdout.startswith("2 static files copied")


def test_removed_source_is_removed_and_foreign_files_stay(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    (project / "out/mine.txt").write_text("not written by collectstatic")
    (project / "vendor/jq/jq.js").unlink()
    proc = cli("collect", "--noinput", PLAIN, "-v", "2", cwd=project)
    assert not (project / "out/lib").exists()  # emptied directories go too
    assert (project / "out/mine.txt").read_text() == "not written by collectstatic"
    assert "Deleting 'lib/jq/jq.js' (no longer collected)" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("1 static file deleted, 0 static "
                                                           "files copied")


def test_clear_removes_everything_including_directories(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    write_tree(project / "out", {"stale/deep/old.css": "old", "foreign.txt": "f"})
    (project / "assets/img/logo.png").unlink()
    (project / "assets/img").rmdir()
    proc = cli("collect", "--noinput", PLAIN, "--clear", cwd=project)
    assert set(tree_bytes(project / "out")) == {"css/site.css", "lib/jq/jq.js", "myapp/app.js",
                                                "second.txt"}
    assert sorted(p.name for p in (project / "out").iterdir()) == [
        ".collectstatic", "css", "lib", "myapp", "second.txt"]
    assert proc.stdout.strip().startswith("7 static files deleted, 4 static files copied")


def test_dry_run_touches_nothing(project: Path) -> None:
    proc = cli("collect", "--noinput", PLAIN, "--dry-run", cwd=project)
    assert not (project / "out").exists()
    assert f"Pretending to copy '{project / 'assets/css/site.css'}'" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == (
        f"5 static files copied to '{project / 'out'}', 2 skipped due to conflict.")
    cli("collect", "--noinput", PLAIN, cwd=project)
    snapshot = tree_bytes(project / "out", skip_state=False)
    proc = cli("collect", "--noinput", PLAIN, "--dry-run", "--clear", cwd=project)
    assert tree_bytes(project / "out", skip_state=False) == snapshot
    assert proc.stdout.strip().splitlines()[-1].startswith(
        "5 static files deleted, 5 static files copied")


def test_link_and_switching_modes_replaces_every_file(project: Path) -> None:
    proc = cli("collect", "--noinput", PLAIN, "--link", cwd=project)
    target = project / "out/css/site.css"
    assert target.is_symlink() and os.readlink(target) == str(project / "assets/css/site.css")
    assert proc.stdout.startswith("5 static files symlinked to")
    proc = cli("collect", "--noinput", PLAIN, "--link", cwd=project)
    assert proc.stdout.startswith("0 static files symlinked") and "5 unmodified" in proc.stdout
    proc = cli("collect", "--noinput", PLAIN, cwd=project)
    assert not target.is_symlink() and target.read_text() == "site"
    assert proc.stdout.startswith("5 static files copied")
    proc = cli("collect", "--noinput", PLAIN, "--link", cwd=project)
    assert target.is_symlink() and proc.stdout.startswith("5 static files symlinked")


def test_file_and_dir_modes(tmp_path: Path) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = ["s"]\nfile-mode = "0o640"\n'
                 'dir-mode = "0o750"\n', {"s/css/a.css": "a"})
    cli("collect", "--noinput", PLAIN, cwd=tmp_path)
    assert stat.S_IMODE((tmp_path / "out/css/a.css").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "out/css").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o750


def test_changed_file_mode_is_applied_to_unchanged_files(tmp_path: Path) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = ["s"]\nfile-mode = "0o600"\n',
                 {"s/css/a.css": "a { background: url(b.png) }", "s/css/b.png": b"b"})
    cli("collect", "--noinput", cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.collectstatic]\nroot = "out"\n'
                                             'dirs = ["s"]\nfile-mode = "0o644"\n')
    cli("collect", "--noinput", cwd=tmp_path)
    modes = {name: stat.S_IMODE((tmp_path / "out" / name).stat().st_mode)
             for name in tree_bytes(tmp_path / "out")}
    assert set(modes.values()) == {0o644}, modes


def test_default_file_mode_follows_umask(tmp_path: Path) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = ["s"]\n', {"s/a.css": "a"})
    cli("collect", "--noinput", PLAIN, cwd=tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out/a.css").stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize(("answer", "clear", "ok"), [("yes", False, True), ("no", False, False),
                                                     ("y", False, False), ("yes", True, True)])
def test_prompt_when_root_is_not_empty(project: Path, answer: str, clear: bool, ok: bool
                                       ) -> None:
    first = cli("collect", PLAIN, cwd=project, input="")  # empty root: no prompt
    assert "Are you sure" not in first.stdout and first.returncode == 0
    (project / "assets/new.txt").write_text("new")
    args = ["collect", PLAIN, *(["--clear"] if clear else [])]
    proc = cli(*args, cwd=project, input=answer + "\n", check=False)
    assert "Type 'yes' to continue, or 'no' to cancel: " in proc.stdout
    assert ("DELETE ALL FILES" in proc.stdout) == clear
    assert str(project / "out") in proc.stdout
    if ok:
        assert proc.returncode == 0 and (project / "out/new.txt").exists()
    else:
        assert proc.returncode == 1 and not (project / "out/new.txt").exists()
        assert proc.stderr.strip() == "error: Collecting static files cancelled."


def test_prompt_without_input_fails_cleanly(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    proc = cli("collect", PLAIN, cwd=project, input="", check=False)
    assert proc.returncode == 1 and "pass --noinput" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_root_flag(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("deploy") / "static"
    proc = cli("collect", "--noinput", PLAIN, "--root", str(elsewhere), cwd=project)
    assert (elsewhere / "css/site.css").read_text() == "site"
    assert f"to '{elsewhere}'" in proc.stdout
    assert not (project / "out").exists()


def test_broken_symlink_is_a_one_line_error(project: Path) -> None:
    os.symlink(project / "nowhere.css", project / "assets/css/broken.css")
    proc = cli("collect", "--noinput", PLAIN, cwd=project, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {project / 'assets/css/broken.css'}: broken symlink")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_symlinked_dir_inside_project_is_followed(project: Path) -> None:
    os.symlink(project / "vendor/jq", project / "assets/jq-link")
    cli("collect", "--noinput", PLAIN, cwd=project)
    assert (project / "out/jq-link/jq.js").read_text() == "jq"


def test_symlink_leaving_the_project_is_refused(project: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside / "secret.txt", project / "assets/secret.txt")
    proc = cli("collect", "--noinput", PLAIN, cwd=project, check=False)
    assert proc.returncode == 1 and "symlink leads outside the project" in proc.stderr
    assert not (project / "out/secret.txt").exists()


def test_symlink_loop_is_reported(project: Path) -> None:
    os.symlink(project / "assets", project / "assets/css/loop")
    proc = cli("collect", "--noinput", PLAIN, cwd=project, check=False)
    assert proc.returncode == 1 and "symlink loop" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="permissions do not bind root")
def test_unreadable_source_and_unwritable_root(project: Path) -> None:
    secret = project / "assets/css/site.css"
    secret.chmod(0)
    proc = cli("collect", "--noinput", PLAIN, cwd=project, check=False)
    secret.chmod(0o644)
    assert proc.returncode == 1 and "cannot read" in proc.stderr
    assert list((project / "out/.collectstatic/tmp").iterdir()) == []


def test_unwritable_root_is_a_one_line_error(project: Path) -> None:
    (project / "out").write_text("a file where root should be")
    proc = cli("collect", "--noinput", PLAIN, cwd=project, check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_failed_run_leaves_no_partial_files(project: Path) -> None:
    cli("collect", "--noinput", PLAIN, cwd=project)
    (project / "assets/css/site.css").write_text("changed")
    os.symlink(project / "nowhere", project / "assets/zz-broken")
    proc = cli("collect", "--noinput", PLAIN, cwd=project, check=False)
    assert proc.returncode == 1
    # the listing failed before anything was written: the old copy is intact
    assert (project / "out/css/site.css").read_text() == "site"
    assert list((project / "out/.collectstatic/tmp").iterdir()) == []


# -- find ---------------------------------------------------------------------------

def test_find_all_first_and_verbosity(project: Path) -> None:
    proc = cli("find", "css/site.css", cwd=project)
    assert proc.stdout == (f"Found 'css/site.css' here:\n  {project / 'assets/css/site.css'}\n"
                           f"  {project / 'src/myapp/static/css/site.css'}\n")
    proc = cli("find", "css/site.css", "--first", "-v", "0", cwd=project)
    assert proc.stdout == f"{project / 'assets/css/site.css'}\n"
    proc = cli("find", "lib/jq/jq.js", "-v", "2", cwd=project)
    assert proc.stdout.endswith("Looking in the following locations:\n"
                                f"  {project / 'assets'}\n  {project / 'vendor'}\n"
                                f"  {project / 'src/myapp/static'}\n"
                                f"  {project / 'second/static'}\n")


def test_find_reports_missing_and_fails(project: Path) -> None:
    proc = cli("find", "css/site.css", "nope.css", "../pyproject.toml", cwd=project, check=False)
    assert proc.returncode == 1
    assert "error: No matching file found for 'nope.css'." in proc.stderr
    assert "error: No matching file found for '../pyproject.toml'." in proc.stderr
    assert "Found 'css/site.css' here" in proc.stdout


@pytest.mark.parametrize(("files", "args", "expected"), [
    ({"s/.collectstatic/state.json": "{}"}, ["--no-default-ignore"],
     "but .collectstatic/ in root holds collectstatic's own record"),
    ({"s/staticfiles.json": "{}"}, [], "collects as 'staticfiles.json', the name of the "
                                       "manifest"),
])
def test_source_names_that_root_reserves(tmp_path: Path, files: dict, args: list[str],
                                         expected: str) -> None:
    make_project(tmp_path, 'root = "out"\ndirs = ["s"]\n', {"s/a.css": "a", **files})
    proc = cli("collect", "--noinput", *args, cwd=tmp_path, check=False)
    assert proc.returncode == 1 and expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out/a.css").exists()


def test_the_command_ends_with_its_output_flushed(project: Path, monkeypatch) -> None:
    """``console_main`` (the command, ``python -m``) ends the process with
    ``os._exit``, its output flushed first."""
    class Exited(Exception):
        pass

    def exit_now(status: int) -> None:
        raise Exited(status)

    flushed = []
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "argv", ["collectstatic", "collect", "--noinput", PLAIN])
    monkeypatch.setattr(os, "_exit", exit_now)
    monkeypatch.setattr(sys.stdout, "flush", lambda: flushed.append("out"), raising=False)
    with pytest.raises(Exited) as exited:
        cli_module.console_main()
    assert exited.value.args == (0,)
    assert flushed == ["out"]


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe with no reader, POSIX")
def test_output_closed_during_the_run_ends_it_with_one_line(project: Path) -> None:
    # As with `collectstatic collect -v 2 | head`: the reader is gone before
    # the first line. The run goes on to its end, then one line and status 120.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "collectstatic", "collect", "--noinput",
                               "-v", "2", PLAIN], cwd=project, stdout=write_end,
                              stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert proc.returncode == 120
    assert proc.stderr.splitlines() == ["error: cannot write the output (Broken pipe)"]
    assert (project / "out/css/site.css").read_text() == "site"
    again = subprocess.run([sys.executable, "-m", "collectstatic", "collect", "--noinput",
                            PLAIN], cwd=project, capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout.startswith("0 static files copied")


def test_a_stream_that_fails_is_not_written_again(project: Path, monkeypatch,
                                                  capsys) -> None:
    # In process: main reports the failure once, on the stream that works.
    writes = []

    class Closed:
        def write(self, text: str) -> int:
            writes.append(text)
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            pass

    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "stdout", Closed())
    assert cli_module.main(["collect", "--noinput", "-v", "2", PLAIN]) == 120
    assert len(writes) == 1  # the first line, and nothing after it
    assert capsys.readouterr().err.splitlines() == [
        "error: cannot write the output (Broken pipe)"]
    assert (project / "out/css/site.css").read_text() == "site"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_that_cannot_be_written_fails_the_command(project: Path) -> None:
    # (buffered output, as usual: the summary is written when the command ends)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "collectstatic", "collect", "--noinput",
                               PLAIN], cwd=project, stdout=full, stderr=subprocess.PIPE,
                              text=True, env=env)
    assert proc.returncode == 120
    assert proc.stderr.splitlines() == ["error: cannot write the output (No space left on device)"]
    assert (project / "out/css/site.css").read_text() == "site"
