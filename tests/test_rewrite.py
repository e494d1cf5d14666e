"""collectstatic.rewrite: hashed names and CSS/JS reference rewriting, table-driven.

Expected outputs are Django 6.1's (checked against Django itself by
test_manifest_django.py); the deviations from Django are listed at the end,
each with the letter of the module docstring's "Deviations from Django".
"""

from __future__ import annotations

import itertools
import posixpath
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from collectstatic import rewrite
from collectstatic.rewrite import (
    DJANGO_CSS_IGNORED_RE,
    DJANGO_JS_IGNORED_RE,
    hashed_name,
    ignored_blocks,
    is_adjustable,
    rewrite_references,
)

H = "0123456789ab"  # the fake content hash every collected file gets here
COLLECTED = {
    "css/app.css",
    "css/base.css",
    "css/app.css.map",
    "css/#id",
    "img/a.png",
    "img/sp ace.png",
    "img/what?.png",
    "img/100%.png",
    "img/é.png",
    "fonts/f.eot",
    "js/app.js",
    "js/app.js.map",
    "js/lib.js",
    "js/sub/util.js",
}


def resolve(target: str) -> str | None:
    return hashed_name(target, H * 2) if target in COLLECTED else None


def css(text: str, name: str = "css/app.css", **options: object) -> str:
    return rewrite_references(name, text, resolve, **options).text  # type: ignore[arg-type]


def js(text: str, name: str = "js/app.js", js_modules: bool = True) -> str:
    return rewrite_references(name, text, resolve, js_modules=js_modules).text


# --------------------------------------------------------------------------
# hashed_name / is_adjustable


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("css/app.css", f"css/app.{H}.css"),
        ("jquery.min.js", f"jquery.min.{H}.js"),
        ("LICENSE", f"LICENSE.{H}"),
        ("a/b.c/README", f"a/b.c/README.{H}"),
        (".htaccess", f".htaccess.{H}"),
        ("fonts/f.tar.gz", f"fonts/f.tar.{H}.gz"),
        ("trailing.", f"trailing.{H}."),
    ],
)
def test_hashed_name(name: str, expected: str) -> None:
    assert hashed_name(name, H + "cdef0123456789abcdef") == expected


def test_hashed_name_splits_as_os_path_does() -> None:
    # Django splits with os.path: every name of up to 7 characters of "a./b"
    # (normalized: no empty or absolute parts) against posixpath itself.
    digest = H + "cdef0123456789abcdef"
    checked = 0
    for length in range(8):
        for letters in itertools.product("a./b", repeat=length):
            name = "".join(letters)
            if "//" in name or name.startswith("/") or name.endswith("/"):
                continue
            directory, filename = posixpath.split(name)
            root, ext = posixpath.splitext(filename)
            assert hashed_name(name, digest) == posixpath.join(directory,
                                                               f"{root}.{H}{ext}"), name
            checked += 1
    assert checked > 10_000


@pytest.mark.parametrize(
    ("name", "adjustable"),
    [
        ("css/a.css", True),
        ("a.js", True),
        ("deep/dir/x.min.js", True),
        ("A.CSS", False),  # fnmatchcase, like Django's matches_patterns
        ("a.mjs", False),
        ("a.css.map", False),
        ("a.scss", False),
    ],
)
def test_is_adjustable(name: str, adjustable: bool) -> None:
    assert is_adjustable(name, js_modules=False) is adjustable
    assert is_adjustable(name, js_modules=True) is adjustable


# --------------------------------------------------------------------------
# Compatibility with Django 6.1: CSS

