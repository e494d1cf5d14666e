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


def cli(*args: str, cwd: Path, check: bool = True, input: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """The real ``collectstatic`` CLI in a subprocess (``python -m collectstatic``)."""
    return run([sys.executable, "-m", "collectstatic", *args], cwd=cwd, check=check,
               input=input)


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
