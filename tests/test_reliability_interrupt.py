"""Interruption (issue 9): a run killed with SIGKILL at any point.

The child is the real CLI with the file-system calls that change root
(``os.replace``, ``os.link``, ``os.symlink``, ``os.unlink``, ``os.rmdir``,
``os.mkdir``) counted; it SIGKILLs itself before call number N. Every N from
0 to the total of a full run is tried, so every moment between two changes
of root is covered. A second test kills the CLI from outside while it waits
to read a source, with the files before it already copied.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from collectstatic.collection import collect
from collectstatic.config import load_settings

from .support import gated_cli, open_gate, tree_bytes, write_tree

HARNESS = r"""
import functools, os, signal, sys
limit = int(sys.argv[1])
count = 0
def counted(function):
    def call(*args, **kwargs):
        global count
        if count >= limit:
            os.kill(os.getpid(), signal.SIGKILL)
        count += 1
        return function(*args, **kwargs)
    # a partial, not a function: Python 3.9's pathlib keeps os.mkdir as a class
    # attribute, where a function would bind as a method
    return functools.partial(call)
for name in ("replace", "link", "symlink", "unlink", "rmdir", "mkdir"):
    setattr(os, name, counted(getattr(os, name)))
from collectstatic.cli import main
status = main(sys.argv[2:])
sys.stderr.write(f"operations={count}\n")
sys.exit(status)
"""

OLD = {
    "s/css/site.css": '@import "parts/base.css";\nbody { background: url("../img/a.png"); }\n',
    "s/css/parts/base.css": "h1 { background: url(../../img/b.png) }\n",
    "s/img/a.png": b"A-PNG",
    "s/img/b.png": b"B-PNG",
    "s/js/app.js": "console.log(1);\n",
    "s/gone.txt": "removed in the new version",
}
NEW_CHANGES = {  # b.png changes, so base.css and site.css get new names too
    "s/img/b.png": b"B-PNG, version 2",
    "s/js/app.js": "console.log(2);\n",
    "s/new/added.txt": "added",
}
CONFIG = '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\nworkers = 1\n'


def old_project(path: Path) -> Path:
    write_tree(path, {**OLD, "pyproject.toml": CONFIG})
    collect(load_settings(path / "pyproject.toml"))
    return path


def to_new(path: Path) -> None:
    (path / "s/gone.txt").unlink()
    write_tree(path, NEW_CHANGES)


def killed_run(project: Path, limit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", HARNESS, str(limit), "collect", "--noinput"],
                          cwd=project, capture_output=True, text=True, timeout=120)


def assert_consistent(root: Path, versions: dict[bytes, dict[str, bytes]]) -> bytes:
    """The manifest is one of the known ones, whole, and every file it names is
    there with that version's bytes."""
    manifest = (root / "staticfiles.json").read_bytes()
    assert manifest in versions, f"a manifest that is neither the old nor the new: {manifest!r}"
    expected = versions[manifest]
    for hashed in json.loads(manifest)["paths"].values():
        assert (root / hashed).read_bytes() == expected[hashed], hashed
    return manifest


def test_sigkill_at_every_step_then_the_next_run_repairs(tmp_path: Path) -> None:
    old = tree_bytes(old_project(tmp_path / "old") / "out")
    clean = old_project(tmp_path / "clean")
    to_new(clean)
    collect(load_settings(clean / "pyproject.toml"))
    new = tree_bytes(clean / "out")
    versions = {old["staticfiles.json"]: old, new["staticfiles.json"]: new}

    probe = old_project(tmp_path / "probe")
    to_new(probe)
    full = killed_run(probe, 10**9)
    assert full.returncode == 0, full.stderr
    total = int(full.stderr.rsplit("operations=", 1)[1])
    assert tree_bytes(probe / "out") == new
    assert total >= 10, total

    seen = set()
    for limit in range(total):  # killed before change number limit + 1
        project = old_project(tmp_path / f"k{limit}")
        to_new(project)
        proc = killed_run(project, limit)
        assert proc.returncode == -signal.SIGKILL, (limit, proc.stderr)
        seen.add(assert_consistent(project / "out", versions))
        # the next run, without --clear, gives exactly a clean run's tree
        collect(load_settings(project / "pyproject.toml"))
        assert tree_bytes(project / "out") == new, limit
        assert list((project / "out/.collectstatic/tmp").iterdir()) == []
    assert seen == set(versions)  # killed both before and after the switch


def test_sigkill_from_outside_while_copying_the_sources(tmp_path: Path) -> None:
    project = old_project(tmp_path / "p")
    old = tree_bytes(project / "out")
    to_new(project)
    write_tree(project, {"s/img/c.png": b"C"})  # new, copied after a.png and b.png
    gate = tmp_path / "gate"
    proc = gated_cli(gate, project / "s/img/c.png", "collect", "--noinput", cwd=project)
    writer = open_gate(gate, proc)  # it waits there, about to read c.png
    proc.kill()
    proc.wait(timeout=60)
    os.close(writer)
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    out = tree_bytes(project / "out")
    assert out["staticfiles.json"] == old["staticfiles.json"]
    assert_consistent(project / "out", {old["staticfiles.json"]: old})
    # the files before c.png were already brought up to date, none half-written
    assert out["img/b.png"] == NEW_CHANGES["s/img/b.png"]
    # the lock died with the process; what remains is a clean run of the same
    # sources, and the old version's hashed files as they were (keep-versions)
    collect(load_settings(project / "pyproject.toml"))
    reference = tmp_path / "ref"
    write_tree(reference, {**OLD, "pyproject.toml": CONFIG, "s/img/c.png": b"C"})
    to_new(reference)
    collect(load_settings(reference / "pyproject.toml"))
    kept = {hashed: old[hashed]
            for hashed in json.loads(old["staticfiles.json"])["paths"].values()}
    assert tree_bytes(project / "out") == {**kept, **tree_bytes(reference / "out")}