IMG = f"../img/a.{H}.png"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # quote styles, case, spacing: always normalised to url("...")
        ("a{b:url(../img/a.png)}", f'a{{b:url("{IMG}")}}'),
        ("a{b:url('../img/a.png')}", f'a{{b:url("{IMG}")}}'),
        ('a{b:url("../img/a.png")}', f'a{{b:url("{IMG}")}}'),
        ("a{b:URL(../img/a.png)}", f'a{{b:url("{IMG}")}}'),
        ("a{b:Url('../img/a.png')}", f'a{{b:url("{IMG}")}}'),
        ("a{b:url(  ../img/a.png  )}", f'a{{b:url("{IMG}")}}'),
        ("a{b:url('  ../img/a.png')}", f'a{{b:url("{IMG}")}}'),
        ("a{b:url(\n../img/a.png)}", f'a{{b:url("{IMG}")}}'),
        # @import forms
        ('@import "base.css";', f'@import url("base.{H}.css");'),
        ("@import 'base.css' screen;", f'@import url("base.{H}.css") screen;'),
        ("@import'base.css'print;", f'@import url("base.{H}.css")print;'),
        ('@IMPORT "base.css";', f'@import url("base.{H}.css");'),
        ("@import url(base.css) layer(x);", f'@import url("base.{H}.css") layer(x);'),
        (
            '@import url("base.css") supports(display: grid);',
            f'@import url("base.{H}.css") supports(display: grid);',
        ),
        # queries and fragments are kept; ?#iefix is kept as written
        ("url(../fonts/f.eot?#iefix)", f'url("../fonts/f.{H}.eot?#iefix")'),
        ("url(../fonts/f.eot?v=1)", f'url("../fonts/f.{H}.eot?v=1")'),
        ("url(../fonts/f.eot#svgfont)", f'url("../fonts/f.{H}.eot#svgfont")'),
        ("url(../fonts/f.eot?v=1#x)", f'url("../fonts/f.{H}.eot?v=1#x")'),
        ("url(../img/a.png#)", f'url("{IMG}")'),
        ("url(../img/a.png?)", f'url("{IMG}")'),
        # percent-encoded names are decoded in the output, as Django does
        ("url(../img/sp%20ace.png)", f'url("../img/sp ace.{H}.png")'),
        ('url("../img/sp ace.png")', f'url("../img/sp ace.{H}.png")'),
        ("url(../img/%C3%A9.png)", f'url("../img/é.{H}.png")'),
        ("url(../img/é.png)", f'url("../img/é.{H}.png")'),
        # ./ and ../ segments stay as written; only the file name changes
        ("url(./../img/./a.png)", f'url("./../img/./a.{H}.png")'),
        ("url(../css/../img/a.png)", f'url("../css/../img/a.{H}.png")'),
        ("url(base.css)", f'url("base.{H}.css")'),
        # absolute references under STATIC_URL
        ("url(/static/img/a.png)", f'url("/static/img/a.{H}.png")'),
        ("url('/static/fonts/f.eot?#iefix')", f'url("/static/fonts/f.{H}.eot?#iefix")'),
        # directories and empty paths go through the template unhashed
        ("url(../img/)", 'url("../img/")'),
        ("url(?v=1)", 'url("?v=1")'),
    ],
)
def test_css_references(source: str, expected: str) -> None:
    assert css(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "url(http://example.com/a.png)",
        "url(https://example.com/a.png)",
        "url(//cdn.example.com/a.png)",
        "url(data:image/png;base64,iVBORw0KGgo=)",
        'url("data:image/svg+xml;charset=utf8,%3Csvg%3E")',
        "url(#gradient)",
        "url()",
        "url('')",
        "url(   )",
        "url(/other/a.png)",
        "url(/staticfiles/a.png)",
        "url(mailto:a@b)",
        '@import "https://fonts.example.com/css";',
        "@import url(//fonts.example.com/css);",
        "a{b:c}",
    ],
)
def test_skipped_forms_are_left_alone(source: str) -> None:
    result = rewrite_references("css/app.css", source, resolve)
    assert result.text == source
    assert result.references == []


