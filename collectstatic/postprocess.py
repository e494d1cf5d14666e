"""Post-processing: every collected file's hashed name, CSS/JS references
rewritten to them, in one graph-ordered pass.

``post_process`` is pure apart from its callbacks: it takes the md5 of every
collected file, reads the CSS/JS ones (``read``), hands each rewritten file's
final bytes to ``store`` where they are made (a worker process, mostly) and
what it returns to ``emit`` (or returns it in ``Processed.rewritten``), and
returns every hashed name and the problems found. The caller writes files
(in ``store``).

Order
-----
Every CSS/JS file is rewritten once with a resolver that answers the final
hashed names of non-CSS/JS targets (their names are their content's) and, for
CSS/JS targets, names of the final shape with a stand-in hash of each target's
own (the ignored blocks of Django's later patterns depend on the text the
earlier ones produced, so the shape must be right). A file that references no
other CSS/JS file -- most of them -- is final after that one pass. The others
are finished in dependency order (targets first, ``graph.levels``), so chains
of any depth work (Django gives up after 5 passes): by putting each target's
final hash in place of its stand-in, which gives the bytes a second rewrite
would (hex digits are no pattern's syntax; ``_stand_ins_swappable`` excludes
the texts where it would not), or else by reading and rewriting again.
``map_files`` may spread the first pass and those rewrites over processes.

Memory
------
No step holds every CSS/JS text: files are read when they are rewritten and
go in batches through ``map_files``; final bytes leave through ``store`` at
once, where they were made; a waiting file's first pass is kept for its
stand-ins to be swapped only up to a budget (``keep_bytes``, ``KEEP_BYTES``
by default), beyond which the file is read again when its targets are final.

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
listed in ``Processed.reused``: their bytes are neither emitted nor in
``rewritten``. (A file whose md5 is unchanged keeps its hashed name without it
being made again.) The files no change reaches through their targets are
taken in bulk first (``_Memo.unreached``), so a change costs about what it
reaches.

Problems (``errors``, ``warnings``) are listed in the files' name order.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .graph import is_cyclic, levels, strongly_connected
from .paths import DEFAULT_STATIC_URL
from .rewrite import Reference, RewriteResult, hashed_name, is_adjustable, rewrite_references

__all__ = ["KEEP_BYTES", "Emit", "MapFiles", "Processed", "Store", "post_process", "stand_in"]

Store = Callable[[str, str, bytes], Any]  # (logical name, hashed logical name, final bytes)
Emit = Callable[[str, str, Any], None]  # (logical name, hashed logical name, what store gave)
MapFiles = Callable[[Callable[[Any], Any], list[Any]], list[Any]]

# What a memo entry holds; another number makes an older memo count as none.
_MEMO_FORMAT = 5
_PLACEHOLDER = "0" * 32
# Files handed to ``map_files`` at a time: the answers of one batch (final
# bytes included) are all in memory together.
_BATCH = 1024
# First passes of waiting files kept for their stand-ins to be swapped (in
# bytes, or characters of a kept text); the rest are read again.
KEEP_BYTES = 32 << 20


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@dataclass(frozen=True)
class Processed:
    """What post-processing decided; nothing has been written by it."""

    paths: dict[str, str]  # logical name -> hashed logical name, every collected file
    # final bytes where they differ from the source (what ``store`` made of
    # them, if given), unless they went to ``emit``
    rewritten: dict[str, Any]
    integrity: dict[str, str]  # "sha384-..." SRI of the bytes that differ (emitted or not)
    final_digests: dict[str, str]  # md5 hexdigest of the final bytes, every collected file
    errors: list[str] = field(default_factory=list)  # broken references, undecodable files
    warnings: list[str] = field(default_factory=list)  # missing source maps
    memo: dict[str, Any] = field(default_factory=dict)  # give back as post_process(memo=)
    reused: frozenset[str] = frozenset()  # answered from the memo: bytes not recomputed
    sizes: dict[str, int] = field(default_factory=dict)  # sizes of the bytes that differ

    @property
    def rewritten_count(self) -> int:
        """How many files' bytes were made now and differ from their source."""
        return len(self.integrity)


