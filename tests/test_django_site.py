"""examples/django-site: its wheel (built with the hook from ``django-settings``)
installed into a fresh venv serves the admin and both apps with every static
file precollected, through Django's test client and over HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from .support import plugin_wheelhouse

pytestmark = [pytest.mark.slow, pytest.mark.django]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "django-site"
PAGES = ["/admin/login/", "/blog/", "/shop/"]
HASHED = re.compile(r"\.[0-9a-f]{12}\.[^./]+$")

# Run by the venv's Python: every page, every /static/ URL in it, every url()
# and @import in served CSS. ``client`` uses Django's test client, ``http
# BASE`` a server over HTTP. Prints {"problems": [...], "counts": {...}}.
CHECK = textwrap.dedent(r'''
    import json, os, posixpath, re, sys, urllib.error, urllib.request

    PAGES = json.loads(sys.argv[2])
    if sys.argv[1] == "client":
        import django
        django.setup()
        from django.test import Client
        client = Client()

        def get(url, encoding=None):
            extra = {"HTTP_ACCEPT_ENCODING": encoding} if encoding is not None else {}
            response = client.get(url, **extra)
            body = b"".join(response.streaming_content) if response.streaming \
                else response.content
            return response.status_code, {k.lower(): v for k, v in response.items()}, body
    else:
        base = sys.argv[3]

        def get(url, encoding=None):
            request = urllib.request.Request(base + url, headers={
                "Accept-Encoding": encoding if encoding is not None else "identity"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, {k.lower(): v for k, v in response.headers.items()}, \
                        response.read()
            except urllib.error.HTTPError as exc:
                return exc.code, {}, b""

    problems, counts = [], {"static": 0, "css refs": 0, "br": 0, "gzip": 0}
    HASHED = re.compile(r"\.[0-9a-f]{12}\.[^./]+$")
    CSS_REF = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
    seen = set()

    def check_static(url, referrer):
        path = url.split("#")[0].split("?")[0]
        if path in seen:
            return
        seen.add(path)
        counts["static"] += 1
        status, headers, body = get(path)
        if status != 200:
            problems.append(f"{path} (from {referrer}): {status}")
            return
        if not HASHED.search(path):
            problems.append(f"{path} (from {referrer}): not a hashed name")
        if "immutable" not in headers.get("cache-control", ""):
            problems.append(f"{path}: cache-control {headers.get('cache-control')!r}")
        for asked in ("br, gzip", "gzip"):
            _, compressed, _ = get(path, asked)
            used = compressed.get("content-encoding")
            if used is not None:
                counts[used] = counts.get(used, 0) + 1
                if used != asked.split(",")[0]:
                    problems.append(f"{path}: asked {asked!r}, got {used!r}")
        if path.endswith(".css"):
            for match in CSS_REF.finditer(body.decode("utf-8")):
                ref = match.group(1) or match.group(2)
                if ref.startswith(("data:", "#", "http:", "https:", "//")):
                    continue
                counts["css refs"] += 1
                target = ref if ref.startswith("/") else \
                    posixpath.normpath(posixpath.join(posixpath.dirname(path), ref))
                check_static(target, path)

    for page in PAGES:
        status, headers, body = get(page)
        if status != 200:
            problems.append(f"{page}: {status}")
            continue
        for url in re.findall(r"""(?:href|src)=["'](/static/[^"']+)["']""", body.decode()):
            check_static(url, page)
    print(json.dumps({"problems": problems, "counts": counts}))
''')

SERVER = textwrap.dedent('''
    import sys
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from mysite.wsgi import application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
    print(server.server_port, flush=True)
    server.serve_forever()
''')


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, django_python: str
              ) -> tuple[Path, Path]:
    """(the site wheel, a fresh venv's python with it installed)."""
    work = tmp_path_factory.mktemp("django-site")
    project = work / "django-site"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("collected", "dist"))
    wheelhouse = plugin_wheelhouse()
    env = {**os.environ, "PIP_FIND_LINKS": str(wheelhouse)}
    # (the build runs on the Python with Django: the site needs 3.12+)
    run([django_python, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(project)],
        env=env)
    wheel = next((work / "dist").glob("django_site-*.whl"))
    run([django_python, "-m", "venv", str(work / "venv")])
    python = work / "venv" / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--find-links", str(wheelhouse), str(wheel)])
    return wheel, python


def site_env(work: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "SYSTEMROOT") if key in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="mysite.settings", PYTHONDONTWRITEBYTECODE="1",
               MYSITE_DATABASE=str(work / "db.sqlite3"))
    return env


def test_the_wheel_ships_every_apps_files_collected(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("mysite/collected/staticfiles.json"))
    paths = manifest["paths"]
    for name in ("admin/css/base.css", "debug_toolbar/css/toolbar.css", "blog/css/blog.css",
                 "shop/js/cart.js", "site/site.css"):
        assert name in paths, name
        assert f"mysite/collected/{paths[name]}" in names
        assert f"mysite/collected/{paths[name]}.gz" in names
        assert f"mysite/collected/{paths[name]}.br" in names
    assert not any(".collectstatic" in name for name in names)


def test_pages_through_the_test_client(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, python = installed
    check = run([str(python), "-m", "django", "check"], env=site_env(tmp_path), cwd=tmp_path)
    assert "no issues" in check.stdout
    proc = run([str(python), "-c", CHECK, "client", json.dumps(PAGES)], env=site_env(tmp_path),
               cwd=tmp_path)
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["problems"] == []
    assert report["counts"]["static"] >= 8 and report["counts"]["css refs"] >= 5
    assert report["counts"]["br"] > 0 and report["counts"]["gzip"] > 0


def test_pages_over_http(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, python = installed
    server = subprocess.Popen([str(python), "-c", SERVER], env=site_env(tmp_path), cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        assert port.isdigit(), server.stderr.read() if server.stderr else ""
        proc = run([str(python), "-c", CHECK, "http", json.dumps(PAGES),
                    f"http://127.0.0.1:{port}"], env=site_env(tmp_path), cwd=tmp_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["problems"] == []
    assert report["counts"]["static"] >= 8 and report["counts"]["css refs"] >= 5
    assert report["counts"]["br"] > 0 and report["counts"]["gzip"] > 0


def test_a_missing_app_is_caught_by_the_checks(installed: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    """The installed site with an app its wheel was not built with: `check` fails
    (collectstatic.E003) instead of a page raising 'Missing staticfiles manifest entry'."""
    _, python = installed
    extra = tmp_path / "extra_app"
    (extra / "static" / "extra_app").mkdir(parents=True)
    (extra / "__init__.py").write_text("")
    (extra / "static" / "extra_app" / "x.css").write_text("a{}")
    (tmp_path / "sitesettings.py").write_text("from mysite.settings import *\n"
                                              "INSTALLED_APPS = [*INSTALLED_APPS, 'extra_app']\n")
    env = {**site_env(tmp_path), "DJANGO_SETTINGS_MODULE": "sitesettings",
           "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([str(python), "-m", "django", "check"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "collectstatic.E003" in proc.stderr and "app 'extra_app'" in proc.stderr
    assert "'extra_app/x.css'" in proc.stderr