def test_static_url_setting() -> None:
    assert css("url(/assets/img/a.png)", static_url="/assets/") == f'url("/assets/img/a.{H}.png")'
    assert css("url(/static/img/a.png)", static_url="/assets/") == "url(/static/img/a.png)"


def test_css_source_map() -> None:
    source = "a{}\n/*# sourceMappingURL=app.css.map */"
    assert css(source) == f"a{{}}\n/*# sourceMappingURL=app.css.{H}.map */"
    blanks = "a{}\n/*# sourceMappingURL=app.css.map   */\n"
    assert css(blanks) == f"a{{}}\n/*# sourceMappingURL=app.css.{H}.map */\n"
    # not at the start of a line, or //# in CSS: not a source map comment
    inline = "a{} /*# sourceMappingURL=app.css.map */"
    assert css(inline) == inline
    # Django's regex cannot match a CRLF line ($ does not match before \r)
    crlf = "a{}\r\n/*# sourceMappingURL=app.css.map */\r\n"
    assert css(crlf) == crlf


def test_js_source_map() -> None:
    source = "var a = 1;\n//# sourceMappingURL=app.js.map"
    assert js(source, js_modules=False) == f"var a = 1;\n//# sourceMappingURL=app.js.{H}.map"
    assert js(source + "\n") == f"var a = 1;\n//# sourceMappingURL=app.js.{H}.map\n"
    legacy = "var a;\n//@ sourceMappingURL=app.js.map"
    assert js(legacy) == legacy
    in_template = "var a = `\n//# sourceMappingURL=app.js.map\n`;"
    assert js(in_template) == in_template


def test_bom_and_crlf_are_preserved() -> None:
    source = "\ufeffa{b:url(../img/a.png)}\r\nc{d:url('../img/a.png')}\r\n"
    expected = f'\ufeffa{{b:url("{IMG}")}}\r\nc{{d:url("{IMG}")}}\r\n'
    assert css(source) == expected
    result = rewrite_references("css/app.css", source, resolve)
    assert [(ref.line, ref.column) for ref in result.references] == [(1, 5), (2, 5)]


@pytest.mark.parametrize(
    "source",
    [
        "/* a{b:url(../img/missing.png)} */",
        "/* @import 'missing.css'; */",
        'a{content:"url(../img/missing.png)"}',
        "a{content:'url(../img/missing.png)'}",
        'a{content:"\\"url(../img/missing.png)"}',
        "a{b:c}\n/*\n url(../img/missing.png)\n*/",
    ],
)
def test_nothing_is_rewritten_in_css_comments_or_strings(source: str) -> None:
    result = rewrite_references("css/app.css", source, resolve)
    assert result.text == source
    assert result.references == []


def test_comment_then_reference() -> None:
    source = "/* x */a{b:url(../img/a.png)} /* url(../img/a.png) */"
    assert css(source) == f'/* x */a{{b:url("{IMG}")}} /* url(../img/a.png) */'


# --------------------------------------------------------------------------
# JS modules (support_js_module_import_aggregation)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('import {a} from "./lib.js";', f'import {{a}} from "./lib.{H}.js";'),
        ("import a from './lib.js';", f'import a from "./lib.{H}.js";'),
        ('import * as lib from "./lib.js";', f'import * as lib from "./lib.{H}.js";'),
        ('import {a,\n  b} from "./lib.js";', f'import {{a,\n  b}} from "./lib.{H}.js";'),
        ('export {a} from "./lib.js";', f'export {{a}} from "./lib.{H}.js";'),
        ("export * from './lib.js';", f'export * from "./lib.{H}.js";'),
        ('import "./lib.js";', f'import"./lib.{H}.js";'),
        ("import './sub/util.js';", f'import"./sub/util.{H}.js";'),
        ('const m = import("./lib.js");', f'const m = import("./lib.{H}.js");'),
        ('import x from "../js/lib.js";', f'import x from "../js/lib.{H}.js";'),
        ('import x from "/static/js/lib.js";', f'import x from "/static/js/lib.{H}.js";'),
        ('import x from "lib";', 'import x from "lib";'),  # bare specifiers are left alone
        ('import x from "https://esm.sh/x";', 'import x from "https://esm.sh/x";'),
    ],
)
def test_js_module_imports(source: str, expected: str) -> None:
    assert js(source) == expected
    assert js(source, js_modules=False) == source


