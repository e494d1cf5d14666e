"""The pure HTTP header logic: tables of (header, file facts) -> decision, and
hypothesis over arbitrary bytes, decoded as latin-1 as WSGI passes them."""

from __future__ import annotations

import calendar
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectstatic.http import (
    UNSATISFIABLE,
    ByteRange,
    Decision,
    RequestHeaders,
    accepted_codings,
    choose_coding,
    content_type,
    decide,
    http_date,
    if_range_holds,
    make_etag,
    not_modified,
    parse_http_date,
    parse_range,
)

HUGE = "9" * 5000  # past Python's int-parsing limit (4300 digits)
# A header value as WSGI passes it: any bytes, decoded as latin-1 (PEP 3333).
header_bytes = st.binary(max_size=300).map(lambda raw: raw.decode("latin-1"))
# Bytes near the grammar, so that the parsers get past their first check.
header_like = st.lists(st.sampled_from(
    ["bytes", "=", "-", ",", ";", " ", "q", "0", "1", "9", ".", "\xb2", "\xbd", "*", "W/",
     '"', "gzip", "br", "identity", "Mon", ",", " 01 ", "Jan", " 2024 ", "00:00:00", "GMT",
     "\t", "\x00", "\x85", "\xa0", "e", "nan", "inf", "_", HUGE[:30]]),
    max_size=20).map("".join)
# Values shaped like each header's grammar, with hostile numbers in it.
number = st.one_of(st.sampled_from(["", "0", "1", " 7 ", "\xb2", "\xb9", "\xbd", "\u0661",
                                    "1_0", "+1", "1e3", "nan", "99999999999", HUGE]),
                   st.integers(0, 10**30).map(str))
shaped = st.one_of(
    st.builds("{}={}-{}".format, st.sampled_from(["bytes", "BYTES", "items"]), number, number),
    st.builds("Mon, {} Jan {} {}:{}:00 GMT".format, number, number, number, number),
    st.builds("Monday, {}-Jan-{} 00:00:{} GMT".format, number, number, number),
    st.builds("{};q={}".format, st.sampled_from(["gzip", "br", "*", "identity"]), number),
    st.builds('W/"{}", "{}"'.format, number, number))
anything = st.one_of(header_bytes, header_like, shaped)


