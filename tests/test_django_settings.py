"""``django-settings``: a Django site's settings as ``[tool.collectstatic]``.

The translation (``table_from_django``) is pure and tested here without
Django; the child process and the CLI are tested on a real site against
Django's own collectstatic."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from collectstatic.config import settings_from_table
from collectstatic.djangosettings import (
    APP_DIRECTORIES_FINDER,
    FILE_SYSTEM_FINDER,
    table_from_django,
)

from .djangosite import cli, manage, write_site
from .support import tree_bytes, write_tree

MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


def info(project: Path, **changes: Any) -> dict[str, Any]:
    """What the child reports for a small project (see collectstatic.django.describe)."""
    base: dict[str, Any] = {
        "apps": [{"name": "app1", "label": "app1", "path": str(project / "app1"), "static": True},
                 {"name": "bare", "label": "bare", "path": str(project / "bare"),
                  "static": False}],
        "dirs": [["", str(project / "assets")], ["lib", str(project / "vendor")]],
        "static_url": "/static/",
        "static_root": str(project / "site/collected"),
        "ignore_patterns": ["CVS", ".*", "*~"],
        "finders": [FILE_SYSTEM_FINDER, APP_DIRECTORIES_FINDER],
        "storage": {"backend": MANIFEST, "known": MANIFEST, "options": [], "overrides": [],
                    "manifest_name": "staticfiles.json", "manifest_strict": True,
                    "support_js_module_import_aggregation": False,
                    "manifest_storage_is_self": True, "location": str(project / "site/collected"),
                    "base_url": "/static/", "file_permissions_mode": 0o644,
                    "directory_permissions_mode": None},
        "debug": False,
        "brotli": True,
    }
    storage = changes.pop("storage", {})
    base["storage"].update(storage)
    base.update(changes)
    return base


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path, {"app1/__init__.py": "", "app1/static/app1/a.css": "a",
                                 "bare/__init__.py": "", "assets/x.css": "x",
                                 "vendor/v.js": "v", "site/__init__.py": ""})


def test_the_table(project: Path) -> None:
    result = table_from_django(info(project), "mysite.settings", project)
    assert (result.problems, result.unsupported, result.warnings) == ([], [], [])
    assert result.table == {
        "dirs": ["assets", {"path": "vendor", "prefix": "lib"}],  # (relative to the project)
        "apps": ["app1"],  # bare has no static/: skipped, as Django's finder does
        "default-ignore": True,
        "manifest": True, "manifest-name": "staticfiles.json", "strict": True,
        "js-modules": False, "file-mode": "0o644", "static-url": "/static/",
        "root": "site/collected",
    }


@pytest.mark.parametrize(("changes", "expected"), [
    ({"storage": {"backend": "whitenoise.storage.CompressedManifestStaticFilesStorage",
                  "known": "whitenoise.storage.CompressedManifestStaticFilesStorage",
                  "keep_only_hashed_files": True}},
     {"manifest": True, "compress": ["gzip", "brotli"], "keep-unhashed": False}),
    ({"brotli": False, "storage": {"known": "whitenoise.storage.CompressedStaticFilesStorage"}},
     {"manifest": False, "compress": ["gzip"]}),
    ({"storage": {"known": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
     {"manifest": False}),
    ({"storage": {"manifest_name": "m.json", "manifest_strict": False,
                  "support_js_module_import_aggregation": True, "options": ["manifest_name"]}},
     {"manifest-name": "m.json", "strict": False, "js-modules": True}),
    ({"ignore_patterns": ["*.scss", "CVS"]},
     {"default-ignore": False, "ignore": ["*.scss", "CVS"]}),
    ({"finders": [FILE_SYSTEM_FINDER]}, {"apps": []}),
    ({"finders": [APP_DIRECTORIES_FINDER]}, {"dirs": []}),
    ({"storage": {"base_url": "https://cdn.example/s/"}}, {"static-url": "https://cdn.example/s/"}),
])
def test_settings_map_to_keys(project: Path, changes: dict[str, Any],
                              expected: dict[str, Any]) -> None:
    result = table_from_django(info(project, **changes), "mysite.settings", project)
    assert (result.problems, result.unsupported) == ([], [])
    assert {key: result.table.get(key) for key in expected} == expected


@pytest.mark.parametrize(("changes", "message"), [
    ({"finders": [FILE_SYSTEM_FINDER, "compressor.finders.CompressorFinder"]},
     "mysite.settings: STATICFILES_FINDERS[1] = 'compressor.finders.CompressorFinder' is not "
     "supported"),
    ({"finders": [APP_DIRECTORIES_FINDER, FILE_SYSTEM_FINDER]},
     "mysite.settings: STATICFILES_FINDERS lists AppDirectoriesFinder before FileSystemFinder"),
    ({"storage": {"backend": "storages.backends.s3.S3Storage", "known": None}},
     "mysite.settings: STORAGES['staticfiles']['BACKEND'] = 'storages.backends.s3.S3Storage' is "
     "not a storage we implement"),
    ({"storage": {"overrides": ["hashed_name"]}}, "overrides hashed_name of " + MANIFEST),
    ({"storage": {"options": ["manifest_storage"]}},
     "mysite.settings: STORAGES['staticfiles']['OPTIONS']['manifest_storage'] is not supported"),
    ({"storage": {"error": "cannot import it: No module named 'x'"}}, "cannot import it"),
])
def test_what_we_do_not_implement_is_named(project: Path, changes: dict[str, Any],
                                           message: str) -> None:
    result = table_from_django(info(project, **changes), "mysite.settings", project)
    assert len(result.unsupported) == 1 and message in result.unsupported[0]


def test_paths_outside_the_project_and_missing_dirs(project: Path, tmp_path_factory: Any
                                                    ) -> None:
    outside = tmp_path_factory.mktemp("outside")
    changed = info(project, dirs=[["", str(outside)], ["", str(project / "gone")], ["x/", "y"]],
                   storage={"location": str(outside / "root")})
    result = table_from_django(changed, "mysite.settings", project)
    assert len(result.problems) == 3
    assert result.problems[0].startswith("mysite.settings: STATICFILES_DIRS[0]: ")
    assert result.problems[1].startswith("mysite.settings: STATICFILES_DIRS[2]: ")
    assert "is outside the project" in result.problems[0]
    assert "must not end with '/'" in result.problems[1]
    assert "STATIC_ROOT" in result.problems[2] and "outside the project" in result.problems[2]
    assert result.warnings == [f"mysite.settings: STATICFILES_DIRS[1]: the directory "
                               f"{project / 'gone'} does not exist; nothing is collected from "
                               f"it (as Django does)"]
    # The drop-in command may collect from anywhere.
    anywhere = table_from_django(changed, "mysite.settings", project, inside_project=False)
    assert len(anywhere.problems) == 1 and anywhere.table["root"] == str(outside / "root")


def test_a_project_reached_through_a_symlink(project: Path, tmp_path_factory: Any) -> None:
    """The child reports real paths; the build may name the project through a link."""
    link = tmp_path_factory.mktemp("links") / "project"
    link.symlink_to(project, target_is_directory=True)
    result = table_from_django(info(project), "mysite.settings", link)
    assert result.problems == []
    settings = settings_from_table(result.table, link)
    assert [str(source.path) for source in settings.sources] == \
        [str(link / "assets"), str(link / "vendor"), str(link / "app1" / "static")]
    assert settings.root == link / "site" / "collected"


def test_an_app_found_elsewhere_is_an_error(project: Path) -> None:
    moved = info(project, apps=[{"name": "app1", "label": "app1", "path": "/nowhere/app1",
                                 "static": True}])
    result = table_from_django(moved, "mysite.settings", project)
    assert result.problems == [
        f"mysite.settings: INSTALLED_APPS[0] ('app1'): Django has it at /nowhere/app1, but here "
        f"'app1' resolves to {project / 'app1'}; install it where the build runs, or list its "
        f"static dir in STATICFILES_DIRS"]


# -- a real site: the child process, the CLI, against Django ---------------------------

def site_project(tmp_path: Path, table: str = "") -> Path:
    site = write_site(tmp_path / "site")
    (site / "pyproject.toml").write_text(
        f'[tool.collectstatic]\ndjango-settings = "mysite.settings"\n{table}')
    return site


@pytest.mark.django
def test_cli_collects_what_djangos_collectstatic_does(tmp_path: Path, django_python: str
                                                       ) -> None:
    site = site_project(tmp_path)
    proc = cli(site, "collect", "--noinput", python=django_python)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    theirs = manage(site, "collectstatic", "--noinput", python=django_python,
                    env={"SITE_OURS": "0", "SITE_STATIC_ROOT": str(site / "theirs")})
    assert theirs.returncode == 0, theirs.stderr
    ours, django = tree_bytes(site / "collected"), tree_bytes(site / "theirs")
    our_manifest, their_manifest = (json.loads(t.pop("staticfiles.json")) for t in (ours, django))
    assert {k: our_manifest[k] for k in ("paths", "version", "hash")} == their_manifest
    assert ours == django
    assert "admin/css/base.css" in ours  # an AppConfig path (SimpleAdminConfig) resolved
    assert proc.stdout.strip() == theirs.stdout.strip().replace(str(site / "theirs"),
                                                                str(site / "collected"))


@pytest.mark.django
def test_table_keys_override_and_extend(tmp_path: Path, django_python: str) -> None:
    site = site_project(tmp_path, 'root = "out"\nmanifest = false\n'
                                  'dirs = [{path = "extra", prefix = "x"}]\nignore = ["*.txt"]\n')
    write_tree(site, {"extra/e.css": "e"})
    proc = cli(site, "collect", "--noinput", python=django_python)
    assert proc.returncode == 0, proc.stderr
    files = tree_bytes(site / "out")
    assert "x/e.css" in files and "admin/css/base.css" in files and "site.css" in files
    assert "robots.txt" not in files and "staticfiles.json" not in files
    assert not (site / "collected").exists()


@pytest.mark.django
@pytest.mark.parametrize(("append", "expected"), [
    ('SECRET_KEY = os.environ["SITE_SECRET"]\n',
     "tool.collectstatic.django-settings: cannot import settings module 'mysite.settings': "
     "KeyError: 'SITE_SECRET' ({settings}:"),
    ("STATIC_URL = (\n", "cannot import settings module 'mysite.settings': SyntaxError: "
                        "'(' was never closed ({settings}:"),
    ('INSTALLED_APPS += ["not_installed_app"]\n',
     "tool.collectstatic.django-settings: Django cannot set up 'mysite.settings': "
     "ModuleNotFoundError: No module named 'not_installed_app'"),
    ('STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.DefaultStorageFinder"]\n',
     "mysite.settings: STATICFILES_FINDERS[0] = "
     "'django.contrib.staticfiles.finders.DefaultStorageFinder' is not supported"),
    ('STORAGES["staticfiles"] = {"BACKEND": "mysite.settings.RemoteStorage"}\n',
     "mysite.settings: STORAGES['staticfiles']['BACKEND'] = 'mysite.settings.RemoteStorage' "
     "overrides hashed_name"),
    ('STORAGES["staticfiles"]["OPTIONS"] = {"manifest_storage": None}\n',
     "mysite.settings: STORAGES['staticfiles']['OPTIONS']['manifest_storage'] is not supported"),
    ("STATIC_ROOT = None\n", "mysite.settings: STATIC_ROOT is not set"),
    ('STATIC_ROOT = "/srv/static"\n', "mysite.settings: STATIC_ROOT (/srv/static) is outside "
                                     "the project"),
])
def test_bad_settings_are_one_error_line(tmp_path: Path, django_python: str, append: str,
                                         expected: str) -> None:
    site = site_project(tmp_path)
    settings = site / "mysite" / "settings.py"
    with open(settings, "a") as handle:
        handle.write(append)
    proc = cli(site, "collect", "--noinput", python=django_python)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {site / 'pyproject.toml'}: ")
    assert expected.format(settings=settings) in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (site / "collected").exists()


@pytest.mark.django
def test_the_settings_are_not_imported_by_the_caller(tmp_path: Path, django_python: str
                                                      ) -> None:
    site = site_project(tmp_path)
    code = ("import sys; from collectstatic.config import load_settings; "
            "s = load_settings('pyproject.toml'); "
            "print(len(s.sources), 'django' in sys.modules, 'mysite' in sys.modules)")
    env = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    import subprocess

    proc = subprocess.run([django_python, "-c", code], cwd=site, text=True,
                          capture_output=True, env={**os.environ, **env}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["5", "False", "False"]  # 2 dirs + admin, blog, shop


# -- both build hooks go through the same loader --------------------------------------

BUILD = '''
[project]
name = "site"
version = "1.0"

[tool.collectstatic]
django-settings = "mysite.settings"
'''


def wheel_manifest(wheel: Path) -> tuple[dict[str, str], set[str]]:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("mysite/collected/staticfiles.json"))
    return manifest["paths"], names


def assert_site_wheel(wheel: Path) -> None:
    paths, names = wheel_manifest(wheel)
    for name in ("admin/css/base.css", "blog/css/blog.css", "shop/js/cart.js",
                 "vendor/lib/logo.svg", "site.css"):
        assert f"mysite/collected/{paths[name]}" in names, name
    assert "blog/.hidden" not in paths


@pytest.mark.django
def test_hatch_hook_builds_a_site_wheel(tmp_path: Path, django_python: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if os.path.realpath(django_python) != os.path.realpath(sys.executable):
        pytest.skip("the in-process hatch build needs Django in this Python")
    from hatchling.builders.wheel import WheelBuilder

    site = write_site(tmp_path / "site")
    (site / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n' + BUILD
        + '[tool.hatch.build.targets.wheel]\npackages = ["mysite", "blog", "shop"]\n'
        "[tool.hatch.build.hooks.collectstatic]\n")
    monkeypatch.setenv("SITE_STATIC_ROOT", str(site / "mysite" / "collected"))
    (wheel,) = WheelBuilder(str(site)).build(directory=str(tmp_path / "dist"))
    assert_site_wheel(Path(wheel))
    assert not (site / "mysite" / "collected").exists()  # the tree is left alone


@pytest.mark.django
def test_setuptools_builds_a_site_wheel(tmp_path: Path, django_python: str) -> None:
    import subprocess

    site = write_site(tmp_path / "site")
    (site / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64", "collectstatic"]\n'
        'build-backend = "setuptools.build_meta"\n' + BUILD
        + '[tool.setuptools]\npackages = ["mysite", "blog", "shop"]\n')
    out = tmp_path / "dist"
    out.mkdir()
    env = {**os.environ, "SITE_STATIC_ROOT": str(site / "mysite" / "collected"),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    code = f"import setuptools.build_meta as b; print(b.build_wheel({str(out)!r}))"
    proc = subprocess.run([django_python, "-c", code], cwd=site, env=env, text=True,
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_site_wheel(out / proc.stdout.strip().splitlines()[-1])