@pytest.mark.parametrize(
    "source",
    [
        '// import x from "./missing.js";',
        '/* import("./missing.js") */',
        'const s = `import x from "./missing.js"`;',
        "const s = 'import(\"./missing.js\")';",
    ],
)
def test_nothing_is_rewritten_in_js_comments_or_strings(source: str) -> None:
    result = rewrite_references("js/app.js", source, resolve, js_modules=True)
    assert result.text == source
    assert result.references == []


def test_js_without_modules_ignores_css_forms() -> None:
    source = 'var s = "url(../img/a.png)"; @import "x.css";'
    assert js(source) == source


# --------------------------------------------------------------------------
# References found


def test_missing_references_are_reported_and_left_untouched() -> None:
    source = (
        "a{b:url(../img/a.png)} c{d:url('../img/missing.png')}\n"
        '@import "nope.css";\n'
        "/*# sourceMappingURL=gone.css.map */"
    )
    result = rewrite_references("css/site.css", source, resolve)
    assert result.text == (
        f"a{{b:url(\"{IMG}\")}} c{{d:url('../img/missing.png')}}\n"
        '@import "nope.css";\n'
        "/*# sourceMappingURL=gone.css.map */"
    )
    found = [(r.kind, r.line, r.column, r.written, r.target, r.missing) for r in result.references]
    assert found == [
        ("url", 1, 5, "url(../img/a.png)", "img/a.png", False),
        ("url", 1, 28, "url('../img/missing.png')", "img/missing.png", True),
        ("import", 2, 1, '@import "nope.css"', "css/nope.css", True),
        ("sourcemap", 3, 1, "/*# sourceMappingURL=gone.css.map */", "css/gone.css.map", True),
    ]
    assert [r.warning for r in result.references] == [False, False, False, True]
    assert result.references[0].hashed == f"img/a.{H}.png"
    assert result.references[1].describe("css/site.css") == (
        "css/site.css:1:28: url('../img/missing.png') -> img/missing.png "
        "is not among the collected files"
    )


def test_columns_are_positions_in_the_original_text() -> None:
    # the url() pass lengthens the line before @import is looked at
    source = 'a{b:url(../img/a.png)} b{c:url(../img/a.png)} @import "nope.css";'
    result = rewrite_references("css/site.css", source, resolve)
    missing = [r for r in result.references if r.missing]
    assert [(r.line, r.column) for r in missing] == [(1, source.index("@import") + 1)]
    # a reference after a multi-line url() that the template folds onto one line
    folded = 'a{b:url(\n\n../img/a.png)}\n@import "nope.css";'
    result = rewrite_references("css/site.css", folded, resolve)
    assert [(r.line, r.column) for r in result.references if r.missing] == [(4, 1)]


def test_resolver_is_asked_for_normalised_logical_names() -> None:
    asked: list[str] = []

    def recording(target: str) -> str | None:
        asked.append(target)
        return resolve(target)

    source = "url(../css/./../img/a.png) url(/static/img/a.png?x) url(sub/../base.css)"
    rewrite_references("css/app.css", source, recording)
    assert asked == ["img/a.png", "img/a.png", "css/base.css"]


# --------------------------------------------------------------------------
# Deviations from Django (module docstring), one test each


