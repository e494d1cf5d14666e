"""Run-time lookup: manifests on disk, in installed packages, in zip-imported packages.

Collected trees come from the real CLI (``python -m collectstatic collect``);
installed packages from wheels built by the hatch hook, or a zipped package
dir imported through ``sys.path`` in a subprocess.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import pickle
import re
import sys
import zipfile
from pathlib import Path

import pytest

from collectstatic.errors import CollectStaticError
from collectstatic.runtime import (
    Manifest,
    ManifestConflictError,
    ManifestError,
    ManifestLookupError,
    clear_cache,
    merge,
)

from .support import cli, run, write_tree

HASHED = re.compile(r"^css/site\.[0-9a-f]{12}\.css$")
CSS = 'body { background: url("../img/logo.png"); }\n'
SOURCES: dict[str, str | bytes] = {
    "assets/css/site.css": CSS,
    "assets/img/logo.png": b"\x89PNG\r\n\x1a\nlogo",
    "assets/fonts/icons.woff": b"wOFFicons",
    "assets/LICENSE": "MIT\n",
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_cache()


def collected(project: Path, config: str = "", files: dict[str, str | bytes] | None = None
              ) -> Path:
    """Collect a small project with the real CLI; return its root."""
    write_tree(project, files or SOURCES)
    (project / "pyproject.toml").write_text(
        f'[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n{config}')
    cli("collect", "--noinput", "-v", "0", cwd=project)
    return project / "out"


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_lookup_from_a_collected_root(tmp_path: Path) -> None:
    root = collected(tmp_path)
    data = json.loads((root / "staticfiles.json").read_text())
    manifest = Manifest.from_path(root / "staticfiles.json")

    hashed = manifest.hashed_name("css/site.css")
    assert HASHED.match(hashed) and hashed == data["paths"]["css/site.css"]
    assert manifest.url("css/site.css") == f"/static/{hashed}"
    assert manifest["css/site.css"] == hashed and "css/site.css" in manifest
    assert manifest.url("LICENSE") == "/static/" + data["paths"]["LICENSE"]
    assert re.fullmatch(r"LICENSE\.[0-9a-f]{12}", manifest.hashed_name("LICENSE"))
    body = (root / hashed).read_bytes()
    assert manifest.integrity("css/site.css") == sri(body)
    assert manifest.size("css/site.css") == len(body)
    assert manifest.encodings("css/site.css") == {}
    assert set(manifest) == set(data["paths"]) and len(manifest) == len(data["paths"])
    assert manifest.manifest_hash == data["hash"]
    # A directory names the root; the default manifest name is read from it.
    assert Manifest.from_path(root).paths == manifest.paths


def test_static_url_query_and_fragment_and_special_names(tmp_path: Path) -> None:
    root = collected(tmp_path, files={**SOURCES, "assets/img/a b+c.png": b"png"})
    manifest = Manifest.from_path(root, static_url="https://cdn.example.com/s/")
    hashed = manifest.hashed_name("fonts/icons.woff")
    assert manifest.url("fonts/icons.woff?#iefix") == f"https://cdn.example.com/s/{hashed}?#iefix"
    assert manifest.url("fonts/icons.woff#svg") == f"https://cdn.example.com/s/{hashed}#svg"
    assert manifest.hashed_name("fonts/icons.woff?v=1") == f"{hashed}?v=1"
    spaced = manifest.hashed_name("img/a b+c.png")
    # As Django's {% static %}: not percent-quoted (test_runtime_django compares).
    assert manifest.url("img/a b+c.png") == "https://cdn.example.com/s/" + spaced
    relocated = manifest.with_static_url("/assets/")
    assert relocated.url("fonts/icons.woff") == f"/assets/{hashed}"
    assert manifest.static_url == "https://cdn.example.com/s/"  # unchanged


@pytest.mark.parametrize("static_url", ["/static", "", "static"])
def test_static_url_must_end_with_a_slash(tmp_path: Path, static_url: str) -> None:
    root = collected(tmp_path)
    with pytest.raises(ManifestError, match="ending in '/'"):
        Manifest.from_path(root, static_url=static_url)


def test_missing_name_names_it_and_suggests_close_names(tmp_path: Path) -> None:
    manifest = Manifest.from_path(collected(tmp_path))
    with pytest.raises(ManifestLookupError) as info:
        manifest.url("css/sit.css")
    error = info.value
    assert isinstance(error, KeyError) and isinstance(error, CollectStaticError)
    assert error.name == "css/sit.css"
    copy = pickle.loads(pickle.dumps(error))  # crosses process pools intact
    assert (copy.name, str(copy)) == (error.name, str(error))
    assert str(error) == (f"'css/sit.css' is not in the static files manifest "
                          f"({tmp_path / 'out' / 'staticfiles.json'}); did you mean "
                          f"'css/site.css'?")
    # Same file name in another directory.
    with pytest.raises(KeyError, match=r"did you mean 'img/logo\.png'"):
        manifest.hashed_name("images/logo.png")
    # A hashed name passed where the logical one belongs.
    with pytest.raises(KeyError, match="already a hashed name"):
        manifest.url(manifest.hashed_name("css/site.css"))
    with pytest.raises(KeyError, match=r"'nothing\.txt' is not in .*\)$"):
        manifest.integrity("nothing.txt")
    assert manifest.get("css/sit.css") is None


def test_loaded_once_per_process_until_cleared(tmp_path: Path) -> None:
    root = collected(tmp_path)
    first = Manifest.from_path(root / "staticfiles.json")
    before = first.paths
    (root / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    again = Manifest.from_path(root / "staticfiles.json")
    assert again is first and again.paths == before  # no second read
    other_url = Manifest.from_path(root / "staticfiles.json", static_url="/s/")
    assert other_url.paths == before and other_url.url("LICENSE").startswith("/s/")
    clear_cache()
    assert len(Manifest.from_path(root / "staticfiles.json")) == 0


def plain_django_root(root: Path) -> Path:
    """A tree as Django's own collectstatic writes it: no ``collectstatic`` key."""
    css = b"body{color:red}" * 20
    write_tree(root, {
        "css/a.0123456789ab.css": css,
        "css/a.0123456789ab.css.gz": gzip.compress(css, mtime=0),
        "css/a.0123456789ab.css.br": b"not really brotli",
        "js/b.aaaaaaaaaaaa.js": "b()",
    })
    (root / "staticfiles.json").write_text(json.dumps({
        "paths": {"css/a.css": "css/a.0123456789ab.css", "js/b.js": "js/b.aaaaaaaaaaaa.js",
                  "gone.txt": "gone.bbbbbbbbbbbb.txt"},
        "version": "1.1", "hash": "cccccccccccc"}))
    return root


