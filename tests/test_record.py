"""The record (``root/.collectstatic/state.marshal``) and the changes saved
beside it (``state-changes.marshal``): a run that changed a few files writes
only those changes; what is read back is always what was saved, and changes
to another record are never applied."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectstatic import collection
from collectstatic.collection import CollectOptions, CollectResult, collect
from collectstatic.config import load_settings

from .support import tree_bytes, write_tree

CONFIG = '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n'
IMAGES = 100  # enough files that a one-file change is well under an eighth of the record


def files(version: int = 0) -> dict[str, str | bytes]:
    tree: dict[str, str | bytes] = {
        f"s/img/i{number}.png": f"PNG {number}".encode() for number in range(IMAGES)}
    tree["s/css/site.css"] = (f"/* {version} */\n" + "".join(
        f'.i{number} {{ background: url("../img/i{number}.png") }}\n' for number in range(5)))
    tree["s/js/app.js"] = "console.log(1);\n"
    return tree


def project(path: Path, config: str = CONFIG) -> Path:
    write_tree(path, {**files(), "pyproject.toml": config})
    return path


def run(path: Path, **options: Any) -> CollectResult:
    return collect(load_settings(path / "pyproject.toml"), CollectOptions(**options))


def state_dir(path: Path) -> Path:
    return path / "out/.collectstatic"


def identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def from_nothing(path: Path) -> dict[str, bytes]:
    fresh = path / "fresh"
    write_tree(fresh, {"pyproject.toml": (path / "pyproject.toml").read_text()})
    os.symlink(path / "s", fresh / "s")
    run(fresh)
    return tree_bytes(fresh / "out")


@pytest.fixture
def read_back(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """After every save, the record is read again and must equal what was
    saved; the list says how each save was written ("changes", "full", or
    "none" when nothing was)."""
    kinds: list[str] = []
    written: list[Path] = []
    real_save, real_write = collection._State.save, collection._write_record

    def write(path: Path, value: dict[str, Any], tmp_dir: Path, whole: bool = False) -> None:
        written.append(path)
        real_write(path, value, tmp_dir, whole)

    def save(self: collection._State, tmp_dir: Path) -> None:
        written.clear()
        real_save(self, tmp_dir)
        kinds.append("changes" if written == [self.changes_path] else
                     "full" if written == [self.path] else "none" if not written else "?")
        again = collection._State(Path(self.prefix))
        again.load()
        assert again.loaded is not None
        assert (again.sources, again.outputs, again.post, again.file_mode) == \
            (self.sources, self.outputs, self.post, self.file_mode)

    monkeypatch.setattr(collection._State, "save", save)
    monkeypatch.setattr(collection, "_write_record", write)
    return kinds


def test_a_one_file_change_saves_only_the_changes(tmp_path: Path, read_back: list[str]) -> None:
    project(tmp_path)
    run(tmp_path)
    record = state_dir(tmp_path) / "state.marshal"
    before = identity(record)
    write_tree(tmp_path, {"s/css/site.css": files(1)["s/css/site.css"]})
    result = run(tmp_path)
    assert result.copied == ["css/site.css"]
    assert identity(record) == before  # the full record was not written again
    changes = state_dir(tmp_path) / "state-changes.marshal"
    assert changes.stat().st_size < record.stat().st_size / 4
    assert read_back == ["full", "changes"]
    # The next run reads both: nothing counts as new, nothing is written.
    (state_dir(tmp_path) / "last-run.marshal").unlink()  # (not the shortcut: the record)
    again = run(tmp_path)
    assert again.copied == [] and again.post_processed == []
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)


def test_changes_that_grow_are_folded_into_the_record(tmp_path: Path,
                                                      read_back: list[str]) -> None:
    project(tmp_path)
    run(tmp_path)
    for version in range(1, 4):  # one file at a time: changes
        write_tree(tmp_path, {"s/css/site.css": files(version)["s/css/site.css"]})
        run(tmp_path)
    assert read_back == ["full", "changes", "changes", "changes"]
    write_tree(tmp_path, {f"s/img/i{number}.png": b"new" for number in range(IMAGES)})
    run(tmp_path)  # most files: the record is written whole, the changes go
    assert read_back[-1] == "full"
    assert not (state_dir(tmp_path) / "state-changes.marshal").exists()
    write_tree(tmp_path, {"s/js/app.js": "console.log(2);\n"})
    (tmp_path / "s/img/i7.png").unlink()
    run(tmp_path)
    assert read_back[-1] == "changes"
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)


def test_changes_to_another_record_are_not_applied(tmp_path: Path) -> None:
    # A run stopped between writing the record whole and removing the old
    # changes leaves changes that name the record before.
    project(tmp_path)
    run(tmp_path)
    write_tree(tmp_path, {"s/css/site.css": files(1)["s/css/site.css"]})
    run(tmp_path)
    changes = state_dir(tmp_path) / "state-changes.marshal"
    stale = tmp_path / "stale-changes"
    shutil.copyfile(changes, stale)
    write_tree(tmp_path, {f"s/img/i{number}.png": b"new" for number in range(IMAGES)})
    run(tmp_path)
    assert not changes.exists()
    shutil.copyfile(stale, changes)
    (state_dir(tmp_path) / "last-run.marshal").unlink()
    again = run(tmp_path)
    # Applied, they would have put back the old stat keys: every image again.
    assert again.copied == [] and again.post_processed == []
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)


@pytest.mark.parametrize("damage", ["cut short", "not a record", "wrong shape"])
def test_damaged_changes_mean_everything_is_new(tmp_path: Path, damage: str) -> None:
    project(tmp_path)
    first = run(tmp_path)
    write_tree(tmp_path, {"s/css/site.css": files(1)["s/css/site.css"]})
    run(tmp_path)
    changes = state_dir(tmp_path) / "state-changes.marshal"
    data = changes.read_bytes()
    if damage == "cut short":
        changes.write_bytes(data[:-5])
    elif damage == "not a record":
        changes.write_bytes(b"garbage")
    else:
        record = collection._read_record(changes)
        assert record is not None
        collection._write_record(changes, {**record, "changes": ({}, ["no such key"], {})},
                                 tmp_path)
    (state_dir(tmp_path) / "last-run.marshal").unlink()
    again = run(tmp_path)
    assert again.copied == sorted(first.copied)
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)


values = st.recursive(
    st.one_of(st.integers(), st.text(max_size=3), st.binary(max_size=3), st.none(),
              st.tuples(st.integers(), st.text(max_size=2))),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=2), inner, max_size=5)),
    max_leaves=12)
records = st.dictionaries(st.text(max_size=2), values, max_size=6)


@given(records, records)
def test_changes_make_the_new_record_from_the_old(old: dict[str, Any],
                                                  new: dict[str, Any]) -> None:
    import marshal

    kept = marshal.dumps(old)
    patch = collection._changes(old, new, 3)
    patch = marshal.loads(marshal.dumps(patch))  # (as saved)
    assert collection._patched(old, patch) == new
    assert marshal.dumps(old) == kept  # the old record is left as it was
    if old == new:
        assert collection._count(patch) == 0