def test_deviation_a_query_string_uses_the_final_hashed_name() -> None:
    # Django: the hash of the unprocessed base.css, a file never written.
    asked: list[str] = []

    def recording(target: str) -> str | None:
        asked.append(target)
        return {"css/base.css": "css/base.FINAL0000000.css"}.get(target)

    result = rewrite_references("css/app.css", '@import "base.css?v=1";', recording)
    assert result.text == '@import url("base.FINAL0000000.css?v=1");'
    assert asked == ["css/base.css"]


def test_deviation_b_percent_23_is_part_of_the_file_name() -> None:
    # Django: url(%23id) -> url("#id#id")
    assert css("url(%23id)") == f'url("%23id.{H}")'
    result = rewrite_references("css/other.css", "a{b:url(%23nope)}", resolve)
    assert result.text == "a{b:url(%23nope)}"
    assert [(r.target, r.missing) for r in result.references] == [("css/#nope", True)]


def test_deviation_c_hash_query_and_percent_in_names_stay_encoded() -> None:
    # Django decodes its output: url("../img/what?.<h>.png"), url("../img/100%.<h>.png")
    assert css("url(../img/what%3F.png)") == f'url("../img/what%3F.{H}.png")'
    assert css("url(../img/100%25.png)") == f'url("../img/100%25.{H}.png")'
    assert css("url(../img/100%25.png?q=%3F#%23)") == f'url("../img/100%25.{H}.png?q=%3F#%23")'
    # other escapes are still decoded, as Django does
    assert css("url(../img/sp%20ace.png?a=%41)") == f'url("../img/sp ace.{H}.png?a=A")'


def test_deviation_d_schemes_in_any_case_are_skipped() -> None:
    # Django only skips ^[a-z]+: and then fails on DATA:/HTTPS: as a missing file
    for source in ("url(DATA:image/png;base64,AAA)", "url(HTTPS://x/a.png)", "url(Data:,x)"):
        result = rewrite_references("css/app.css", source, resolve)
        assert (result.text, result.references) == (source, [])


def test_deviation_e_file_urls_are_broken_references() -> None:
    asked: list[str] = []
    for source in ("url(file:///etc/passwd)", "url(FILE:/etc/passwd)"):
        result = rewrite_references("css/app.css", source, lambda t: asked.append(t))
        assert result.text == source
        [ref] = result.references
        assert ref.missing and not ref.warning
        assert "file: URL" in ref.describe("css/app.css")
    assert asked == []


def test_deviation_f_references_outside_the_tree_are_missing() -> None:
    asked: list[str] = []
    source = "url(../../../../etc/passwd) url(/static/../../x.png)"
    result = rewrite_references("css/app.css", source, lambda t: asked.append(t) or "x")
    assert result.text == source
    assert [(r.target, r.missing) for r in result.references] == [
        ("../../../etc/passwd", True),
        ("../../x.png", True),
    ]
    assert asked == []


def test_deviation_g_crlf_js_source_map_keeps_its_cr() -> None:
    # Django: "//# sourceMappingURL=app.js.<h>.map\n" in an otherwise CRLF file
    source = "var a;\r\n//# sourceMappingURL=app.js.map\r\n"
    assert js(source) == f"var a;\r\n//# sourceMappingURL=app.js.{H}.map\r\n"


def test_deviation_h_query_with_a_slash() -> None:
    # Django leaves url(../img/a.png?p=x/y) unhashed
    assert css("url(../img/a.png?p=x/y)") == f'url("{IMG}?p=x/y")'


def test_deviation_i_missing_source_map_is_a_warning() -> None:
    result = rewrite_references("js/app.js", "x;\n//# sourceMappingURL=nope.js.map", resolve)
    assert result.text == "x;\n//# sourceMappingURL=nope.js.map"
    [ref] = result.references
    assert ref.missing and ref.warning and ref.kind == "sourcemap"


def test_deviation_j_directory_without_slash_is_missing() -> None:
    # Django rewrites url(.) in css/app.css to url("css"), i.e. css/css
    for source in ("url(.)", "url(..)"):
        result = rewrite_references("css/app.css", source, resolve)
        assert result.text == source
        assert [r.missing for r in result.references] == [True]


