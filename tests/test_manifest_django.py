"""collectstatic.manifest against Django's own ManifestStaticFilesStorage.

Each case tree is collected by Django 6.1 (tests/djangoref.py, in a subprocess)
and post-processed by ``post_process`` over the same files; every hashed name,
every hashed file's bytes and the manifest (``paths`` and ``hash``, byte for
byte) must be identical. Where we deliberately differ from Django, the test says
so and asserts our output instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from collectstatic.manifest import manifest_bytes, read_manifest
from collectstatic.postprocess import Processed, post_process
from collectstatic.rewrite import hashed_name

from .djangoref import django_version, run_django

pytestmark = pytest.mark.django

Files = Mapping[str, "str | bytes"]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def write(root: Path, files: Files) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return root


def ours(files: Files, **options: object) -> Processed:
    data = {
        name: content.encode("utf-8") if isinstance(content, str) else content
        for name, content in files.items()
    }
    digests = {name: md5(content) for name, content in data.items()}
    return post_process(digests, data.__getitem__, **options)  # type: ignore[arg-type]


def final_bytes(files: Files, processed: Processed, name: str) -> bytes:
    content = files[name]
    source = content.encode("utf-8") if isinstance(content, str) else content
    return processed.rewritten.get(name, source)


def django(django_python: str, tmp_path: Path, files: Files, **options: object) -> Path:
    src = write(tmp_path / "src", files)
    root = tmp_path / "root"
    proc = run_django([src], root, python=django_python, **options)  # type: ignore[arg-type]
    assert proc.returncode == 0, proc.stderr
    return root


def assert_identical(
    django_python: str, tmp_path: Path, files: Files, **options: object
) -> Processed:
    """Django and we agree on every name, every byte and the manifest."""
    root = django(django_python, tmp_path, files, **options)
    processed = ours(files, **options)
    assert processed.errors == []
    manifest = (root / "staticfiles.json").read_bytes()
    assert json.loads(manifest)["paths"] == processed.paths
    assert manifest_bytes(processed.paths) == manifest
    for name, hashed in processed.paths.items():
        assert (root / hashed).read_bytes() == final_bytes(files, processed, name), name
        assert processed.final_digests[name] == md5((root / hashed).read_bytes())
        # the unhashed original stays as it was
        assert (root / name).read_bytes() == write_bytes(files[name])
    return processed


def write_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


# --------------------------------------------------------------------------
# Case trees: every compatibility bullet of issue 3

BASE: dict[str, str | bytes] = {
    "img/a.png": b"\x89PNG a",
    "img/sp ace.png": b"\x89PNG space",
    "img/\u00e9.png": b"\x89PNG e-acute",
    "fonts/f.eot": b"eot",
    "fonts/f.woff2": b"woff2",
    "LICENSE": "BSD",
    "vendor/jquery.min.js": "/*! jq */!function(){}();\n//# sourceMappingURL=jquery.min.js.map\n",
    "vendor/jquery.min.js.map": '{"version":3}',
}

CASES: dict[str, dict[str, str | bytes]] = {
    "url-forms": {
        "css/app.css": (
            "a{background:url(../img/a.png)}\n"
            "b{background:url('../img/a.png')}\n"
            'c{background:url("../img/a.png")}\n'
            "d{background:URL(../img/a.png)}\n"
            "e{background:url(  ../img/a.png  )}\n"
            "f{background:url('  ../img/a.png')}\n"
            "g{background:url(\n../img/a.png)}\n"
        ),
    },
    "imports": {
        "css/app.css": (
            '@import "base.css";\n'
            "@import 'base.css' screen;\n"
            "@import'base.css'print;\n"
            "@import url(base.css) layer(x);\n"
            '@import url("base.css") supports(display: grid);\n'
            '@IMPORT "base.css";\n'
        ),
        "css/base.css": "body{background:url(../img/a.png)}",
    },
    "queries-fragments": {
        "css/app.css": (
            "@font-face{src:url(../fonts/f.eot?#iefix) format('embedded-opentype'),"
            "url('../fonts/f.woff2?v=4.7#x') format('woff2'),url(../fonts/f.eot#svgfont)}\n"
            "a{background:url(../img/a.png#)}b{background:url(../img/a.png?)}"
        ),
    },
    "names": {
        "css/app.css": (
            "a{background:url(../img/sp%20ace.png)}\n"
            'b{background:url("../img/sp ace.png")}\n'
            "c{background:url(../img/%C3%A9.png)}\n"
            "d{background:url(../img/\u00e9.png)}\n"
        ),
    },
    "relative-segments": {
        "css/deep/app.css": (
            "a{background:url(./../../img/./a.png)}\n"
            "b{background:url(../../css/../img/a.png)}\n"
            "c{background:url(sibling.css)}\n"
        ),
        "css/deep/sibling.css": "x{}",
    },
    "absolute-static": {
        "css/app.css": (
            "a{background:url(/static/img/a.png)}\n"
            "b{background:url('/static/fonts/f.eot?#iefix')}\n"
            "c{background:url(/other/img/a.png)}\n"
        ),
    },
    "skipped": {
        "css/app.css": (
            "a{background:url(http://example.com/a.png)}"
            "b{background:url(https://example.com/a.png)}"
            "c{background:url(//cdn.example.com/a.png)}"
            "d{background:url(data:image/png;base64,iVBORw0KGgo=)}"
            "e{background:url(#gradient)}"
            "f{background:url()}"
            "g{background:url(/elsewhere/a.png)}"
            "h{background:url(../img/)}"
            '@import "https://fonts.example.com/css";'
        ),
    },
    "source-maps": {
        "css/app.css": "a{}\n/*# sourceMappingURL=app.css.map */",
        "css/app.css.map": '{"version":3}',
        "js/app.js": "var a = 1;\n//# sourceMappingURL=app.js.map\n",
        "js/app.js.map": '{"version":3}',
    },
    "bom-crlf": {
        "css/app.css": (
            "\ufeffa{background:url(../img/a.png)}\r\nb{background:url('../img/a.png')}\r\n"
        ),
        "js/app.js": "\ufeffvar a = 1;\r\nvar b = 2;\r\n",
    },
    "comments-strings": {
        "css/app.css": (
            "/* a{background:url(../img/missing.png)} */\n"
            'a{content:"url(../img/missing.png)"}\n'
            "b{content:'\\'url(../img/missing.png)'}\n"
            "/* @import 'missing.css'; */\n"
            "c{background:url(../img/a.png)}\n"
        ),
        "js/app.js": (
            'var s = "url(../img/missing.png)";\n'
            "// sourceMappingURL=missing.map\n"
            "var t = `\n//# sourceMappingURL=missing.map\n`;\n"
        ),
    },
    "chain-3": {
        "css/a/b/c.css": '@import "../b.css";',
        "css/a/b.css": '@import "../a.css";',
        "css/a.css": "a{background:url(../img/a.png)}",
    },
    "non-adjustable": {
        "img/icon.svg": '<svg><image href="a.png"/></svg>',
        "data/a.json": '{"url": "url(../img/a.png)"}',
        "css/APP.CSS": "a{background:url(../img/a.png)}",
    },
}

JS_MODULE_CASES: dict[str, dict[str, str | bytes]] = {
    "js-modules": {
        "js/main.js": (
            'import {a} from "./lib.js";\n'
            "import b from './lib.js';\n"
            'import * as c from "./lib.js";\n'
            'import {d,\n  e} from "./sub/util.js";\n'
            'export {f} from "./lib.js";\n'
            "export * from './sub/util.js';\n"
            'import "./side.js";\n'
            'const m = import("./lib.js");\n'
            'import x from "lib";\n'
            '// import y from "./missing.js";\n'
            'const s = `import z from "./missing.js"`;\n'
        ),
        "js/lib.js": 'export const a = 1; import u from "./sub/util.js";',
        "js/sub/util.js": "export default 2;",
        "js/side.js": "window.x = 1;",
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_identical_to_django(django_python: str, tmp_path: Path, case: str) -> None:
    processed = assert_identical(django_python, tmp_path, {**BASE, **CASES[case]})
    if case != "non-adjustable":
        assert processed.rewritten_count >= 1


@pytest.mark.parametrize("case", sorted(JS_MODULE_CASES))
def test_identical_to_django_with_js_modules(django_python: str, tmp_path: Path, case: str) -> None:
    files = {**BASE, **JS_MODULE_CASES[case]}
    processed = assert_identical(django_python, tmp_path / "on", files, js_modules=True)
    assert b'from "./lib.' in processed.rewritten["js/main.js"]
    plain = assert_identical(django_python, tmp_path / "off", files)
    assert "js/main.js" not in plain.rewritten


def test_static_url_and_prefixed_dirs(django_python: str, tmp_path: Path) -> None:
    files = {
        "css/app.css": (
            "a{background:url(/assets/vendor/img/a.png)}b{background:url(../vendor/img/a.png)}"
        ),
        "img/b.png": b"b",
    }
    vendor = {"img/a.png": b"vendor a"}
    src = write(tmp_path / "src", files)
    lib = write(tmp_path / "lib", vendor)
    root = tmp_path / "root"
    proc = run_django([src, ("vendor", lib)], root, python=django_python, static_url="/assets/")
    assert proc.returncode == 0, proc.stderr
    collected = {**files, **{f"vendor/{k}": v for k, v in vendor.items()}}
    processed = ours(collected, static_url="/assets/")
    assert manifest_bytes(processed.paths) == (root / "staticfiles.json").read_bytes()
    for name, hashed in processed.paths.items():
        assert (root / hashed).read_bytes() == final_bytes(collected, processed, name)


def test_django_admin_static_files(django_python: str, tmp_path: Path) -> None:
    """Real third-party CSS/JS: the admin's static files, from the installed Django."""
    proc = subprocess.run(
        [django_python, "-c", "import django, os; print(os.path.dirname(django.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    static = Path(proc.stdout.strip()) / "contrib" / "admin" / "static"
    files = {
        p.relative_to(static).as_posix(): p.read_bytes() for p in static.rglob("*") if p.is_file()
    }
    assert len(files) > 50
    root = tmp_path / "root"
    for js_modules in (False, True):
        apps = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.admin"]
        proc = run_django([], root, python=django_python, apps=apps, js_modules=js_modules)
        assert proc.returncode == 0, proc.stderr
        processed = ours(files, js_modules=js_modules)
        assert processed.errors == processed.warnings == []
        assert processed.rewritten_count > 0
        manifest = (root / "staticfiles.json").read_bytes()
        assert manifest_bytes(processed.paths) == manifest
        for name, hashed in processed.paths.items():
            assert (root / hashed).read_bytes() == final_bytes(files, processed, name), name


# --------------------------------------------------------------------------
# Deliberate differences, each shown against Django


def test_query_string_to_a_rewritten_file(django_python: str, tmp_path: Path) -> None:
    """Deviation (a): Django names the hash of the unprocessed base.css, never written."""
    files = {
        **BASE,
        "css/app.css": '@import "base.css?v=1";',
        "css/base.css": "body{background:url(../img/a.png)}",
    }
    root = django(django_python, tmp_path, files)
    processed = ours(files)
    final_base = processed.paths["css/base.css"]
    assert processed.rewritten["css/app.css"] == f'@import url("{final_base[4:]}?v=1");'.encode()
    django_app = root / json.loads((root / "staticfiles.json").read_text())["paths"]["css/app.css"]
    stale = hashed_name("css/base.css", md5(write_bytes(files["css/base.css"])))
    assert django_app.read_bytes() == f'@import url("{stale[4:]}?v=1");'.encode()
    assert not (root / stale).exists()  # Django's reference points at nothing
    assert (root / final_base).exists()


def test_percent_23_and_special_names(django_python: str, tmp_path: Path) -> None:
    """Deviations (b), (c): Django turns %23 into a fragment and decodes %25 / %3F."""
    files = {
        **BASE,
        "img/100%.png": b"percent",
        "css/app.css": "a{background:url(../img/100%25.png)}",
        "css/frag.css": "a{background:url(%23id)}",
    }
    root = django(django_python, tmp_path, files)
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    assert (root / paths["css/frag.css"]).read_bytes() == b'a{background:url("#id#id")}'
    assert (root / paths["css/app.css"]).read_bytes() == (
        b'a{background:url("../img/100%.' + md5(b"percent")[:12].encode() + b'.png")}'
    )
    processed = ours(files)
    assert processed.rewritten["css/app.css"] == (
        b'a{background:url("../img/100%25.' + md5(b"percent")[:12].encode() + b'.png")}'
    )
    assert "css/frag.css" not in processed.rewritten
    assert processed.errors == [
        "css/frag.css:1:14: url(%23id) -> css/#id is not among the collected files"
    ]


@pytest.mark.parametrize(
    ("css", "expected_django_error"),
    [
        ("a{background:url(DATA:image/png;base64,AAA)}", "DATA:image"),  # deviation (d)
        ('a{background:url( "../img/a.png" )}', "img/a.png"),  # deviation (k)
    ],
)
def test_django_fails_where_we_do_not(
    django_python: str, tmp_path: Path, css: str, expected_django_error: str
) -> None:
    files = {**BASE, "css/app.css": css}
    proc = run_django([write(tmp_path / "src", files)], tmp_path / "root", python=django_python)
    assert proc.returncode != 0
    assert expected_django_error in proc.stderr
    processed = ours(files)
    assert processed.errors == []


def test_missing_source_map_is_a_warning(django_python: str, tmp_path: Path) -> None:
    """Deviation (i): Django fails the run; we warn and leave the comment alone."""
    files = {**BASE, "js/app.js": "x();\n//# sourceMappingURL=app.js.map\n"}
    proc = run_django([write(tmp_path / "src", files)], tmp_path / "root", python=django_python)
    assert proc.returncode != 0
    processed = ours(files)
    assert processed.errors == []
    assert processed.warnings == [
        "js/app.js:2:1: //# sourceMappingURL=app.js.map -> js/app.js.map "
        "is not among the collected files"
    ]
    assert "js/app.js" not in processed.rewritten


def test_crlf_js_source_map(django_python: str, tmp_path: Path) -> None:
    """Deviation (g): Django drops the CR of the rewritten line."""
    files = {
        **BASE,
        "js/app.js": "x();\r\n//# sourceMappingURL=app.js.map\r\n",
        "js/app.js.map": "{}",
    }
    root = django(django_python, tmp_path, files)
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    mapped = paths["js/app.js.map"].split("/")[-1]
    assert (
        root / paths["js/app.js"]
    ).read_bytes() == f"x();\r\n//# sourceMappingURL={mapped}\n".encode()
    processed = ours(files)
    assert processed.rewritten["js/app.js"] == f"x();\r\n//# sourceMappingURL={mapped}\r\n".encode()


# --------------------------------------------------------------------------
# Better than Django: order, cycles, reports, determinism


def chain(depth: int) -> dict[str, str]:
    """css/l1/.../lN/c.css imports the file one level up: Django resolves one level per pass."""
    files = {"css/c.css": "a{background:url(../img/a.png)}"}
    for level in range(1, depth + 1):
        directory = "/".join(f"l{i}" for i in range(1, level + 1))
        files[f"css/{directory}/c.css"] = '@import "../c.css";\nb{color:red}'
    return files


def test_deep_import_chain(django_python: str, tmp_path: Path) -> None:
    files = {**BASE, **chain(50)}
    proc = run_django([write(tmp_path / "src", files)], tmp_path / "root", python=django_python)
    assert proc.returncode != 0
    assert "Max post-process passes exceeded" in proc.stderr
    processed = ours(files)
    assert processed.errors == []
    # every file names its parent's final hashed name, whose digest is of its final bytes
    for name in files:
        if name.endswith("c.css") and name != "css/c.css":
            parent = name.rsplit("/", 2)[0] + "/c.css"
            hashed_parent = processed.paths[parent].rsplit("/", 1)[-1]
            text = processed.rewritten[name].decode()
            assert text.startswith(f'@import url("../{hashed_parent}");')
        assert processed.paths[name] == hashed_name(name, md5(final_bytes(files, processed, name)))
    # and a short chain is byte-identical to Django's
    assert_identical(django_python, tmp_path / "short", {**BASE, **chain(3)})


def test_cycles(django_python: str, tmp_path: Path) -> None:
    files = {
        **BASE,
        "css/p.css": '@import "q.css";\np{background:url(../img/a.png)}',
        "css/q.css": '@import "p.css";\nq{}',
        "css/self.css": ".a{background:url(self.css)}",
        "css/user.css": '@import "p.css";',
    }
    proc = run_django([write(tmp_path / "src", files)], tmp_path / "root", python=django_python)
    assert proc.returncode != 0
    assert "Max post-process passes exceeded" in proc.stderr
    processed = ours(files)
    assert processed.errors == []
    # members of a cycle share one name hash, computed over the whole component
    p_hash = processed.paths["css/p.css"].split(".")[-2]
    assert processed.paths["css/q.css"] == f"css/q.{p_hash}.css"
    hasher = hashlib.md5()
    for name in ("css/p.css", "css/q.css"):
        text = write_bytes(files[name]).decode().replace("q.css", f"q.{'0' * 12}.css")
        text = text.replace('"p.css"', f'"p.{"0" * 12}.css"')
        text = text.replace("(../img/a.png)", f'("../{processed.paths["img/a.png"]}")')
        text = text.replace('@import "', '@import url("').replace('.css";', '.css");')
        hasher.update(name.encode() + b"\0" + text.encode() + b"\0")
    assert p_hash == hasher.hexdigest()[:12]
    assert processed.rewritten["css/p.css"].startswith(f'@import url("q.{p_hash}.css");'.encode())
    assert processed.rewritten["css/q.css"] == f'@import url("p.{p_hash}.css");\nq{{}}'.encode()
    # a file referencing itself names itself
    self_name = processed.paths["css/self.css"]
    assert (
        processed.rewritten["css/self.css"] == f'.a{{background:url("{self_name[4:]}")}}'.encode()
    )
    # outside the cycle, ordinary content hashing of the final bytes
    user = processed.rewritten["css/user.css"]
    assert user == f'@import url("p.{p_hash}.css");'.encode()
    assert processed.paths["css/user.css"] == hashed_name("css/user.css", md5(user))
    for name in files:
        assert processed.final_digests[name] == md5(final_bytes(files, processed, name))
    # any change inside the component changes both names
    changed = ours({**files, "css/q.css": '@import "p.css";\nq{color:red}'})
    assert changed.paths["css/p.css"] != processed.paths["css/p.css"]
    assert changed.paths["css/q.css"] != processed.paths["css/q.css"]
    assert ours(dict(reversed(list(files.items())))) == processed


def test_every_broken_reference_in_one_report(django_python: str, tmp_path: Path) -> None:
    files = {
        **BASE,
        "css/site.css": (
            "body{margin:0}\n" * 11 + 'h1{background:url("../img/missing.png")}\n'
            '@import "gone.css";\n'
        ),
        "css/other.css": "a{background:url(nope.gif)} b{background:url(../img/a.png)}",
        "js/app.js": "x();\n//# sourceMappingURL=app.js.map",
        "js/mod.js": 'import a from "./nothere.js";',
        "css/bad.css": b"a{background:url(../img/a.png)}\n\xff\xfe",
    }
    proc = run_django([write(tmp_path / "src", files)], tmp_path / "root", python=django_python)
    assert proc.returncode != 0  # Django stops at the first one
    processed = ours(files, js_modules=True)
    assert processed.errors == [
        "css/bad.css: not valid UTF-8 (byte 0xff at offset 32); its references were not rewritten",
        "css/other.css:1:14: url(nope.gif) -> css/nope.gif is not among the collected files",
        'css/site.css:12:15: url("../img/missing.png") -> img/missing.png '
        "is not among the collected files",
        'css/site.css:13:1: @import "gone.css" -> css/gone.css is not among the collected files',
        'js/mod.js:1:1: import a from "./nothere.js" -> js/nothere.js '
        "is not among the collected files",
    ]
    assert processed.warnings == [
        "js/app.js:2:1: //# sourceMappingURL=app.js.map -> js/app.js.map "
        "is not among the collected files"
    ]
    # warn mode: broken references stay as written, the rest is rewritten
    other = processed.rewritten["css/other.css"].decode()
    assert other.startswith('a{background:url(nope.gif)} b{background:url("../img/a.')
    # the undecodable file is copied unrewritten under its content hash
    assert "css/bad.css" not in processed.rewritten
    assert processed.paths["css/bad.css"] == hashed_name(
        "css/bad.css", md5(write_bytes(files["css/bad.css"]))
    )


def test_input_order_does_not_matter() -> None:
    files = {**BASE, **CASES["imports"], **CASES["chain-3"], **JS_MODULE_CASES["js-modules"]}
    first = ours(files, js_modules=True)
    second = ours(dict(sorted(files.items(), reverse=True)), js_modules=True)
    assert first == second
    assert list(first.paths) == sorted(files)
    assert manifest_bytes(first.paths) == manifest_bytes(dict(reversed(list(first.paths.items()))))


def test_read_is_only_called_for_css_and_js() -> None:
    files = {**BASE, **CASES["imports"]}
    data = {name: write_bytes(content) for name, content in files.items()}
    calls: list[str] = []

    def read(name: str) -> bytes:
        calls.append(name)
        return data[name]

    post_process({name: md5(content) for name, content in data.items()}, read)
    assert sorted(calls) == ["css/app.css", "css/base.css", "vendor/jquery.min.js"]


# --------------------------------------------------------------------------
# The manifest format


def test_manifest_bytes_with_extra_keys() -> None:
    paths = {"css/b.css": "css/b.123456789012.css", "a/\u00e9.png": "a/\u00e9.000000000000.png"}
    data = manifest_bytes(paths, {"integrity": {"css/b.123456789012.css": "sha384-x"}})
    items = sorted(paths.items())
    expected_hash = md5(json.dumps(items).encode())[:12]
    assert (
        data
        == (
            '{"paths": {"a/\\u00e9.png": "a/\\u00e9.000000000000.png", '
            '"css/b.css": "css/b.123456789012.css"}, "version": "1.1", '
            f'"hash": "{expected_hash}", "integrity": {{"css/b.123456789012.css": "sha384-x"}}}}'
        ).encode()
    )
    assert data.isascii()
    with pytest.raises(ValueError, match="hash"):
        manifest_bytes(paths, {"hash": "x"})


@pytest.mark.parametrize(
    ("data", "paths"),
    [
        (b'{"paths": {"a.css": "a.1.css"}, "version": "1.1", "hash": "x"}', {"a.css": "a.1.css"}),
        (b'\xef\xbb\xbf {"paths": {}, "version": "1.0"}\n', {}),
        (b'{"version": "1.1", "extra": 1}', {}),
    ],
)
def test_read_manifest(data: bytes, paths: dict[str, str]) -> None:
    manifest = read_manifest(data)
    assert manifest["paths"] == paths
    assert "hash" in manifest


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"{",
        b'{"paths": {}}',
        b'{"paths": {}, "version": "2"}',
        b'{"paths": [], "version": "1.1"}',
        b"\xff",
    ],
)
def test_read_manifest_rejects(data: bytes) -> None:
    with pytest.raises(ValueError):
        read_manifest(data)


