"""The pure planner: what a run copies, keeps and deletes, from the listing
and the record alone (tables of cases, no files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectstatic.config import Source as Dir
from collectstatic.finders import Found
from collectstatic.plan import (
    Way,
    hashed_collisions,
    next_versions,
    plan_copies,
    stale_outputs,
    standing_answer,
    version_outputs,
)
from collectstatic.record import Answer, Shortcut, Source, Versions

DIR = Dir(path=Path("/src"), prefix="", origin="tool.collectstatic.dirs[0]")
COPY = Way(link=False, keep_plain=True)


def found(name: str, path: str | None = None) -> Found:
    return Found(name, path or f"/src/{name}", DIR)


def recorded(name: str, stat: bytes = b"k", path: str | None = None, link: bool = False,
             keep: bool = True) -> Source:
    return Source(path or f"/src/{name}", stat, link, keep, "md5", "sha384-x", 1)


# (listed names with their stat keys, the record, intact outputs, way) ->
# (unchanged, to copy, of those the ones to read first, gone)
CASES = {
    "first run": ({"a": b"k"}, {}, set(), COPY, [], ["a"], [], []),
    "nothing changed": ({"a": b"k"}, {"a": recorded("a")}, {"a"}, COPY, ["a"], [], [], []),
    "touched": ({"a": b"new"}, {"a": recorded("a")}, {"a"}, COPY, [], ["a"], ["a"], []),
    "output damaged": ({"a": b"k"}, {"a": recorded("a")}, set(), COPY, [], ["a"], [], []),
    "no plain output to damage": ({"a": b"k"}, {"a": recorded("a", keep=False)}, set(),
                                  Way(False, False), ["a"], [], [], []),
    "moved to another source": ({"a": b"k"}, {"a": recorded("a", path="/old/a")}, {"a"}, COPY,
                                [], ["a"], [], []),
    "was linked": ({"a": b"k"}, {"a": recorded("a", link=True)}, {"a"}, COPY,
                   [], ["a"], [], []),
    "kept plain before": ({"a": b"k"}, {"a": recorded("a")}, {"a"}, Way(False, False),
                          [], ["a"], [], []),
    "removed": ({"a": b"k"}, {"a": recorded("a"), "b": recorded("b")}, {"a", "b"}, COPY,
                ["a"], [], [], ["b"]),
    "added": ({"a": b"k", "b": b"k"}, {"a": recorded("a")}, {"a"}, COPY,
              ["a"], ["b"], [], []),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan_copies(case: tuple) -> None:
    listed, sources, intact, way, unchanged, jobs, reread, gone = case
    files = [found(name) for name in listed]
    plan = plan_copies(files, list(listed.values()), sources, intact, way)
    assert list(plan.unchanged) == unchanged
    assert [job.found.name for job in plan.jobs] == jobs
    assert [job.found.name for job in plan.jobs if job.same_as is not None] == reread
    assert [job.stat for job in plan.jobs] == [listed[name] for name in jobs]
    assert plan.gone == gone


ANSWER = Answer(["a", "a.123456789012"], {"a": "a.123456789012"}, [], 0, [], "outputs")
# (the record's first part, settings now, sources now) -> the answer to check
STANDING = {
    "all as left": (Shortcut("s", "i", ANSWER), "s", "i", ANSWER),
    "no record": (None, "s", "i", None),
    "no answer (a failed run)": (Shortcut("s", "i", None), "s", "i", None),
    "other settings": (Shortcut("s", "i", ANSWER), "s2", "i", None),
    "a source changed": (Shortcut("s", "i", ANSWER), "s", "i2", None),
}


@pytest.mark.parametrize("case", STANDING.values(), ids=STANDING.keys())
def test_standing_answer(case: tuple) -> None:
    shortcut, settings, inputs, expected = case
    assert standing_answer(shortcut, settings, inputs) == expected


# (recorded outputs, wanted, old plain copies, post-processed to the end) -> deleted
STALE = {
    "nothing stale": (["a", "b"], {"a", "b"}, {"a"}, True, []),
    "a source gone": (["a", "a.h", "b"], {"b"}, {"a"}, True, ["a", "a.h"]),
    "failed: old hashed outputs stay": (["a", "a.h", "m.json"], set(), {"a"}, False, ["a"]),
    "plain copy only: hashed outputs stay": (["a", "a.h"], {"b"}, {"a"}, False, ["a"]),
}


@pytest.mark.parametrize("case", STALE.values(), ids=STALE.keys())
def test_stale_outputs(case: tuple) -> None:
    recorded_outputs, wanted, old_plain, replaced_all, expected = case
    assert stale_outputs(recorded_outputs, wanted, old_plain, replaced_all) == expected


# (recorded outputs, wanted, old plain copies, kept for earlier versions) -> deleted
STALE_KEPT = {
    "an earlier version's hashed copy stays": (["a", "a.1", "a.2"], {"a", "a.2"}, {"a"},
                                               {"a.1"}, []),
    "older than the kept versions: goes": (["a", "a.0", "a.1", "a.2"], {"a", "a.2"}, {"a"},
                                           {"a.1"}, ["a.0"]),
    "a plain copy goes though a version named it": (["a", "b", "b.1"], {"b", "b.1"}, {"a"},
                                                    {"a"}, ["a"]),
}


@pytest.mark.parametrize("case", STALE_KEPT.values(), ids=STALE_KEPT.keys())
def test_stale_outputs_keep_earlier_versions(case: tuple) -> None:
    recorded_outputs, wanted, old_plain, kept, expected = case
    assert stale_outputs(recorded_outputs, wanted, old_plain, True, kept) == expected
    # a failed run keeps every hashed output anyway
    assert stale_outputs(recorded_outputs, wanted, old_plain, False, kept) == \
        sorted(set(old_plain) - set(wanted))


# (manifest, variants made) -> the version's outputs
VERSION_OUTPUTS = {
    "hashed names": ({"a.css": "a.1.css", "b.png": "b.2.png"}, [], ["a.1.css", "b.2.png"]),
    "with their variants": ({"a.css": "a.1.css"}, ["a.1.css.gz", "a.1.css.br", "a.css.gz"],
                            ["a.1.css", "a.1.css.br", "a.1.css.gz"]),
    "an unhashed name is no version's": ({"a.css": "a.css"}, ["a.css.gz"], []),
    "nothing collected": ({}, [], []),
}


@pytest.mark.parametrize("case", VERSION_OUTPUTS.values(), ids=VERSION_OUTPUTS.keys())
def test_version_outputs(case: tuple) -> None:
    manifest, variants, expected = case
    assert version_outputs(manifest, variants) == expected


NONE = Versions([], [])
# (versions recorded, this run's version, keep) -> versions to record
NEXT_VERSIONS = {
    "first run": (NONE, ["a.1", "b.1"], 2, Versions(["a.1", "b.1"], [])),
    "the same version again": (Versions(["a.1"], [["a.0"]]), ["a.1"], 2,
                               Versions(["a.1"], [["a.0"]])),
    "a change: the last version is kept": (Versions(["a.1", "b.1"], []), ["a.2", "b.1"], 2,
                                           Versions(["a.2", "b.1"], [["a.1"]])),
    "only the keep newest": (Versions(["a.2"], [["a.1"], ["a.0"]]), ["a.3"], 2,
                             Versions(["a.3"], [["a.2"], ["a.1"]])),
    "keep 0: none": (Versions(["a.1"], []), ["a.2"], 0, Versions(["a.2"], [])),
    "keep lowered": (Versions(["a.2"], [["a.1"], ["a.0"]]), ["a.2"], 1,
                     Versions(["a.2"], [["a.1"]])),
    "a file changed back: the current version names it": (
        Versions(["a.2"], [["a.1"]]), ["a.1"], 2, Versions(["a.1"], [["a.2"], []])),
    "a file added: an earlier version with nothing of its own": (
        Versions(["a.1"], [["a.0"]]), ["a.1", "b.1"], 2, Versions(["a.1", "b.1"], [[], ["a.0"]])),
    "given unsorted": (NONE, ["b.1", "a.1"], 2, Versions(["a.1", "b.1"], [])),
    "an old version's variant of a file still current goes": (
        Versions(["a.1", "a.1.gz", "b.1", "b.1.gz"], []), ["a.1", "b.2", "b.2.gz"], 2,
        Versions(["a.1", "b.2", "b.2.gz"], [["b.1", "b.1.gz"]])),
}


@pytest.mark.parametrize("case", NEXT_VERSIONS.values(), ids=NEXT_VERSIONS.keys())
def test_next_versions(case: tuple) -> None:
    last, current, keep, expected = case
    assert next_versions(last, current, keep) == expected


def test_versions_are_bounded_and_keep_what_the_last_ones_name() -> None:
    versions = NONE
    for run in range(10):  # a.css changes every run, b.css every other run
        versions = next_versions(versions, [f"a.{run}", f"b.{run // 2}"], 2)
        assert len(versions.earlier) <= 2
    assert versions.current == ["a.9", "b.4"]
    assert versions.kept() == {"a.8", "a.7", "b.3"}


H = "6700e3e57796"
# (hashed names, sources with their md5, final md5 of each hashed output) -> collisions
COLLISIONS = {
    "no hashed-looking source": ({"a.css": f"a.{H}.css"}, {"a.css": "1"}, {"a.css": "2"}, []),
    "a source under a.css's hashed name, other bytes": (
        {"a.css": f"a.{H}.css", f"a.{H}.css": "a.x.css"},
        {"a.css": "1", f"a.{H}.css": "9"}, {"a.css": "2", f"a.{H}.css": "9"},
        [("a.css", f"a.{H}.css")]),
    "the same bytes: no clash": (
        {"a.css": f"a.{H}.css", f"a.{H}.css": "a.x.css"},
        {"a.css": "1", f"a.{H}.css": "2"}, {"a.css": "2", f"a.{H}.css": "2"}, []),
    "hash-like, but not a.css's hash": (
        {"a.css": "a.111111111111.css", f"a.{H}.css": "a.x.css"},
        {"a.css": "1", f"a.{H}.css": "9"}, {"a.css": "2", f"a.{H}.css": "9"}, []),
    "no extension, in a directory": (
        {"d/LICENSE": f"d/LICENSE.{H}", f"d/LICENSE.{H}": "x"},
        {"d/LICENSE": "1", f"d/LICENSE.{H}": "9"}, {"d/LICENSE": "1", f"d/LICENSE.{H}": "9"},
        [("d/LICENSE", f"d/LICENSE.{H}")]),
}


@pytest.mark.parametrize("case", COLLISIONS.values(), ids=COLLISIONS.keys())
def test_hashed_collisions(case: tuple) -> None:
    paths, digests, final, expected = case
    assert hashed_collisions(paths, list(digests), digests, final) == expected
