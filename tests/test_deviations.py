"""Differences from Django (and WhiteNoise) that docs/deviations.md lists, each
shown against the real thing: if one of these starts to fail, the behaviour
and that page have drifted apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .djangoref import run_django, run_findstatic
from .support import cli, write_tree


def project(tmp_path: Path, files: dict[str, str | bytes], extra: str = "") -> Path:
    write_tree(tmp_path, files)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.collectstatic]\nroot = "ours"\ndirs = ["s"]\n{extra}')
    return tmp_path


def django_collect(root: Path, python: str) -> str:
    proc = run_django([root / "s"], root / "theirs", python=python, storage="manifest")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().replace(str(root / "theirs"), str(root / "ours"))


@pytest.mark.django
def test_a_rerun_counts_no_post_processing_of_unchanged_files(tmp_path: Path,
                                                              django_python: str) -> None:
    root = project(tmp_path, {"s/css/a.css": "a{}", "s/css/b.css": "b{}", "s/x.txt": "x",
                              "s/y.txt": "y"})
    first = [cli("collect", "--noinput", cwd=root).stdout.strip(),
             django_collect(root, django_python)]
    assert first[0] == first[1]  # a first run: Django's line
    ours = cli("collect", "--noinput", cwd=root).stdout.strip()
    theirs = django_collect(root, django_python)
    # Django post-processes (and counts) every CSS/JS file again on each run.
    assert theirs == f"0 static files copied to '{root / 'ours'}', 4 unmodified, " \
                     f"2 post-processed."
    assert ours == f"0 static files copied to '{root / 'ours'}', 4 unmodified."


@pytest.mark.django
def test_find_without_a_path_is_a_usage_error_in_both(tmp_path: Path,
                                                      django_python: str) -> None:
    root = project(tmp_path, {"s/a.txt": "a"})
    ours = cli("find", cwd=root, check=False)
    theirs = run_findstatic([], [root / "s"], python=django_python)
    assert ours.returncode == theirs.returncode == 2
    assert ours.stderr.splitlines()[-1] == \
        "collectstatic find: error: the following arguments are required: PATH"
    assert theirs.stderr.splitlines()[-1] == \
        "django-admin findstatic: error: the following arguments are required: staticfile"


@pytest.mark.django
def test_percent_escapes_in_file_names_are_kept_in_hashed_names(tmp_path: Path,
                                                               django_python: str) -> None:
    root = project(tmp_path, {"s/test/%2F.txt": "t", "s/test/%41.txt": "u"})
    cli("collect", "--noinput", cwd=root)
    django_collect(root, django_python)
    ours = json.loads((root / "ours/staticfiles.json").read_bytes())["paths"]
    theirs = json.loads((root / "theirs/staticfiles.json").read_bytes())["paths"]
    digest = ours["test/%2F.txt"].split(".")[1]
    assert ours["test/%2F.txt"] == f"test/%2F.{digest}.txt"
    assert theirs["test/%2F.txt"] == f"test/.txt.{digest}"  # Django decodes %2F to '/'
    assert ours["test/%41.txt"].startswith("test/%41.")
    assert theirs["test/%41.txt"].startswith("test/A.")


def test_more_types_than_whitenoise_skips_are_not_compressed(tmp_path: Path) -> None:
    compressor = pytest.importorskip("whitenoise.compress").Compressor(quiet=True)
    body = b"compressible " * 200
    extra = ["mp3", "ogg", "opus", "flac", "avif", "jxl", "7z", "jar", "zst", "docx", "mkv"]
    files = {f"s/a.{ext}": body for ext in [*extra, "png", "txt"]}
    root = project(tmp_path, files, 'compress = ["gzip"]\nmanifest = false\n')
    cli("collect", "--noinput", cwd=root)
    for ext in extra:
        assert compressor.should_compress(f"a.{ext}"), ext  # WhiteNoise compresses these
        assert not (root / f"ours/a.{ext}.gz").exists(), ext
    assert not compressor.should_compress("a.png") and not (root / "ours/a.png.gz").exists()
    assert (root / "ours/a.txt.gz").exists()
