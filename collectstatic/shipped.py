"""Trees that installed packages ship, collected by this tool, whose variants a site reuses.

An app package built with the hook carries its collected dir (e.g.
``myapp/staticfiles/``) beside its ``static/`` dir. A site that collects the
app's ``static/`` again produces the same bytes for every file the app ships
unchanged, so the app's ``.gz``/``.br``/``.zst`` siblings are the variants the
site would make, provided they were made by the same algorithm, level and
library version. The manifest says which (``collectstatic.compress`` in
docs/manifest.md); a tree whose manifest does not say is not used.

Discovery: for every source that is a package's ``static/`` dir, each direct
subdirectory of that package holding a manifest (``staticfiles.json`` or the
site's ``manifest-name``) with our ``collectstatic`` data is a shipped tree.

This module only finds candidates (by base name and size); the compressor
uses one only after it decompresses to the content's md5 (a not-worth-it
answer only after the shipped original has that md5), so a candidate that is
wrong for any reason is simply not used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, Optional

__all__ = ["Candidate", "ShippedTrees", "compress_data", "find_shipped"]

DEFAULT_MANIFEST = "staticfiles.json"


def compress_data(codecs: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """What the manifest records of ``codecs``: ``{coding: {"level": n, "library": "..."}}``."""
    return {codec.algorithm.coding: {"level": codec.level, "library": codec.version}
            for codec in codecs}


class Candidate(NamedTuple):
    """A shipped file that may hold a content, and its variant for one codec."""

    original: str  # the shipped file's path
    variant: Optional[str]  # its variant's path; None: the builder found none worth keeping


class _Tree(NamedTuple):
    root: str
    codecs: Mapping[str, Mapping[str, Any]]  # coding -> {"level", "library"}
    files: Mapping[str, Mapping[str, Any]]  # hashed name -> {"size", "encodings", ...}
    paths: Mapping[str, str]  # logical name -> hashed name


class ShippedTrees:
    """An index of the shipped trees' files by (base name, size)."""

    def __init__(self, trees: Iterable[_Tree]) -> None:
        self.trees = list(trees)
        # (base name, size or None) -> [(tree, name in the tree, its hashed name)]; the
        # plain copies of hashed files (keep-unhashed) have no size in the manifest.
        self.index: dict[tuple[str, int | None], list[tuple[_Tree, str, str]]] = {}
        for tree in self.trees:
            for name, data in tree.files.items():
                size = data.get("size")
                if isinstance(size, int) and isinstance(data.get("encodings"), Mapping):
                    key = (name.rsplit("/", 1)[-1], size)
                    self.index.setdefault(key, []).append((tree, name, name))
            for logical, hashed in tree.paths.items():
                if logical != hashed and isinstance(
                        tree.files.get(hashed, {}).get("encodings"), Mapping):
                    key = (logical.rsplit("/", 1)[-1], None)
                    self.index.setdefault(key, []).append((tree, logical, hashed))

    def __bool__(self) -> bool:
        return bool(self.index)

    def candidates(self, codec: Any, names: Iterable[str], size: int) -> list[Candidate]:
        """Shipped files that may have the bytes of ``names`` (``size`` bytes), made
        with ``codec``'s algorithm, level and library."""
        wanted = {"level": codec.level, "library": codec.version}
        coding, suffix = codec.algorithm.coding, codec.algorithm.suffix
        found = []
        for base in dict.fromkeys(name.rsplit("/", 1)[-1] for name in names):
            for tree, name, hashed in (*self.index.get((base, size), ()),
                                       *self.index.get((base, None), ())):
                made_with = tree.codecs.get(coding)
                if not isinstance(made_with, Mapping) or dict(made_with) != wanted:
                    continue
                original = os.path.join(tree.root, *name.split("/"))
                variant: str | None = original + suffix
                if name == hashed:
                    variant = variant if coding in tree.files[name]["encodings"] else None
                elif not os.path.isfile(variant):  # a plain copy: its variant, if any, is there
                    variant = None
                found.append(Candidate(original, variant))
        return found


def find_shipped(sources: Iterable[Any], manifest_name: str = DEFAULT_MANIFEST,
                 exclude: str | os.PathLike[str] | None = None) -> ShippedTrees:
    """The shipped trees beside the ``static/`` dirs among ``sources`` (``.path``),
    but not ``exclude`` (the run's own root, which an app may collect into)."""
    own = os.path.realpath(exclude) if exclude is not None else None
    trees = []
    seen: set[str] = set()
    names = dict.fromkeys((DEFAULT_MANIFEST, manifest_name))
    for source in sources:
        path = os.fspath(source.path)
        if os.path.basename(path) != "static":
            continue
        package = os.path.dirname(path)
        if package in seen:
            continue
        seen.add(package)
        try:
            entries = [entry.path for entry in os.scandir(package)
                       if entry.is_dir() and entry.name != "static"]
        except OSError:
            continue
        for directory in sorted(entries):
            if own is not None and os.path.realpath(directory) == own:
                continue
            tree = next((tree for name in names
                         for tree in [_read_tree(directory, name)] if tree), None)
            if tree is not None:
                trees.append(tree)
    return ShippedTrees(trees)


def _read_tree(directory: str, manifest_name: str) -> _Tree | None:
    """The tree at ``directory`` when its manifest says how its variants were made."""
    path = os.path.join(directory, *manifest_name.split("/"))
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return None  # not ours to judge: an unreadable tree is simply not reused
    ours = data.get("collectstatic") if isinstance(data, dict) else None
    if not isinstance(ours, dict) or ours.get("version") != 1:
        return None
    codecs, files, paths = ours.get("compress"), ours.get("files"), data.get("paths")
    if not isinstance(codecs, dict) or not isinstance(files, dict):
        return None
    return _Tree(directory, codecs,
                 {name: value for name, value in files.items()
                  if isinstance(name, str) and isinstance(value, dict)},
                 {name: value for name, value in (paths or {}).items()
                  if isinstance(name, str) and isinstance(value, str)}
                 if isinstance(paths, dict) else {})
