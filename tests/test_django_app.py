"""``collectstatic.django``: ``manage.py collectstatic``/``findstatic`` on our
engine against Django's own commands on the same site, and the system checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .djangosite import manage, write_site
from .support import tree_bytes

pytestmark = pytest.mark.django

Proc = subprocess.CompletedProcess[str]
OURS = {"SITE_OURS": "1"}
DJANGOS = {"SITE_OURS": "0"}


def both(site: Path, python: str, *args: str, storage: str = "manifest",
         extra_env: dict[str, str] | None = None) -> tuple[Proc, Proc]:
    """Django's command into site/theirs, ours into site/ours; both processes."""
    results = []
    for env, root in ((DJANGOS, "theirs"), (OURS, "ours")):
        full = {**env, "SITE_STORAGE": storage, "SITE_STATIC_ROOT": str(site / root),
                **(extra_env or {})}
        proc = manage(site, "collectstatic", *args, python=python, env=full)
        assert proc.returncode == 0, proc.stderr
        results.append(proc)
    return results[0], results[1]


def same_output(theirs: Proc, ours: Proc, site: Path) -> None:
    their_lines = theirs.stdout.replace(str(site / "theirs"), str(site / "ours"))
    assert sorted(ours.stdout.splitlines()) == sorted(their_lines.splitlines())


def same_tree(site: Path) -> dict[str, bytes]:
    ours, theirs = tree_bytes(site / "ours"), tree_bytes(site / "theirs")
    our_manifest = ours.pop("staticfiles.json", None)
    their_manifest = theirs.pop("staticfiles.json", None)
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert (our_manifest is None) == (their_manifest is None)
    if our_manifest is not None:
        mine, django = json.loads(our_manifest), json.loads(their_manifest)
        assert {key: mine[key] for key in ("paths", "version", "hash")} == django
    return ours


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site")


@pytest.mark.parametrize("storage", ["manifest", "plain", "js-modules"])
def test_tree_and_summary_are_djangos(site: Path, django_python: str, storage: str) -> None:
    theirs, ours = both(site, django_python, "--noinput", storage=storage)
    files = same_tree(site)
    assert "admin/css/base.css" in files and "blog/css/blog.css" in files
    assert "vendor/lib/logo.svg" in files and "blog/.hidden" not in files
    assert ours.stdout.strip() == theirs.stdout.strip().replace(
        str(site / "theirs"), str(site / "ours"))
    assert "skipped due to conflict" in ours.stdout
    assert ours.stderr == ""


@pytest.mark.parametrize("args", [
    ["-i", "*.txt", "-i", "admin/js"], ["--no-default-ignore"], ["--no-post-process"],
    ["-v", "2"], ["-v", "0"],
])
def test_flags_as_django(site: Path, django_python: str, args: list[str]) -> None:
    theirs, ours = both(site, django_python, "--noinput", *args)
    same_tree(site)
    if "-v" in args:
        same_output(theirs, ours, site)
    else:
        assert ours.stdout.strip() == theirs.stdout.strip().replace(
            str(site / "theirs"), str(site / "ours"))


def test_second_run_and_clear_and_dry_run(site: Path, django_python: str) -> None:
    both(site, django_python, "--noinput")
    theirs, ours = both(site, django_python, "--noinput")  # nothing changed
    # (post-processed counts the hashed copies written: none; Django redoes all)
    expected = re.sub(r", \d+ post-processed", "", theirs.stdout.strip())
    assert ours.stdout.strip() == expected.replace(str(site / "theirs"), str(site / "ours"))
    assert "unmodified" in expected
    (site / "ours" / "stray.txt").write_text("x")
    (site / "theirs" / "stray.txt").write_text("x")
    theirs, ours = both(site, django_python, "--noinput", "--clear")
    same_tree(site)
    assert "deleted" in ours.stdout
    shutil.rmtree(site / "ours")
    proc = manage(site, "collectstatic", "--noinput", "--dry-run", python=django_python,
                  env={"SITE_STATIC_ROOT": str(site / "ours")})
    assert proc.returncode == 0, proc.stderr
    assert not (site / "ours").exists() or not any((site / "ours").iterdir())


