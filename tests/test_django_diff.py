"""End to end against Django: the same tree through Django's collectstatic and
findstatic and through our CLI must give the same files, lines and bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .djangoref import run_django, run_findstatic
from .support import cli, run, tree_bytes, write_tree

pytestmark = pytest.mark.django

TREE = {
    "assets/css/site.css": "site",
    "assets/css/site.css.map": "{}",
    "assets/img/logo.png": b"\x89PNG\r\n",
    "assets/.hidden": "h",
    "assets/.git/HEAD": "ref",
    "assets/notes.txt": "n",
    "assets/deep/er/notes.txt": "n",
    "assets/vendor/v.js": "v",
    "assets/vendor/v.js.map": "{}",
    "assets/css/vendor/c.css": "c",
    "assets/css/a.css~": "backup",
    "assets/CVS": "cvs",
    "vendorsrc/jq/jq.js": "jq",
    "vendorsrc/jq/jq.js.map": "{}",
    "apps/myapp/__init__.py": "",
    "apps/myapp/static/css/site.css": "shadowed",
    "apps/myapp/static/myapp/app.js": "app",
    "apps/other/__init__.py": "",
    "apps/other/static/myapp/app.js": "shadowed too",
    "apps/other/static/other.txt": "o",
}


def project(tmp_path: Path, extra: str = "") -> Path:
    write_tree(tmp_path, TREE)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "ours"\n'
        'dirs = ["assets", {path = "vendorsrc", prefix = "lib"}]\n'
        f'apps = ["myapp", "other"]\n{extra}')
    return tmp_path


def django_dirs(root: Path) -> list:
    return [str(root / "assets"), ("lib", str(root / "vendorsrc"))]


def django_collect(root: Path, python: str, *args: str, storage: str = "plain",
                   ignore: tuple[str, ...] = (), no_default_ignore: bool = False) -> str:
    proc = run_django(django_dirs(root), root / "theirs", python=python, storage=storage,
                      apps=["myapp", "other"], extra_sys_path=[root / "apps"], ignore=ignore,
                      no_default_ignore=no_default_ignore, args=args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


IGNORE_CASES = [(), ("*.txt",), ("vendor/*.map",), ("vendor",), ("css/vendor",), ("*.map", "CVS")]


@pytest.mark.parametrize("ignore", IGNORE_CASES)
@pytest.mark.parametrize("no_default_ignore", [False, True])
def test_same_files_and_summary_as_django(tmp_path: Path, django_python: str,
                                          ignore: tuple[str, ...], no_default_ignore: bool
                                          ) -> None:
    root = project(tmp_path, extra='\n[tool.other]\nx = 1\n')
    # apps are found in the project tree without importing them: put them where
    # our finder looks (flat layout) as well as on Django's sys.path.
    for app in ("myapp", "other"):
        shutil.copytree(root / "apps" / app, root / app)
    theirs = django_collect(root, django_python, ignore=ignore,
                            no_default_ignore=no_default_ignore)
    args = [arg for pattern in ignore for arg in ("-i", pattern)]
    if no_default_ignore:
        args.append("--no-default-ignore")
    ours = cli("collect", "--noinput", "--no-post-process", *args, cwd=root).stdout
    assert tree_bytes(root / "ours") == tree_bytes(root / "theirs")
    assert ours.strip() == theirs.strip().replace(str(root / "theirs"), str(root / "ours"))


def test_second_run_summary_matches_django(tmp_path: Path, django_python: str) -> None:
    root = project(tmp_path)
    for app in ("myapp", "other"):
        shutil.copytree(root / "apps" / app, root / app)
    django_collect(root, django_python)
    theirs = django_collect(root, django_python)
    cli("collect", "--noinput", "--no-post-process", cwd=root)
    ours = cli("collect", "--noinput", "--no-post-process", cwd=root).stdout
    assert ours.strip() == theirs.strip().replace(str(root / "theirs"), str(root / "ours"))


@pytest.mark.parametrize(("paths", "first"), [
    (["css/site.css"], False), (["css/site.css"], True), (["lib/jq/jq.js"], False),
    (["myapp/app.js", "other.txt"], False), (["img"], False),
])
def test_find_prints_what_findstatic_prints(tmp_path: Path, django_python: str,
                                            paths: list[str], first: bool) -> None:
    root = project(tmp_path)
    for app in ("myapp", "other"):
        shutil.copytree(root / "apps" / app, root / app)
    for verbosity in (0, 1):
        theirs = run_findstatic(paths, django_dirs(root), python=django_python, first=first,
                                verbosity=verbosity, apps=["myapp", "other"],
                                extra_sys_path=[root / "apps"])
        assert theirs.returncode == 0, theirs.stderr
        args = ["find", *paths, "-v", str(verbosity), *(["--first"] if first else [])]
        ours = cli(*args, cwd=root).stdout
        # Django finds the apps on its sys.path copy; we find them in the tree.
        assert ours == theirs.stdout.replace(str(root / "apps"), str(root))


def test_hashed_root_is_byte_identical_to_django(tmp_path: Path, django_python: str) -> None:
    """The whole post-processed root: every file, byte for byte, and the manifest."""
    # Django admin's own files, from the reference Python (this one may have no Django).
    django_dir = run([django_python, "-c", "import django, os; print(os.path.dirname("
                                           "django.__file__))"]).stdout.strip()
    admin = Path(django_dir) / "contrib/admin/static"
    write_tree(tmp_path, {
        "assets/css/site.css": '@import "parts/base.css";\n'
                               'body { background: url("../img/logo.png"); }\n'
                               '.f { src: url(../fonts/f.woff2?#iefix) }\n'
                               "/*# sourceMappingURL=site.css.map */\n",
        "assets/css/site.css.map": "{}",
        "assets/css/parts/base.css": "h1 { background: url('/static/img/logo.png#x') }\n",
        "assets/img/logo.png": b"\x89PNG\r\n",
        "assets/fonts/f.woff2": b"wOF2",
        "assets/js/app.js": "console.log(1);\n//# sourceMappingURL=app.js.map\n",
        "assets/js/app.js.map": "{}",
    })
    shutil.copytree(admin, tmp_path / "admin")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "ours"\ndirs = ["assets", "admin"]\n')
    proc = run_django([str(tmp_path / "assets"), str(tmp_path / "admin")], tmp_path / "theirs",
                      python=django_python, storage="manifest")
    assert proc.returncode == 0, proc.stderr
    ours_out = cli("collect", "--noinput", cwd=tmp_path).stdout
    ours, theirs = tree_bytes(tmp_path / "ours"), tree_bytes(tmp_path / "theirs")
    our_manifest = json.loads(ours.pop("staticfiles.json"))
    their_manifest = json.loads(theirs.pop("staticfiles.json"))
    assert sorted(ours) == sorted(theirs)
    differing = [name for name in ours if ours[name] != theirs[name]]
    assert differing == []
    assert {k: our_manifest[k] for k in ("paths", "version", "hash")} == their_manifest
    assert len(ours) > 100  # admin's files are in, hashed and plain
    assert ours_out.strip() == proc.stdout.strip().replace(str(tmp_path / "theirs"),
                                                           str(tmp_path / "ours"))
