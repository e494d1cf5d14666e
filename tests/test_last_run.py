"""The no-change shortcut: the last finished run's answer, kept in the record.

A run whose settings, sources (name, path, stat key) and outputs (stat key)
are all as the last finished run left them repeats that run's answer without
reading the manifest or writing anything. It must give exactly the answer the full
run gives, and must not be taken when anything it covers has changed.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

import collectstatic
from collectstatic import manifest, record
from collectstatic.collection import CollectOptions, CollectResult, collect
from collectstatic.config import load_settings
from collectstatic.errors import BrokenReferencesError
from collectstatic.record import read_record, write_record

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


def record_file(path: Path) -> Path:
    return path / "out/.collectstatic/state.marshal"


def identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def forget_answer(path: Path) -> None:
    """The record without the last run's answer: the next run is a full one."""
    root = path / "out"
    saved = read_record(root)
    saved.answer = None
    write_record(root, saved, root / ".collectstatic/tmp")


def from_nothing(path: Path) -> dict[str, bytes]:
    """The root a first run over ``path``'s sources and settings makes."""
    fresh = path / "fresh"
    project(fresh, (path / "pyproject.toml").read_text(), {})
    for source in ("s", "t"):
        os.symlink(path / source, fresh / source)
    run(fresh)
    return tree_bytes(fresh / "out")


def with_kept(before: dict[str, bytes], earlier: CollectResult, path: Path) -> dict[str, bytes]:
    """:func:`from_nothing`, and the hashed outputs of the ``earlier`` run as
    they were then (``before``): keep-versions keeps them for pages cached
    from it."""
    kept = {name: before[name] for logical, name in earlier.manifest.items() if name != logical}
    return {**kept, **from_nothing(path)}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the old manifest is read."""
    calls = {"manifest": 0}
    real_read = manifest.read_manifest

    def read(data: bytes) -> dict:
        calls["manifest"] += 1
        return real_read(data)

    monkeypatch.setattr(manifest, "read_manifest", read)
    return calls


def test_a_no_change_run_writes_nothing_and_reads_no_manifest(tmp_path: Path,
                                                               counted: dict[str, int]) -> None:
    project(tmp_path)
    first = run(tmp_path)
    before = tree_bytes(tmp_path / "out")
    saved = identity(record_file(tmp_path))
    second = run(tmp_path)
    assert counted == {"manifest": 0}
    assert identity(record_file(tmp_path)) == saved
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
    forget_answer(tmp_path)
    full = run(tmp_path)  # the same answer, through the full run
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
    forget_answer(tmp_path)
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
    "touched source": (_touch_source, {"copied": []}),
    "source rewritten, mtime kept": (_rewrite_source_keeping_mtime, {"copied": ["img/a.png"]}),
    "source added": (_add_source, {"copied": ["img/new.png"]}),
    # (its hashed copy stays: the last version's manifest names it)
    "source removed": (_remove_source, {"deleted": ["txt/readme.txt"]}),
    "setting changed": (_change_setting, {"copied": []}),
    "output removed": (_remove_output, {"copied": ["img/b.png"]}),
    "hashed output replaced": (_replace_hashed_output, {"post_processed": ["css/site.css"]}),
    "manifest damaged": (_damage_manifest, {"copied": []}),
    "tool upgraded": (_new_version, {"copied": []}),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_takes_the_full_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       change: tuple) -> None:
    make_change, expected = change
    project(tmp_path)
    first = run(tmp_path)
    before = tree_bytes(tmp_path / "out")
    saved = identity(record_file(tmp_path))
    make_change(tmp_path)
    if make_change is _new_version:
        monkeypatch.setattr(collectstatic, "__version__", collectstatic.__version__ + ".post1")
    result = run(tmp_path)
    assert identity(record_file(tmp_path)) != saved  # the full run saved what it saw
    for field, value in expected.items():
        assert getattr(result, field) == value, field
    assert tree_bytes(tmp_path / "out") == with_kept(before, first, tmp_path)
    # after which nothing changed again: the shortcut
    saved = identity(record_file(tmp_path))
    assert run(tmp_path).copied == [] and identity(record_file(tmp_path)) == saved


def test_a_damaged_record_means_everything_is_new(tmp_path: Path) -> None:
    project(tmp_path)
    first = run(tmp_path)
    record = record_file(tmp_path)
    record.write_bytes(record.read_bytes()[:100])
    again = run(tmp_path)
    assert again.copied == sorted(first.copied) and again.manifest == first.manifest


def test_a_failed_run_leaves_no_answer_to_repeat(tmp_path: Path) -> None:
    project(tmp_path)
    run(tmp_path)
    (tmp_path / "s/css/parts/base.css").write_text("h1 { background: url(gone.png) }\n")
    with pytest.raises(BrokenReferencesError):
        run(tmp_path)
    assert read_record(tmp_path / "out").answer is None
    with pytest.raises(BrokenReferencesError):  # not repeated: the same error
        run(tmp_path)


def test_options_that_change_the_answer_are_covered(tmp_path: Path) -> None:
    project(tmp_path)
    run(tmp_path)
    assert run(tmp_path, dry_run=True).copied == []
    no_post = run(tmp_path, post_process=False)  # not the saved answer: the full run
    assert no_post.manifest == {}
    cleared = run(tmp_path, clear=True)
    assert cleared.unmodified == []  # everything again
    assert len(cleared.copied) == 7


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
    first = run(tmp_path)
    before = tree_bytes(tmp_path / "out")
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
    assert tree_bytes(tmp_path / "out") == with_kept(before, first, tmp_path)


def test_an_older_record_is_compared_with_the_outputs(tmp_path: Path) -> None:
    # A record put back from before the last run: its keys are compared with
    # the outputs', nothing is taken on trust.
    project(tmp_path)
    first = run(tmp_path)
    before = tree_bytes(tmp_path / "out")
    record = record_file(tmp_path)
    older = record.read_bytes()
    write_tree(tmp_path, {"s/css/parts/base.css": "h1 { color: red }\n"})
    run(tmp_path)
    record.write_bytes(older)
    write_tree(tmp_path, {"s/js/app.js": "console.log(2);\n"})
    run(tmp_path)
    # (the version the record put back knows of is the one kept)
    assert tree_bytes(tmp_path / "out") == with_kept(before, first, tmp_path)


def test_stat_keys_past_64_bits_still_tell_files_apart(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows can have 128-bit inode numbers: no packing, the key is its repr.
    write_tree(tmp_path, {"a": "1", "b": "2"})
    paths = [str(tmp_path / "a"), str(tmp_path / "b")]
    packed = record.source_keys(paths)
    assert len(set(packed)) == 2 and all(len(key) == 32 for key in packed)
    fields = record._SOURCE_FIELDS
    monkeypatch.setattr(record, "_SOURCE_FIELDS",
                        lambda info: (*fields(info)[:2], fields(info)[2] + 2**100,
                                      fields(info)[3]))
    wide = record.source_keys(paths)
    assert len(set(wide)) == 2 and set(wide).isdisjoint(packed)
    assert wide == record.source_keys(paths)  # the same file, the same key


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
