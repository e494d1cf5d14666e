"""Post-processing in one graph-ordered pass, and the ``staticfiles.json`` format.

``post_process`` is pure apart from the ``read`` callback: it takes the md5 of
every collected file, reads the CSS/JS ones, and returns every hashed name, the
rewritten bytes and the problems found. The caller writes files.

Order
-----
Every CSS/JS file is rewritten once with a resolver that answers the final
hashed names of non-CSS/JS targets (their names are their content's) and, for
CSS/JS targets, names of the final shape with a stand-in hash of each target's
own (the ignored blocks of Django's later patterns depend on the text the
earlier ones produced, so the shape must be right). A file that references no
other CSS/JS file -- most of them -- is final after that one pass. The others
are finished in dependency order (targets first), so chains of any depth work
(Django gives up after 5 passes): by putting each target's final hash in place
of its stand-in, which gives the bytes a second rewrite would (hex digits are
no pattern's syntax; ``_stand_ins_swappable`` excludes the texts where it
would not), or else by rewriting again. ``map_files`` may spread the first
pass and those rewrites over processes.

Cycles
------
When CSS/JS files reference each other in a cycle (``a.css`` <-> ``b.css``, or a
file referencing itself), no content hash can include the others' hashed names.
Django fails with "Max post-process passes exceeded". Here every member of a
strongly connected component gets the *same* name hash::

    md5(for each member, in name order:
            name, NUL, its text with the component's own references replaced by
            a fixed placeholder (12 zeros) and every other reference resolved, NUL)

and each member is then rewritten with the members' names hashed that way. The
names change whenever any member or anything the component references changes,
and the answer does not depend on input order. ``final_digests`` still holds the
md5 of each member's final bytes.

Memo
----
A CSS/JS file's final bytes depend only on its own bytes and the hashed names
of the files it references (and the settings). ``Processed.memo`` records, per
file, the content md5 and the targets (and where rewriting changed the bytes,
the final md5, SRI and size), and every name's md5 and hashed name; given back
as ``memo=``, every acyclic file whose content and targets' hashed names are
unchanged keeps its answer without being read or rewritten. Such files are
listed in ``Processed.reused``: their bytes are not in ``rewritten``. (A file
whose md5 is unchanged keeps its hashed name without it being made again.)
The files no change reaches through their targets are taken in bulk first
(``_unreached``), so a change costs about what it reaches.

Problems (``errors``, ``warnings``) are listed in the files' name order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .rewrite import Reference, RewriteResult, hashed_name, is_adjustable, rewrite_references

__all__ = ["Processed", "manifest_bytes", "post_process", "read_manifest"]

MANIFEST_VERSION = "1.1"
_PLACEHOLDER = "0" * 32


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@dataclass(frozen=True)
class Processed:
    """What post-processing decided; nothing has been written yet."""

    paths: dict[str, str]  # logical name -> hashed logical name, every collected file
    rewritten: dict[str, bytes]  # final bytes, only where they differ from the source
    integrity: dict[str, str]  # "sha384-..." SRI of those bytes
    final_digests: dict[str, str]  # md5 hexdigest of the final bytes, every collected file
    errors: list[str] = field(default_factory=list)  # broken references, undecodable files
    warnings: list[str] = field(default_factory=list)  # missing source maps
    memo: dict[str, Any] = field(default_factory=dict)  # give back as post_process(memo=)
    reused: frozenset[str] = frozenset()  # answered from the memo: bytes not recomputed

    @property
    def rewritten_count(self) -> int:
        return len(self.rewritten)


def _strongly_connected(nodes: list[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components come out targets first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        if not edges.get(root):  # (most files: nothing below them, their own component)
            index[root] = low[root] = counter
            counter += 1
            components.append([root])
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


# What a memo entry holds; another number makes an older memo count as none.
_MEMO_FORMAT = 5


class _Rewritten(NamedTuple):
    """A CSS/JS file rewritten, as much of it as the answer needs (it may come
    back from another process: bytes travel cheaper than text, and most
    references need no more than their target)."""

    data: bytes  # UTF-8
    digest: str  # md5 hexdigest of data
    integrity: str  # "sha384-..." of data (SRI)
    missing: list[Reference]  # references to no collected file
    targets: list[str]  # the collected files the others name, sorted
    # What directory-like references (url(img/), left as written) name that
    # no collected file is: were one collected, it would be among the targets.
    absent: list[str]

    @classmethod
    def of(cls, result: RewriteResult, names: Mapping[str, object]) -> _Rewritten:
        named = {ref.target for ref in result.references if not ref.missing}
        return cls.made(result.text.encode("utf-8"),
                        [ref for ref in result.references if ref.missing],
                        sorted(named.intersection(names)), sorted(named.difference(names)))

    @classmethod
    def made(cls, data: bytes, missing: list[Reference], targets: list[str],
             absent: list[str]) -> _Rewritten:
        # (hashed where the rewrite ran: in a worker process, not all in this one)
        sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")
        return cls(data, _md5(data), sri, missing, targets, absent)


class _FirstPass(NamedTuple):
    rewritten: _Rewritten | None  # None: not UTF-8 (``problem`` says where)
    waits_for: list[str]  # CSS/JS targets, named by stand-ins in ``rewritten``
    problem: str
    text: str | None  # the original, kept only where the stand-ins cannot be swapped


def _stand_ins_swappable(text: str, result: RewriteResult) -> bool:
    """Whether putting the final hashes in place of the stand-ins in the first
    pass of ``text`` gives the same bytes and references as rewriting again.

    Hex digits are no pattern's syntax, so either hash makes the same matches,
    unless a stand-in is already in the text (the swap would change the
    author's text) or a later pattern met a name an earlier one wrote (its
    reference would quote the stand-in): each stand-in must occur exactly once
    per reference that put it there, and nowhere in what references quote.
    """
    counts: dict[str, int] = {}
    for ref in result.references:
        if ref.hashed is not None:
            stand_in = _stand_in(ref.target)
            if ref.hashed == hashed_name(ref.target, stand_in):
                counts[stand_in[:12]] = counts.get(stand_in[:12], 0) + 1
    return all(stand_in not in text and result.text.count(stand_in) == count
               for stand_in, count in counts.items()) and not any(
        stand_in in ref.written for ref in result.references for stand_in in counts)


def _stand_in(target: str) -> str:
    """The hash a CSS/JS target's name has in the first pass: its own, so that
    it can be told apart and replaced once the target's name is known."""
    return hashlib.md5(b"collectstatic stand-in\0" + target.encode("utf-8", "surrogatepass"),
                       usedforsecurity=False).hexdigest()