_LOAD_MANIFEST = r"""
import json, sys
from django.conf import settings
settings.configure(
    DEBUG=False, STATIC_URL="/static/", STATIC_ROOT=sys.argv[1],
    INSTALLED_APPS=["django.contrib.staticfiles"],
    STORAGES={"staticfiles": {"BACKEND":
        "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}},
)
import django
django.setup()
from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
print(json.dumps([django.get_version(), staticfiles_storage.url("css/app.css"),
                  static("img/a.png"), staticfiles_storage.manifest_hash]))
"""


def check_django_loads_our_manifest(python: str, tmp_path: Path) -> str:
    files = {**BASE, **CASES["imports"]}
    processed = ours(files)
    root = tmp_path / "root"
    root.mkdir()
    (root / "staticfiles.json").write_bytes(manifest_bytes(processed.paths, {"ours": {"x": 1}}))
    proc = subprocess.run(
        [python, "-c", _LOAD_MANIFEST, str(root)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    version, url, image, manifest_hash = json.loads(proc.stdout)
    assert url == "/static/" + processed.paths["css/app.css"]
    assert image == "/static/" + processed.paths["img/a.png"]
    assert manifest_hash == json.loads(manifest_bytes(processed.paths))["hash"]
    return version


def test_django_61_loads_our_manifest(django_python: str, tmp_path: Path) -> None:
    assert check_django_loads_our_manifest(django_python, tmp_path).startswith("6.")


@pytest.fixture(scope="session")
def django52_python(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A Python with Django 5.2: $COLLECTSTATIC_DJANGO52_PYTHON, else a cached venv.

    The venv is made once under pytest's cache directory with Python 3.11 (or
    this Python) and ``pip install 'django>=5.2,<5.3'``.
    """
    configured = os.environ.get("COLLECTSTATIC_DJANGO52_PYTHON")
    if configured:
        version = django_version(configured)
        if version is None or version[:2] != (5, 2):
            pytest.skip(f"$COLLECTSTATIC_DJANGO52_PYTHON ({configured}) has no Django 5.2")
        return configured
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    venv = Path(cache.mkdir("django52-venv")) if cache else tmp_path_factory.mktemp("django52")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if python.exists() and (django_version(str(python)) or ())[:2] == (5, 2):
        return str(python)
    base = _python311() or sys.executable
    steps = [
        [base, "-m", "venv", "--clear", str(venv)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "django>=5.2,<5.3",
        ],
    ]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.skip(
                "could not make a Django 5.2 venv (set COLLECTSTATIC_DJANGO52_PYTHON): "
                + (proc.stderr.strip().splitlines() or ["?"])[-1]
            )
    return str(python)


def _python311() -> str | None:
    import shutil

    for candidate in ("python3.11", "python3.10", "python3.12", "python3.13"):
        found = shutil.which(candidate)
        if found:
            return found
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for version in sorted(Path(root.strip(), "versions").glob("3.1[0-3]*"), reverse=True):
        python = version / "bin" / "python3"
        if python.exists():
            return str(python)
    return None


def test_django_52_loads_our_manifest(django52_python: str, tmp_path: Path) -> None:
    assert check_django_loads_our_manifest(django52_python, tmp_path).startswith("5.2")
