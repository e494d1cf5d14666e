"""The no-change shortcut: ``root/.collectstatic/last-run.marshal``.

A run whose settings, sources (name, path, stat key) and outputs (``_out_key``)
are all as the last finished run left them repeats that run's answer without
reading the record or the manifest. It must give exactly the answer the full
run gives, and must not be taken when anything it covers has changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import marshal
import operator
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import collectstatic
from collectstatic import collection, manifest
from collectstatic.collection import CollectOptions, CollectResult, collect
from collectstatic.config import load_settings
from collectstatic.errors import BrokenReferencesError

from .support import tree_bytes, write_tree

FILES = {
    "s/css/site.css": '@import "parts/base.css";\nbody { background: url("../img/a.png"); }\n',
    "s/css/parts/base.css": "h1 { background: url(../../img/b.png) }\n",
    "s/img/a.png": b"A-PNG",
    "s/img/b.png": b"B-PNG" * 1000,
    "s/js/app.js": "console.log(1);\n//# sourceMappingURL=app.js.map\n",
    "s/js/app.js.map": "{}",
    "t/img/a.png": b"shadowed by s/img/a.png",
    "t/txt/readme.txt": "second source",
}
CONFIG = '[tool.collectstatic]\nroot = "out"\ndirs = ["s", "t"]\n'


def project(path: Path, config: str = CONFIG, files: dict | None = None) -> Path:
    write_tree(path, {**(FILES if files is None else files), "pyproject.toml": config})
    return path


def run(path: Path, **options: object) -> CollectResult:
    return collect(load_settings(path / "pyproject.toml"), CollectOptions(**options))


def last_run(path: Path) -> Path:
    return path / "out/.collectstatic/last-run.marshal"


def from_nothing(path: Path) -> dict[str, bytes]:
    """The root a first run over ``path``'s sources and settings makes."""
    fresh = path / "fresh"
    project(fresh, (path / "pyproject.toml").read_text(), {})
    for source in ("s", "t"):
        os.symlink(path / source, fresh / source)
    run(fresh)
    return tree_bytes(fresh / "out")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the full run's record and the old manifest are read."""
    calls = {"record": 0, "manifest": 0}
    real_load, real_read = collection._State.load, manifest.read_manifest

    def load(self: collection._State) -> None:
        calls["record"] += 1
        real_load(self)

    def read(data: bytes) -> dict:
        calls["manifest"] += 1
        return real_read(data)

    monkeypatch.setattr(collection._State, "load", load)
    monkeypatch.setattr(manifest, "read_manifest", read)
    return calls


def test_a_no_change_run_reads_neither_record_nor_manifest(tmp_path: Path,
                                                            counted: dict[str, int]) -> None:
    project(tmp_path)
    first = run(tmp_path)
    assert last_run(tmp_path).is_file()
    before = tree_bytes(tmp_path / "out")
    second = run(tmp_path)
    assert counted == {"record": 1, "manifest": 0}  # only the first run's
    assert second.copied == [] and second.unmodified == sorted(first.copied)
    assert second.manifest == first.manifest and second.files == first.files
    assert tree_bytes(tmp_path / "out") == before


# Configurations whose answers carry every field: warnings from the listing and
# from post-processing, shadowed files, variants, no manifest.
CONFIGS = {
    "default": CONFIG,
    "warnings": CONFIG + 'strict = false\nignore = ["nothing-matches-this"]\n',
    "keep-unhashed-false": CONFIG + "keep-unhashed = false\n",
    "manifest-false": CONFIG + "manifest = false\n",
    "compress": CONFIG + 'compress = ["gzip"]\n',
    "compress-no-manifest": CONFIG + 'compress = ["gzip"]\nmanifest = false\n',
    "link": CONFIG + "link = true\n",
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_the_shortcut_gives_the_full_runs_answer(tmp_path: Path, config: str) -> None:
    files = {**FILES, "s/css/broken.css": "a { background: url(missing.png) }\n"} \
        if "strict = false" in config else FILES
    project(tmp_path, config, files)
    run(tmp_path)
    short = run(tmp_path)
    assert last_run(tmp_path).is_file()
    last_run(tmp_path).unlink()
    full = run(tmp_path)  # the same answer, through the record
    assert last_run(tmp_path).is_file()  # and saved again
    assert dataclasses.asdict(short) == dataclasses.asdict(full)
    assert short.unmodified and short.files
    if "strict = false" in config:
        assert any("missing.png" in warning for warning in short.warnings)
        assert any("nothing-matches-this" in warning for warning in short.warnings)
    assert short.skipped == ["img/a.png"]


def test_cli_output_is_the_same_either_way(tmp_path: Path) -> None:
    from .support import cli

    project(tmp_path, CONFIG + "strict = false\n",
            {**FILES, "s/css/broken.css": "a { background: url(missing.png) }\n"})
    cli("collect", "--noinput", cwd=tmp_path)
    short = cli("collect", "--noinput", "-v", "2", cwd=tmp_path)
    last_run(tmp_path).unlink()
    full = cli("collect", "--noinput", "-v", "2", cwd=tmp_path)
    assert "missing.png" in short.stderr
    assert (short.stdout, short.stderr) == (full.stdout, full.stderr)


def _touch_source(path: Path) -> None:
    os.utime(path / "s/js/app.js")  # same bytes, new mtime


def _rewrite_source_keeping_mtime(path: Path) -> None:
    target = path / "s/img/a.png"
    info = target.stat()
    target.write_bytes(b"a-png")  # same size
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))  # only ctime tells