def test_deviation_k_blanks_around_quotes() -> None:
    # Django takes the quotes as part of the file name and fails
    assert css('a{b:url( "../img/a.png" )}') == f'a{{b:url("{IMG}")}}'
    assert css("a{b:url(\n  '../img/a.png')}") == f'a{{b:url("{IMG}")}}'


def _django_js_module_matches(text: str) -> list[str]:
    """What Django 6.1's two JS-module regexes match in ``text`` (as written)."""
    return [m.group() for regex in rewrite.DJANGO_JS_MODULE_RES for m in regex.finditer(text)]


@pytest.mark.parametrize(("source", "django_matches"), [
    # an identifier that ends in a keyword, in any case
    ("import { readHotReloadableExport } from './lib.js';",
     ["import { readHotReloadableExport } from './lib.js'", "Export } from './lib.js'"]),
    ("export { x as fooImport } from './lib.js';",
     ["Import } from './lib.js'", "export { x as fooImport } from './lib.js'"]),
    ("var $import = 1, reimport\n= 2\nexport * from './lib.js';",
     ["import = 1, reimport\n= 2\nexport * from './lib.js'", "export * from './lib.js'"]),
])
def test_deviation_m_js_module_keywords_are_keywords(source: str, django_matches: list[str]
                                                     ) -> None:
    # Django matches ``import``/``export`` in any case, inside identifiers too,
    # and a second pattern meets the name the first one wrote: a broken
    # reference to a hashed name of our own making, or fooImport -> fooimport.
    assert _django_js_module_matches(source) == django_matches
    result = rewrite_references("js/app.js", source, resolve, js_modules=True)
    [ref] = result.references
    assert not ref.missing and ref.hashed == f"js/lib.{H}.js"
    assert result.text == source.replace("'./lib.js'", f'"./lib.{H}.js"')


@pytest.mark.parametrize("source", [
    "IMPORT x from './lib.js';", "Export * from './lib.js';", "import x FROM './lib.js';",
    "IMPORT('./lib.js');", "IMPORT './lib.js';",
    "loader.reimport('./lib.js');", "$import './lib.js';", "x.fooimport('./lib.js')",
])
def test_deviation_m_js_module_keywords_only_in_lower_case_and_alone(source: str) -> None:
    # not JavaScript's keywords (which are case-sensitive): not references
    result = rewrite_references("js/app.js", source, resolve, js_modules=True)
    assert result.text == source and result.references == []


@pytest.mark.parametrize(("source", "expected"), [
    ('import x, {export as y} from "./lib.js";', f'import x, {{export as y}} from "./lib.{H}.js";'),
    ('import {a} from "./missing.js"; export {export as b} from "./lib.js";',
     f'import {{a}} from "./missing.js"; export {{export as b}} from "./lib.{H}.js";'),
])
def test_deviation_n_each_js_module_reference_is_met_once(source: str, expected: str) -> None:
    # Django's export pattern matches again inside what its import pattern
    # matched (a reference to the hashed name it wrote, or one reported twice).
    result = rewrite_references("js/app.js", source, resolve, js_modules=True)
    assert result.text == expected
    assert [ref.url for ref in result.references] == [
        url for url in ("./missing.js", "./lib.js") if url in source]


# --------------------------------------------------------------------------
# Linear scanners == Django's regexes

_URL_RE = re.compile(
    r"""(?P<matched>url\((?P<quote>['"]{0,1})\s*(?P<url>.*?)(?P=quote)\))""", re.IGNORECASE
)
_CSS_MAP_RE = re.compile(
    r"(?m)^(?P<matched>/\*#[ \t](?-i:sourceMappingURL)=(?P<url>.*)[ \t]*\*/)$", re.IGNORECASE
)
_JS_MAP_RE = re.compile(r"(?m)^(?P<matched>//# (?-i:sourceMappingURL)=(?P<url>.*))$", re.IGNORECASE)

