"""The pure planner: what a run copies, keeps and deletes, from the listing
and the record alone (tables of cases, no files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectstatic.config import Source as Dir
from collectstatic.finders import Found
from collectstatic.plan import Way, hashed_collisions, plan_copies, stale_outputs, standing_answer
from collectstatic.record import Answer, Shortcut, Source

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