def _name_hash(hashed: str, name: str) -> str:
    """The 12 hex digits ``hashed_name`` put into ``hashed``."""
    ext_size = len(posixpath.splitext(posixpath.basename(name))[1])
    return hashed[len(hashed) - ext_size - 12 : len(hashed) - ext_size]


def _serial_map(function: Callable[[str], Any], items: list[str]) -> list[Any]:
    return [function(item) for item in items]


def _decode(name: str, data: bytes) -> tuple[str | None, str | None]:
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        return None, (
            f"{name}: not valid UTF-8 (byte 0x{bad} at offset {exc.start}); "
            "its references were not rewritten"
        )


def post_process(
    digests: Mapping[str, str],
    read: Callable[[str], bytes],
    *,
    static_url: str = "/static/",
    js_modules: bool = False,
    memo: Mapping[str, Any] | None = None,
    map_files: Callable[[Callable[[str], Any], list[str]], list[Any]] | None = None,
) -> Processed:
    """Hash every collected file and rewrite CSS/JS references, targets first.

    ``digests``: every collected logical name (posix, relative to root) -> md5
    hexdigest of its bytes. ``read(name)`` returns the bytes of a collected file;
    it is called at most once per CSS/JS file (twice for a member of a cycle)
    and for nothing else. ``memo``: the ``Processed.memo`` of an earlier call
    (see the module docstring).
    ``map_files(function, names)``: ``[function(name) for name in names]``,
    perhaps in other processes, for the first pass over the CSS/JS files
    (``function`` only reads; its answers are plain data).
    """
    if map_files is None:
        map_files = _serial_map
    names = sorted(digests)
    paths: dict[str, str] = {}
    final_digests: dict[str, str] = {}
    rewritten: dict[str, bytes] = {}
    integrity: dict[str, str] = {}
    # Problems by file, reported in name order whichever way each answer was
    # reached (made now, or taken from the memo in bulk or one by one).
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    settings = [_MEMO_FORMAT, static_url, js_modules]
    old: Mapping[str, Any] = {}
    old_paths: Mapping[str, str] = {}  # every name's hashed name then
    old_digests: Mapping[str, str] = {}
    if memo and memo.get("settings") == settings:
        old = memo.get("files", {})
        old_paths, old_digests = memo.get("paths", {}), memo.get("digests", {})
    new_memo: dict[str, Any] = {}
    reused: set[str] = set()

    def remembered(name: str) -> Mapping[str, Any] | None:
        entry = old.get(name)
        if entry is None or entry["md5"] != digests[name]:
            return None
        if not all(map(digests.__contains__, entry.get("targets", ()))) or \
                any(map(digests.__contains__, entry.get("missing", ()))):
            return None  # the set of collected files changed under it
        return entry

    in_order = [name for name in names if is_adjustable(name, js_modules)]
    adjustable = set(in_order)
    renamed: set[str] = set()  # files that are not CSS/JS whose hashed names changed
    for name in names:
        if name not in adjustable:
            digest = digests[name]
            hashed = old_paths.get(name) if old_digests.get(name) == digest else None
            if hashed is None:
                hashed = hashed_name(name, digest)
                if hashed != old_paths.get(name):
                    renamed.add(name)
            paths[name] = hashed
            final_digests[name] = digest

    texts: dict[str, str] = {}  # originals of waiting files whose stand-ins cannot be swapped

    def undecodable(name: str, problem: str) -> None:
        errors.setdefault(name, []).append(problem)  # copied unrewritten, named by its own bytes
        paths[name] = hashed_name(name, digests[name])
        final_digests[name] = digests[name]

    def rewrite(name: str, text: str, resolve: Callable[[str], str | None]) -> _Rewritten:
        return _Rewritten.of(rewrite_references(name, text, resolve, static_url=static_url,
                                                js_modules=js_modules), digests)

    def finish(name: str, result: _Rewritten, cyclic: bool = False) -> None:
        digest = result.digest
        if not cyclic:
            paths[name] = hashed_name(name, digest)
        final_digests[name] = digest
        if digest != digests[name]:
            rewritten[name] = result.data
            integrity[name] = result.integrity
        own_warnings, own_errors = [], []
        for ref in result.missing:
            (own_warnings if ref.warning else own_errors).append(ref.describe(name))
        if own_warnings:
            warnings[name] = own_warnings
        if own_errors:
            errors[name] = own_errors
        if not cyclic and all(ref.warning for ref in result.missing):
            # (a reference to a directory, url(img/), is left as written: it
            # names no file, so nothing about it can change)
            targets = result.targets
            entry: dict[str, Any] = {"md5": digests[name]}
            if digest != digests[name]:
                entry.update(final=digest, integrity=result.integrity, size=len(result.data))
            if targets:
                entry["targets"] = targets
            missing = sorted({ref.target for ref in result.missing}.union(result.absent))
            if missing:
                entry["missing"] = missing
            if own_warnings:
                entry["warnings"] = own_warnings
            new_memo[name] = entry

    def first_pass(target: str) -> str | None:
        # Final names for non-CSS/JS targets; for CSS/JS ones, whose names are
        # not known yet, stand-ins of the final shape, one per target.
        if target not in digests:
            return None
        return hashed_name(target, _stand_in(target)) if target in adjustable else paths[target]

    def first_rewrite(name: str) -> _FirstPass:
        text, problem = _decode(name, read(name))
        if text is None:
            return _FirstPass(None, [], problem or "", None)
        result = rewrite_references(name, text, first_pass, static_url=static_url,
                                    js_modules=js_modules)
        waits_for = sorted({ref.target for ref in result.references
                            if not ref.missing and ref.target in adjustable})
        swappable = not waits_for or _stand_ins_swappable(text, result)
        return _FirstPass(_Rewritten.of(result, digests), waits_for, "",
                          None if swappable else text)

    firsts: dict[str, _Rewritten] = {}  # first passes of waiting files, stand-ins to swap

    def swap_stand_ins(name: str) -> _Rewritten | None:
        """The final rewrite of a waiting file: its first pass with the final
        hashes of its CSS/JS targets in place of their stand-ins (see
        ``_stand_ins_swappable`` for when that is exact)."""
        first = firsts.get(name)
        if first is None:
            return None
        # (a target only named by a directory-like URL has no stand-in to find)
        swaps = {_stand_in(target)[:12].encode(): _name_hash(paths[target], target).encode()
                 for target in first.targets if target in adjustable}
        data = first.data
        if swaps.keys().isdisjoint(swaps.values()):  # then no replacement meets another
            for stand_in, final in swaps.items():
                data = data.replace(stand_in, final)
        else:
            data = re.sub(b"|".join(swaps), lambda match: swaps[match.group()], data)
        return _Rewritten.made(data, first.missing, first.targets, first.absent)

    candidates: dict[str, Mapping[str, Any]] = {}

    def reuse(name: str) -> bool:
        """Take a remembered file's answer if its targets' names are unchanged
        (those of its CSS/JS targets are known by now: targets come first)."""
        entry = candidates.get(name)
        if entry is None or not renamed.isdisjoint(entry.get("targets", ())):
            return False
        for target in edges.get(name, ()):
            if paths[target] != old_paths.get(target):
                return False
        final = entry.get("final", entry["md5"])
        paths[name] = old_paths.get(name) or hashed_name(name, final)  # (the same name)
        final_digests[name] = final
        if "warnings" in entry:
            warnings[name] = entry["warnings"]
        new_memo[name] = entry
        reused.add(name)
        return True

    if old:
        # What no change reaches keeps its answer in bulk (a one-change run of
        # a large tree would otherwise spend most of this call looking at
        # every remembered file's targets); the rest go the way below.
        settled, in_order = _unreached(in_order, old, digests, old_digests)
        for name, entry in settled:
            final = entry.get("final", entry["md5"])
            paths[name] = old_paths.get(name) or hashed_name(name, final)
            final_digests[name] = final
            if "warnings" in entry:
                warnings[name] = entry["warnings"]
            new_memo[name] = entry
        reused.update(name for name, _ in settled)

    # One pass over every other CSS/JS file: a file whose references name no other
    # CSS/JS file is final now (most are); the others wait for their targets.
    # A remembered file that names none is reused now: every name its answer
    # depends on is known already.
    edges: dict[str, list[str]] = {}
    todo = []
    for name in in_order:
        entry = remembered(name)
        if entry is not None:
            candidates[name] = entry
            waits_for = [target for target in entry.get("targets", ()) if target in adjustable]
            if waits_for:
                edges[name] = waits_for
                continue
            if reuse(name):
                continue
            del candidates[name]
        todo.append(name)
    for name, answer in zip(todo, map_files(first_rewrite, todo)):
        if answer.rewritten is None:
            undecodable(name, answer.problem)
        elif answer.waits_for:
            edges[name] = answer.waits_for
            if answer.text is None:
                firsts[name] = answer.rewritten
            else:
                texts[name] = answer.text
        else:
            finish(name, answer.rewritten)
    graph = {name: [t for t in targets if t in edges] for name, targets in edges.items()}

    def rewrite_component(component: list[str]) -> tuple[
            list[_Rewritten] | None, list[tuple[str, str]], str | None]:
        """The final rewrite of each member (None if one is not UTF-8), the
        members that are not, and the name hash a cycle's members share."""
        own: dict[str, str] = {}
        problems = []
        for name in component:
            text = texts.get(name)
            if text is None:  # first read: a remembered file that must be redone
                text, problem = _decode(name, read(name))
                if problem is not None:
                    problems.append((name, problem))
            if text is not None:
                own[name] = text
        if problems:
            return None, problems, None
        resolve: Callable[[str], str | None] = paths.get
        shared = None
        if cyclic(component):
            members = set(component)
            hasher = hashlib.md5()
            for name in component:
                text = rewrite_references(name, own[name], lambda t: (
                    hashed_name(t, _PLACEHOLDER) if t in members else paths.get(t)),
                    static_url=static_url, js_modules=js_modules).text  # (only hashed)
                hasher.update(name.encode("utf-8") + b"\0" + text.encode("utf-8") + b"\0")
            shared = hasher.hexdigest()
            shared_names = {name: hashed_name(name, shared) for name in component}
            resolve = lambda t: shared_names.get(t) or paths.get(t)  # noqa: E731
        return [rewrite(name, own[name], resolve) for name in component], [], shared

    def cyclic(component: list[str]) -> bool:
        return len(component) > 1 or component[0] in graph[component[0]]

    # The files that wait for CSS/JS targets, a level at a time: a component's
    # level is one above its highest target's, so each level's components
    # need only names known already and can be rewritten side by side.
    levels: list[list[list[str]]] = []
    level_of: dict[str, int] = {}
    for component in _strongly_connected(sorted(graph), graph):  # targets first
        members = set(component)
        level = 1 + max((level_of[target] for name in component for target in graph[name]
                         if target not in members), default=-1)
        level_of.update(dict.fromkeys(component, level))
        if level == len(levels):
            levels.append([])
        levels[level].append(component)
    for level_components in levels:
        pending = [component for component in level_components
                   if cyclic(component) or not reuse(component[0])]
        # Swaps here: one is cheaper than what a worker process costs to start.
        swapped = {component[0]: swap_stand_ins(component[0]) for component in pending
                   if not cyclic(component)}
        work = [component for component in pending if swapped.get(component[0]) is None]
        answers = dict(zip(map(tuple, work), map_files(rewrite_component, work)))
        for component in pending:
            firsts.pop(component[0], None)
            final = swapped.get(component[0])
            if final is not None:
                finish(component[0], final)
                continue
            results, problems, shared = answers[tuple(component)]
            for name, problem in problems:
                undecodable(name, problem)
            if results is None:
                for name in component:  # one is undecodable: none can be rewritten
                    paths.setdefault(name, hashed_name(name, digests[name]))
                    final_digests.setdefault(name, digests[name])
                continue
            if shared is not None:
                for name in component:
                    paths[name] = hashed_name(name, shared)
            for name, result in zip(component, results):
                finish(name, result, shared is not None)
                texts.pop(name, None)

    final_paths = {name: paths[name] for name in names}
    return Processed(
        paths=final_paths,
        rewritten={name: rewritten[name] for name in names if name in rewritten},
        integrity={name: integrity[name] for name in names if name in integrity},
        final_digests={name: final_digests[name] for name in names},
        errors=[problem for name in sorted(errors) for problem in errors[name]],
        warnings=[warning for name in sorted(warnings) for warning in warnings[name]],
        memo={"settings": settings, "files": dict(sorted(new_memo.items())),
              "paths": final_paths, "digests": dict(digests)},
        reused=frozenset(reused),
    )