def _identities(root: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(root)): (info.st_ino, info.st_mtime_ns)
            for path in root.rglob("*") if (info := path.lstat()) and path.is_file()}


@pytest.mark.parametrize("storage", ["manifest", "whitenoise"])
def test_a_rerun_with_nothing_changed_writes_nothing(site: Path, django_python: str,
                                                     storage: str) -> None:
    # As a second `collectstatic collect` does: the last run's answer is taken
    # as it is (the settings the command derives are the same each time), so
    # not even the record in root is written again.
    env = {"SITE_STORAGE": storage, "SITE_STATIC_ROOT": str(site / "ours")}
    first = manage(site, "collectstatic", "--noinput", python=django_python, env=env)
    assert first.returncode == 0, first.stderr
    before = _identities(site / "ours")
    assert any(name.startswith(".collectstatic") for name in before)
    again = manage(site, "collectstatic", "--noinput", python=django_python, env=env)
    assert again.returncode == 0, again.stderr
    assert _identities(site / "ours") == before
    assert again.stdout.lstrip().startswith("0 static files copied"), again.stdout


def test_link(site: Path, django_python: str) -> None:
    theirs, ours = both(site, django_python, "--noinput", "--link", "--no-post-process")
    assert (site / "ours" / "blog/css/blog.css").is_symlink()
    assert os.path.realpath(site / "ours" / "blog/css/blog.css") == \
        os.path.realpath(site / "theirs" / "blog/css/blog.css")
    assert "symlinked" in ours.stdout
    assert ours.stdout.strip() == theirs.stdout.strip().replace(
        str(site / "theirs"), str(site / "ours"))


def test_prompt(site: Path, django_python: str) -> None:
    env = {"SITE_STATIC_ROOT": str(site / "ours")}
    assert manage(site, "collectstatic", "--noinput", python=django_python,
                  env=env).returncode == 0
    proc = manage(site, "collectstatic", python=django_python, env=env, input="no\n")
    assert proc.returncode == 1
    assert "This will overwrite existing files!" in proc.stdout
    assert "CommandError: Collecting static files cancelled." in proc.stderr
    proc = manage(site, "collectstatic", python=django_python, env=env, input="yes\n")
    assert proc.returncode == 0 and "unmodified" in proc.stdout


def test_whitenoise_storage(site: Path, django_python: str) -> None:
    pytest.importorskip("brotli")
    both(site, django_python, "--noinput", storage="whitenoise")
    ours, theirs = tree_bytes(site / "ours"), tree_bytes(site / "theirs")
    assert sorted(name for name in ours if name.endswith(".gz")) == \
        sorted(name for name in theirs if name.endswith(".gz"))
    for name in (n for n in theirs if n.endswith((".gz", ".br"))):
        assert name in ours, name
        if name.endswith(".gz"):
            assert ours[name] == theirs[name], name
        else:
            assert len(ours[name]) <= len(theirs[name]), name
    plain = {n: b for n, b in ours.items() if not n.endswith((".gz", ".br"))}
    their_plain = {n: b for n, b in theirs.items() if not n.endswith((".gz", ".br"))}
    plain.pop("staticfiles.json")
    their_plain.pop("staticfiles.json")
    assert plain == their_plain


def test_other_storage_runs_djangos_command_and_says_why(site: Path, django_python: str
                                                         ) -> None:
    _, ours = both(site, django_python, "--noinput", storage="s3")
    assert ours.stderr.strip() == (
        "collectstatic.django: mysite.settings: STORAGES['staticfiles']['BACKEND'] = "
        "'mysite.settings.RemoteStorage' overrides hashed_name of "
        "django.contrib.staticfiles.storage.ManifestStaticFilesStorage, which changes hashed "
        "names or paths; running Django's own collectstatic.")
    assert not (site / "ours" / ".collectstatic").exists()  # Django's command wrote it
    same_tree(site)


def test_other_finder_runs_djangos_command(site: Path, django_python: str) -> None:
    finders = ("django.contrib.staticfiles.finders.FileSystemFinder,"
               "django.contrib.staticfiles.finders.AppDirectoriesFinder,"
               "django.contrib.staticfiles.finders.DefaultStorageFinder")
    _, ours = both(site, django_python, "--noinput", extra_env={"SITE_FINDERS": finders})
    assert "DefaultStorageFinder' is not supported" in ours.stderr
    same_tree(site)