def post_process(
    digests: Mapping[str, str],
    read: Callable[[str], bytes],
    *,
    static_url: str = DEFAULT_STATIC_URL,
    js_modules: bool = False,
    memo: Mapping[str, Any] | None = None,
    map_files: MapFiles | None = None,
    emit: Emit | None = None,
    store: Store | None = None,
    keep_bytes: int = KEEP_BYTES,
) -> Processed:
    """Hash every collected file and rewrite CSS/JS references, targets first.

    ``digests``: every collected logical name (posix, relative to root) -> md5
    hexdigest of its bytes. ``read(name)`` returns the bytes of a collected
    file; it is called only for CSS/JS files, once per file in a pass that
    needs its text (at most three times: first pass, the shared hash of a
    cycle or a rewrite once its targets are final). ``memo``: the
    ``Processed.memo`` of an earlier call (see the module docstring).
    ``map_files(function, names)``: ``[function(name) for name in names]``,
    perhaps in other processes (``function`` only reads; its answers are
    plain data). ``store(name, hashed, data)``: called where a file's final
    bytes are made, perhaps in another process, once per file whose final
    bytes differ from its source; what it returns (plain data; by default
    the bytes themselves) stands for them from then on: the bytes need not
    travel back. ``emit(name, hashed, stored)``: called in this process with
    it, once per such file, as soon as its bytes are final (in no particular
    order); then ``Processed.rewritten`` stays empty.
    ``keep_bytes``: how much of the first passes of files that wait for
    their targets may be kept meanwhile (the rest are read again).
    """
    return _PostProcess(digests, read, static_url=static_url, js_modules=js_modules,
                        memo=memo, map_files=map_files or _serial_map, emit=emit,
                        store=store or _as_they_are, keep_bytes=keep_bytes).run()


def stand_in(target: str) -> str:
    """The hash a CSS/JS target's name has in the first pass: its own, so that
    it can be told apart and replaced once the target's name is known."""
    return hashlib.md5(b"collectstatic stand-in\0" + target.encode("utf-8", "surrogatepass"),
                       usedforsecurity=False).hexdigest()