def _add_source(path: Path) -> None:
    write_tree(path, {"s/img/new.png": b"new"})


def _remove_source(path: Path) -> None:
    (path / "t/txt/readme.txt").unlink()


def _change_setting(path: Path) -> None:
    config = path / "pyproject.toml"
    config.write_text(config.read_text() + 'static-url = "/assets/"\n')


def _remove_output(path: Path) -> None:
    (path / "out/img/b.png").unlink()


def _replace_hashed_output(path: Path) -> None:
    name = json.loads((path / "out/staticfiles.json").read_bytes())["paths"]["css/site.css"]
    target = path / "out" / name
    data = target.read_bytes()
    target.unlink()
    target.write_bytes(data.replace(b"body", b"BODY"))  # a new inode, same size


def _damage_manifest(path: Path) -> None:
    with open(path / "out/staticfiles.json", "ab") as handle:
        handle.write(b" ")


def _new_version(path: Path) -> None:
    pass  # (the test patches collectstatic.__version__)


CHANGES = {
    "touched source": (_touch_source, {"copied": [], "record": 1}),
    "source rewritten, mtime kept": (_rewrite_source_keeping_mtime, {"copied": ["img/a.png"]}),
    "source added": (_add_source, {"copied": ["img/new.png"]}),
    "source removed": (_remove_source, {"deleted": ["txt/readme.b372207a3c9a.txt",
                                                    "txt/readme.txt"]}),
    "setting changed": (_change_setting, {"copied": []}),
    "output removed": (_remove_output, {"copied": ["img/b.png"]}),
    "hashed output replaced": (_replace_hashed_output, {"post_processed": ["css/site.css"]}),
    "manifest damaged": (_damage_manifest, {"copied": []}),
    "tool upgraded": (_new_version, {"copied": []}),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_takes_the_full_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       counted: dict[str, int], change: tuple) -> None:
    make_change, expected = change
    project(tmp_path)
    run(tmp_path)
    make_change(tmp_path)
    if make_change is _new_version:
        monkeypatch.setattr(collectstatic, "__version__", collectstatic.__version__ + ".post1")
    counted["record"] = 0
    result = run(tmp_path)
    assert counted["record"] == 1  # the full run
    for field, value in expected.items():
        if field != "record":
            assert getattr(result, field) == value, field
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)
    # after which nothing changed again: the shortcut
    counted["record"] = 0
    assert run(tmp_path).copied == [] and counted["record"] == 0


def piece(value: object) -> bytes:
    data = marshal.dumps(value)
    return collection._PIECE_SIZE.pack(len(data)) + data


