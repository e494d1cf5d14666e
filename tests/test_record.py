"""The record (``root/.collectstatic/state.marshal``): one file, written whole;
what is read back is what was saved, and a record that is damaged or of
another version reads as none (everything is new)."""

from __future__ import annotations

import marshal
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectstatic.collection import CollectOptions, CollectResult, collect
from collectstatic.config import load_settings
from collectstatic.record import (
    Answer,
    Record,
    Shortcut,
    Source,
    Versions,
    read_record,
    read_shortcut,
    write_record,
)

from .support import tree_bytes, write_tree

CONFIG = '[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n'
IMAGES = 100


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


def test_a_run_saves_a_record_that_reads_back_as_saved(tmp_path: Path) -> None:
    project(tmp_path)
    first = run(tmp_path)
    saved = read_record(tmp_path / "out")
    assert set(saved.sources) == set(first.unmodified) | set(first.copied)
    assert set(saved.outputs) == set(first.files)
    assert saved.answer is not None and saved.answer.manifest == first.manifest
    source = saved.sources["css/site.css"]
    assert source.path == str(tmp_path / "s/css/site.css") and source.keep
    assert source.sri.startswith("sha384-") and len(source.md5) == 32
    old_hashed = first.manifest["css/site.css"]
    old_bytes = (tmp_path / "out" / old_hashed).read_bytes()
    write_tree(tmp_path, {"s/css/site.css": files(1)["s/css/site.css"]})
    second = run(tmp_path)
    assert second.copied == ["css/site.css"]
    again = read_record(tmp_path / "out")
    assert again.sources["css/site.css"].md5 != source.md5
    assert again.sources["img/i1.png"] == saved.sources["img/i1.png"]
    # A clean run's tree, and the earlier version's hashed copy (keep-versions).
    tree = tree_bytes(tmp_path / "out")
    assert tree.pop(old_hashed) == old_bytes
    assert tree == from_nothing(tmp_path)


def test_a_one_file_change_writes_the_record_once(tmp_path: Path) -> None:
    project(tmp_path)
    run(tmp_path)
    record = state_dir(tmp_path) / "state.marshal"
    before = identity(record)
    run(tmp_path)  # nothing changed: not written
    assert identity(record) == before
    write_tree(tmp_path, {"s/css/site.css": files(1)["s/css/site.css"]})
    run(tmp_path)
    assert identity(record) != before
    assert sorted(path.name for path in state_dir(tmp_path).iterdir()) == \
        ["lock", "state.marshal", "tmp"]


HEAD = b"collectstatic record 6 (marshal)\n"


def parts(first: object, rest: object) -> bytes:
    head, body = marshal.dumps(first), marshal.dumps(rest)
    return HEAD + struct.pack("<QQ", len(head), len(body)) + head + body


REST = {"sources": {}, "outputs": {}, "post": {}, "file_mode": None}
DAMAGES = {
    "empty": b"",
    "not ours": b"{}",
    "cut short": None,  # the saved file without its last bytes
    "an older format": b"collectstatic record (marshal, by name ranges)\n" + b"\0" * 16,
    "no parts": HEAD,
    "a size past the end": HEAD + b"\xff" * 16 + marshal.dumps(("", "", None)),
    "wrong shape": parts(("", "", None), {"sources": [1], "outputs": {}}),
    "a source of another kind": parts(("", "", None), {**REST, "sources": {"a": (1, 2)}}),
    "an answer of another kind": parts(("", "", (1, 2)), REST),
}
@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_record_means_everything_is_new(tmp_path: Path, damage: bytes | None
                                                  ) -> None:
    project(tmp_path)
    first = run(tmp_path)
    record = state_dir(tmp_path) / "state.marshal"
    data = record.read_bytes()
    record.write_bytes(data[:-7] if damage is None else damage)
    assert read_record(tmp_path / "out") == Record()
    if damage is None or damage[:len(HEAD)] != HEAD:
        assert read_shortcut(tmp_path / "out") is None
    again = run(tmp_path)
    assert again.copied == sorted(first.copied)
    assert again.manifest == first.manifest
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)
    assert read_record(tmp_path / "out").answer is not None  # saved again


def test_bookkeeping_of_older_versions_is_removed(tmp_path: Path) -> None:
    project(tmp_path)
    write_tree(tmp_path, {"out/.collectstatic/state.json": '{"version": 1}',
                          "out/.collectstatic/state-changes.marshal": "old",
                          "out/.collectstatic/last-run.marshal": "old"})
    run(tmp_path)
    assert sorted(path.name for path in state_dir(tmp_path).iterdir()) == \
        ["lock", "state.marshal", "tmp"]


names = st.text(min_size=1, max_size=8)
keys = st.binary(max_size=24)
sources = st.builds(Source, st.text(max_size=8), keys, st.booleans(), st.booleans(),
                    st.text(max_size=32), st.text(max_size=8), st.integers(0, 2**40))
answers = st.none() | st.builds(Answer, st.lists(names, max_size=3),
                                st.dictionaries(names, names, max_size=3),
                                st.lists(names, max_size=3), st.integers(0, 100),
                                st.lists(st.text(max_size=8), max_size=2), st.text(max_size=8))
records = st.builds(Record, st.dictionaries(names, sources, max_size=5),
                    st.dictionaries(names, keys, max_size=5),
                    st.dictionaries(names, st.integers() | st.text(max_size=3), max_size=3),
                    st.none() | st.integers(0, 0o777), st.text(max_size=8),
                    st.text(max_size=8), answers,
                    st.builds(Versions, st.lists(names, max_size=3),
                              st.lists(st.lists(names, max_size=3), max_size=3)))


@given(records)
def test_records_round_trip(record: Record) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / ".collectstatic").mkdir()
        write_record(root, record, root / ".collectstatic")
        assert read_record(root) == record
        assert read_shortcut(root) == Shortcut(record.settings, record.inputs, record.answer)
