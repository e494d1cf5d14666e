"""Linear-time matchers for Django's JS-module ``import``/``export ... from`` regexes,
with the keywords matched as keywords.

Django 6.1 (``support_js_module_import_aggregation``) finds::

    import(?P<import>[\\s\\{][^;]*?|\\*\\s*as\\s*\\w+)\\s*from\\s*['"](?P<url>[./].*?)["']
    export(?P<exports>[\\s\\{][^;]*?)\\s*from\\s*["'](?P<url>[./].*?)["']

case-insensitively, so ``Import``, ``FROM`` and the ``Export`` at the end of
``readHotReloadableExport`` count as keywords. Here ``import``, ``export``,
``from`` and ``as`` match only in lower case (as JavaScript spells them), and
``import``/``export`` only where no identifier character (``\\w`` or ``$``)
comes before them (``KEYWORD_BEFORE``); otherwise the matches are the
regexes', in the same order.

The lazy ``[^;]*?`` makes ``finditer`` quadratic: every ``import`` not
followed by a ``from`` site before the next ``;`` scans to that ``;`` (or the
end of the file). These matchers take O(n log n):

A *site* is a position ``f`` where ``from\\s*['"](?P<url>[./].*?)["']`` matches.
For the lazy branch starting at ``p``, the regex stops at the smallest ``e >= p``
from which ``\\s*`` reaches a site; whitespace holds no ``;``, so that is the
first site ``f >= p`` provided no ``;`` lies in ``text[p:f]``, with ``e`` the
start of the whitespace run before ``f`` (or ``p``). ``tests/test_rewrite.py``
checks the equivalence against Django's regexes with hypothesis.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator

__all__ = ["KEYWORD_BEFORE", "export_matches", "import_matches"]

_Match = tuple[int, int, dict[str, str]]

# What may not come right before a keyword: it would be the end of an identifier.
KEYWORD_BEFORE = r"(?<![\w$])"
_IMPORT = re.compile(KEYWORD_BEFORE + "import")
_EXPORT = re.compile(KEYWORD_BEFORE + "export")
_SITE = re.compile(r"""from\s*['"](?P<url>[./].*?)["']""")
_FROM = re.compile("from")
_OPENER = re.compile(r"[\s\{]")
_STAR_AS = re.compile(r"\*\s*as\s*(\w+)")
_SPACE = re.compile(r"\s")


class _Text:
    """Sites, semicolons and whitespace runs of one text, found once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.semicolons = [m.start() for m in re.finditer(";", text)]
        self.sites: list[int] = []
        self.site_match: dict[int, re.Match[str]] = {}
        for found in _FROM.finditer(text):
            match = _SITE.match(text, found.start())
            if match:
                self.sites.append(found.start())
                self.site_match[found.start()] = match

    def next_semicolon(self, position: int) -> int:
        index = bisect_left(self.semicolons, position)
        return self.semicolons[index] if index < len(self.semicolons) else len(self.text)

    def first_site(self, position: int) -> int | None:
        index = bisect_left(self.sites, position)
        return self.sites[index] if index < len(self.sites) else None

    def last_site_before(self, low: int, high: int) -> int | None:
        """The largest site in ``[low, high)``."""
        index = bisect_left(self.sites, high) - 1
        if index >= 0 and self.sites[index] >= low:
            return self.sites[index]
        return None

    def space_run_start(self, site: int, floor: int) -> int:
        """Start of the whitespace run ending at ``site`` (not before ``floor``)."""
        start = site
        while start > floor and _SPACE.match(self.text, start - 1):
            start -= 1
        return start

    def skip_space(self, position: int) -> int:
        while position < len(self.text) and _SPACE.match(self.text, position):
            position += 1
        return position


def _lazy_branch(doc: _Text, keyword_end: int) -> tuple[int, int] | None:
    """``[\\s\\{][^;]*?\\s*from...`` at ``keyword_end``: (group end, site) or None."""
    if not _OPENER.match(doc.text, keyword_end):
        return None
    lazy_start = keyword_end + 1
    site = doc.first_site(lazy_start)
    if site is None or site > doc.next_semicolon(lazy_start):
        return None
    return doc.space_run_start(site, lazy_start), site


def _star_branch(doc: _Text, keyword_end: int) -> tuple[int, int] | None:
    """``\\*\\s*as\\s*\\w+\\s*from...``; ``\\w+`` backtracks from its longest."""
    star = _STAR_AS.match(doc.text, keyword_end)
    if star is None:
        return None
    word_start, word_end = star.span(1)
    after = doc.skip_space(word_end)
    if after in doc.site_match:
        return word_end, after
    # a shorter \w+ whose next characters are a site ("xfrom'./a'")
    site = doc.last_site_before(word_start + 1, word_end)
    if site is not None:
        return site, site
    return None


def _matches(keyword: re.Pattern[str], group: str, star: bool
             ) -> Callable[[str], Iterator[_Match]]:
    def matches(text: str) -> Iterator[_Match]:
        doc = _Text(text)
        if not doc.sites:
            return
        position = 0
        while True:
            found = keyword.search(text, position)
            if found is None:
                return
            start, keyword_end = found.span()
            branch = _lazy_branch(doc, keyword_end)
            if branch is None and star:
                branch = _star_branch(doc, keyword_end)
            if branch is None:
                position = start + 1
                continue
            group_end, site = branch
            site_match = doc.site_match[site]
            end = site_match.end()
            yield start, end, {"matched": text[start:end], group: text[keyword_end:group_end],
                               "url": site_match.group("url")}
            position = end

    return matches


import_matches = _matches(_IMPORT, "import", star=True)
export_matches = _matches(_EXPORT, "exports", star=False)