_pieces = st.lists(
    st.sampled_from(
        [
            "/",
            "*",
            "\\",
            "'",
            '"',
            "`",
            "\n",
            "\r",
            " ",
            "\t",
            "a",
            "url(",
            "URL(",
            ")",
            "/*",
            "*/",
            "//",
            "\x0c",
            "\u3000",
            "x.png",
            "/*# sourceMappingURL=",
            "//# sourceMappingURL=",
            # pieces of those, so that near misses and other spellings occur
            "/*#",
            "//#",
            "sourceMappingURL=",
            "sourcemappingurl=",
            "uRl",
            "u",
            "rl(",
            "(",
        ]
    ),
    max_size=40,
).map("".join)


def _spans(matches: object) -> list[tuple[int, int, dict]]:
    return [(m.start(), m.end(), m.groupdict()) for m in matches]  # type: ignore[attr-defined]


@settings(max_examples=1500, deadline=None)
@given(_pieces)
def test_ignored_blocks_match_djangos_regexes(text: str) -> None:
    assert ignored_blocks(text, js=False) == [
        m.span() for m in DJANGO_CSS_IGNORED_RE.finditer(text)
    ]
    assert ignored_blocks(text, js=True) == [m.span() for m in DJANGO_JS_IGNORED_RE.finditer(text)]


@settings(max_examples=1500, deadline=None)
@given(_pieces)
def test_url_scanner_matches_djangos_regex(text: str) -> None:
    assert list(rewrite._url_functions(text)) == _spans(_URL_RE.finditer(text))


@settings(max_examples=800, deadline=None)
@given(_pieces)
def test_source_map_scanners_match_djangos_regexes(text: str) -> None:
    assert list(rewrite._css_source_maps(text)) == _spans(_CSS_MAP_RE.finditer(text))
    assert list(rewrite._js_source_maps(text)) == _spans(_JS_MAP_RE.finditer(text))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("unit", "found"),
    [
        ("a{background:url(../img/a.png)}", 1),
        ('a{background:url("../img/a.png" )}', 1),  # Django's url regex: quadratic
        ("/* url(../img/a.png) ", 1),  # unclosed comments: Django's ignored-blocks regex: quadratic
        ("'\\' url(../img/missing.png) \"", None),  # unclosed strings
    ],
)
def test_ten_megabytes_on_one_line(unit: str, found: int | None) -> None:
    # Quadratic behaviour here would take hours (as Django's regexes do), not seconds.
    count = 10_000_000 // len(unit)
    text = "x{}" + unit * count
    result = rewrite_references("css/app.css", text, resolve)
    if found is not None:
        assert len(result.references) == count * found
    assert len(result.text) >= len(text)
    sourcemap = "/*# sourceMappingURL=" + " " * 10_000_000 + "x"
    assert rewrite_references("css/app.css", sourcemap, resolve).references == []


# -- JS-module matchers (js-modules = true): Django's regexes, in linear time ---------

_js_pieces = st.lists(
    st.sampled_from([
        "import", "IMPORT", "export", "Export", "from", "FROM", " ", "  ", "\n", "\t", ";",
        "{", "}", "*", "as", "a\u017f", "x", "a_1", "'", '"', ".", "/", "./a.js", "'./b.js'",
        '"../c.js"', "é", "\u3000", "(", ")", "import ", " from ", "* as ns ",
    ]),
    max_size=30,
).map("".join)


def _keyword_res() -> tuple[re.Pattern[str], ...]:
    """Django's JS-module regexes with the keywords as keywords: case-sensitive,
    ``import``/``export`` not at the end of an identifier (deviation m)."""
    return tuple(re.compile(re.sub(r"\(\?P<matched>(import|export)", r"(?P<matched>(?<![\\w$])\1",
                                   regex.pattern))
                 for regex in rewrite.DJANGO_JS_MODULE_RES)


