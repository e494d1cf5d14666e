"""post_process's graph pass against its definition, on random trees.

A CSS/JS file outside a cycle must end as ``rewrite_references`` makes it
with every target's final name, whether post_process got there by a second
rewrite or by putting the final hashes in place of the first pass's stand-ins,
and whether the files were spread over processes or not.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping

from hypothesis import example, given, settings
from hypothesis import strategies as st

from collectstatic._parallel import can_fork, parallel_map
from collectstatic.postprocess import Processed, post_process, stand_in
from collectstatic.rewrite import hashed_name, is_adjustable, rewrite_references

NAMES = ["a.css", "b.css", "c/d.css", "e.js", "f.js", "img/x.png"]


def stand_in_name(name: str) -> str:
    return hashed_name(name, stand_in(name))


_PIECES = [
    "url(b.css)", 'url("../b.css")', "url('c/d.css')", "url(a.css)", "url(img/x.png)",
    'url("../img/x.png")', '@import "b.css";', "@import 'c/d.css';", "url(missing.css)",
    'import x from "./e.js";', 'export {y} from "./f.js";', 'import "./f.js";',
    'import x, {export as y} from "./f.js";', "import('./e.js')",
    "/*# sourceMappingURL=b.css */", "//# sourceMappingURL=f.js",
    # the first pass's stand-ins, already in the text or next to a reference
    stand_in_name("b.css"), stand_in_name("c/d.css"), stand_in_name("f.js"),
    stand_in("b.css")[:12], stand_in("f.js")[:12], "000000000000",
    "/*", "*/", "'", '"', "`", "\\", "\n", " ", ";", "x", "{", "}",
]
_texts = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
_trees = st.fixed_dictionaries({name: _texts for name in NAMES if is_adjustable(name)})


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def run(files: Mapping[str, str], js_modules: bool, forked: bool) -> Processed:
    data = {name: text.encode() for name, text in files.items()}
    data["img/x.png"] = b"\x89PNG"
    options: dict = {}
    if forked:
        # Every list spread over two processes, however short.
        options["map_files"] = lambda function, items: parallel_map(
            function, items * 64, 2, threads=False)[: len(items)]
    return post_process({name: md5(content) for name, content in data.items()},
                        data.__getitem__, js_modules=js_modules, **options)


def in_cycle(files: Mapping[str, str], js_modules: bool) -> set[str]:
    """Names that reach themselves through CSS/JS references."""
    edges = {
        name: {ref.target for ref in rewrite_references(
            name, text, lambda t: t if t in files else None, js_modules=js_modules).references
            if ref.target in files and not ref.missing}
        for name, text in files.items()}
    cyclic = set()
    for start in files:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            node = todo.pop()
            if node == start:
                cyclic.add(start)
                break
            if node not in seen:
                seen.add(node)
                todo.extend(edges[node])
    return cyclic


@settings(max_examples=300, deadline=None)
@given(files=_trees, js_modules=st.booleans())
def test_every_acyclic_file_is_its_rewrite_with_the_final_names(
        files: dict[str, str], js_modules: bool) -> None:
    processed = run(files, js_modules, forked=False)
    cyclic = in_cycle(files, js_modules)
    expected_errors = []
    for name, text in sorted(files.items()):
        if name in cyclic:
            continue
        final = rewrite_references(name, text, processed.paths.get, js_modules=js_modules)
        got = processed.rewritten.get(name, text.encode())
        assert got == final.text.encode(), name
        assert processed.paths[name] == hashed_name(name, md5(got))
        expected_errors += [ref.describe(name) for ref in final.references
                            if ref.missing and not ref.warning]
    reported = [error for error in processed.errors
                if error.split(":", 1)[0] not in cyclic]
    assert sorted(reported) == sorted(expected_errors)


@settings(max_examples=100, deadline=None)
@given(files=_trees, js_modules=st.booleans())
def test_spread_over_processes_or_not_the_answer_is_the_same(
        files: dict[str, str], js_modules: bool) -> None:
    assert run(files, js_modules, forked=True) == run(files, js_modules, forked=False)


@settings(max_examples=200, deadline=None)
@given(files=_trees, js_modules=st.booleans(), keep_bytes=st.sampled_from([0, 40, 1 << 20]))
def test_emitted_bytes_are_the_rewritten_ones_whatever_is_kept(
        files: dict[str, str], js_modules: bool, keep_bytes: int) -> None:
    # With emit, each file whose bytes change is handed over once, with its
    # final hashed name, and nothing else of the answer differs; keeping
    # none of the waiting files' first passes (read again) changes nothing.
    data = {name: text.encode() for name, text in files.items()}
    data["img/x.png"] = b"\x89PNG"
    digests = {name: md5(content) for name, content in data.items()}
    emitted: dict[str, tuple[str, bytes]] = {}

    def emit(name: str, hashed: str, final: bytes) -> None:
        assert name not in emitted
        emitted[name] = (hashed, final)

    streamed = post_process(digests, data.__getitem__, js_modules=js_modules, emit=emit,
                            keep_bytes=keep_bytes)
    whole = run(files, js_modules, forked=False)
    assert emitted == {name: (whole.paths[name], final)
                       for name, final in whole.rewritten.items()}
    assert streamed.rewritten == {}
    assert streamed.sizes == {name: len(final) for name, final in whole.rewritten.items()}
    assert dataclasses.replace(streamed, rewritten=whole.rewritten) == whole


def test_store_takes_the_bytes_where_they_are_made_and_emit_gets_its_answer() -> None:
    # Files final after their first pass (most) are stored in the worker
    # process that rewrote them; the bytes do not come back, what store
    # returned does. A file that waits for its target is stored here.
    import os

    data = {f"css/{number}.css": f"p{{background:url(../img/x.png)}} /* {number} */".encode()
            for number in range(200)}
    data |= {"img/x.png": b"\x89PNG", "chain.css": b'@import "css/0.css";'}
    digests = {name: md5(content) for name, content in data.items()}
    emitted: dict[str, tuple] = {}

    def store(name: str, hashed: str, final: bytes) -> tuple:
        return os.getpid(), hashed, md5(final)

    def emit(name: str, hashed: str, stored: tuple) -> None:
        emitted[name] = stored

    def spread(function, items):
        return parallel_map(function, items, 2, threads=False)

    post_process(digests, data.__getitem__, map_files=spread, store=store, emit=emit)
    whole = post_process(digests, data.__getitem__)
    assert {name: stored[1:] for name, stored in emitted.items()} == {
        name: (whole.paths[name], md5(final)) for name, final in whole.rewritten.items()}
    assert emitted["chain.css"][0] == os.getpid()
    if can_fork():
        assert {stored[0] for stored in emitted.values()} - {os.getpid()}


def test_a_stand_in_already_in_the_text_stays_as_written() -> None:
    # The first pass names b.css with a stand-in hash; a copy of that hash
    # in a comment is the author's text, not a name to replace.
    hashed = stand_in("b.css")[:12]
    files = {"a.css": f"/* {hashed} */ @import url(b.css);", "b.css": "p{color:red}",
             "c/d.css": "", "e.js": "", "f.js": ""}
    processed = run(files, js_modules=False, forked=False)
    text = processed.rewritten["a.css"].decode()
    assert text == f'/* {hashed} */ @import url("{processed.paths["b.css"].split("/")[-1]}");'


def test_a_js_module_reference_is_met_once_and_named_finally() -> None:
    # The export pattern does not meet again what the import pattern wrote
    # (it would name a hashed name as a file, and fail); no stand-in is left.
    files = {"a.css": "", "b.css": "", "c/d.css": "",
             "e.js": 'import x, {export as y} from "./f.js";', "f.js": "var f;"}
    processed = run(files, js_modules=True, forked=False)
    final = processed.paths["f.js"]
    assert processed.errors == []
    assert processed.rewritten["e.js"].decode() == f'import x, {{export as y}} from "./{final}";'


def test_problems_are_reported_in_name_order() -> None:
    # a.css waits for b.css, so it is finished after it; its problems still come first.
    files = {"a.css": "url(b.css) url(gone-a.png)\n/*# sourceMappingURL=a.map */",
             "b.css": "url(gone-b.png)\n/*# sourceMappingURL=b.map */",
             "c/d.css": "", "e.js": "", "f.js": ""}
    processed = run(files, js_modules=False, forked=False)
    assert [problem.split(":", 1)[0] for problem in processed.errors] == ["a.css", "b.css"]
    assert [warning.split(":", 1)[0] for warning in processed.warnings] == ["a.css", "b.css"]


def _answer(processed: Processed, data: Mapping[str, bytes], skip: frozenset[str]) -> tuple:
    """What a caller writes and reports: each file's final bytes (but those
    of ``skip``, reused: on disk already), names, digests, problems (in the
    files' name order, however each answer was reached), memo."""
    final = {name: processed.rewritten.get(name, data[name]) for name in data
             if name not in skip}
    return (processed.paths, processed.final_digests, final, processed.errors,
            processed.warnings, processed.memo)


_IMAGE = st.sampled_from([b"\x89PNG", b"\x89PNG2"])
_CHANGES = st.dictionaries(st.sampled_from(NAMES), _texts.map(str.encode), max_size=2)


@settings(max_examples=500, deadline=None)
@given(before=_trees, image=_IMAGE, changes=_CHANGES, new_image=st.booleans(),
       gone=st.tuples(*[st.sets(st.sampled_from(NAMES), max_size=1)] * 2),
       js_modules=st.booleans())
@example(before={"a.css": "url(img/x.png)", "b.css": "", "c/d.css": "", "e.js": "", "f.js": ""},
         image=b"\x89PNG", changes={}, new_image=True, gone=(set(), set()), js_modules=False)
# a change two links away, the file that reaches it first in name order
@example(before={"a.css": "url(b.css)", "b.css": "url(img/x.png)", "c/d.css": "", "e.js": "",
                 "f.js": ""},
         image=b"\x89PNG", changes={}, new_image=True, gone=(set(), set()), js_modules=False)
# a source map that was missing is there now
@example(before={"a.css": "", "b.css": "", "c/d.css": "/*# sourceMappingURL=../b.css */",
                 "e.js": "", "f.js": ""},
         image=b"\x89PNG", changes={}, new_image=False, gone=({"b.css"}, set()), js_modules=False)
# a directory-like reference (left as written) to a name collected now
@example(before={"a.css": "", "b.css": "", "c/d.css": "", "f.js": "",
                 "e.js": "//# sourceMappingURL=f.js//# sourceMappingURL=f.js"},
         image=b"\x89PNG", changes={}, new_image=False, gone=({"f.js"}, set()), js_modules=False)
def test_an_answer_from_the_memo_is_the_answer_made_afresh(
        before: dict[str, str], image: bytes, changes: dict[str, bytes], new_image: bool,
        gone: tuple[set[str], set[str]], js_modules: bool) -> None:
    # A few files change (``changes``, the image by ``new_image``), one may
    # be new or gone (``gone``: not there before, after); with the first
    # tree's memo, the second tree's answer is the one made without it.
    old = {name: text.encode() for name, text in before.items()} | {"img/x.png": image}
    new = {**old, **{name: data for name, data in changes.items() if name != "img/x.png"}}
    if new_image:
        new["img/x.png"] = image + b"2"
    old = {name: data for name, data in old.items() if name not in gone[0]}
    new = {name: data for name, data in new.items() if name not in gone[1]}
    digests = {name: md5(content) for name, content in new.items()}
    first = post_process({name: md5(content) for name, content in old.items()},
                         old.__getitem__, js_modules=js_modules)
    read: list[str] = []

    def reading(name: str) -> bytes:
        read.append(name)
        return new[name]

    again = post_process(digests, reading, js_modules=js_modules, memo=first.memo)
    fresh = post_process(digests, new.__getitem__, js_modules=js_modules)
    assert _answer(again, new, again.reused) == _answer(fresh, new, again.reused)
    assert not again.reused & set(read)  # a reused file is not read
    if new == old:
        assert again.reused == set(first.memo["files"])  # nothing to redo
        assert again.memo == first.memo