# -- Range -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-3", 100, ByteRange(0, 3)),
    ("bytes=10-", 100, ByteRange(10, 99)),
    ("bytes=-5", 100, ByteRange(95, 99)),
    ("bytes=5-100000", 100, ByteRange(5, 99)),
    ("bytes=-100000", 100, ByteRange(0, 99)),
    ("BYTES = 2 - 4", 100, ByteRange(2, 4)),
    ("bytes=0-0", 1, ByteRange(0, 0)),
    ("bytes=99-", 100, ByteRange(99, 99)),
    ("bytes=0000000000000000000000000001-2", 100, ByteRange(1, 2)),  # leading zeros
    # past the end: 416
    ("bytes=100-", 100, UNSATISFIABLE),
    ("bytes=100000-200000", 100, UNSATISFIABLE),
    ("bytes=-0", 100, UNSATISFIABLE),
    ("bytes=0-", 0, UNSATISFIABLE),
    ("bytes=-5", 0, UNSATISFIABLE),
    # ignored: the whole file
    ("bytes=0-1,3-4", 100, None),
    ("items=0-1", 100, None),
    ("bytes=5-2", 100, None),
    ("bytes=x-y", 100, None),
    ("bytes", 100, None),
    ("bytes=-", 100, None),
    ("bytes=1", 100, None),
    ("", 100, None),
    ("bytes=0-" + HUGE, 100, None),  # a number no file reaches, past int()'s limit
    ("bytes=" + HUGE + "-", 100, None),
    ("bytes=-" + HUGE, 100, None),
    ("bytes=0-1" + "0" * 18, 100, None),
    ("bytes=\xb2-", 100, None),  # superscript two: str.isdigit() says yes, int() no
    ("bytes=0-\xb2", 100, None),
    ("bytes=\u0661-", 100, None),  # Arabic-Indic one
    ("bytes=\xbd-", 100, None),
    ("bytes=1_0-", 100, None),
    ("bytes=+1-2", 100, None),
    ("bytes=0-1\x00", 100, None),
    ("bytes=\xa00-1", 100, None),  # (latin-1 no-break space: not HTTP whitespace)
])
def test_parse_range(header: str, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@given(anything, st.integers(min_value=0, max_value=10**6))
def test_parse_range_never_raises_and_stays_in_the_file(header: str, size: int) -> None:
    answer = parse_range(header, size)
    assert answer is None or answer is UNSATISFIABLE or 0 <= answer.first <= answer.last < size


@given(st.integers(0, 10**20), st.one_of(st.none(), st.integers(0, 10**20)),
       st.integers(1, 10**6))
def test_parse_range_well_formed(first: int, last: int | None, size: int) -> None:
    answer = parse_range(f"bytes={first}-{'' if last is None else last}", size)
    if first >= 10**18 or (last or 0) >= 10**18:
        assert answer is None  # more digits than any file's size has: ignored
    elif last is not None and last < first:
        assert answer is None
    elif first >= size:
        assert answer is UNSATISFIABLE
    else:
        end = size - 1 if last is None else min(last, size - 1)
        assert answer == ByteRange(first, end)


# -- dates -----------------------------------------------------------------------------------------
NOV_6_1994 = 784111777
NOW = calendar.timegm((2026, 6, 1, 0, 0, 0))


@pytest.mark.parametrize(("value", "expected"), [
    ("Sun, 06 Nov 1994 08:49:37 GMT", NOV_6_1994),  # IMF-fixdate
    ("Sunday, 06-Nov-94 08:49:37 GMT", NOV_6_1994),  # rfc850
    ("Sun Nov  6 08:49:37 1994", NOV_6_1994),  # asctime
    ("  Sun, 06 Nov 1994 08:49:37 GMT ", NOV_6_1994),
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
    ("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799),
    ("Sat, 30 Jun 2012 23:59:60 GMT", calendar.timegm((2012, 6, 30, 23, 59, 59))),  # leap
    ("Monday, 01-Jan-76 00:00:00 GMT", calendar.timegm((2076, 1, 1, 0, 0, 0))),  # < 50 years
    ("Monday, 01-Jan-77 00:00:00 GMT", calendar.timegm((1977, 1, 1, 0, 0, 0))),  # > 50 years
    # not an HTTP-date: ignored
    ("Mon, 01 Jan 99999999999 00:00:00 GMT", None),  # far future (OverflowError before)
    ("Mon, 01 Jan 0000 00:00:00 GMT", None),
    ("Mon, 31 Feb 2024 00:00:00 GMT", None),
    ("Mon, 01 Jan 2024 24:00:00 GMT", None),
    ("Mon, 01 Jan 2024 00:60:00 GMT", None),
    ("Mon, 01 Foo 2024 00:00:00 GMT", None),
    ("mon, 01 jan 2024 00:00:00 gmt", None),  # RFC 9110: case-sensitive
    ("Mon, 01 Jan 2024 00:00:00 +0000", None),
    ("Mon, 01 Jan 2024 00:00:00 GMT, Tue, 02 Jan 2024 00:00:00 GMT", None),
    ("Mon, \u0660\u0661 Jan 2024 00:00:00 GMT", None),  # non-ASCII digits
    ("Mon, \xb21 Jan 2024 00:00:00 GMT", None),
    ("1704067200", None),
    ("", None),
    ("not a date", None),
])
def test_parse_http_date(value: str, expected: int | None) -> None:
    assert parse_http_date(value, now=NOW) == expected


@given(anything)
def test_parse_http_date_never_raises(value: str) -> None:
    answer = parse_http_date(value)
    assert answer is None or 0 <= answer + 62135596800 <= 253402300799 + 62135596800


@given(st.integers(0, 253402300799))
def test_http_date_round_trips(mtime: int) -> None:
    assert parse_http_date(http_date(mtime)) == mtime


@pytest.mark.parametrize(("mtime", "expected"), [
    (NOV_6_1994, "Sun, 06 Nov 1994 08:49:37 GMT"),
    (-10.0, "Thu, 01 Jan 1970 00:00:00 GMT"),  # clamped: a file can say anything
    (1e30, "Fri, 31 Dec 9999 23:59:59 GMT"),
])
def test_http_date(mtime: float, expected: str) -> None:
    assert http_date(mtime) == expected


# -- conditional requests --------------------------------------------------------------------------
TAG = '"5f-2a"'
MTIME = NOV_6_1994
LAST_MODIFIED = "Sun, 06 Nov 1994 08:49:37 GMT"


@pytest.mark.parametrize(("if_none_match", "if_modified_since", "expected"), [
    (None, None, False),
    (TAG, None, True),
    (f'"other", W/{TAG}', None, True),  # weak comparison
    ("*", None, True),
    (' "other" ,  * ', None, True),
    ('"other"', None, False),
    ('W/"other"', None, False),
    ("", None, False),
    ('"5f-2a-gzip"', None, False),
    # If-None-Match wins over If-Modified-Since
    ('"other"', LAST_MODIFIED, False),
    (TAG, "Thu, 01 Jan 1970 00:00:00 GMT", True),
    (None, LAST_MODIFIED, True),
    (None, "Fri, 01 Jan 2100 00:00:00 GMT", True),
    (None, "Sun, 06 Nov 1994 08:49:36 GMT", False),
    (None, "Thu, 01 Jan 1970 00:00:00 GMT", False),
    (None, "not a date", False),
    (None, "", False),
    (None, "Mon, 01 Jan 99999999999 00:00:00 GMT", False),  # ignored, not a 500
    (None, "Mon, 01 Jan 9999999 00:00:00 GMT", False),
])
def test_not_modified(if_none_match: str | None, if_modified_since: str | None,
                      expected: bool) -> None:
    assert not_modified(if_none_match, if_modified_since, TAG, MTIME) is expected


@pytest.mark.parametrize(("if_range", "expected"), [
    (None, True),
    ("", True),
    (TAG, True),
    (f" {TAG} ", True),
    (LAST_MODIFIED, True),
    (f"W/{TAG}", False),  # a weak tag never matches (RFC 9110 13.1.5)
    ('"stale"', False),
    ("Sun, 06 Nov 1994 08:49:36 GMT", False),
    ("Mon, 01 Jan 99999999999 00:00:00 GMT", False),
])
def test_if_range_holds(if_range: str | None, expected: bool) -> None:
    assert if_range_holds(if_range, TAG, LAST_MODIFIED) is expected


@given(st.one_of(st.none(), anything), st.one_of(st.none(), anything))
def test_conditionals_never_raise(first: str | None, second: str | None) -> None:
    assert not_modified(first, second, TAG, MTIME) in (True, False)
    assert if_range_holds(first, TAG, LAST_MODIFIED) in (True, False)


# -- Accept-Encoding -------------------------------------------------------------------------------
@pytest.mark.parametrize(("header", "expected"), [
    (None, {"identity": 1.0}),
    ("", {}),
    ("gzip", {"gzip": 1.0}),
    ("GZip ; Q=0.5 , br;q=1.0", {"gzip": 0.5, "br": 1.0}),
    ("gzip;q=2", {"gzip": 1.0}),
    ("gzip;q=.5", {"gzip": 0.5}),
    ("gzip;foo=bar;q=0.25", {"gzip": 0.25}),
    ("*;q=0", {"*": 0.0}),
    # a q that is not a plain number refuses the coding
    ("gzip;q=nan", {"gzip": 0.0}),
    ("gzip;q=inf", {"gzip": 0.0}),
    ("gzip;q=1e0", {"gzip": 0.0}),
    ("gzip;q=0_5", {"gzip": 0.0}),
    ("gzip;q=\xb2", {"gzip": 0.0}),
    ("gzip;q=\u0661", {"gzip": 0.0}),
    ("gzip;q=" + HUGE, {"gzip": 0.0}),
    ("gzip;q=", {"gzip": 0.0}),
    (",,;q=1, ,", {}),
])
def test_accepted_codings(header: str | None, expected: dict[str, float]) -> None:
    assert accepted_codings(header) == expected


AVAILABLE = ("br", "zstd", "gzip", "identity")


# Accept-Encoding -> the coding chosen among AVAILABLE (test_serve drives the same table
# through the WSGI app).
NEGOTIATION = [
    (None, "identity"),
    ("", "identity"),
    ("identity", "identity"),
    ("gzip", "gzip"),
    ("gzip, deflate, br, zstd", "br"),
    ("gzip, zstd", "zstd"),
    ("br;q=0.5, gzip", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("BR;Q=0, Gzip;q=0.9, ZSTD;q=0.8", "gzip"),
    ("gzip;q=0.1", "gzip"),  # unnamed identity is the last resort
    ("identity, gzip;q=0.5", "identity"),  # named identity competes on q
    ("identity;q=0.4, gzip;q=0.5", "gzip"),
    ("gzip;q=0.1, identity;q=0", "gzip"),
    ("gzip;q=0", "identity"),
    ("*", "br"),
    ("*;q=0, gzip", "gzip"),
    ("br;q=0, zstd;q=0, gzip;q=0, identity", "identity"),
    ("deflate", "identity"),
    ("identity;q=0, *;q=0", "identity"),  # nothing acceptable: identity anyway
    ("gzip;q=nan, br;q=\xb2", "identity"),
]


@pytest.mark.parametrize(("header", "chosen"), NEGOTIATION)
def test_choose_coding(header: str | None, chosen: str) -> None:
    assert choose_coding(AVAILABLE, header) == chosen


def test_choose_coding_only_among_the_available() -> None:
    assert choose_coding(("gzip", "identity"), "br, zstd") == "identity"
    assert choose_coding(("identity",), "*") == "identity"
    assert choose_coding(("zstd", "gzip", "identity"), "*") == "zstd"


@given(st.one_of(st.none(), anything))
def test_accept_encoding_never_raises(header: str | None) -> None:
    assert all(0.0 <= q <= 1.0 for q in accepted_codings(header).values())
    assert choose_coding(AVAILABLE, header) in AVAILABLE


# -- ETags and types -------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "expected"), [
    ((1000.7, 255, "identity", None), '"3e8-ff"'),
    ((1000.7, 255, "br", None), '"3e8-ff-br"'),
    ((0, 3, "identity", 0xABC), '"abc-3"'),
    ((0, 3, "gzip", 0xABC), '"abc-3-gzip"'),
])
def test_make_etag(args: tuple[float, int, str, int | None], expected: str) -> None:
    assert make_etag(*args) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("a.css", "text/css; charset=utf-8"),
    ("A.JS", "text/javascript; charset=utf-8"),
    ("x.webmanifest", "application/manifest+json; charset=utf-8"),
    ("x.wasm", "application/wasm"),
    ("x.css.gz", "application/gzip"),
    ("LICENSE", "application/octet-stream"),
    ("x.tar.gz", "application/gzip"),
])
def test_content_type(name: str, expected: str) -> None:
    assert content_type(name) == expected


