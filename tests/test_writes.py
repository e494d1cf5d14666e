"""How files reach root: written unnamed and named whole, on both paths.

On Linux a new file is an O_TMPFILE inode named with linkat(2); elsewhere
(or on a file system without O_TMPFILE) a named file under
``root/.collectstatic/tmp`` renamed into place. Both must give the same root.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from collectstatic import files
from collectstatic.collection import CollectOptions, CollectResult, collect
from collectstatic.config import load_settings
from collectstatic.errors import CollectError

from .support import tree_bytes, write_tree

FILES = {
    "s/css/site.css": '@import "parts/base.css";\nbody { background: url("../img/a.png"); }\n',
    "s/css/parts/base.css": "h1 { background: url(../../img/b.png) }\n",
    "s/img/a.png": b"A-PNG",
    "s/img/b.png": b"B-PNG" * 1000,
    "s/js/app.js": "console.log(1);\n",
    "s/LICENSE": "no extension",
}
CONFIG = '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n'

needs_unnamed = pytest.mark.skipif(not files.UNNAMED, reason="no O_TMPFILE here")


def project(path: Path, config: str = CONFIG) -> Path:
    write_tree(path, {**FILES, "pyproject.toml": config})
    return path


def run(path: Path) -> CollectResult:
    return collect(load_settings(path / "pyproject.toml"))


def named_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "UNNAMED", False)


@pytest.mark.parametrize("config", [CONFIG, CONFIG + "keep-unhashed = false\n",
                                    CONFIG + 'file-mode = "0o640"\n'])
def test_both_ways_of_writing_give_the_same_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  config: str) -> None:
    unnamed = run(project(tmp_path / "a", config))
    named_only(monkeypatch)
    named = run(project(tmp_path / "b", config))
    assert tree_bytes(tmp_path / "a/out") == tree_bytes(tmp_path / "b/out")
    assert unnamed.manifest == named.manifest
    assert len(unnamed.files) > len(FILES)  # plain copies, hashed names, the manifest
    for name in unnamed.files:
        a, b = os.stat(tmp_path / "a/out" / name), os.stat(tmp_path / "b/out" / name)
        assert (a.st_mode, a.st_size) == (b.st_mode, b.st_size), name
    assert not os.listdir(tmp_path / "a/out/.collectstatic/tmp")
    assert not os.listdir(tmp_path / "b/out/.collectstatic/tmp")


def test_a_plain_copy_and_its_hashed_name_share_one_file(tmp_path: Path) -> None:
    result = run(project(tmp_path))
    out = tmp_path / "out"
    for name in ("img/a.png", "img/b.png", "LICENSE"):
        plain, hashed = os.stat(out / name), os.stat(out / result.manifest[name])
        assert plain.st_ino == hashed.st_ino and plain.st_nlink == 2, name
    # CSS whose bytes change when rewritten has a file of its own
    assert os.stat(out / "css/site.css").st_ino != \
        os.stat(out / result.manifest["css/site.css"]).st_ino


@pytest.mark.parametrize("unnamed", [True, False])
def test_replacing_names_that_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    unnamed: bool) -> None:
    if not unnamed:
        named_only(monkeypatch)
    elif not files.UNNAMED:
        pytest.skip("no O_TMPFILE here")
    path = project(tmp_path)
    first = run(path)
    (path / "s/img/a.png").write_bytes(b"A-PNG, version 2")
    # a foreign file squats the new hashed name: it is replaced, not appended to
    squatted = f"img/a.{hashlib.md5(b'A-PNG, version 2').hexdigest()[:12]}.png"
    (path / "out" / squatted).write_bytes(b"squatter")
    second = run(path)
    out = path / "out"
    assert second.manifest["img/a.png"] == squatted != first.manifest["img/a.png"]
    assert (out / "img/a.png").read_bytes() == b"A-PNG, version 2"
    assert (out / second.manifest["img/a.png"]).read_bytes() == b"A-PNG, version 2"
    assert not os.listdir(out / ".collectstatic/tmp")


@needs_unnamed
def test_a_failed_write_leaves_no_file_behind(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = project(tmp_path)
    real_link = os.link

    def refuse(source: str, dest: str | Path, **kwargs: object) -> None:
        if str(dest).endswith(".png"):
            raise OSError(28, "No space left on device", str(dest))
        real_link(source, dest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", refuse)
    with pytest.raises(CollectError, match=r"img/.*\.png: No space left on device"):
        run(path)
    out = path / "out"
    left = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert not any(name.endswith(".png") for name in left), left
    assert not os.listdir(out / ".collectstatic/tmp")


def test_a_no_change_run_writes_nothing(tmp_path: Path) -> None:
    path = project(tmp_path)
    run(path)
    out = path / "out"
    before = {p: (s.st_ino, s.st_mtime_ns) for p in out.rglob("*")
              if (s := p.stat()) and p.is_file()}
    result = run(path)
    assert result.copied == [] and result.post_processed == []
    after = {p: (s.st_ino, s.st_mtime_ns) for p in out.rglob("*")
             if (s := p.stat()) and p.is_file()}
    assert after == before  # the record (state.json) included
    assert out / ".collectstatic/state.marshal" in after



def test_the_manifest_is_rewritten_only_when_its_bytes_change(tmp_path: Path) -> None:
    path = project(tmp_path)
    run(path)
    manifest = path / "out/staticfiles.json"
    first = manifest.read_bytes()
    written = (manifest.stat().st_ino, manifest.stat().st_mtime_ns)
    # Another setting that post-processing depends on: it runs again, same answer.
    (path / "pyproject.toml").write_text(CONFIG + "strict = false\n")
    assert run(path).manifest
    assert (manifest.stat().st_ino, manifest.stat().st_mtime_ns) == written
    # A changed file: a new manifest, as big as the old one (same-length names).
    (path / "s/js/app.js").write_text("console.log(2);\n")
    run(path)
    second = manifest.read_bytes()
    assert len(second) == len(first) and second != first
    assert (manifest.stat().st_ino, manifest.stat().st_mtime_ns) != written


def test_the_named_way_needs_no_fchmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows takes the named way, and has no os.fchmod before Python 3.13.
    named_only(monkeypatch)
    monkeypatch.delattr(os, "fchmod", raising=False)
    result = run(project(tmp_path, CONFIG + 'file-mode = "0o640"\n'))
    out = tmp_path / "out"
    assert result.files
    assert {oct(os.stat(out / name).st_mode & 0o777) for name in result.files} == {"0o640"}


@pytest.mark.parametrize("way", ["unnamed", "named"])
def test_a_first_run_writes_each_output_with_the_file_mode_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    # (no pass over root afterwards: that was a chmod and an lstat per output)
    if way == "named":
        named_only(monkeypatch)
    chmodded: list[str] = []
    chmod = os.chmod
    monkeypatch.setattr(os, "chmod", lambda path, *args, **kwargs: (
        chmodded.append(os.fspath(path)), chmod(path, *args, **kwargs))[-1])
    path = project(tmp_path, CONFIG + 'file-mode = "0o640"\n')
    for options in ({}, {"clear": True}):
        result = collect(load_settings(path / "pyproject.toml"), CollectOptions(**options))
        out = path / "out"
        assert {oct(os.stat(out / name).st_mode & 0o777) for name in result.files} == {"0o640"}
        assert [p for p in chmodded if ".collectstatic" not in Path(p).parts] == []
    # A changed file-mode still reaches the outputs the next run does not rewrite.
    (path / "pyproject.toml").write_text(CONFIG + 'file-mode = "0o600"\n')
    result = run(path)
    assert result.copied == []
    assert {oct(os.stat(out / name).st_mode & 0o777) for name in result.files} == {"0o600"}


def test_a_run_makes_no_cyclic_garbage(tmp_path: Path) -> None:
    # collect() turns Python's cycle collector off while it runs (compression
    # turns it back on): the collector's passes over the run's record were a
    # tenth of a one-change run. That is only sound while runs leave no cycles.
    import dataclasses
    import gc

    path = project(tmp_path, CONFIG + 'strict = false\n')
    write_tree(path, {"s/css/broken.css": "a { background: url(missing.png) }\n",
                      "s/js/mod.js": 'import { a } from "./app.js";\n'})
    settings = dataclasses.replace(load_settings(path / "pyproject.toml"), workers=1)
    gc.collect()
    was = gc.isenabled()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        collect(settings)  # cold
        (path / "s/img/b.png").write_bytes(b"changed")
        collect(settings)  # one change, through the memo
        collect(settings)  # nothing changed
        assert gc.isenabled() == was  # as it was
        assert gc.collect() == 0 and not gc.garbage, sorted({type(o).__name__
                                                             for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
