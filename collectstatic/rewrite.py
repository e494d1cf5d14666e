"""Hashed names and CSS/JS reference rewriting: pure text transforms, no file I/O.

This is a port of Django 6.1's ``HashedFilesMixin`` (``patterns``,
``url_converter``, ``_url`` and the ignored-blocks logic) that produces the
same bytes for the same inputs, minus the storage indirection: the caller
passes ``resolve(logical_name) -> hashed logical name | None`` instead of a
storage that opens files.

Patterns are applied one after another to the whole text, each with its
ignored blocks (comments, strings, escapes) recomputed on the text as the
previous pattern left it, exactly like Django: this matters for byte identity.

Linear time
-----------
Django's ``url(...)`` regex, its block-comment alternative in the ignored-blocks
regex and its ``sourceMappingURL`` regexes are quadratic on adversarial input
(``url("a.png" )`` repeated, an unclosed ``/*`` followed by many ``/*``, a long
run of blanks after ``sourceMappingURL=``). They are replaced here by scanners
that find exactly the same matches (property-tested against Django's regexes)
in linear time. Django's ``@import`` and JS-module regexes are kept as is.

Deviations from Django
----------------------
Each is asserted by a test that names it (``tests/test_rewrite.py``).

(a) ``@import "x.css?v=1"`` / ``url(x.css?v=1)``: Django looks a name with a
    query string up on disk and inserts the hash of the *unprocessed* file,
    a name that is never written when ``x.css`` is itself rewritten. We use the
    final hashed name, as for the same reference without a query.
(b) ``url(%23id)``: Django decodes ``%23`` to ``#`` and then treats it as a
    fragment, producing ``#id#id``. We resolve the percent-decoded path as a
    file name (``#id``); when there is no such file it is reported like any
    broken reference.
(c) File names containing ``#``, ``?`` or ``%``: Django percent-decodes its
    output, so such a name turns into a fragment, a query or a bad escape.
    We percent-encode those three characters (``%23``, ``%3F``, ``%25``) in the
    rewritten URL and never decode them. (Django also mangles the *hashed
    file name* of such files; ``hashed_name`` here applies the plain rule.)
(d) ``DATA:``, ``HTTP:`` and other schemes in upper or mixed case are skipped
    like lower case ones (Django only skips ``^[a-z]+:`` and then fails).
(e) ``file:`` URLs are not skipped: they are reported as broken references
    (they never work from a web page, and nothing may read a local file).
(f) A reference that resolves outside the collected tree
    (``../../../../etc/passwd``) is a missing reference; ``resolve`` is never
    asked about it.
(g) ``//# sourceMappingURL=...`` on a CRLF line keeps its ``\\r`` (Django drops
    it, leaving one LF-terminated line in a CRLF file).
(h) A query string containing ``/`` (``url(a.png?p=x/y)``): Django replaces the
    text after the query's last ``/`` with the hashed name; we hash the path
    and keep the query.
(i) A missing ``sourceMappingURL`` target is reported with ``warning=True``
    and left untouched (Django fails the whole run).
(j) A reference naming a directory without a trailing slash (``url(.)``,
    ``url(img)``) is a missing reference; Django rewrites ``url(.)`` in
    ``css/a.css`` to ``url("css")``, which names ``css/css``.
(k) ``url( "x.png" )`` (blanks between the parenthesis and the quote): Django
    takes the quotes as part of the file name and fails; we read ``x.png``.
(l) A CSS/JS file that is not valid UTF-8 is reported and copied unrewritten
    (``postprocess.py``; Django fails with a traceback).
(m) JS modules: ``import``, ``export``, ``from`` and ``as`` are keywords,
    matched in lower case only, and ``import``/``export`` not at the end of an
    identifier. Django matches them in any case and inside identifiers:
    ``import { readHotReloadableExport } from './b.js'`` then fails on its own
    hashed name (``Export } from "./b.<hash>.js"``), and
    ``export { x as fooImport } from './b.js'`` is written as ``fooimport``.
(n) JS modules: each reference is met once. Django's later patterns match
    again inside what an earlier one rewrote (``import x, {export as y} from
    "./b.js"``: the export pattern then names ``b.<hash>.js`` as a file).
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import NamedTuple, cast
from urllib.parse import unquote, urldefrag

from ._jsmodules import KEYWORD_BEFORE, export_matches, import_matches
from .paths import DEFAULT_STATIC_URL

__all__ = [
    "Reference",
    "RewriteResult",
    "hashed_name",
    "is_adjustable",
    "rewrite_references",
]

Resolver = Callable[[str], "str | None"]

# --------------------------------------------------------------------------
# Hashed names


def hashed_name(name: str, digest: str) -> str:
    """``css/app.css`` + md5 hexdigest -> ``css/app.<first 12 hex>.css``.

    Django's ``HashedFilesMixin.hashed_name`` for a plain name: the hash goes
    before the last extension (``os.path.splitext`` rules: ``.htaccess`` and
    ``LICENSE`` have none, so the hash is appended).
    """
    # (posixpath.split/splitext/join by hand: this runs for every file of
    # every run that post-processes)
    head = name.rfind("/") + 1
    dot = name.rfind(".")
    if dot > head and name[head:dot].strip("."):  # a last dot after more than dots
        return f"{name[:dot]}.{digest[:12]}{name[dot:]}"
    return f"{name}.{digest[:12]}"


def is_adjustable(name: str, js_modules: bool = False) -> bool:
    """Whether Django would rewrite references in ``name`` (``*.css``, ``*.js``).

    ``js_modules`` adds patterns to ``*.js`` files, not new file types, so it
    does not change the answer; it is accepted to keep call sites explicit.
    """
    return name.endswith((".css", ".js"))  # fnmatchcase(name, "*.css") or "*.js", faster


# --------------------------------------------------------------------------
# Results


class Reference(NamedTuple):
    """One reference found in a CSS/JS file (skipped forms are not listed).

    (A named tuple: a large tree has tens of thousands, and a frozen
    dataclass sets each field through ``object.__setattr__``.)
    """

    line: int  # 1-based, in the original text
    column: int  # 1-based, in characters, a leading BOM not counted
    written: str  # the whole reference as written, e.g. url("../img/a.png")
    url: str  # the URL part as written, e.g. ../img/a.png
    target: str  # the logical name it resolves to (the URL itself for file:)
    missing: bool  # no collected file has that name: the text was left untouched
    kind: str  # "url" | "import" | "sourcemap" | "js-import"
    hashed: str | None = None  # the hashed logical name it now points at

    @property
    def warning(self) -> bool:
        """A missing source map is a warning, never an error."""
        return self.missing and self.kind == "sourcemap"

    def describe(self, name: str) -> str:
        """``css/site.css:12:18: url("x.png") -> css/x.png is not among ...``."""
        if self.target.lower().startswith("file:"):
            why = "is a file: URL, which never works on a web page"
        else:
            why = "is not among the collected files"
        return f"{name}:{self.line}:{self.column}: {self.written} -> {self.target} {why}"


@dataclass(frozen=True)
class RewriteResult:
    text: str
    references: list[Reference]

    @property
    def missing(self) -> list[Reference]:
        return [ref for ref in self.references if ref.missing]


# --------------------------------------------------------------------------
# Ignored blocks: comments, strings and escapes (Django 6.1 semantics)

# Django's regexes, kept for the string alternatives and as the reference the
# tests compare the scanner against.
DJANGO_CSS_IGNORED_RE = re.compile(
    r"/\*.*?\*/"  # block comment
    r"|\\."  # escape sequence
    r"|'(?:[^'\\\n]|\\.)*'"  # single-quoted string
    r'|"(?:[^"\\\n]|\\.)*"',  # double-quoted string
    re.DOTALL,
)
DJANGO_JS_IGNORED_RE = re.compile(
    r"/\*.*?\*/"  # block comment
    r"|//[^\n]*"  # line comment
    r"|\\."  # escape sequence
    r"|'(?:[^'\\\n]|\\.)*'"  # single-quoted string
    r'|"(?:[^"\\\n]|\\.)*"'  # double-quoted string
    r"|`(?:[^`\\]|\\.)*`",  # template literal
    re.DOTALL,
)
_STRING_RES = {
    "'": re.compile(r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'", re.DOTALL),
    '"': re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"', re.DOTALL),
    "`": re.compile(r"`[^`\\]*(?:\\.[^`\\]*)*`", re.DOTALL),
}
_CSS_CANDIDATES = re.compile(r"""[/\\'"]""")
_JS_CANDIDATES = re.compile(r"""[/\\'"`]""")


class _Finder:
    """``text.find(needle, u)`` for mostly increasing ``u`` in amortised linear time.

    Remembers the last search: no occurrence starts in ``[lo, hit)`` and
    ``hit`` is the first one at or after ``lo`` (-1: none).
    """

    __slots__ = ("hit", "lo", "needle", "text")

    def __init__(self, text: str, needle: str) -> None:
        self.text = text
        self.needle = needle
        self.lo = -1
        self.hit = -1

    def next(self, u: int) -> int:
        if self.lo >= 0:
            if self.lo <= u and (self.hit == -1 or u <= self.hit):
                return self.hit
            if u < self.lo:
                found = self.text.find(self.needle, u, self.lo + len(self.needle) - 1)
                if found != -1:
                    return found
                self.lo = u
                return self.hit
        self.lo = u
        self.hit = self.text.find(self.needle, u)
        return self.hit


def ignored_blocks(text: str, js: bool) -> list[tuple[int, int]]:
    """The spans ``re.finditer(Django's ignored-blocks regex, text)`` yields, in linear time.

    Django's block-comment alternative rescans to the end of the text from
    every ``/*`` after the last ``*/``; here one failed search answers them all.
    """
    blocks: list[tuple[int, int]] = []
    candidates = _JS_CANDIDATES if js else _CSS_CANDIDATES
    comment_end = _Finder(text, "*/")
    size = len(text)
    pos = 0
    while True:
        found = candidates.search(text, pos)
        if found is None:
            return blocks
        start = found.start()
        char = text[start]
        end = -1
        if char == "/":
            following = text[start + 1 : start + 2]
            if following == "*":
                close = comment_end.next(start + 2)
                if close != -1:
                    end = close + 2
            elif following == "/" and js:
                newline = text.find("\n", start)
                end = size if newline == -1 else newline
        elif char == "\\":
            if start + 1 < size:
                end = start + 2
        else:
            string = _STRING_RES[char].match(text, start)
            if string is not None:
                end = string.end()
        if end == -1:
            pos = start + 1
        else:
            blocks.append((start, end))
            pos = end


def _in_blocks(pos: int, starts: list[int], ends: list[int]) -> bool:
    """Django's ``is_in_ignored_block`` (``start < pos < end``), by bisection."""
    index = bisect.bisect_left(starts, pos) - 1
    return index >= 0 and pos < ends[index]


# --------------------------------------------------------------------------
# Patterns

_Match = tuple[int, int, dict]  # start, end, groupdict

# ``url(`` in any letter case (only ASCII letters fold to u, r, l), found as a
# ``(`` that follows it: a literal search, several times faster than ``(?i)url\(``.
_URL_OPEN = re.compile(r"\((?<=[uU][rR][lL]\()")
_BLANKS = re.compile(r"\s*")


def _url_functions(text: str) -> Iterator[_Match]:
    r"""The matches of Django's ``url\((?P<quote>['"]{0,1})\s*(?P<url>.*?)(?P=quote)\)``.

    (re.IGNORECASE, no DOTALL.) With a quote, the regex tries the quote first,
    then no quote. After ``\s*`` (greedy; giving blanks back cannot help since
    the terminator starts with a quote or ``)``), the lazy URL runs to the first
    terminator unless a newline comes first.
    """
    finders = {q: _Finder(text, q + ")") for q in ("", "'", '"')}
    newline = _Finder(text, "\n")
    pos = 0
    while True:
        opened = _URL_OPEN.search(text, pos + 3)  # the "(", so "url" starts at pos or later
        if opened is None:
            return
        start, after = opened.start() - 3, opened.end()
        first = text[after : after + 1]
        quotes = (first, "") if first in ("'", '"') else ("",)
        for quote in quotes:
            url_start = _BLANKS.match(text, after + len(quote)).end()
            close = finders[quote].next(url_start)
            if close == -1:
                continue
            line_end = newline.next(url_start)
            if line_end != -1 and line_end < close:
                continue
            end = close + len(quote) + 1
            groups = {"matched": text[start:end], "quote": quote, "url": text[url_start:close]}
            yield start, end, groups
            pos = end
            break
        else:
            pos = start + 1


_JS_MAP_HEAD = "//# sourceMappingURL="




def _map_heads(text: str, head: str) -> Iterator[int]:
    """Where lines start with ``head`` (``sourceMappingURL=`` is rare: one
    ``str.find`` for it is far faster than a multiline regex over the text);
    in ``head``, a tab matches a tab or a space."""
    key = "sourceMappingURL="
    before = len(head) - len(key)
    found = text.find(key, before)
    while found != -1:
        start = found - before
        if (start == 0 or text[start - 1] == "\n") and all(
                char == wanted or (wanted == "\t" and char == " ")
                for char, wanted in zip(text[start:found], head)):
            yield start
        found = text.find(key, found + 1)


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end == -1 else end


def _css_source_maps(text: str) -> Iterator[_Match]:
    r"""Django's ``(?m)^(?P<matched>/\*#[ \t](?-i:sourceMappingURL)=(?P<url>.*)[ \t]*\*/)$``.

    A whole line from ``/*#`` to a final ``*/``; the greedy URL keeps any blanks
    before ``*/``. ``$`` does not match before ``\r``: a CRLF line never matches.
    """
    head_size = len("/*# sourceMappingURL=")
    for start in _map_heads(text, "/*#\tsourceMappingURL="):
        end = _line_end(text, start)
        if end - start >= head_size + 2 and text.startswith("*/", end - 2):
            matched = text[start:end]
            yield start, end, {"matched": matched, "url": matched[head_size:-2]}


def _js_source_maps(text: str) -> Iterator[_Match]:
    r"""Django's ``(?m)^(?P<matched>//# (?-i:sourceMappingURL)=(?P<url>.*))$``."""
    head_size = len(_JS_MAP_HEAD)
    for start in _map_heads(text, _JS_MAP_HEAD):
        end = _line_end(text, start)
        matched = text[start:end]
        yield start, end, {"matched": matched, "url": matched[head_size:]}


def _regex_matches(regex: re.Pattern[str]) -> Callable[[str], Iterator[_Match]]:
    def matches(text: str) -> Iterator[_Match]:
        for match in regex.finditer(text):
            yield match.start(), match.end(), match.groupdict()

    return matches


class _Pattern(NamedTuple):
    kind: str
    matches: Callable[[str], Iterator[_Match]]
    template: str
    js_ignored: bool


_CSS_PATTERNS = (
    _Pattern("url", _url_functions, 'url("%(url)s")', js_ignored=False),
    _Pattern(
        "import",
        _regex_matches(
            re.compile(r"""(?P<matched>@import\s*["']\s*(?P<url>.*?)["'])""", re.IGNORECASE)
        ),
        '@import url("%(url)s")',
        js_ignored=False,
    ),
    _Pattern("sourcemap", _css_source_maps, "/*# sourceMappingURL=%(url)s */", js_ignored=False),
)
_JS_PATTERNS = (
    _Pattern("sourcemap", _js_source_maps, "//# sourceMappingURL=%(url)s", js_ignored=True),
)
# Django's first two JS-module regexes are quadratic (a lazy ``[^;]*?``): the
# matchers in _jsmodules.py give the same matches in linear time.
_JS_MODULE_PATTERNS = (
    _Pattern("js-import", import_matches, 'import%(import)s from "%(url)s"', True),
    _Pattern("js-import", export_matches, 'export%(exports)s from "%(url)s"', True),
    *(
        _Pattern("js-import", _regex_matches(re.compile(KEYWORD_BEFORE + regex)), template, True)
        for regex, template in (
            (r"""(?P<matched>import\s*['"](?P<url>[./].*?)["'])""", 'import"%(url)s"'),
            (r"""(?P<matched>import\(["'](?P<url>[./].*?)["']\))""", 'import("%(url)s")'),
        )
    ),
)
DJANGO_JS_MODULE_RES = (  # Django 6.1's own, for the equivalence tests
    re.compile(r"""(?P<matched>import(?P<import>[\s\{][^;]*?|\*\s*as\s*\w+)"""
               r"""\s*from\s*['"](?P<url>[./].*?)["'])""", re.IGNORECASE),
    re.compile(r"""(?P<matched>export(?P<exports>[\s\{][^;]*?)"""
               r"""\s*from\s*["'](?P<url>[./].*?)["'])""", re.IGNORECASE),
)


def _patterns_for(name: str, js_modules: bool) -> tuple[_Pattern, ...]:
    if fnmatchcase(name, "*.css"):
        return _CSS_PATTERNS
    if fnmatchcase(name, "*.js"):
        return _JS_PATTERNS + (_JS_MODULE_PATTERNS if js_modules else ())
    return ()


# --------------------------------------------------------------------------
# One reference: Django's url_converter + _url, with the deviations above

_QUOTED = re.compile(r"""(["'])(.*)\1\s*""")
_SCHEME = re.compile(r"[a-z]+:", re.IGNORECASE)
_KEPT_ESCAPES = re.compile(r"(%(?:23|25|3[fF]))")


def _unquote_keeping(text: str) -> str:
    """``unquote`` except ``%23``, ``%25`` and ``%3F``, which stay encoded (deviation c)."""
    if "%" not in text:
        return text
    parts = _KEPT_ESCAPES.split(text)
    return "".join(part if index % 2 else unquote(part) for index, part in enumerate(parts))


def _quote_special(segment: str) -> str:
    return segment.replace("%", "%25").replace("#", "%23").replace("?", "%3F")


_UNSEEN = object()


class _Found(NamedTuple):  # (one per reference met: a named tuple is made faster)
    target: str
    hashed: str | None
    replacement: str | None  # None: leave the matched text as it is


def _convert(
    name: str, groups: dict, template: str, resolve: Resolver, static_url: str, keep_cr: bool
) -> _Found | None:
    """Django's ``converter``: None for skipped forms, else what it resolved to."""
    url = groups["url"]
    if groups.get("quote") == "":
        quoted = _QUOTED.fullmatch(url)
        if quoted:  # url( "x.png" ): deviation (k)
            url = quoted.group(2)
    tail = ""
    if keep_cr and url.endswith("\r"):
        url, tail = url[:-1], "\r"
    if _SCHEME.match(url):
        if url[:5].lower() == "file:":
            return _Found(url, None, None)
        return None
    if url.startswith("//"):
        return None
    if url.startswith("/") and not url.startswith(static_url):
        return None
    url_path, fragment = urldefrag(url)
    if not url_path:
        return None
    if url_path.startswith("/"):
        relative, base = url_path[len(static_url) :], ""
    else:
        relative, base = url_path, posixpath.dirname(name)
    path, _, query = relative.partition("?")
    decoded = unquote(path)
    target = posixpath.normpath(posixpath.join(base, decoded)).strip()
    if not decoded.strip() or decoded.endswith("/"):
        # Django does not hash a directory or an empty path; the URL goes
        # through the template unchanged (apart from percent-decoding).
        hashed = None
        new_url = url_path
    else:
        if target in (".", "..") or target.startswith(("../", "/")):
            return _Found(target, None, None)
        hashed = resolve(target)
        if hashed is None:
            return _Found(target, None, None)
        segments = url_path.partition("?")[0].split("/")[:-1]
        segments.append(_quote_special(hashed.rsplit("/", 1)[-1]))
        new_url = "/".join(segments) + (f"?{query}" if query else "")
    if fragment:
        new_url += ("?#" if "?#" in url else "#") + fragment
    replacement = template % {**groups, "url": _unquote_keeping(new_url) + tail}
    return _Found(target, hashed, replacement)


# --------------------------------------------------------------------------
# Positions in the original text


class _Origin:
    """Maps a position in the text after N patterns back to the original text."""

    def __init__(self, original: str) -> None:
        self.text = original
        self.newlines: list[int] | None = None  # found when a position is first asked for
        self.bom = original.startswith("\ufeff")
        # per pass: output starts/ends and input starts/ends of each replacement
        self.passes: list[tuple[list[int], list[int], list[int], list[int]]] = []

    def add_pass(self, edits: list[tuple[int, int, int]]) -> None:
        out_starts, out_ends, in_starts, in_ends = [], [], [], []
        shift = 0
        for start, end, new_size in edits:
            out_starts.append(start + shift)
            out_ends.append(start + shift + new_size)
            in_starts.append(start)
            in_ends.append(end)
            shift += new_size - (end - start)
        self.passes.append((out_starts, out_ends, in_starts, in_ends))

    def original(self, pos: int) -> int:
        for out_starts, out_ends, in_starts, in_ends in reversed(self.passes):
            index = bisect.bisect_right(out_starts, pos) - 1
            if index < 0:
                continue
            if pos < out_ends[index]:
                inside = min(pos - out_starts[index], in_ends[index] - in_starts[index])
                pos = in_starts[index] + inside
            else:
                pos = pos - out_ends[index] + in_ends[index]
        return pos

    def line_column(self, pos: int) -> tuple[int, int]:
        pos = self.original(pos)
        if self.newlines is None:
            self.newlines = [m.start() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_left(self.newlines, pos)
        line_start = self.newlines[line - 1] + 1 if line else 0
        column = pos - line_start + 1
        if line == 0 and self.bom and pos > 0:
            column -= 1
        return line + 1, column


# --------------------------------------------------------------------------


def rewrite_references(
    name: str,
    text: str,
    resolve: Resolver,
    *,
    static_url: str = DEFAULT_STATIC_URL,
    js_modules: bool = False,
) -> RewriteResult:
    """Rewrite the references in the CSS/JS file ``name`` (a logical posix name).

    ``resolve(target)`` gives the final hashed logical name of a collected file,
    or None when no collected file has that name. A missing reference keeps its
    text and is listed with ``missing=True``; the caller decides whether that is
    an error (strict) or a warning. Files that are neither ``*.css`` nor ``*.js``
    come back unchanged.
    """
    state = _Rewriting(name, text, resolve, static_url)
    for pattern in _patterns_for(name, js_modules):
        state.apply(pattern)
    return RewriteResult(text=state.text, references=state.references)


class _Rewriting:
    """One file's text as the patterns leave it, one after another, and the
    references they met."""

    def __init__(self, name: str, text: str, resolve: Resolver, static_url: str) -> None:
        self.name = name
        self.text = text
        self.resolve = resolve
        self.static_url = static_url
        self.origin = _Origin(text)
        self.references: list[Reference] = []
        self.blocks_of: tuple[str, bool, list[int], list[int]] | None = None
        self.modules = _Taken()

    def blocks(self, js: bool) -> tuple[list[int], list[int]]:
        """The ignored blocks' starts and ends, found once per text (and only
        where a pattern matches)."""
        if self.blocks_of is None or self.blocks_of[0] is not self.text or \
                self.blocks_of[1] != js:
            blocks = ignored_blocks(self.text, js)
            self.blocks_of = (self.text, js, [start for start, _ in blocks],
                              [end for _, end in blocks])
        return self.blocks_of[2], self.blocks_of[3]

    def apply(self, pattern: _Pattern) -> None:
        text = self.text
        starts: list[int] = []
        ends: list[int] = []
        keep_cr = pattern.kind == "sourcemap" and pattern.js_ignored
        # (a JS-module reference is one: no later pattern matches inside it again)
        taken = self.modules if pattern.kind == "js-import" else None
        converted: dict[tuple, _Found | object | None] = {}  # minified files repeat URLs
        replacements: list[str] = []
        edits: list[tuple[int, int, int]] = []
        met: list[tuple[int, int, int]] = []
        for number, (start, end, groups) in enumerate(pattern.matches(text)):
            if number == 0:
                starts, ends = self.blocks(pattern.js_ignored)
            if _in_blocks(start, starts, ends) or (taken is not None and
                                                   taken.overlaps(start, end)):
                continue
            key = tuple(groups.values())
            seen = converted.get(key, _UNSEEN)
            if seen is _UNSEEN:
                seen = converted[key] = _convert(self.name, groups, pattern.template,
                                                 self.resolve, self.static_url, keep_cr)
            if seen is None:
                continue
            found = cast(_Found, seen)
            self.met(start, groups, found, pattern.kind)
            size = end - start
            if found.replacement is not None and found.replacement != groups["matched"]:
                replacements.append(found.replacement)
                size = len(found.replacement)
                edits.append((start, end, size))
            met.append((start, end, size))
        if taken is not None:
            taken.update(met)
        if edits:
            self.text = _edited(text, edits, replacements)
            self.origin.add_pass(edits)

    def met(self, start: int, groups: dict, found: _Found, kind: str) -> None:
        line, column = self.origin.line_column(start)
        self.references.append(Reference(
            line=line, column=column, written=groups["matched"].rstrip("\r"),
            url=groups["url"], target=found.target, missing=found.replacement is None,
            kind=kind, hashed=found.hashed))


def _edited(text: str, edits: list[tuple[int, int, int]], replacements: list[str]) -> str:
    """``text`` with each edit's span (start, end, _) replaced."""
    if len(edits) > 8:
        pieces = []
        last = 0
        for (start, end, _), replacement in zip(edits, replacements):
            pieces += (text[last:start], replacement)
            last = end
        pieces.append(text[last:])
        return "".join(pieces)
    # A few edits (a big bundle's source map line): appended in place, so
    # that the new text is not in memory twice, as pieces and joined, beside
    # the original.
    new = ""
    last = 0
    for (start, end, _), replacement in zip(edits, replacements):
        new += text[last:start]
        new += replacement
        last = end
    new += text[last:]
    return new


class _Taken:
    """Where the JS-module references met so far are, in the text as it is now."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self.starts, end) - 1  # (the spans are disjoint)
        return index >= 0 and self.ends[index] > start

    def update(self, met: list[tuple[int, int, int]]) -> None:
        """After a pass: ``met`` holds its references' (start, end, size after
        the pass), disjoint from the spans so far, which move with the edits."""
        if not met:
            return
        spans = sorted([*((s, e, e - s) for s, e in zip(self.starts, self.ends)), *met])
        self.starts, self.ends, shift = [], [], 0
        for start, end, size in spans:
            self.starts.append(start + shift)
            self.ends.append(start + shift + size)
            shift += size - (end - start)
