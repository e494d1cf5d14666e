"""Hashing through the CLI: what lands in root, the manifest, strictness,
integrity, determinism and the incremental memo."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from .support import cli, tree_bytes, write_tree

SITE = {
    "s/css/site.css": '@import "parts/base.css";\nbody { background: url("../img/a.png"); }\n',
    "s/css/parts/base.css": "h1 { background: url(../../img/b.png) }\n",
    "s/img/a.png": b"A-PNG",
    "s/img/b.png": b"B-PNG",
    "s/js/app.js": "console.log(1);\n",
}


def make(root: Path, files: dict = SITE, extra: str = "") -> Path:
    write_tree(root, files)
    (root / "pyproject.toml").write_text(f'[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n'
                                         f"{extra}")
    return root


def manifest(root: Path) -> dict:
    return json.loads((root / "out/staticfiles.json").read_bytes())


def test_hashed_copies_manifest_and_plain_originals(tmp_path: Path) -> None:
    make(tmp_path)
    proc = cli("collect", "--noinput", cwd=tmp_path)
    data = manifest(tmp_path)
    paths = data["paths"]
    assert sorted(paths) == ["css/parts/base.css", "css/site.css", "img/a.png", "img/b.png",
                             "js/app.js"]
    for name, hashed in paths.items():
        assert re.fullmatch(re.escape(name.rsplit(".", 1)[0]) + r"\.[0-9a-f]{12}\." +
                            name.rsplit(".", 1)[1], hashed)
    out = tree_bytes(tmp_path / "out")
    # originals stay unrewritten beside the hashed copies (Django's behaviour)
    assert out["css/site.css"] == SITE["s/css/site.css"].encode()
    site = out[paths["css/site.css"]].decode()
    assert f'@import url("{paths["css/parts/base.css"][4:]}")' in site  # parts/base.<h>.css
    assert paths["img/a.png"].split("/")[-1] in site
    assert set(out) == set(paths) | set(paths.values()) | {"staticfiles.json"}
    assert proc.stdout.strip().endswith("5 static files copied to "
                                        f"'{tmp_path / 'out'}', 5 post-processed.")
    assert data["version"] == "1.1" and re.fullmatch(r"[0-9a-f]{12}", data["hash"])


def test_integrity_and_sizes_in_extra_data(tmp_path: Path) -> None:
    make(tmp_path)
    cli("collect", "--noinput", cwd=tmp_path)
    data = manifest(tmp_path)
    files = data["collectstatic"]["files"]
    assert sorted(files) == sorted(data["paths"].values())
    for hashed, info in files.items():
        body = (tmp_path / "out" / hashed).read_bytes()
        digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
        assert info["integrity"] == f"sha384-{digest}"
        assert info["size"] == len(body)


def test_keep_unhashed_false_leaves_only_hashed_files(tmp_path: Path) -> None:
    make(tmp_path, extra="keep-unhashed = false\n")
    cli("collect", "--noinput", cwd=tmp_path)
    paths = manifest(tmp_path)["paths"]
    assert set(tree_bytes(tmp_path / "out")) == set(paths.values()) | {"staticfiles.json"}
    assert (tmp_path / "out" / paths["img/a.png"]).read_bytes() == b"A-PNG"
    again = cli("collect", "--noinput", cwd=tmp_path)
    assert "0 static files copied" in again.stdout and "5 unmodified" in again.stdout
    # switching back brings the originals in
    (tmp_path / "pyproject.toml").write_text('[tool.collectstatic]\nroot = "out"\ndirs = ["s"]\n')
    cli("collect", "--noinput", cwd=tmp_path)
    assert (tmp_path / "out/img/a.png").read_bytes() == b"A-PNG"


BROKEN = {
    "s/css/one.css": 'a { background: url("../img/missing.png"); }\n'
                     'b { background: url(gone.gif); }\n',
    "s/css/two.css": '@import "nope.css";\n/*# sourceMappingURL=two.css.map */\n',
    "s/img/ok.png": b"ok",
}


def test_every_broken_reference_in_one_report(tmp_path: Path) -> None:
    make(tmp_path, BROKEN)
    cli("collect", "--noinput", "--no-post-process", cwd=tmp_path)  # plain copies exist
    proc = cli("collect", "--noinput", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1 and message.startswith("error: 3 broken references: ")
    assert ('css/one.css:1:17: url("../img/missing.png") -> img/missing.png is not among the '
            "collected files") in message
    assert "css/one.css:2:17: url(gone.gif) -> css/gone.gif" in message
    assert "css/two.css:1:1: @import \"nope.css\" -> css/nope.css" in message
    assert "two.css.map" not in message  # a missing source map is only a warning
    assert not (tmp_path / "out/staticfiles.json").exists()  # nothing half-done


def test_strict_false_warns_and_leaves_references(tmp_path: Path) -> None:
    make(tmp_path, BROKEN, extra="strict = false\n")
    proc = cli("collect", "--noinput", cwd=tmp_path)
    paths = manifest(tmp_path)["paths"]
    one = (tmp_path / "out" / paths["css/one.css"]).read_text()
    assert one == BROKEN["s/css/one.css"]  # left untouched
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 4  # three broken references and the missing source map
    assert any("two.css.map" in line for line in warnings)


def test_failed_post_process_keeps_previous_manifest(tmp_path: Path) -> None:
    make(tmp_path)
    cli("collect", "--noinput", cwd=tmp_path)
    before = (tmp_path / "out/staticfiles.json").read_bytes()
    (tmp_path / "s/css/site.css").write_text("x { background: url(nothing.png) }\n")
    proc = cli("collect", "--noinput", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert (tmp_path / "out/staticfiles.json").read_bytes() == before
    for hashed in json.loads(before)["paths"].values():  # what it names is still there
        assert (tmp_path / "out" / hashed).exists()


def test_deterministic_across_directories_and_creation_order(tmp_path: Path) -> None:
    first = make(tmp_path / "one")
    second = tmp_path / "elsewhere-with-a-longer-name"
    # the same files, created in the reverse order
    make(second, dict(reversed(list(SITE.items()))))
    cli("collect", "--noinput", cwd=first)
    cli("collect", "--noinput", cwd=second)
    assert tree_bytes(first / "out") == tree_bytes(second / "out")


def test_one_change_rewrites_only_the_file_and_what_references_it(tmp_path: Path) -> None:
    make(tmp_path)
    cli("collect", "--noinput", cwd=tmp_path)
    old = manifest(tmp_path)["paths"]
    before = tree_bytes(tmp_path / "out")
    (tmp_path / "s/img/b.png").write_bytes(b"B-PNG, changed")
    proc = cli("collect", "--noinput", "-v", "2", cwd=tmp_path)
    new = manifest(tmp_path)["paths"]
    changed = sorted(name for name in new if new[name] != old[name])
    # b.png changed; base.css references it; site.css imports base.css
    assert changed == ["css/parts/base.css", "css/site.css", "img/b.png"]
    processed = sorted(re.findall(r"Post-processed '([^']+)'", proc.stdout))
    assert processed == changed
    # the result is a cold run of the same sources, and the last version's
    # hashed copies (keep-versions = 2) as they were
    out = tree_bytes(tmp_path / "out")
    for name in changed:
        assert out.pop(old[name]) == before[old[name]]
    assert out == cold_run(tmp_path)


def cold_run(root: Path, extra: str = "") -> dict[str, bytes]:
    """The root a first run over ``root``'s sources makes."""
    fresh = root / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(root / "s", fresh / "s")
    make(fresh, {}, extra)
    cli("collect", "--noinput", cwd=fresh)
    return tree_bytes(fresh / "out")