HEAD = collection._RECORD_HEAD
VERSION = collection.STATE_VERSION
END = piece(None)
DAMAGES = {
    "empty": b"",
    "not ours": b"{}",
    "cut short": None,  # the saved file without its last bytes
    "no end": HEAD + piece({"version": VERSION}),
    "a size past the end": HEAD + b"\xff" * 8 + piece({"version": VERSION}),
    "the older format": HEAD + marshal.dumps({"version": VERSION}),
    "the format before name ranges": b"collectstatic record (marshal)\n" +
    piece(("version", VERSION)) + piece(("", None)),
    "not a piece": HEAD + piece([1]) + END,
    "older version": HEAD + piece({"version": 1}) + END,
    "wrong types": HEAD + piece({"version": VERSION, "inputs": "x", "outputs": [1]}) + END,
    "a piece of another kind": HEAD + piece({"version": VERSION, "outputs": []}) +
    piece([(("outputs",), {"a": 1})]) + END,
    "a piece for nowhere": HEAD + piece({"version": VERSION}) +
    piece([(("post", "memo"), {"a": 1})]) + END,
    "a piece with no key": HEAD + piece({"version": VERSION}) + piece([((), {"a": 1})]) + END,
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_last_run_file_means_a_full_run(tmp_path: Path, counted: dict[str, int],
                                                  damage: bytes | None) -> None:
    project(tmp_path)
    first = run(tmp_path)
    saved = last_run(tmp_path).read_bytes()
    answer = collection._read_record(last_run(tmp_path))
    assert answer is not None and answer["outputs"] == first.files
    last_run(tmp_path).write_bytes(saved[:-7] if damage is None else damage)
    result = run(tmp_path)
    assert counted["record"] == 2 and result.copied == []
    assert result.manifest == first.manifest
    assert collection._read_record(last_run(tmp_path)) == answer  # saved again


def test_a_damaged_record_means_everything_is_new(tmp_path: Path) -> None:
    project(tmp_path)
    first = run(tmp_path)
    record = tmp_path / "out/.collectstatic/state.marshal"
    record.write_bytes(record.read_bytes()[:100])
    last_run(tmp_path).unlink()
    again = run(tmp_path)
    assert again.copied == sorted(first.copied) and again.manifest == first.manifest


def test_a_failed_run_leaves_no_answer_to_repeat(tmp_path: Path) -> None:
    project(tmp_path)
    run(tmp_path)
    (tmp_path / "s/css/parts/base.css").write_text("h1 { background: url(gone.png) }\n")
    with pytest.raises(BrokenReferencesError):
        run(tmp_path)
    assert not last_run(tmp_path).exists()


def test_options_that_change_the_answer_are_covered(tmp_path: Path,
                                                    counted: dict[str, int]) -> None:
    project(tmp_path)
    run(tmp_path)
    assert run(tmp_path, dry_run=True).copied == []
    counted["record"] = 0
    no_post = run(tmp_path, post_process=False)  # not the saved answer: the full run
    assert counted["record"] == 1 and no_post.manifest == {}
    counted["record"] = 0
    cleared = run(tmp_path, clear=True)
    assert counted["record"] == 0 and cleared.unmodified == []  # everything again
    assert len(cleared.copied) == 7


def test_records_come_back_as_written_in_pieces(tmp_path: Path) -> None:
    big = {f"name{number}": [number, "x" * (number % 7)] for number in range(10_000)}
    nested = {f"name{number}": number for number in range(0, 20_000, 3)}
    value = {"version": collection.STATE_VERSION, "big": big, "small": {"a": 1},
             "list": list(range(5)), "none": None,
             "deep": {"x": 1, "deeper": {"nested": nested, "small": {"b": 2}}, "empty": {}}}
    path = tmp_path / "record"
    collection._write_record(path, value, tmp_path)
    data = path.read_bytes()
    assert data.count(b"name9999") == 2  # cut into pieces, one name range each
    read = collection._read_record(path)
    assert read == value
    assert list(read["big"]) == sorted(big)  # in key order
    assert list(read["deep"]["deeper"]["nested"]) == sorted(nested)


def test_a_name_in_several_big_dicts_is_loaded_once(tmp_path: Path) -> None:
    # Sources, outputs and the memo are keyed by the same names: one string
    # each in a fresh process (fewer objects to make).
    names = [f"app/css/file{number}.css" for number in range(5_000)]
    value = {"version": collection.STATE_VERSION, "sources": dict.fromkeys(names, 1),
             "post": {"memo": {"paths": dict(zip(names, names))}}}
    path = tmp_path / "record"
    collection._write_record(path, value, tmp_path)
    read = collection._read_record(path)
    assert read == value
    paths = read["post"]["memo"]["paths"]
    assert all(name is paths[name] for name in read["sources"])
    # whole (the last run's answer): its list of outputs shares them too
    value = {"version": collection.STATE_VERSION, "outputs": names,
             "manifest": dict.fromkeys(names)}
    collection._write_record(path, value, tmp_path, whole=True)
    read = collection._read_record(path)
    assert read == value
    assert all(map(operator.is_, read["outputs"], read["manifest"]))


def test_the_json_record_of_older_versions_is_removed(tmp_path: Path) -> None:
    project(tmp_path)
    write_tree(tmp_path, {"out/.collectstatic/state.json": '{"version": 1}'})
    run(tmp_path)
    assert not (tmp_path / "out/.collectstatic/state.json").exists()
    assert (tmp_path / "out/.collectstatic/state.marshal").is_file()


# When only sources changed, the outputs' fingerprint holds and the full run
# takes every output as recorded without looking at each key. These runs
# change a source and something the shortcut must not miss at the same time.

def test_a_source_changed_and_an_output_damaged(tmp_path: Path) -> None:
    project(tmp_path)
    run(tmp_path)
    name = json.loads((tmp_path / "out/staticfiles.json").read_bytes())["paths"]["js/app.js"]
    target = tmp_path / "out" / name
    data = target.read_bytes()
    target.unlink()
    target.write_bytes(data.upper())  # a new inode, same size
    write_tree(tmp_path, {"s/img/b.png": b"changed"})
    result = run(tmp_path)
    assert result.copied == ["img/b.png"]
    assert result.post_processed == ["css/parts/base.css", "css/site.css", "img/b.png",
                                     "js/app.js"]
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)


