"""HTTP header logic for serving static files: pure functions, no I/O.

Each function takes request header values as WSGI passes them (``str`` holding
the raw bytes as latin-1, PEP 3333) and facts about a file, and returns a
decision. None of them raises, whatever the bytes: a header that cannot be
used is ignored, as RFC 9110 asks (an unusable ``Range`` sends the whole file,
an unusable ``If-Modified-Since`` does not make a ``304``).

:func:`decide` puts them together for one request; the WSGI apps in
:mod:`collectstatic.serve` turn its :class:`Decision` into a response.
"""

from __future__ import annotations

import datetime
import email.utils
import mimetypes
import os
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, Protocol

__all__ = [
    "UNSATISFIABLE",
    "ByteRange",
    "Decision",
    "Representation",
    "RequestHeaders",
    "accepted_codings",
    "choose_coding",
    "content_type",
    "decide",
    "http_date",
    "if_range_holds",
    "make_etag",
    "not_modified",
    "parse_http_date",
    "parse_range",
]

# -- content types ------------------------------------------------------------------
# Our own table first: the system's mime.types differs between machines.
_TYPES = {
    ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript",
    ".cjs": "text/javascript", ".json": "application/json", ".map": "application/json",
    ".webmanifest": "application/manifest+json", ".wasm": "application/wasm",
    ".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".xml": "text/xml",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon", ".woff": "font/woff", ".woff2": "font/woff2",
    ".ttf": "font/ttf", ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject",
    ".pdf": "application/pdf", ".mp4": "video/mp4", ".webm": "video/webm",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".gz": "application/gzip",
    ".br": "application/x-brotli", ".zst": "application/zstd", ".zip": "application/zip",
}
_CHARSET_TYPES = ("text/", "application/json", "application/manifest+json",
                  "image/svg+xml", "application/javascript")
_mimetypes = mimetypes.MimeTypes()  # Python's built-in table only, not /etc/mime.types


def content_type(name: str) -> str:
    """The ``Content-Type`` for a file name (the file itself, not a compressed view)."""
    ext = os.path.splitext(name)[1].lower()
    kind = _TYPES.get(ext)
    if kind is None:
        guessed, encoding = _mimetypes.guess_type(name, strict=False)
        kind = guessed if guessed and not encoding else "application/octet-stream"
    if kind.startswith(_CHARSET_TYPES):
        kind += "; charset=utf-8"
    return kind


# -- validators -----------------------------------------------------------------------
# time.gmtime's range on every platform we run on: years 1970 to 9999.
_LAST_DATE = 253402300799


def http_date(mtime: float) -> str:
    """``Last-Modified`` for a file's mtime (IMF-fixdate), clamped to 1970-9999
    so that a file stamped far in the future or the past still gets one."""
    return email.utils.formatdate(min(max(mtime, 0), _LAST_DATE), usegmt=True)


def make_etag(mtime: float, size: int, coding: str = "identity",
              checksum: int | None = None) -> str:
    """A strong ``ETag``: from mtime and size, or from a content ``checksum``
    (files held in memory have no trustworthy mtime). Each coding of one file
    gets its own tag on the same base (RFC 9110 8.8.3)."""
    tag = f"{checksum:x}-{size:x}" if checksum is not None else f"{int(mtime):x}-{size:x}"
    return f'"{tag}"' if coding == "identity" else f'"{tag}-{coding}"'


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?P<mon>" + "|".join(_MONTHS) + ")"
_TIME = r"(?P<hour>[0-9]{2}):(?P<min>[0-9]{2}):(?P<sec>[0-9]{2})"
# RFC 9110 5.6.7: IMF-fixdate, and the obsolete rfc850 and asctime forms.
_DATE_FORMS = [re.compile(form, re.ASCII) for form in (
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?P<day>[0-9]{{2}}) {_MONTH} (?P<year>[0-9]{{4}}) "
    rf"{_TIME} GMT",
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (?P<day>[0-9]{{2}})-"
    rf"{_MONTH}-(?P<year>[0-9]{{2}}) {_TIME} GMT",
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) {_MONTH} (?P<day>[ 0-9][0-9]) {_TIME} "
    rf"(?P<year>[0-9]{{4}})",
)]


def parse_http_date(value: str, now: float | None = None) -> int | None:
    """An HTTP-date -> POSIX timestamp; ``None`` for anything else (RFC 9110
    asks to ignore a date that is not a valid HTTP-date).

    A two-digit year (rfc850 form) more than 50 years after ``now`` (default:
    the clock) is the latest past year with those digits, as RFC 9110 says.
    """
    for form in _DATE_FORMS:
        match = form.fullmatch(value.strip())
        if match is not None:
            break
    else:
        return None
    year = int(match["year"])
    if len(match["year"]) == 2:
        this_year = time.gmtime(time.time() if now is None else now).tm_year
        year += this_year - this_year % 100
        if year > this_year + 50:
            year -= 100
    try:  # (a leap second counts as the second before it)
        stamp = datetime.datetime(year, _MONTHS.index(match["mon"]) + 1, int(match["day"]),
                                  int(match["hour"]), int(match["min"]),
                                  min(int(match["sec"]), 59), tzinfo=datetime.timezone.utc)
    except ValueError:  # 31 Feb, hour 25, year 0
        return None
    return int(stamp.timestamp())


def not_modified(if_none_match: str | None, if_modified_since: str | None,
                 etag: str, mtime: int) -> bool:
    """Whether a ``GET``/``HEAD`` gets ``304`` (RFC 9110 13.1.2, 13.1.3).

    ``If-None-Match`` takes precedence and compares weakly; ``*`` matches.
    An ``If-Modified-Since`` that is not a valid HTTP-date is ignored.
    """
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or any((tag[2:] if tag.startswith("W/") else tag) == etag
                                  for tag in tags)
    if not if_modified_since:
        return False
    since = parse_http_date(if_modified_since)
    return since is not None and mtime <= since