_WORDS = re.compile("(?=(import|export|from|as))", re.IGNORECASE)


def django_is_right(text: str) -> bool:
    """Whether Django's case-insensitive regexes meet only keywords in
    ``text``: every spelling of the four words is the lower-case one, and no
    ``import``/``export`` ends an identifier."""
    for found in _WORDS.finditer(text):
        word, start = found.group(1), found.start()
        if word not in ("import", "export", "from", "as"):  # (U+017F and U+212A fold to s, k)
            return False
        if word in ("import", "export") and start and re.match(r"[\w$]", text[start - 1]):
            return False
    return True


@settings(max_examples=3000, deadline=None)
@given(_js_pieces)
def test_js_module_matchers_match_djangos_regexes_with_keywords(text: str) -> None:
    from collectstatic._jsmodules import export_matches, import_matches

    import_re, export_re = _keyword_res()
    assert list(import_matches(text)) == _spans(import_re.finditer(text))
    assert list(export_matches(text)) == _spans(export_re.finditer(text))


_lower_js_pieces = st.lists(
    st.sampled_from([
        "import", "export", "from", " ", "  ", "\n", "\t", ";", "{", "}", "*", "as", "x",
        "a_1", "'", '"', ".", "/", "./a.js", "'./b.js'", '"../c.js"', "é", "\u3000", "(", ")",
        "import ", " from ", "* as ns ", " import ", " export ",
    ]),
    max_size=30,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_lower_js_pieces)
def test_js_module_matchers_match_djangos_regexes_where_django_is_right(text: str) -> None:
    from collectstatic._jsmodules import export_matches, import_matches

    assume(django_is_right(text))
    import_re, export_re = rewrite.DJANGO_JS_MODULE_RES
    assert list(import_matches(text)) == _spans(import_re.finditer(text))
    assert list(export_matches(text)) == _spans(export_re.finditer(text))


@pytest.mark.parametrize("text", [
    "import { a } from './a.js';\nimport {b,\n c} from \"../b.js\";",
    "import * as ns from './n.js'", "import * as xfrom'./y.js'", "export { q } from './q.js'",
    "import a\nimport b from './b.js'", "import a; import b from './b.js'",
    "import{a}from'./a.js'", "x;import{a}from'./a.js'",
])
def test_js_module_matchers_on_examples(text: str) -> None:
    from collectstatic._jsmodules import export_matches, import_matches

    assert django_is_right(text)
    import_re, export_re = rewrite.DJANGO_JS_MODULE_RES
    assert list(import_matches(text)) == _spans(import_re.finditer(text))
    assert list(export_matches(text)) == _spans(export_re.finditer(text))


@pytest.mark.parametrize("text", [
    "imPort x FROM './x.js'", "IMPORT from './b.js'", "ximport y from './a.js'",
    "import { readHotReloadableExport } from './b.js'", "export {a} FROM './a.js'",
])
def test_django_is_wrong_where_the_matchers_differ(text: str) -> None:
    from collectstatic._jsmodules import export_matches, import_matches

    assert not django_is_right(text)
    import_re, export_re = rewrite.DJANGO_JS_MODULE_RES
    assert (list(import_matches(text)), list(export_matches(text))) != \
        (_spans(import_re.finditer(text)), _spans(export_re.finditer(text)))


def test_js_modules_is_linear_on_imports_without_semicolons() -> None:
    # Django's regex takes minutes on this (each "import" scans to the end).
    text = "import a " * 30_000 + "\nimport b from './b.js'\n"
    result = rewrite_references("js/app.js", text, lambda t: t.replace(".js", ".0123456789ab.js"),
                                js_modules=True)
    assert [ref.url for ref in result.references] == ["./b.js"]
    assert result.text.endswith("import a \nimport b from \"./b.0123456789ab.js\"\n")