def _unreached(in_order: list[str], old: Mapping[str, Any], digests: Mapping[str, str],
               old_digests: Mapping[str, str]) -> tuple[list[tuple[str, Any]], list[str]]:
    """The remembered CSS/JS files that no change reaches, with their memo
    entries, and the other CSS/JS files (``in_order``'s order).

    A change is a file whose md5 is new, a file gone, or a CSS/JS file with no
    memo entry (its answer is made again); a file is reached when it or one of
    its targets changed, or when one of its missing targets is there now, and
    reached files are changes in turn. A reached file may still be found
    unchanged later: this only rules out the files that need no look.
    """
    changed = {name for name, digest in digests.items() if old_digests.get(name) != digest}
    changed.update(old_digests.keys() - digests.keys())
    candidates = []
    for name in in_order:
        entry = old.get(name)
        if entry is None or name in changed or entry["md5"] != digests[name]:
            changed.add(name)
        else:
            candidates.append((name, entry))
    while True:  # once more for each link of the longest chain of references reached
        unreached = []
        for candidate in candidates:
            entry = candidate[1]
            if changed.isdisjoint(entry.get("targets", ())) and \
                    changed.isdisjoint(entry.get("missing", ())):
                unreached.append(candidate)
            else:
                changed.add(candidate[0])
        if len(unreached) == len(candidates):
            return unreached, [name for name in in_order if name in changed]
        candidates = unreached