# -- one request -----------------------------------------------------------------------------------
class Facts(NamedTuple):
    size: int
    etag: str


VARIANTS = {"br": Facts(40, '"5f-64-br"'), "gzip": Facts(50, '"5f-64-gzip"'),
            "identity": Facts(100, '"5f-64"')}
MODIFIED = http_date(0x5f)


@pytest.mark.parametrize(("request_headers", "expected"), [
    (RequestHeaders(), Decision(200, "identity", 0, 99)),
    (RequestHeaders(accept_encoding="gzip, br"), Decision(200, "br", 0, 39)),
    (RequestHeaders(accept_encoding="gzip", if_none_match='"5f-64-gzip"'),
     Decision(304, "gzip")),
    (RequestHeaders(accept_encoding="gzip", if_none_match='"5f-64"'),
     Decision(200, "gzip", 0, 49)),
    (RequestHeaders(if_modified_since=MODIFIED), Decision(304, "identity")),
    (RequestHeaders(if_modified_since="Mon, 01 Jan 99999999999 00:00:00 GMT"),
     Decision(200, "identity", 0, 99)),
    # a Range is of the identity coding
    (RequestHeaders(accept_encoding="br", range="bytes=10-19"), Decision(206, "identity", 10, 19)),
    (RequestHeaders(range="bytes=100-"), Decision(416, "identity")),
    (RequestHeaders(range="bytes=0-1", if_none_match='"5f-64"'), Decision(304, "identity")),
    (RequestHeaders(range="bytes=0-1", if_range='"5f-64"'), Decision(206, "identity", 0, 1)),
    (RequestHeaders(range="bytes=0-1", if_range=MODIFIED), Decision(206, "identity", 0, 1)),
    (RequestHeaders(range="bytes=0-1", if_range='"stale"'), Decision(200, "identity", 0, 99)),
    (RequestHeaders(range="bytes=0-1", head=True), Decision(200, "identity", 0, 99)),
    # an ignored Range is no Range: the coding is negotiated
    (RequestHeaders(accept_encoding="gzip", range="bytes=0-" + HUGE),
     Decision(200, "gzip", 0, 49)),
    (RequestHeaders(range="bytes=\xb2-"), Decision(200, "identity", 0, 99)),
    (RequestHeaders(accept_encoding="br", range="bytes=0-1", if_range='"stale"'),
     Decision(200, "br", 0, 39)),
])
def test_decide(request_headers: RequestHeaders, expected: Decision) -> None:
    assert decide(request_headers, VARIANTS, MODIFIED, 0x5f) == expected


def test_request_headers_from_environ() -> None:
    environ = {"HTTP_ACCEPT_ENCODING": "gzip", "HTTP_RANGE": "bytes=0-1",
               "HTTP_IF_RANGE": '"x"', "HTTP_IF_NONE_MATCH": '"y"',
               "HTTP_IF_MODIFIED_SINCE": MODIFIED, "REQUEST_METHOD": "head"}
    assert RequestHeaders.from_environ(environ) == RequestHeaders(
        "gzip", "bytes=0-1", '"x"', '"y"', MODIFIED, True)
    assert RequestHeaders.from_environ({}) == RequestHeaders()


@settings(max_examples=300)
@given(st.builds(RequestHeaders, *[st.one_of(st.none(), anything)] * 5, st.booleans()),
       st.integers(0, 1000))
def test_decide_never_raises(request_headers: RequestHeaders, size: int) -> None:
    variants = {"gzip": Facts(size // 2, '"1-2-gzip"'), "identity": Facts(size, '"1-2"')}
    decision = decide(request_headers, variants, MODIFIED, 1)
    assert decision.status in (200, 206, 304, 416) and decision.coding in variants
    if decision.status in (200, 206):
        assert decision.first >= 0 and decision.last < variants[decision.coding].size
