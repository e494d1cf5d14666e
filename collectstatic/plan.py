"""What a run must do, decided from the listing and the record alone.

Pure functions, no file I/O: the run stats the sources and its recorded
outputs first and gives the answers in (``keys``, ``intact``, fingerprints).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from .codecs import ALGORITHMS
from .finders import Found
from .record import Answer, Shortcut, Source, StatKey, Versions

__all__ = ["CopyPlan", "Job", "Way", "hashed_collisions", "next_versions",
           "plan_copies", "stale_outputs", "standing_answer", "version_outputs"]


class Way(NamedTuple):
    """How a run brings files into root."""

    link: bool  # symlink the plain names instead of copying
    keep_plain: bool  # the plain (unhashed) names are outputs


class Job(NamedTuple):
    """A source to bring in."""

    found: Found
    stat: StatKey
    # The record's entry when it was brought in from the same path the same
    # way and its output is intact: maybe only touched (a checkout, a cache
    # restore), so read it first and write only if its bytes differ.
    same_as: Source | None


class CopyPlan(NamedTuple):
    unchanged: dict[str, Source]  # as recorded, with its output: nothing to do
    jobs: list[Job]  # to copy or link (in listing order)
    gone: list[str]  # recorded sources no longer listed


def plan_copies(files: Sequence[Found], keys: Sequence[StatKey],
                sources: Mapping[str, Source], intact: Collection[str], way: Way) -> CopyPlan:
    """Which of ``files`` (with their stat ``keys``) are as ``sources`` (the
    record) has them, and which must be brought in; ``intact``: the outputs
    that are as recorded."""
    link, keep = way
    unchanged: dict[str, Source] = {}
    jobs = []
    for found, key in zip(files, keys):
        old = sources.get(found.name)
        same_kind = old is not None and old.path == found.path and old.link == link and \
            old.keep == keep
        output_ok = not keep or found.name in intact
        if same_kind and output_ok and old.stat == key:  # type: ignore[union-attr]
            unchanged[found.name] = old  # type: ignore[assignment]
        else:
            jobs.append(Job(found, key, old if same_kind and output_ok else None))
    gone: list[str] = []
    if len(unchanged) != len(sources):  # (else every recorded source is listed)
        listed = {found.name for found in files}
        gone = [name for name in sources if name not in listed]
    return CopyPlan(unchanged, jobs, gone)


def standing_answer(shortcut: Shortcut | None, settings: str, inputs: str) -> Answer | None:
    """The last run's answer if it was made with these ``settings`` (their
    fingerprint) from these sources (``inputs``: names, paths, stat keys); it
    stands if its outputs are as it left them too (``Answer.outputs_key``)."""
    if shortcut is None or shortcut.answer is None:
        return None
    if shortcut.settings != settings or shortcut.inputs != inputs:
        return None
    return shortcut.answer


def stale_outputs(recorded: Iterable[str], wanted: Collection[str], old_plain: Collection[str],
                  replaced_all: bool, kept: Collection[str] = ()) -> list[str]:
    """The outputs earlier runs wrote that go now, sorted.

    ``replaced_all``: this run made a whole new set of outputs (it
    post-processed to the end, or does not post-process), so everything it
    does not want goes, but for the hashed outputs of earlier versions in
    ``kept`` (:func:`next_versions`). Otherwise (post-processing failed) the
    manifest and hashed outputs of earlier runs stay, for the old manifest to
    keep working: only plain copies in ``old_plain`` that are not wanted go.
    """
    if replaced_all:
        return sorted(name for name in recorded if name not in wanted and
                      (name not in kept or name in old_plain))
    return sorted(name for name in recorded if name in old_plain and name not in wanted)


_VARIANT_SUFFIXES = tuple(algorithm.suffix for algorithm in ALGORITHMS.values())


def _variant_of(name: str) -> str:
    """The name ``name`` is a compressed variant of, or ""."""
    for suffix in _VARIANT_SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return ""


def version_outputs(manifest: Mapping[str, str], variants: Iterable[str]) -> list[str]:
    """The hashed outputs a manifest names, with their compressed variants
    (``variants``: every variant made), sorted; unhashed names are not a
    version's (they follow their sources)."""
    hashed = {name for logical, name in manifest.items() if name != logical}
    return sorted([*hashed, *(name for name in variants if _variant_of(name) in hashed)])


def next_versions(last: Versions, current: Sequence[str], keep: int) -> Versions:
    """The versions after a run that post-processed to the end and whose
    manifest names the hashed outputs ``current`` (:func:`version_outputs`):
    the last run's becomes the newest earlier one unless it is the same, and
    of the earlier ones only the ``keep`` newest stay (bounded: a root does
    not grow with every change). A current file's variants are as the
    current settings make them (no longer compressed: its variants go)."""
    current = sorted(current)
    older = last.earlier
    if last.current and current != last.current:
        older = [last.current, *older]
    now = set(current)
    return Versions(current, [[name for name in names
                               if name not in now and _variant_of(name) not in now]
                              for names in older[:keep]])


_HASHED = re.compile(r"\.[0-9a-f]{12}(?=\.[^./]*$|$)")


def hashed_collisions(paths: Mapping[str, str], sources: Collection[str],
                      source_digests: Mapping[str, str], final_digests: Mapping[str, str]
                      ) -> list[tuple[str, str]]:
    """(logical name, its hashed name) where the hashed name is also a
    collected source's plain name with other bytes: ``a.6700e3e57796.css``
    beside ``a.css``. ``source_digests``: the md5 of each source's bytes;
    ``final_digests``: of each hashed output's."""
    collisions = []
    for name in sources:
        if not _HASHED.search(name):
            continue  # (most names: no 12-hex-digit part, no look-up)
        for logical in _unhashed(name):
            if paths.get(logical) == name and logical != name and \
                    final_digests.get(logical) != source_digests.get(name):
                collisions.append((logical, name))
    return sorted(collisions)


def _unhashed(name: str) -> list[str]:
    """The names whose hashed name could be ``name``."""
    return [name[:match.start()] + name[match.end():] for match in _HASHED.finditer(name)]