def _serial_map(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [function(item) for item in items]


def _as_they_are(name: str, hashed: str, data: bytes) -> bytes:
    return data


def _batched(map_files: MapFiles, function: Callable[[Any], Any], items: Sequence[Any]
             ) -> Iterator[tuple[Any, Any]]:
    """(item, function(item)) through ``map_files``, ``_BATCH`` items at a time."""
    for start in range(0, len(items), _BATCH):
        batch = list(items[start:start + _BATCH])
        yield from zip(batch, map_files(function, batch))


class _Rewritten(NamedTuple):
    """A CSS/JS file rewritten, as much of it as the answer needs (it may come
    back from another process: bytes travel cheaper than text, and most
    references need no more than their target)."""

    data: bytes | None  # UTF-8; None where it equals the source or went to ``store``
    digest: str  # md5 hexdigest of data
    integrity: str  # "sha384-..." of data (SRI)
    missing: list[Reference]  # references to no collected file
    targets: list[str]  # the collected files the others name, sorted
    # What directory-like references (url(img/), left as written) name that
    # no collected file is: were one collected, it would be among the targets.
    absent: list[str]
    size: int  # of data
    stored: Any = None  # what ``store`` gave for data, once it has taken them

    @classmethod
    def of(cls, result: RewriteResult, names: Mapping[str, object],
           source: str | None = None) -> _Rewritten:
        """``source``: the source's md5, to drop bytes that equal it."""
        named = {ref.target for ref in result.references if not ref.missing}
        # (not named.intersection(names): that walks all of ``names``, every collected file)
        targets = [target for target in named if target in names]
        return cls.made(result.text.encode("utf-8"),
                        [ref for ref in result.references if ref.missing],
                        sorted(targets), sorted(named.difference(names)), source)

    @classmethod
    def made(cls, data: bytes, missing: list[Reference], targets: list[str],
             absent: list[str], source: str | None = None) -> _Rewritten:
        # (hashed where the rewrite ran: in a worker process, not all in this one)
        sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")
        digest = _md5(data)
        return cls(None if digest == source else data, digest, sri, missing, targets, absent,
                   len(data))


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
            hashed = stand_in(ref.target)
            if ref.hashed == hashed_name(ref.target, hashed):
                counts[hashed[:12]] = counts.get(hashed[:12], 0) + 1
    return all(hashed not in text and result.text.count(hashed) == count
               for hashed, count in counts.items()) and not any(
        hashed in ref.written for ref in result.references for hashed in counts)


def _swap_stand_ins(first: _Rewritten, finals: Mapping[str, str]) -> _Rewritten:
    """The final rewrite of a waiting file: its first pass with the final
    hashes of its CSS/JS targets (``finals``: target -> final hashed name) in
    place of their stand-ins (see ``_stand_ins_swappable`` for when that is
    exact)."""
    assert first.data is not None
    swaps = {stand_in(target)[:12].encode(): _name_hash(final, target).encode()
             for target, final in finals.items()}
    data = first.data
    if swaps.keys().isdisjoint(swaps.values()):  # then no replacement meets another
        for hashed, final in swaps.items():
            data = data.replace(hashed, final)
    else:
        data = re.sub(b"|".join(swaps), lambda match: swaps[match.group()], data)
    return _Rewritten.made(data, first.missing, first.targets, first.absent)


def _name_hash(hashed: str, name: str) -> str:
    """The 12 hex digits ``hashed_name`` put into ``hashed``."""
    ext_size = len(posixpath.splitext(posixpath.basename(name))[1])
    return hashed[len(hashed) - ext_size - 12 : len(hashed) - ext_size]


def _decode(name: str, data: bytes) -> tuple[str | None, str | None]:
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        return None, (
            f"{name}: not valid UTF-8 (byte 0x{bad} at offset {exc.start}); "
            "its references were not rewritten"
        )


class _Component(NamedTuple):
    """The final rewrite of a component's members (None if one is not UTF-8),
    the members that are not, and the name hash a cycle's members share."""

    results: list[_Rewritten] | None
    problems: list[tuple[str, str]]
    shared: str | None


class _Rewriter:
    """The rewrites that may run in worker processes: they only read
    (``paths`` as it was when the work was handed out)."""

    def __init__(self, digests: Mapping[str, str], read: Callable[[str], bytes],
                 paths: Mapping[str, str], adjustable: set[str], static_url: str,
                 js_modules: bool, store: Store) -> None:
        self.digests = digests
        self.read = read
        self.store = store
        self.paths = paths
        self.adjustable = adjustable
        self.options = {"static_url": static_url, "js_modules": js_modules}

    def text(self, name: str) -> tuple[str | None, str | None]:
        return _decode(name, self.read(name))

    def stored(self, name: str, result: _Rewritten, shared: str | None = None) -> _Rewritten:
        """A final rewrite with its bytes given to ``store`` where they were
        made (``shared``: a cycle's name hash)."""
        if result.data is None:
            return result
        hashed = hashed_name(name, shared or result.digest)
        return result._replace(data=None, stored=self.store(name, hashed, result.data))

    def first_resolve(self, target: str) -> str | None:
        # Final names for non-CSS/JS targets; for CSS/JS ones, whose names are
        # not known yet, stand-ins of the final shape, one per target.
        if target not in self.digests:
            return None
        if target in self.adjustable:
            return hashed_name(target, stand_in(target))
        return self.paths[target]

    def first(self, name: str) -> _FirstPass:
        """The first pass over one CSS/JS file."""
        text, problem = self.text(name)
        if text is None:
            return _FirstPass(None, [], problem or "", None)
        result = rewrite_references(name, text, self.first_resolve, **self.options)
        waits_for = sorted({ref.target for ref in result.references
                            if not ref.missing and ref.target in self.adjustable})
        kept = None if not waits_for or _stand_ins_swappable(text, result) else text
        del text  # (not beside the new text and its bytes: a big bundle's memory)
        # (a file that waits keeps its bytes: the stand-ins are swapped in them)
        if waits_for:
            rewritten = _Rewritten.of(result, self.digests)
        else:
            rewritten = self.stored(name, _Rewritten.of(result, self.digests, self.digests[name]))
        return _FirstPass(rewritten, waits_for, "", kept)

    def component(self, component: list[str], texts: Mapping[str, str],
                  cyclic: bool) -> _Component:
        """Each member rewritten with its targets' final names."""
        own: dict[str, str] = {}
        problems = []
        for name in component:
            text = texts.get(name)
            if text is None:  # not kept: read again
                text, problem = self.text(name)
                if problem is not None:
                    problems.append((name, problem))
            if text is not None:
                own[name] = text
        if problems:
            return _Component(None, problems, None)
        resolve: Callable[[str], str | None] = self.paths.get
        shared = None
        if cyclic:
            shared = self.cycle_hash(component, own)
            shared_names = {name: hashed_name(name, shared) for name in component}
            resolve = lambda t: shared_names.get(t) or self.paths.get(t)  # noqa: E731
        results = [self.stored(name, _Rewritten.of(
            rewrite_references(name, own[name], resolve, **self.options), self.digests,
            self.digests[name]), shared) for name in component]
        return _Component(results, [], shared)

    def cycle_hash(self, component: list[str], own: Mapping[str, str]) -> str:
        """The name hash the members of a cycle share (module docstring)."""
        members = set(component)

        def resolve(target: str) -> str | None:
            return hashed_name(target, _PLACEHOLDER) if target in members \
                else self.paths.get(target)

        hasher = hashlib.md5()
        for name in component:
            text = rewrite_references(name, own[name], resolve, **self.options).text
            hasher.update(name.encode("utf-8") + b"\0" + text.encode("utf-8") + b"\0")
        return hasher.hexdigest()


class _Memo:
    """An earlier call's answer, where the settings are the same."""

    def __init__(self, memo: Mapping[str, Any] | None, settings: list[Any]) -> None:
        if not memo or memo.get("settings") != settings:
            memo = {}
        self.files: Mapping[str, Any] = memo.get("files", {})
        self.paths: Mapping[str, str] = memo.get("paths", {})  # every name's hashed name then
        self.digests: Mapping[str, str] = memo.get("digests", {})

    def hashed(self, name: str, digest: str) -> str | None:
        """A file's hashed name then, if its md5 is the same."""
        return self.paths.get(name) if self.digests.get(name) == digest else None

    def entry(self, name: str, digests: Mapping[str, str]) -> Mapping[str, Any] | None:
        """A CSS/JS file's entry, if its md5 and the set of files it names are the same."""
        entry = self.files.get(name)
        if entry is None or entry["md5"] != digests[name]:
            return None
        if not all(map(digests.__contains__, entry.get("targets", ()))) or \
                any(map(digests.__contains__, entry.get("missing", ()))):
            return None  # the set of collected files changed under it
        return entry

    def unreached(self, in_order: list[str], digests: Mapping[str, str]
                  ) -> tuple[list[tuple[str, Any]], list[str]]:
        """The remembered CSS/JS files that no change reaches, with their memo
        entries, and the other CSS/JS files (``in_order``'s order).

        A change is a file whose md5 is new, a file gone, or a CSS/JS file with no
        memo entry (its answer is made again); a file is reached when it or one of
        its targets changed, or when one of its missing targets is there now, and
        reached files are changes in turn. A reached file may still be found
        unchanged later: this only rules out the files that need no look.
        """
        changed = {name for name, digest in digests.items()
                   if self.digests.get(name) != digest}
        changed.update(self.digests.keys() - digests.keys())
        candidates = []
        for name in in_order:
            entry = self.files.get(name)
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


class _PostProcess:
    """One call of ``post_process``: the steps of ``run``, in order, over the
    answer being built."""

    def __init__(self, digests: Mapping[str, str], read: Callable[[str], bytes], *,
                 static_url: str, js_modules: bool, memo: Mapping[str, Any] | None,
                 map_files: MapFiles, emit: Emit | None, store: Store, keep_bytes: int) -> None:
        self.digests = digests
        self.names = sorted(digests)
        self.map_files = map_files
        self.emit = emit
        self.settings = [_MEMO_FORMAT, static_url, js_modules]
        self.memo = _Memo(memo, self.settings)
        self.adjustable = {name for name in self.names if is_adjustable(name, js_modules)}
        self.paths: dict[str, str] = {}
        self.rewriter = _Rewriter(digests, read, self.paths, self.adjustable, static_url,
                                  js_modules, store)
        self.final_digests: dict[str, str] = {}
        self.rewritten: dict[str, Any] = {}
        self.integrity: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        # Problems by file, reported in name order whichever way each answer was
        # reached (made now, or taken from the memo in bulk or one by one).
        self.errors: dict[str, list[str]] = {}
        self.warnings: dict[str, list[str]] = {}
        self.new_memo: dict[str, Any] = {}
        self.reused: set[str] = set()
        self.renamed: set[str] = set()  # files that are not CSS/JS whose hashed names changed
        self.candidates: dict[str, Mapping[str, Any]] = {}  # memo entries that may stand
        self.edges: dict[str, list[str]] = {}  # waiting file -> its CSS/JS targets
        # Kept for waiting files, within KEEP_BYTES: first passes whose
        # stand-ins can be swapped, or else the original texts.
        self.firsts: dict[str, _Rewritten] = {}
        self.texts: dict[str, str] = {}
        self.kept = 0
        self.keep_bytes = keep_bytes

    def run(self) -> Processed:
        self.name_the_others()
        in_order = [name for name in self.names if name in self.adjustable]
        if self.memo.files:
            in_order = self.take_unreached(in_order)
        self.first_pass(self.take_remembered(in_order))
        graph = {name: [t for t in targets if t in self.edges]
                 for name, targets in self.edges.items()}
        for level in levels(strongly_connected(sorted(graph), graph), graph):
            self.finish_level(level, graph)
        return self.answer()

    def name_the_others(self) -> None:
        """Files that are not CSS/JS: named by their content."""
        for name in self.names:
            if name not in self.adjustable:
                digest = self.digests[name]
                hashed = self.memo.hashed(name, digest)
                if hashed is None:
                    hashed = hashed_name(name, digest)
                    if hashed != self.memo.paths.get(name):
                        self.renamed.add(name)
                self.paths[name] = hashed
                self.final_digests[name] = digest

    def take(self, name: str, entry: Mapping[str, Any]) -> None:
        """A remembered file's answer, as it stands."""
        final = entry.get("final", entry["md5"])
        self.paths[name] = self.memo.paths.get(name) or hashed_name(name, final)
        self.final_digests[name] = final
        if "warnings" in entry:
            self.warnings[name] = entry["warnings"]
        self.new_memo[name] = entry
        self.reused.add(name)

    def take_unreached(self, in_order: list[str]) -> list[str]:
        """What no change reaches keeps its answer in bulk (a one-change run of
        a large tree would otherwise spend most of this call looking at every
        remembered file's targets); the rest, returned, go the way below."""
        settled, rest = self.memo.unreached(in_order, self.digests)
        for name, entry in settled:
            self.take(name, entry)
        return rest

    def take_remembered(self, in_order: list[str]) -> list[str]:
        """A remembered file that names no CSS/JS file is reused now (every
        name its answer depends on is known); one that does waits for its
        targets. Returns the files to rewrite."""
        todo = []
        for name in in_order:
            entry = self.memo.entry(name, self.digests)
            if entry is not None:
                self.candidates[name] = entry
                waits_for = [t for t in entry.get("targets", ()) if t in self.adjustable]
                if waits_for:
                    self.edges[name] = waits_for
                    continue
                if self.reuse(name):
                    continue
                del self.candidates[name]
            todo.append(name)
        return todo

    def reuse(self, name: str) -> bool:
        """Take a remembered file's answer if its targets' names are unchanged
        (those of its CSS/JS targets are known by now: targets come first)."""
        entry = self.candidates.get(name)
        if entry is None or not self.renamed.isdisjoint(entry.get("targets", ())):
            return False
        for target in self.edges.get(name, ()):
            if self.paths[target] != self.memo.paths.get(target):
                return False
        self.take(name, entry)
        return True

    def first_pass(self, todo: list[str]) -> None:
        """One pass over every other CSS/JS file: one whose references name no
        other CSS/JS file is final now (most are); the others wait."""
        for name, answer in _batched(self.map_files, self.rewriter.first, todo):
            if answer.rewritten is None:
                self.undecodable(name, answer.problem)
            elif answer.waits_for:
                self.edges[name] = answer.waits_for
                self.keep(name, answer)
            else:
                self.finish(name, answer.rewritten)

    def keep(self, name: str, answer: _FirstPass) -> None:
        """Keep what a waiting file's final rewrite can start from, within
        budget (beyond it, the file is read again when its targets are final)."""
        assert answer.rewritten is not None and answer.rewritten.data is not None
        size = len(answer.rewritten.data if answer.text is None else answer.text)
        if self.kept + size <= self.keep_bytes:
            self.kept += size
            if answer.text is None:
                self.firsts[name] = answer.rewritten
            else:
                self.texts[name] = answer.text

    def undecodable(self, name: str, problem: str) -> None:
        # copied unrewritten, named by its own bytes
        self.errors.setdefault(name, []).append(problem)
        self.paths[name] = hashed_name(name, self.digests[name])
        self.final_digests[name] = self.digests[name]

    def finish(self, name: str, result: _Rewritten, cyclic: bool = False) -> None:
        """A file's final answer (a cycle's members are named, and stored, already)."""
        digest = result.digest
        if not cyclic:
            self.paths[name] = hashed_name(name, digest)
        self.final_digests[name] = digest
        if digest != self.digests[name]:
            self.integrity[name] = result.integrity
            self.sizes[name] = result.size
            stored = self.rewriter.stored(name, result).stored  # (if not stored in a worker)
            if self.emit is None:
                self.rewritten[name] = stored
            else:
                self.emit(name, self.paths[name], stored)
        own_warnings = [ref.describe(name) for ref in result.missing if ref.warning]
        own_errors = [ref.describe(name) for ref in result.missing if not ref.warning]
        if own_warnings:
            self.warnings[name] = own_warnings
        if own_errors:
            self.errors[name] = own_errors
        elif not cyclic:
            self.remember(name, result, own_warnings)

    def remember(self, name: str, result: _Rewritten, own_warnings: list[str]) -> None:
        """The memo entry of a file with no broken reference (a reference to
        a directory, url(img/), is left as written: it names no file, so
        nothing about it can change)."""
        entry: dict[str, Any] = {"md5": self.digests[name]}
        if result.digest != self.digests[name]:
            entry.update(final=result.digest, integrity=result.integrity,
                         size=self.sizes[name])
        if result.targets:
            entry["targets"] = result.targets
        missing = sorted({ref.target for ref in result.missing}.union(result.absent))
        if missing:
            entry["missing"] = missing
        if own_warnings:
            entry["warnings"] = own_warnings
        self.new_memo[name] = entry

    def swap_stand_ins(self, name: str) -> _Rewritten | None:
        """A waiting file's final rewrite from its first pass, if that was kept."""
        first = self.firsts.pop(name, None)
        if first is None:
            return None
        self.kept -= len(first.data or b"")
        # (a target only named by a directory-like URL has no stand-in to find)
        return _swap_stand_ins(first, {target: self.paths[target] for target in first.targets
                                       if target in self.adjustable})

    def finish_level(self, components: list[list[str]], graph: Mapping[str, list[str]]
                     ) -> None:
        """The components of one level: reused, swapped, or rewritten (in
        worker processes, where ``map_files`` spreads them)."""
        work = []
        for component in components:
            cyclic = is_cyclic(component, graph)
            if not cyclic and self.reuse(component[0]):
                continue
            # Swaps here: one is cheaper than what a worker process costs to start.
            swapped = None if cyclic else self.swap_stand_ins(component[0])
            if swapped is not None:
                self.finish(component[0], swapped)
            else:
                work.append((component, cyclic))

        def rewrite(item: tuple[list[str], bool]) -> _Component:
            return self.rewriter.component(item[0], self.texts, item[1])

        for (component, _), answer in _batched(self.map_files, rewrite, work):
            self.finish_component(component, answer)

    def finish_component(self, component: list[str], answer: _Component) -> None:
        for name in component:  # (what was kept for a member is not needed any more)
            text = self.texts.pop(name, None)
            first = self.firsts.pop(name, None)
            if text is not None:
                self.kept -= len(text)
            if first is not None:
                self.kept -= len(first.data or b"")
        for name, problem in answer.problems:
            self.undecodable(name, problem)
        if answer.results is None:
            for name in component:  # one is undecodable: none can be rewritten
                self.paths.setdefault(name, hashed_name(name, self.digests[name]))
                self.final_digests.setdefault(name, self.digests[name])
            return
        if answer.shared is not None:
            for name in component:
                self.paths[name] = hashed_name(name, answer.shared)
        for name, result in zip(component, answer.results):
            self.finish(name, result, answer.shared is not None)

    def answer(self) -> Processed:
        def in_order(values: Mapping[str, Any]) -> dict[str, Any]:
            return {name: values[name] for name in self.names if name in values}

        paths = in_order(self.paths)
        return Processed(
            paths=paths, rewritten=in_order(self.rewritten), integrity=in_order(self.integrity),
            final_digests=in_order(self.final_digests),
            errors=[problem for name in sorted(self.errors) for problem in self.errors[name]],
            warnings=[warning for name in sorted(self.warnings)
                      for warning in self.warnings[name]],
            memo={"settings": self.settings, "files": dict(sorted(self.new_memo.items())),
                  "paths": paths, "digests": dict(self.digests)},
            reused=frozenset(self.reused), sizes=in_order(self.sizes),
        )