def test_plain_django_manifest_integrity_and_variants_from_the_files(tmp_path: Path) -> None:
    root = plain_django_root(tmp_path / "static")
    manifest = Manifest.from_path(root / "staticfiles.json")
    css = (root / "css/a.0123456789ab.css").read_bytes()
    assert manifest.integrity("css/a.css") == sri(css)
    assert manifest.integrity("css/a.css", "sha256") == "sha256-" + base64.b64encode(
        hashlib.sha256(css).digest()).decode()
    assert manifest.encodings("css/a.css") == {
        "br": len(b"not really brotli"),
        "gzip": (root / "css/a.0123456789ab.css.gz").stat().st_size}
    assert manifest.encodings("js/b.js") == {}
    with pytest.raises(ManifestError, match=r"no integrity for 'gone\.txt'"):
        manifest.integrity("gone.txt")
    # From parsed data with no reachable files, integrity cannot be made up.
    detached = Manifest.from_data(json.loads((root / "staticfiles.json").read_text()))
    with pytest.raises(ManifestError, match="not reachable"):
        detached.integrity("css/a.css")


def test_extra_data_is_trusted_over_the_files(tmp_path: Path) -> None:
    data = {"paths": {"a.css": "a.0123456789ab.css"}, "version": "1.1", "hash": "0" * 12,
            "collectstatic": {"version": 1, "files": {"a.0123456789ab.css": {
                "integrity": "sha384-FROMMANIFEST", "size": 123,
                "encodings": {"br": 40, "gzip": 50}}}}}
    manifest = Manifest.from_data(data)
    assert manifest.integrity("a.css") == "sha384-FROMMANIFEST"
    assert manifest.encodings("a.css") == {"br": 40, "gzip": 50}
    assert manifest.size("a.css") == 123


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not a JSON manifest"),
    ('["paths"]', "not a static files manifest"),
    ('{"version": "1.1"}', "with a 'paths' object"),
    ('{"paths": {"a": 1}, "version": "1.1"}', r"paths\['a'\] must map a string"),
    ('{"paths": {}, "version": "2.0"}', "unsupported manifest version '2.0'"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"paths": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ('{"paths": {"a": "a"}, "collectstatic": ' + '{"x": ' * 100_000 + "1" + "}" * 100_001,
     "nested too deeply"),
])
def test_bad_manifests(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "staticfiles.json").write_text(content)
    with pytest.raises(ManifestError, match=message):
        Manifest.from_path(tmp_path / "staticfiles.json")


