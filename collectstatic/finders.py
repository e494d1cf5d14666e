"""Source listing and lookup with Django's finder semantics.

Ignore patterns follow ``django.contrib.staticfiles.utils.get_files``: a file
is skipped when its basename matches, or its path relative to its source dir
(prefix not included) matches; a directory is pruned when its basename
matches. Matching is case-sensitive ``fnmatch``. The order of sources is the
search order; the first file found for a logical name wins.
"""

from __future__ import annotations

import errno
import fnmatch
import operator
import os
import posixpath
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from .config import Settings, Source
from .errors import CollectError
from .paths import is_within

__all__ = ["Found", "Listing", "find", "find_collectable", "list_sources", "name_collisions",
           "suggest"]


class Found(NamedTuple):
    """One collectable file (a named tuple: a large tree has tens of thousands)."""

    name: str  # logical name in root: prefix + relative path, posix
    path: str  # absolute path of the source file (as found, symlinks not resolved)
    source: Source


@dataclass
class Listing:
    """The result of walking every source: what to collect, and what lost."""

    files: dict[str, Found] = field(default_factory=dict)
    conflicts: list[Found] = field(default_factory=list)  # shadowed by an earlier source
    unused_patterns: list[str] = field(default_factory=list)  # user patterns that never matched


class _Ignore:
    """``fnmatchcase`` against each pattern, as one regex; remembers which matched."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns
        # (the listing calls ``match`` itself, and ``note`` only on a hit)
        self.match = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
                                if patterns else "(?!)").match
        self.used: set[str] = set()

    def __call__(self, name: str) -> bool:
        return self.match(name) is not None and self.note(name)

    def note(self, name: str) -> bool:
        """Remember the patterns ``name`` matches (it matches one); True."""
        self.used.update(p for p in self.patterns if fnmatch.fnmatchcase(name, p))
        return True


def _walk(source: Source, ignored: _Ignore,
          allowed: tuple[str, ...] | None) -> list[str]:
    """Paths relative to ``source.path`` (os.sep-joined): a directory's files in
    name order, then its subdirectories', depth first.

    (Every file of every run passes through here, so it is a flat loop over an
    explicit stack, not nested generators.)"""
    found: list[str] = []
    match, note = ignored.match, ignored.note
    # Each directory to read, with the identities of those above it: a symlink
    # back into one of them is a loop.
    pending: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [(str(source.path), "", ())]
    while pending:
        directory, relative, above = pending.pop()  # relative: "" or ends in os.sep
        identity, entries = _read_directory(directory, above)
        subdirs = []
        for entry in entries:
            name = entry.name
            if match(name) and note(name):
                continue  # an ignored name is never looked at, link or not
            try:
                is_dir = entry.is_dir()
                special = not is_dir and not entry.is_file()  # a FIFO, socket or device
            except OSError:
                is_dir = special = False
            rel = relative + name
            if not is_dir and relative and match(rel) and note(rel):
                continue
            if entry.is_symlink():
                _check_link(entry.path, allowed)
            if is_dir:
                subdirs.append((entry.path, rel + os.sep))
            elif special:  # (reading a FIFO would wait forever)
                raise CollectError(f"{entry.path}: not a regular file (a FIFO, socket "
                                   f"or device); remove it or add its name to ignore")
            else:
                found.append(rel)
        above += (identity,)
        pending.extend((path, rel, above) for path, rel in reversed(subdirs))
    return found


_entry_name = operator.attrgetter("name")


def _read_directory(directory: str, above: tuple[tuple[int, int], ...]
                    ) -> tuple[tuple[int, int], list[os.DirEntry[str]]]:
    """The directory's identity and its entries in name order; a directory
    that is one of those ``above`` it (reached through a symlink) is a loop."""
    try:
        info = os.stat(directory)
    except OSError as exc:
        raise CollectError(f"{directory}: cannot read directory ({exc.strerror})") from None
    identity = (info.st_dev, info.st_ino)
    if identity in above:
        raise CollectError(f"{directory}: symlink loop (it leads back to a directory "
                           f"above it); remove the link or add its name to ignore")
    try:
        with os.scandir(directory) as scan:
            return identity, sorted(scan, key=_entry_name)
    except OSError as exc:
        raise CollectError(f"{directory}: cannot read directory ({exc.strerror})") from None


def _check_link(path: str, allowed: tuple[str, ...] | None) -> None:
    """Broken links and loops of links are errors; so are links leaving ``allowed``
    (None: any target)."""
    target = os.path.realpath(path)
    if not os.path.exists(target):
        if _is_loop(path):
            raise CollectError(f"{path}: symlink loop (it points to {os.readlink(path)!r}, "
                               f"which leads round in a circle); remove the link or add its "
                               f"name to ignore")
        raise CollectError(f"{path}: broken symlink (it points to {os.readlink(path)!r}, "
                           f"which does not exist); fix or remove it, or ignore its name")
    if allowed is not None and not any(is_within(target, root) for root in allowed):
        raise CollectError(f"{path}: symlink leads outside the project and its source dirs "
                           f"(to {target}); copy the files into the project, or set "
                           f"follow-external-symlinks = true to collect through it")


def _is_loop(path: str) -> bool:
    """Whether resolving the link ``path`` goes round in circles (``l1 -> l2 -> l1``)."""
    try:
        os.stat(path)
    except OSError as exc:
        # (Windows: ERROR_CANT_RESOLVE_FILENAME)
        return exc.errno == errno.ELOOP or getattr(exc, "winerror", None) == 1921
    return False


def _allowed_roots(settings: Settings) -> tuple[str, ...]:
    roots = {os.path.realpath(settings.project_root)}
    roots.update(os.path.realpath(source.path) for source in settings.sources)
    return tuple(sorted(roots))


def list_sources(settings: Settings, extra_ignore: tuple[str, ...] = ()) -> Listing:
    """Walk every source in order; first found wins."""
    user_patterns = [posixpath.normpath(p) for p in (*settings.ignore, *extra_ignore)]
    ignored = _Ignore(tuple(dict.fromkeys([*user_patterns, *settings.ignore_patterns])))
    allowed = None if settings.follow_external_symlinks else _allowed_roots(settings)
    listing = Listing()
    files = listing.files
    for source in settings.sources:
        top = os.path.join(str(source.path), "")  # with one separator at the end
        head = f"{source.prefix}/" if source.prefix else ""
        for rel in _walk(source, ignored, allowed):
            name = head + (rel.replace(os.sep, "/") if os.sep != "/" else rel)
            found = Found(name, top + rel, source)
            if name in files:
                listing.conflicts.append(found)
            else:
                files[name] = found
    listing.unused_patterns = [p for p in dict.fromkeys(user_patterns) if p not in ignored.used]
    return listing


def name_collisions(names: Iterable[str]) -> list[tuple[str, ...]]:
    """Groups of names that differ only in letter case or Unicode normalization
    (``Logo.png``/``logo.png``, NFC/NFD ``é``): one file on macOS and Windows."""
    names = list(names)
    if all(map(str.isascii, names)) and len(set(map(str.lower, names))) == len(names):
        return []  # (the common case, in C: ASCII names that differ in more than case)
    groups: dict[str, list[str]] = {}
    normalize = unicodedata.normalize
    for name in names:
        # (ASCII has one normal form, and casefold is lower there: most names are ASCII)
        key = name.lower() if name.isascii() else \
            normalize("NFC", normalize("NFD", name).casefold())
        groups.setdefault(key, []).append(name)
    return sorted(tuple(sorted(group)) for group in groups.values() if len(group) > 1)


def find(settings: Settings, name: str, *, first: bool = False) -> list[str]:
    """Django's ``findstatic``: absolute real paths of every source file named
    ``name`` (only the first with ``first=True``), in search order."""
    matches = []
    for source in settings.sources:
        relative = name
        if source.prefix:
            head = source.prefix + "/"
            if not name.startswith(head):
                continue
            relative = name[len(head):]
        candidate = os.path.normpath(os.path.join(str(source.path), relative))
        if not is_within(candidate, source.path):
            continue  # ../ escapes are never looked up
        if os.path.exists(candidate):
            matches.append(os.path.realpath(candidate))
            if first:
                break
    return matches


def find_collectable(settings: Settings, name: str) -> Found | None:
    """The source file that collect would collect as ``name``, or ``None``.

    What :func:`list_sources` would list under that name, without walking
    every source: the first source holding the file whose ignore patterns
    (matched as the listing matches them) and symlink rules let it through.
    """
    parts = name.split("/")
    if "\\" in name or "\x00" in name or any(part in ("", ".", "..") for part in parts):
        return None
    match = _Ignore(settings.ignore_patterns).match
    allowed = None if settings.follow_external_symlinks else _allowed_roots(settings)
    for source in settings.sources:
        relative = parts
        if source.prefix:
            head = source.prefix.split("/")
            if parts[:len(head)] != head:
                continue
            relative = parts[len(head):]
        # A directory whose name matches is pruned; a file is skipped when its
        # name or its path in the source (prefix not included) matches.
        if not relative or any(match(part) for part in relative) or \
                (len(relative) > 1 and match(os.sep.join(relative))):
            continue
        path = os.path.join(str(source.path), *relative)
        if not os.path.isfile(path):
            continue
        target = os.path.realpath(path)
        if allowed is None or any(is_within(target, root) for root in allowed):
            return Found(name, path, source)
    return None


def suggest(settings: Settings, name: str, *, limit: int = 3) -> list[str]:
    """Logical names close to ``name``, for a lookup that found nothing: those
    with the same basename (``site.css`` -> ``css/site.css``), else the
    :func:`difflib.get_close_matches`, as the runtime's manifest lookups do."""
    import difflib  # (only for a miss)

    try:
        names = list(list_sources(settings).files)
    except CollectError:
        return []  # the listing's own error is ``collect``'s to report
    base = name.rstrip("/").rsplit("/", 1)[-1]
    same_base = sorted(n for n in names if n.rsplit("/", 1)[-1] == base)
    return same_base[:limit] or difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