def test_static_root_unset_is_djangos_message(site: Path, django_python: str) -> None:
    proc = manage(site, "collectstatic", "--noinput", python=django_python,
                  env={"SITE_STATIC_ROOT": "-"})
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("CommandError: You're using the staticfiles app without "
                                   "having set the STATIC_ROOT setting to a filesystem path.")
    assert not (site / "collected").exists()


def test_broken_reference_is_one_error_and_nothing_written(site: Path, django_python: str
                                                          ) -> None:
    (site / "assets" / "broken.css").write_text("a { background: url(nothere.png) }\n")
    proc = manage(site, "collectstatic", "--noinput", python=django_python,
                  env={"SITE_STATIC_ROOT": str(site / "ours")})
    assert proc.returncode == 1
    assert proc.stderr.startswith("CommandError: ") and "nothere.png" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (site / "ours" / "staticfiles.json").exists()


@pytest.mark.parametrize(("paths", "args"), [
    (["blog/css/blog.css"], []), (["blog/css/blog.css"], ["--first"]),
    (["vendor/lib/logo.svg", "admin/css/base.css"], []), (["nope.css"], []),
])
@pytest.mark.parametrize("verbosity", ["0", "1", "2"])
def test_findstatic_as_django(site: Path, django_python: str, paths: list[str],
                              args: list[str], verbosity: str) -> None:
    # (with DEBUG = False, findstatic runs the checks, so collect first)
    assert manage(site, "collectstatic", "--noinput", python=django_python).returncode == 0
    theirs = manage(site, "findstatic", *paths, *args, "-v", verbosity, python=django_python,
                    env=DJANGOS)
    ours = manage(site, "findstatic", *paths, *args, "-v", verbosity, python=django_python,
                  env=OURS)
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (theirs.returncode, theirs.stdout, theirs.stderr)


# -- system checks --------------------------------------------------------------------

def check(site: Path, python: str, **env: str) -> Proc:
    return manage(site, "check", python=python, env={"SITE_STATIC_ROOT": str(site / "ours"),
                                                     **env})


def test_checks(site: Path, django_python: str) -> None:
    proc = check(site, django_python)
    assert proc.returncode == 1
    assert "(collectstatic.E001) STATIC_ROOT has no manifest" in proc.stderr
    assert "HINT: Run 'manage.py collectstatic'" in proc.stderr
    assert check(site, django_python, SITE_DEBUG="1").returncode == 0

    manage(site, "collectstatic", "--noinput", python=django_python,
           env={"SITE_STATIC_ROOT": str(site / "ours")})
    proc = check(site, django_python)
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout

    for name in ("a.css", "b.css", "c.css", "d.css"):
        (site / "blog/static/blog" / name).write_text("x")
    proc = check(site, django_python)
    assert proc.returncode == 1
    assert ("(collectstatic.E003) The manifest " + str(site / "ours/staticfiles.json")
            + " lacks 4 file(s) that app 'blog' provides: 'blog/a.css', 'blog/b.css', "
            "'blog/c.css' and 1 more") in proc.stderr

    manage(site, "collectstatic", "--noinput", python=django_python,
           env={"SITE_STATIC_ROOT": str(site / "ours")})
    paths = json.loads((site / "ours/staticfiles.json").read_text())["paths"]
    (site / "ours" / paths["admin/css/base.css"]).unlink()
    proc = check(site, django_python)
    assert "(collectstatic.E004) The manifest" in proc.stderr
    assert paths["admin/css/base.css"] in proc.stderr

    (site / "ours/staticfiles.json").write_text("{not json")
    proc = check(site, django_python)
    assert "(collectstatic.E002)" in proc.stderr

    # collectstatic itself does not run them: it is what repairs the manifest
    proc = manage(site, "collectstatic", "--noinput", python=django_python,
                  env={"SITE_STATIC_ROOT": str(site / "ours")})
    assert proc.returncode == 0, proc.stderr
    assert check(site, django_python).returncode == 0


def test_checks_are_quiet_for_a_plain_storage(site: Path, django_python: str) -> None:
    assert check(site, django_python, SITE_STORAGE="plain").returncode == 0