def test_keep_versions_0_removes_old_hashed_names(tmp_path: Path) -> None:
    make(tmp_path, extra="keep-versions = 0\n")
    cli("collect", "--noinput", cwd=tmp_path)
    old = manifest(tmp_path)["paths"]
    (tmp_path / "s/img/b.png").write_bytes(b"B-PNG, changed")
    proc = cli("collect", "--noinput", cwd=tmp_path)
    new = manifest(tmp_path)["paths"]
    for name in ["css/parts/base.css", "css/site.css", "img/b.png"]:
        assert not (tmp_path / "out" / old[name]).exists()
    assert (tmp_path / "out" / old["img/a.png"]).exists() and old["img/a.png"] == \
        new["img/a.png"]
    assert "3 static files deleted, 1 static file copied" in proc.stdout
    assert tree_bytes(tmp_path / "out") == cold_run(tmp_path, "keep-versions = 0\n")


@pytest.mark.parametrize("keep", [0, 1, 2, 3])
def test_only_the_last_keep_versions_stay(tmp_path: Path, keep: int) -> None:
    # A root does not grow with every change: after keep + 1 changes the
    # oldest version's files are gone, and every earlier version kept is
    # whole (its CSS finds what it references).
    make(tmp_path, extra=f"keep-versions = {keep}\n")
    versions = []
    for number in range(keep + 2):
        (tmp_path / "s/img/b.png").write_bytes(f"B-PNG {number}".encode())
        cli("collect", "--noinput", cwd=tmp_path)
        versions.append((manifest(tmp_path)["paths"], tree_bytes(tmp_path / "out")))
    out = tree_bytes(tmp_path / "out")
    for paths, tree in versions[-1 - keep:]:
        assert {out.get(name) for name in paths.values()} == \
            {tree[name] for name in paths.values()}
    oldest = versions[0][0]
    assert not any((tmp_path / "out" / oldest[name]).exists()
                   for name in ["css/parts/base.css", "css/site.css", "img/b.png"])
    hashed_b = sorted(name for name in out if name.startswith("img/b.") and name != "img/b.png")
    assert len(hashed_b) == keep + 1


