"""Plain helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_wheelhouse_lock = threading.Lock()
_wheelhouse: Path | None = None


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative/path: text or bytes}`` under ``root``; return root."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def run(args: Sequence[str | os.PathLike[str]], cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None, check: bool = True, input: str | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command; on unexpected failure show its output in the assertion."""
    merged = dict(os.environ)
    if env:
        merged.update(env)
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=merged, input=input,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


def cli(*args: str, cwd: Path, check: bool = True, input: str | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real ``collectstatic`` CLI in a subprocess (``python -m collectstatic``)."""
    return run([sys.executable, "-m", "collectstatic", *args], cwd=cwd, check=check,
               input=input, timeout=timeout)


# The CLI, stopped just before it reads one source (argv: gate, source path,
# then the CLI's own): it waits there until the test opens the FIFO ``gate``
# (outside the sources: a FIFO among them is an error) for writing and closes
# it. The run is then at a known point of its work, for a test to act on.
_GATED = """
import builtins
import sys
from collectstatic.cli import main

gate, source = sys.argv.pop(1), sys.argv.pop(1)
real_open = builtins.open


def gated(path, *args, **kwargs):
    if path == source:  # the first read of it only
        builtins.open = real_open
        with real_open(gate, "rb") as fifo:
            fifo.read()
    return real_open(path, *args, **kwargs)


builtins.open = gated
sys.exit(main())
"""


def gated_cli(gate: Path, source: Path, *args: str, cwd: Path) -> subprocess.Popen[str]:
    """``collectstatic *args`` in a subprocess that stops before reading
    ``source``; ``open_gate`` returns once it waits there."""
    os.mkfifo(gate)
    return subprocess.Popen([sys.executable, "-c", _GATED, str(gate), str(source), *args],
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def open_gate(gate: Path, proc: subprocess.Popen[str]) -> int:
    """The write end of ``gate`` once ``proc`` waits on it (write nothing,
    close it to let the run go on); bounded."""
    import errno
    import time

    for _ in range(3000):
        try:
            return os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("the run never reached the gate")


def plugin_wheelhouse() -> Path:
    """A directory holding a wheel of this checkout, built once per test session.

    Pass it as ``--find-links`` to isolated builds (pip, build, uv) so that
    ``collectstatic`` in a project's ``build-system.requires`` is this code.
    """
    global _wheelhouse
    with _wheelhouse_lock:
        if _wheelhouse is None:
            out = Path(tempfile.mkdtemp(prefix="collectstatic-wheelhouse-"))
            run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "-q", "-w", out, REPO])
            _wheelhouse = out
        return _wheelhouse


def wheel_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()
                if not info.is_dir()}


def sdist_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()
                if m.isfile()}  # type: ignore[union-attr]


def tree_bytes(root: Path, skip_state: bool = True) -> dict[str, bytes]:
    """Every file under root (relative posix path -> bytes), our state dir left out."""
    result = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if skip_state and relative.split("/")[0] == ".collectstatic":
            continue
        if path.is_file() or path.is_symlink():
            result[relative] = path.read_bytes() if path.exists() else b"<broken link>"
    return result


# The example Django app's page as a one-file site (its script's own lines
# come before and after); @HOST@ is the one name it answers to.
EXAMPLE_SITE = """\
import django
from django.conf import settings
from django.shortcuts import render
from django.urls import path

import hatch_django_app

settings.configure(
    DEBUG=False, ALLOWED_HOSTS=[@HOST@], SECRET_KEY="example", ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.staticfiles", "hatch_django_app"],
    MIDDLEWARE=["whitenoise.middleware.WhiteNoiseMiddleware"],
    STATIC_URL="/static/", STATIC_ROOT=str(hatch_django_app.STATIC_ROOT),
    STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
              "staticfiles": {"BACKEND":
                  "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True}],
)
django.setup()
urlpatterns = [path("", lambda request: render(request, "hatch_django_app/base.html"))]
"""