def test_an_older_record_under_a_newer_last_run(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The record is not the one the last run saved: its keys are compared
    # with the outputs', not taken on trust, whatever the fingerprint says.
    trusted: list[bool] = []
    real = collection._State.take_scan

    def take_scan(self: collection._State, as_recorded: bool) -> None:
        trusted.append(as_recorded)
        real(self, as_recorded)

    monkeypatch.setattr(collection._State, "take_scan", take_scan)
    project(tmp_path)
    run(tmp_path)
    record = tmp_path / "out/.collectstatic/state.marshal"
    older = record.read_bytes()
    write_tree(tmp_path, {"s/css/parts/base.css": "h1 { color: red }\n"})
    run(tmp_path)
    record.write_bytes(older)
    (record.parent / "state-changes.marshal").unlink(missing_ok=True)  # the record as it was
    write_tree(tmp_path, {"s/js/app.js": "console.log(2);\n"})
    run(tmp_path)
    assert trusted == [False, True, False]  # (the first run had no last run)
    assert tree_bytes(tmp_path / "out") == from_nothing(tmp_path)


def test_a_run_that_ends_while_this_one_waits_for_the_lock(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The last-run file is read, and its outputs looked at, before the lock
    # is taken. Another run (ignoring a file) ends in between: this run's
    # sources and outputs look as the first answer left them, but that
    # answer no longer stands.
    project(tmp_path)
    run(tmp_path)
    before = tree_bytes(tmp_path / "out")

    class Finished(collection.Background):  # the scan is over before the other run
        def __init__(self, function: object, forked: bool = True) -> None:
            super().__init__(function, forked=False)  # type: ignore[arg-type]
            self.value = function()  # type: ignore[operator]

        def result(self) -> object:
            return self.value

    real_locked = collection._Run.locked
    others: list[CollectResult] = []
    waiting = [True]  # (once: the other run's own lock is the real one)

    @contextlib.contextmanager
    def locked(self: collection._Run) -> Iterator[None]:
        if waiting:
            waiting.clear()
            others.append(run(tmp_path, extra_ignore=["readme.txt"]))
        with real_locked(self):
            yield

    monkeypatch.setattr(collection, "Background", Finished)
    monkeypatch.setattr(collection._Run, "locked", locked)
    result = run(tmp_path)
    assert "txt/readme.txt" in others[0].deleted
    assert "txt/readme.txt" in result.files and result.copied == ["txt/readme.txt"]
    assert tree_bytes(tmp_path / "out") == before


def test_stat_keys_past_64_bits_still_tell_files_apart(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows can have 128-bit inode numbers: no packing, the key is its repr.
    write_tree(tmp_path, {"a": "1", "b": "2"})
    paths = [str(tmp_path / "a"), str(tmp_path / "b")]
    packed = collection._source_keys(paths)
    assert len(set(packed)) == 2 and all(len(key) == 32 for key in packed)
    fields = collection._SOURCE_FIELDS
    monkeypatch.setattr(collection, "_SOURCE_FIELDS",
                        lambda info: (*fields(info)[:2], fields(info)[2] + 2**100,
                                      fields(info)[3]))
    wide = collection._source_keys(paths)
    assert len(set(wide)) == 2 and set(wide).isdisjoint(packed)
    assert wide == collection._source_keys(paths)  # the same file, the same key


def test_log_is_given_the_messages_up_to_its_verbosity(tmp_path: Path) -> None:
    project(tmp_path)
    settings = load_settings(tmp_path / "pyproject.toml")

    def levels(verbosity: int) -> list[int]:
        seen: list[int] = []
        collect(settings, log=lambda message, level: seen.append(level), verbosity=verbosity)
        return seen

    for verbosity in (1, 2):
        write_tree(tmp_path, {"s/img/b.png": f"v{verbosity}"})
        for seen in (levels(verbosity), levels(verbosity)):  # the full run, the shortcut
            assert max(seen, default=0) <= verbosity
            assert (2 in seen) == (verbosity == 2)  # per-file messages are level 2