def if_range_holds(if_range: str | None, etag: str, last_modified: str) -> bool:
    """Whether a ``Range`` applies under ``If-Range`` (RFC 9110 13.1.5): no
    header, or exactly the current (strong) ``ETag`` or ``Last-Modified``."""
    return not if_range or if_range.strip() in (etag, last_modified)


# -- ranges ---------------------------------------------------------------------------
class ByteRange(NamedTuple):
    """The bytes to send, ``first`` to ``last`` inclusive."""

    first: int
    last: int


UNSATISFIABLE = ByteRange(-1, -1)  # a well-formed range past the end: 416
_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.ASCII | re.IGNORECASE)
# No file has 10**18 bytes; a longer number is not worth converting (and past
# Python's int-parsing limit it cannot be): such a Range is ignored.
_MAX_DIGITS = 18


def parse_range(header: str, size: int) -> ByteRange | None:
    """One ``bytes=`` range of a ``size``-byte file -> the bytes to send,
    :data:`UNSATISFIABLE`, or ``None`` to ignore the header (send it all):
    other units, several ranges, anything malformed (RFC 9110 14.2 lets a
    server ignore a Range)."""
    match = _RANGE.fullmatch(header)
    if match is None:
        return None
    first, last = match.groups()
    if len(first.lstrip("0")) > _MAX_DIGITS or len(last.lstrip("0")) > _MAX_DIGITS:
        return None
    if first == "":
        if last == "":
            return None
        length = int(last)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return ByteRange(max(0, size - length), size - 1)
    start = int(first)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignore
    if start >= size:
        return UNSATISFIABLE
    return ByteRange(start, size - 1 if last == "" else min(int(last), size - 1))


# -- content negotiation ------------------------------------------------------------------
# A qvalue as clients send it, in ASCII digits (float() also takes "nan",
# "1e3", "1_0" and non-ASCII digits).
_QVALUE = re.compile(r"[0-9]{1,5}(?:\.[0-9]{0,8})?|\.[0-9]{1,8}", re.ASCII)


def accepted_codings(header: str | None) -> dict[str, float]:
    """``Accept-Encoding`` -> {coding: q}, names lower-cased, ``*`` kept as is;
    a q that is not a number refuses that coding. No header: identity only."""
    if header is None:
        return {"identity": 1.0}
    accepted: dict[str, float] = {}
    for item in header.split(","):
        token, _, params = item.strip().partition(";")
        token = token.strip().lower()
        if not token:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                q = max(0.0, min(1.0, float(value))) if _QVALUE.fullmatch(value) else 0.0
        accepted[token] = q
    return accepted


def choose_coding(available: Iterable[str], header: str | None) -> str:
    """The coding to send from ``available`` (in preference order, ties go to
    the first): the highest q. Identity not named in the header is the last
    resort, below any accepted coding; ``q=0`` refuses a coding (``*;q=0``
    refuses unnamed identity too); when nothing is acceptable, identity
    anyway (RFC 9110 12.5.3 allows it)."""
    accepted = accepted_codings(header)
    star = accepted.get("*")
    best, best_q = "identity", -1.0
    for coding in available:
        q = accepted.get(coding)
        if q is None and star is not None and coding != "identity":
            q = star
        if q is None:
            q = 0.0 if coding != "identity" or star == 0 else 0.001
        if q > 0 and q > best_q:
            best, best_q = coding, q
    return best


# -- one request ----------------------------------------------------------------------------
class RequestHeaders(NamedTuple):
    """The request headers that decide a static response, as WSGI passes them."""

    accept_encoding: str | None = None
    range: str | None = None
    if_range: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    head: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> RequestHeaders:
        get = environ.get
        return cls(get("HTTP_ACCEPT_ENCODING"), get("HTTP_RANGE"), get("HTTP_IF_RANGE"),
                   get("HTTP_IF_NONE_MATCH"), get("HTTP_IF_MODIFIED_SINCE"),
                   str(get("REQUEST_METHOD", "GET")).upper() == "HEAD")


class Representation(Protocol):
    """What :func:`decide` needs to know of one coding of a file."""

    size: int
    etag: str


class Decision(NamedTuple):
    """How to answer: ``status`` 200, 206, 304 or 416; the coding to send and,
    for 200/206, the bytes ``first`` to ``last`` of it."""

    status: int
    coding: str
    first: int = 0
    last: int = -1


def decide(request: RequestHeaders, variants: Mapping[str, Representation],
           last_modified: str, mtime: int) -> Decision:
    """The answer to a ``GET``/``HEAD`` of a file with these ``variants``
    (coding -> facts, in preference order, ``"identity"`` always there).

    A Range (ignored for HEAD, or when If-Range does not hold) is of the
    identity coding; otherwise the coding is negotiated. ``304`` comes before
    any range.
    """
    identity = variants["identity"]
    wanted: ByteRange | None = None
    if request.range is not None and not request.head and \
            if_range_holds(request.if_range, identity.etag, last_modified):
        wanted = parse_range(request.range, identity.size)
    coding = "identity" if wanted is not None else \
        choose_coding(variants, request.accept_encoding)
    variant = variants[coding]
    if not_modified(request.if_none_match, request.if_modified_since, variant.etag, mtime):
        return Decision(304, coding)
    if wanted is UNSATISFIABLE:
        return Decision(416, coding)
    if wanted is not None:
        return Decision(206, coding, wanted.first, wanted.last)
    return Decision(200, coding, 0, variant.size - 1)