def test_damaged_hashed_output_is_rewritten(tmp_path: Path) -> None:
    make(tmp_path)
    cli("collect", "--noinput", cwd=tmp_path)
    paths = manifest(tmp_path)["paths"]
    target = tmp_path / "out" / paths["css/site.css"]
    good = target.read_bytes()
    target.unlink()
    cli("collect", "--noinput", cwd=tmp_path)
    assert target.read_bytes() == good


def test_deep_import_chain_and_cycle(tmp_path: Path) -> None:
    files = {f"s/css/c{i}.css": f'@import "c{i + 1}.css";\n' for i in range(50)}
    files["s/css/c50.css"] = "end {}\n"
    files["s/css/a.css"] = '@import "b.css";\n'
    files["s/css/b.css"] = '@import "a.css";\n'
    make(tmp_path, files)
    cli("collect", "--noinput", cwd=tmp_path)
    paths = manifest(tmp_path)["paths"]
    first = (tmp_path / "out" / paths["css/c0.css"]).read_text()
    assert first == f'@import url("{paths["css/c1.css"].split("/")[-1]}");\n'
    a = (tmp_path / "out" / paths["css/a.css"]).read_text()
    assert paths["css/b.css"].split("/")[-1] in a
    # the cycle's names share one hash (documented in collectstatic/postprocess.py)
    assert paths["css/a.css"].split(".")[1] == paths["css/b.css"].split(".")[1]


def test_manifest_name_and_static_url(tmp_path: Path) -> None:
    files = {"s/css/a.css": "a { background: url(/assets/img/x.png) }\n", "s/img/x.png": b"x"}
    make(tmp_path, files, extra='manifest-name = "assets.json"\nstatic-url = "/assets/"\n')
    cli("collect", "--noinput", cwd=tmp_path)
    data = json.loads((tmp_path / "out/assets.json").read_bytes())
    css = (tmp_path / "out" / data["paths"]["css/a.css"]).read_text()
    assert f'url("/assets/{data["paths"]["img/x.png"]}")' in css
    assert not (tmp_path / "out/staticfiles.json").exists()