# Hashed names that would lead out of the collected root (or cannot be a file in it).
ESCAPES = ["../secret.txt", "../../../../../../../../etc/passwd", "/etc/passwd",
           "css/../../secret.txt", "./../secret.txt", "css//../../secret.txt", "..",
           "..\\secret.txt", "css\\..\\..\\secret.txt", "a.css\x00", "", "link/secret.txt",
           "leak.txt"]


def escaping_root(tmp_path: Path, extra: bool) -> Path:
    """A collected root whose manifest maps a name to each of ESCAPES; a secret
    beside the root, and symlinks in the root leading to it."""
    root = write_tree(tmp_path / "root", {"ok.css": "ok", "ok.css.gz": "gz"})
    (tmp_path / "secret.txt").write_text("SECRET")
    (tmp_path / "secret.txt.gz").write_text("SECRET")
    (root / "link").symlink_to(tmp_path)
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")
    paths = {f"n{index}.css": hashed for index, hashed in enumerate(ESCAPES)}
    data: dict[str, object] = {"paths": {**paths, "ok.css": "ok.css"}, "version": "1.1"}
    if extra:  # our key, without integrity or sizes: they are computed from the files
        data["collectstatic"] = {"files": {hashed: {} for hashed in ESCAPES}}
    (root / "staticfiles.json").write_text(json.dumps(data))
    return root


@pytest.mark.parametrize("extra", [False, True])
@pytest.mark.parametrize("index", range(len(ESCAPES)))
def test_no_file_outside_the_root_is_read(tmp_path: Path, index: int, extra: bool) -> None:
    manifest = Manifest.from_path(escaping_root(tmp_path, extra))
    name = f"n{index}.css"
    assert manifest.hashed_name(name) == ESCAPES[index]  # the lookup itself is Django's
    with pytest.raises(ManifestError, match="leads out of the collected root"):
        manifest.integrity(name)
    assert manifest.size(name) is None
    assert manifest.encodings(name) == {}
    assert manifest.integrity("ok.css") == sri(b"ok") and manifest.size("ok.css") == 2
    assert manifest.encodings("ok.css") == ({} if extra else {"gzip": 2})


def test_no_file_outside_a_zip_root_is_read(tmp_path: Path) -> None:
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("secret.txt", "SECRET")
        zipped.writestr("pkg/static/ok.css", "ok")
    paths = {f"n{index}.css": hashed for index, hashed in enumerate(ESCAPES)}
    manifest = Manifest.from_data({"paths": {**paths, "ok.css": "ok.css"}},
                                  location=zipfile.Path(archive, "pkg/static/"))
    for name in paths:
        with pytest.raises(ManifestError):
            manifest.integrity(name)
        assert manifest.size(name) is None and manifest.encodings(name) == {}
    assert manifest.integrity("ok.css") == sri(b"ok")


@pytest.mark.parametrize("stored", [{"encodings": {"br": "x", "gzip": 5, "zstd": True}},
                                    {"encodings": ["br"], "size": "12"},
                                    {"encodings": None, "size": True}])
def test_extra_data_of_the_wrong_shape_is_not_trusted(tmp_path: Path,
                                                      stored: dict[str, object]) -> None:
    manifest = Manifest.from_data({"paths": {"a.css": "a.1.css"},
                                   "collectstatic": {"files": {"a.1.css": stored}}})
    assert manifest.encodings("a.css") == ({"gzip": 5} if stored["encodings"] == {
        "br": "x", "gzip": 5, "zstd": True} else {})
    assert manifest.size("a.css") is None


