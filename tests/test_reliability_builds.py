"""Reproducible wheels (issue 9): two builds in different directories, with a
different umask, time zone, locale and file creation order, SOURCE_DATE_EPOCH
set, are byte-identical, and file modes in the wheel do not follow the umask."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import wheel_members, write_tree
from .test_hatch_hook import make_project as hatch_project
from .test_setuptools import make_project as setuptools_project

EPOCH = "1700000000"
ENVIRONMENTS = [
    {"umask": 0o022, "TZ": "UTC", "LC_ALL": "C.UTF-8"},
    {"umask": 0o077, "TZ": "Pacific/Kiritimati", "LC_ALL": "C"},
]
EXTRA = {"zz/é.css": "b { background: url(../a/ü.png) }", "a/ü.png": b"png"}

HATCH = "from hatchling.builders.wheel import WheelBuilder as W; import sys; " \
        "print(next(W(sys.argv[1]).build(directory=sys.argv[2], versions=['standard'])))"
SETUPTOOLS = "import setuptools.build_meta as b, sys; print(b.build_wheel(sys.argv[2]))"


def build(code: str, project: Path, out: Path, environment: dict) -> Path:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "TZ": environment["TZ"],
           "LC_ALL": environment["LC_ALL"], "LANG": environment["LC_ALL"]}
    out.mkdir(parents=True)
    umask = environment["umask"]
    proc = subprocess.run([sys.executable, "-c", code, str(project), str(out)], cwd=project,
                          env=env, capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    return out / Path(proc.stdout.strip().splitlines()[-1]).name


def make_two(tmp_path: Path, make: Callable[..., Path], static: str) -> list[Path]:
    """The same project twice, files created in opposite orders, modes fixed."""
    projects = []
    for index, (where, order) in enumerate([("a/p", 1), ("b/longer/dir/p", -1)]):
        project = make(tmp_path / where)
        write_tree(project, dict(list(
            {f"{static}/{name}": data for name, data in EXTRA.items()}.items())[::order]))
        for path in project.rglob("*"):  # the checkout's modes are not under test
            path.chmod(0o755 if path.is_dir() else 0o644)
        projects.append(project)
        assert index in (0, 1)
    return projects


def static_modes(wheel: Path, marker: str) -> dict[str, int]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: stat.S_IMODE(info.external_attr >> 16)
                for info in archive.infolist() if marker in info.filename}


@pytest.mark.parametrize("backend", ["hatchling", "setuptools"])
def test_wheels_do_not_depend_on_directory_umask_timezone_locale_or_order(
        tmp_path: Path, backend: str) -> None:
    if backend == "hatchling":
        projects = make_two(tmp_path, hatch_project, "src/pkg/static/pkg")
        code, marker = HATCH, "pkg/staticfiles/"
    else:
        projects = make_two(tmp_path, setuptools_project, "assets")
        code, marker = SETUPTOOLS, "shop/staticfiles/"
    wheels = [build(code, project, tmp_path / f"dist{index}", environment)
              for index, (project, environment) in enumerate(zip(projects, ENVIRONMENTS))]
    modes = [static_modes(wheel, marker) for wheel in wheels]
    assert len(modes[0]) >= 8  # plain + hashed copies of 4 files and the manifest
    assert modes[0] == modes[1], "file modes in the wheel follow the umask"
    assert set(modes[0].values()) == {0o644}
    members = [{name: data for name, data in wheel_members(wheel).items() if marker in name}
               for wheel in wheels]
    assert members[0] == members[1]
    if backend == "setuptools":
        # setuptools writes its own files (the package, dist-info) with the
        # umask's modes: the whole wheel is identical only under one umask.
        for leftover in [projects[1] / "build", *projects[1].rglob("*.egg-info")]:
            shutil.rmtree(leftover)  # they keep the other umask's modes
        wheels[1] = build(code, projects[1], tmp_path / "dist-umask",
                          {**ENVIRONMENTS[1], "umask": ENVIRONMENTS[0]["umask"]})
    assert wheels[0].read_bytes() == wheels[1].read_bytes()