def test_manifest_false_is_a_plain_copy(tmp_path: Path) -> None:
    make(tmp_path, extra="manifest = false\n")
    cli("collect", "--noinput", cwd=tmp_path)
    assert set(tree_bytes(tmp_path / "out")) == {name[2:] for name in SITE}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_concurrent_runs_do_not_mix(tmp_path: Path) -> None:
    import subprocess
    import sys

    files = {f"s/f{i}.css": f"a{i} {{ background: url(i{i}.png) }}" for i in range(300)}
    files.update({f"s/i{i}.png": os.urandom(200) for i in range(300)})
    make(tmp_path, files)
    procs = [subprocess.Popen([sys.executable, "-m", "collectstatic", "collect", "--noinput"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), results
    paths = manifest(tmp_path)["paths"]
    assert set(tree_bytes(tmp_path / "out")) == set(paths) | set(paths.values()) | \
        {"staticfiles.json"}


def test_remembered_files_repeat_their_warnings(tmp_path: Path) -> None:
    files = {"s/css/a.css": "a {}\n/*# sourceMappingURL=a.css.map */\n",
             "s/css/b.css": "b { background: url(x.png) }\n", "s/css/x.png": b"x"}
    make(tmp_path, files)
    first = cli("collect", "--noinput", cwd=tmp_path)
    warning = ("warning: css/a.css:2:1: /*# sourceMappingURL=a.css.map */ -> css/a.css.map is "
               "not among the collected files")
    assert warning in first.stderr
    assert warning in cli("collect", "--noinput", cwd=tmp_path).stderr  # nothing changed
    (tmp_path / "s/css/x.png").write_bytes(b"changed")  # b.css is redone, a.css remembered
    assert warning in cli("collect", "--noinput", cwd=tmp_path).stderr
    (tmp_path / "s/css/a.css.map").write_text("{}")  # the map appears: no more warning
    last = cli("collect", "--noinput", cwd=tmp_path)
    assert "warning" not in last.stderr
    paths = manifest(tmp_path)["paths"]
    assert paths["css/a.css.map"].split("/")[-1] in (tmp_path / "out" / paths["css/a.css"]
                                                     ).read_text()


# -- a real ES-module tree: monaco-editor's ESM build ------------------------------

MONACO = "monaco-editor@0.52.2"
NPM_CACHE = Path(__file__).resolve().parent.parent / "benchmarks/.cache/npm"


def npm_package(spec: str, dest: Path, part: str) -> Path:
    """``part`` of the npm package ``spec``, unpacked into ``dest``; the archive
    is fetched once (``npm pack``) into the benchmarks' cache. Skips when npm
    cannot fetch it."""
    import subprocess
    import tarfile

    name, version = spec.rsplit("@", 1)
    archive = NPM_CACHE / f"{name}-{version}.tgz"
    if not archive.exists():
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(NPM_CACHE),
                            spec], cwd=NPM_CACHE, check=True, capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"npm cannot fetch {spec}: {exc}")
    prefix = f"package/{part}/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
        for member in members:
            target = dest / member.name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
    return dest


@pytest.mark.slow
def test_monaco_esm_with_js_modules_fails_only_on_truly_missing_references(
        tmp_path: Path) -> None:
    esm = npm_package(MONACO, tmp_path / "esm", "esm")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\njs-modules = true\n'
        'dirs = [{path = "esm", prefix = "monaco"}]\n')
    proc = cli("collect", "--noinput", "-v", "0", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    problems = proc.stderr.split(": ", 2)[2].split("; ")
    targets = [re.search(r" -> (\S+) is not among the collected files", problem).group(1)
               for problem in problems]  # type: ignore[union-attr]
    assert targets and all(target.startswith("monaco/") for target in targets)
    # each names a file the package does not have (extension-less specifiers
    # a bundler resolves), never a hashed name the run itself made
    assert not any((esm / target[len("monaco/"):]).exists() for target in targets)
    assert not any(re.search(r"\.[0-9a-f]{12}\.", problem) for problem in problems)

    # Without strictness it completes, and a module whose names end in a
    # keyword ("readHotReloadableExport") imports its target's hashed copy.
    with (tmp_path / "pyproject.toml").open("a") as config:
        config.write("strict = false\n")
    cli("collect", "--noinput", "-v", "0", cwd=tmp_path)
    paths = manifest(tmp_path)["paths"]
    name = "monaco/vs/editor/browser/widget/diffEditor/diffEditorViewModel.js"
    source = (esm / name[len("monaco/"):]).read_text()
    assert "readHotReloadableExport } from '../../../../base/common/hotReloadHelpers.js'" \
        in source
    hashed = paths["monaco/vs/base/common/hotReloadHelpers.js"].rsplit("/", 1)[1]
    written = (tmp_path / "out" / paths[name]).read_text()
    assert f'readHotReloadableExport }} from "../../../../base/common/{hashed}"' in written


def test_a_change_undone_takes_back_the_kept_files(tmp_path: Path) -> None:
    make(tmp_path)
    cli("collect", "--noinput", cwd=tmp_path)
    (tmp_path / "s/img/b.png").write_bytes(b"B-PNG, changed")
    cli("collect", "--noinput", cwd=tmp_path)
    second = manifest(tmp_path)["paths"]
    second_tree = tree_bytes(tmp_path / "out")
    (tmp_path / "s/img/b.png").write_bytes(SITE["s/img/b.png"])  # the first version again
    cli("collect", "--noinput", cwd=tmp_path)
    out = tree_bytes(tmp_path / "out")
    for name in ["css/parts/base.css", "css/site.css", "img/b.png"]:  # the second version's
        assert out.pop(second[name]) == second_tree[second[name]]
    assert out == cold_run(tmp_path)