def test_missing_manifest_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read the static files manifest"):
        Manifest.from_path(tmp_path / "nope.json")


def test_merge_apps_and_conflicts(tmp_path: Path) -> None:
    def app(name: str, paths: dict[str, str]) -> Manifest:
        root = tmp_path / name
        root.mkdir()
        (root / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1"}))
        return Manifest.from_path(root)

    one = app("one", {"one/a.css": "one/a.111111111111.css", "vendor/x.js": "vendor/x.0.js"})
    two = app("two", {"two/b.css": "two/b.222222222222.css", "vendor/x.js": "vendor/x.0.js"})
    both = merge(one, two)
    assert both.url("one/a.css") == "/static/one/a.111111111111.css"
    assert both.url("two/b.css") == "/static/two/b.222222222222.css"
    assert both.sources == (str(tmp_path / "one/staticfiles.json"),
                            str(tmp_path / "two/staticfiles.json"))
    assert Manifest.merge(one, two, static_url="/s/").url("vendor/x.js") == "/s/vendor/x.0.js"
    with pytest.raises(KeyError, match=r"one/staticfiles\.json \+ .*two/staticfiles\.json"):
        both.url("three/c.css")

    three = app("three", {"two/b.css": "two/b.333333333333.css"})
    with pytest.raises(ManifestConflictError) as info:
        merge(one, two, three)
    assert str(info.value) == (
        f"a static file name claimed differently by two manifests: 'two/b.css' is "
        f"'two/b.222222222222.css' in {tmp_path / 'two/staticfiles.json'} but "
        f"'two/b.333333333333.css' in {tmp_path / 'three/staticfiles.json'} "
        f"(namespace each app's files under its own directory)")
    with pytest.raises(ManifestError, match="at least one"):
        merge()


def test_merged_integrity_reads_each_apps_own_files(tmp_path: Path) -> None:
    first = Manifest.from_path(plain_django_root(tmp_path / "first"))
    (tmp_path / "second").mkdir()
    write_tree(tmp_path / "second", {"z.999999999999.txt": "zzz"})
    (tmp_path / "second/staticfiles.json").write_text(json.dumps(
        {"paths": {"z.txt": "z.999999999999.txt"}, "version": "1.1"}))
    both = merge(first, Manifest.from_path(tmp_path / "second"))
    assert both.integrity("z.txt") == sri(b"zzz")
    assert both.encodings("css/a.css")["gzip"] > 0


# -- from installed and zip-imported packages -----------------------------------------------
LOOKUP_SCRIPT = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from collectstatic.runtime import Manifest
import {package}
manifest = Manifest.from_package({package!r}, "staticfiles")
again = Manifest.from_package({package!r}, "staticfiles")
print(json.dumps({{
    "loader": type({package}.__loader__).__name__,
    "file": {package}.__file__,
    "cached": again is manifest,
    "url": manifest.url("css/site.css"),
    "hashed": manifest.hashed_name("css/site.css"),
    "integrity": manifest.integrity("css/site.css"),
    "encodings": manifest.encodings("css/site.css"),
    "names": sorted(manifest),
}}))
"""


def lookup_in_subprocess(package: str, path_entries: list[str],
                         python: str | Path = sys.executable) -> dict[str, object]:
    repo = str(Path(__file__).resolve().parent.parent)
    proc = run([python, "-c", LOOKUP_SCRIPT.format(package=package),
                json.dumps([*path_entries, repo])], timeout=60)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def zip_package(root: Path, package: str, archive: Path) -> Path:
    """Zip ``package/__init__.py`` + ``package/staticfiles/<root>`` into ``archive``."""
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(f"{package}/__init__.py", "")
        for path in sorted(root.rglob("*")):
            if path.is_file() and ".collectstatic" not in path.parts:
                zipped.write(path, f"{package}/staticfiles/{path.relative_to(root).as_posix()}")
    return archive


def test_from_a_zip_imported_package(tmp_path: Path) -> None:
    root = collected(tmp_path / "project")
    (root / f"{Manifest.from_path(root).hashed_name('css/site.css')}.gz").write_bytes(b"x" * 7)
    archive = zip_package(root, "zipped_app", tmp_path / "zipped_app.zip")
    result = lookup_in_subprocess("zipped_app", [str(archive)])
    expected = Manifest.from_path(root)
    hashed = expected.hashed_name("css/site.css")
    assert result == {
        "loader": "zipimporter",
        "file": str(archive / "zipped_app" / "__init__.py"),
        "cached": True,
        "url": f"/static/{hashed}",
        "hashed": hashed,
        "integrity": sri((root / hashed).read_bytes()),
        "encodings": {},  # our extra data is present and lists none: trusted
        "names": sorted(expected),
    }


def test_from_a_zip_imported_plain_django_package(tmp_path: Path) -> None:
    root = plain_django_root(tmp_path / "static")
    (root / "css/site.0123456789ab.css").write_text("site")
    data = json.loads((root / "staticfiles.json").read_text())
    data["paths"]["css/site.css"] = "css/site.0123456789ab.css"
    (root / "staticfiles.json").write_text(json.dumps(data))
    (root / "css/site.0123456789ab.css.gz").write_bytes(b"g" * 5)
    archive = zip_package(root, "zipped_django", tmp_path / "zipped_django.zip")
    result = lookup_in_subprocess("zipped_django", [str(archive)])
    assert result["loader"] == "zipimporter"
    assert result["integrity"] == sri(b"site")  # computed from the zipped bytes
    assert result["encodings"] == {"gzip": 5}  # found beside it inside the zip


def test_missing_package_or_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no_such_package_xyz: cannot find the package"):
        Manifest.from_package("no_such_package_xyz")
    with pytest.raises(ManifestError, match=r"collectstatic:staticfiles/staticfiles\.json: "
                                            r"no manifest in the installed package"):
        Manifest.from_package("collectstatic", "staticfiles")
    with pytest.raises(ManifestError, match="expected a path inside the package"):
        Manifest.from_package("collectstatic", "../x")


def build_hook_wheel(tmp_path: Path) -> Path:
    """A wheel of a one-app project, built by hatchling with our hook."""
    from hatchling.builders.wheel import WheelBuilder

    project = write_tree(tmp_path / "hookapp", {
        "src/hookapp/__init__.py": "",
        "src/hookapp/static/css/site.css": CSS,
        "src/hookapp/static/img/logo.png": b"\x89PNG\r\n\x1a\nlogo",
        "pyproject.toml": (
            '[build-system]\nrequires = ["hatchling", "collectstatic"]\n'
            'build-backend = "hatchling.build"\n\n'
            '[project]\nname = "hookapp"\nversion = "1.0"\n\n'
            '[tool.collectstatic]\nroot = "src/hookapp/staticfiles"\napps = ["hookapp"]\n\n'
            "[tool.hatch.build.hooks.collectstatic]\n"),
    })
    (artifact,) = WheelBuilder(str(project)).build(directory=str(tmp_path / "dist"),
                                                    versions=["standard"])
    return Path(artifact)


def test_from_a_wheel_built_by_the_hook_installed_and_zip_imported(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    wheel = build_hook_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        manifest = json.loads(archive.read("hookapp/staticfiles/staticfiles.json"))
        hashed = manifest["paths"]["css/site.css"]
        body = archive.read(f"hookapp/staticfiles/{hashed}")
    assert HASHED.match(hashed)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], timeout=120)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel], timeout=120)
    # The venv's own site-packages; collectstatic comes from the checkout (with tomli,
    # its dependency before Python 3.11, from the running environment).
    deps = []
    if sys.version_info < (3, 11):
        import tomli

        deps.append(str(Path(tomli.__file__).parent.parent))
    installed = lookup_in_subprocess("hookapp", deps, python)
    # A pure-Python wheel is a zip that imports straight from sys.path.
    zipped = lookup_in_subprocess("hookapp", [str(wheel)])
    assert installed["loader"] != "zipimporter" and zipped["loader"] == "zipimporter"
    assert str(installed["file"]).startswith(str(venv))
    for result in (installed, zipped):
        assert result["url"] == f"/static/{hashed}"
        assert result["integrity"] == sri(body)
        assert result["names"] == ["css/site.css", "img/logo.png"]