def manifest_bytes(paths: Mapping[str, str], extra: Mapping[str, object] | None = None) -> bytes:
    """``staticfiles.json`` exactly as Django 6.x's ``save_manifest`` writes it.

    ``{"paths": {sorted}, "version": "1.1", "hash": md5[:12] of the sorted
    items}``, default ``json.dumps`` separators and ASCII; ``extra`` keys follow
    Django's (Django ignores them when loading).
    """
    items = sorted(paths.items())
    payload: dict[str, object] = {
        "paths": dict(items),
        "version": MANIFEST_VERSION,
        "hash": _md5(json.dumps(items).encode())[:12],
    }
    for key, value in (extra or {}).items():
        if key in payload:
            raise ValueError(f"extra manifest key {key!r} would replace Django's")
        payload[key] = value
    return json.dumps(payload).encode()


def read_manifest(data: bytes) -> dict:
    """Parse a manifest written by Django (1.0/1.1) or by us; raise ValueError if unusable.

    Tolerates a UTF-8 BOM, surrounding whitespace, a missing ``hash`` and extra
    keys; the result always has ``paths`` (str -> str), ``version`` and ``hash``.
    """
    try:
        stored = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not a staticfiles manifest: {exc}") from None
    if not isinstance(stored, dict):
        raise ValueError("not a staticfiles manifest: expected a JSON object")
    version = stored.get("version")
    if version not in ("1.0", "1.1"):
        raise ValueError(f"unsupported staticfiles manifest version {version!r}")
    paths = stored.get("paths", {})
    if not isinstance(paths, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in paths.items()
    ):
        raise ValueError("not a staticfiles manifest: 'paths' must map names to names")
    manifest = dict(stored)
    manifest["paths"] = paths
    manifest.setdefault("hash", "")
    return manifest
