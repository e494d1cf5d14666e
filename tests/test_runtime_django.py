"""Django on top of our output: ``{% static %}`` with no collectstatic at deploy.

A Django project points ``STATIC_ROOT`` at the collected dir (ours, from the CLI,
or the one inside an installed package) and uses ``ManifestStaticFilesStorage``;
Django reads our ``staticfiles.json`` and ``{% static %}`` returns our hashed
names, exactly as :meth:`collectstatic.runtime.Manifest.url` does. WhiteNoise
on top serves them with its immutable headers. Django runs in a subprocess
(``settings.configure``) under the ``django_python`` interpreter.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from collectstatic.runtime import Manifest, clear_cache

from .support import cli, run, write_tree
from .test_runtime import build_hook_wheel

pytestmark = pytest.mark.django

SCRIPT = r"""
import json, sys
config = json.loads(sys.argv[1])
sys.path[:0] = config["sys_path"]

import django
from django.conf import settings

static_root = config["static_root"]
if static_root is None:  # the documented recipe: the installed package's collected dir
    import importlib.resources
    static_root = str(importlib.resources.files(config["package"]) / "staticfiles")

middleware = ["whitenoise.middleware.WhiteNoiseMiddleware"] if config["whitenoise"] else []
settings.configure(
    DEBUG=False,
    SECRET_KEY="collectstatic-runtime-django",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF="__main__",
    INSTALLED_APPS=["django.contrib.staticfiles"],
    MIDDLEWARE=middleware,
    STATIC_URL=config["static_url"],
    STATIC_ROOT=static_root,
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    },
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
)
urlpatterns = []
django.setup()

from django.template import engines
from django.test import Client

engine = engines["django"]
result = {"static_root": static_root, "urls": {}, "served": {}}
for name in config["names"]:
    template = engine.from_string("{% load static %}{% static name %}")
    result["urls"][name] = template.render({"name": name})
try:
    engine.from_string("{% load static %}{% static 'css/missing.css' %}").render({})
except ValueError as exc:
    result["missing"] = str(exc)
if config["whitenoise"]:
    client = Client()
    for url in config["fetch"]:
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        result["served"][url] = {
            "status": response.status_code,
            "cache_control": response.headers.get("Cache-Control"),
            "content_encoding": response.headers.get("Content-Encoding"),
            "length": len(body),
        }
print(json.dumps(result))
"""

SOURCES: dict[str, str | bytes] = {
    "assets/css/site.css": 'body { background: url("../img/logo.png"); }\n' * 10,
    "assets/img/logo.png": b"\x89PNG\r\n\x1a\nlogo",
    "assets/img/a b.png": b"spaced",
    "assets/ünï/cödé.txt": "unicode",
    "assets/LICENSE": "MIT\n",
}


def run_django(python: str, **config: Any) -> dict[str, Any]:
    config.setdefault("sys_path", [])
    config.setdefault("static_url", "/static/")
    config.setdefault("whitenoise", False)
    config.setdefault("fetch", [])
    proc = run([python, "-c", SCRIPT, json.dumps(config)], timeout=120)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def needs_whitenoise(python: str) -> None:
    if run([python, "-c", "import whitenoise"], check=False, timeout=60).returncode != 0:
        pytest.skip(f"whitenoise is not importable by {python}")


@pytest.fixture
def collected(tmp_path: Path) -> Path:
    clear_cache()
    write_tree(tmp_path, SOURCES)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n')
    cli("collect", "--noinput", "-v", "0", cwd=tmp_path)
    return tmp_path / "out"


@pytest.mark.parametrize("static_url", ["/static/", "https://cdn.example.com/app/"])
def test_static_tag_returns_our_hashed_urls(django_python: str, collected: Path,
                                            static_url: str) -> None:
    ours = Manifest.from_path(collected, static_url=static_url)
    names = [*sorted(ours), "css/site.css?v=1#top", "css/site.css?#iefix", "css/site.css#x"]
    result = run_django(django_python, static_root=str(collected), static_url=static_url,
                        names=names)
    assert result["urls"] == {name: ours.url(name) for name in names}
    assert result["urls"]["css/site.css"] == static_url + ours.hashed_name("css/site.css")
    assert "Missing staticfiles manifest entry for 'css/missing.css'" in result["missing"]


def test_static_tag_from_an_installed_package(django_python: str, tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    wheel = build_hook_wheel(tmp_path)
    target = tmp_path / "site-packages"
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
         target, wheel], timeout=120)
    ours = Manifest.from_path(target / "hookapp/staticfiles")
    result = run_django(django_python, static_root=None, package="hookapp",
                        sys_path=[str(target)], names=sorted(ours))
    assert result["static_root"] == str(target / "hookapp/staticfiles")
    assert result["urls"] == {name: ours.url(name) for name in ours}
    assert result["urls"]["css/site.css"].startswith("/static/css/site.")


def test_whitenoise_on_top(django_python: str, collected: Path) -> None:
    needs_whitenoise(django_python)
    ours = Manifest.from_path(collected)
    hashed = ours.hashed_name("css/site.css")
    body = (collected / hashed).read_bytes()
    (collected / (hashed + ".gz")).write_bytes(gzip.compress(body, mtime=0))
    fetch = [ours.url("css/site.css"), ours.url("img/logo.png"), "/static/LICENSE",
             "/static/css/missing.css"]
    result = run_django(django_python, static_root=str(collected), whitenoise=True,
                        names=["css/site.css"], fetch=fetch)
    served = result["served"]
    assert result["urls"]["css/site.css"] == ours.url("css/site.css")
    css = served[ours.url("css/site.css")]
    assert css["status"] == 200
    assert css["cache_control"] == "max-age=315360000, public, immutable"
    assert css["content_encoding"] == "gzip"  # our precompressed sibling
    assert css["length"] == len(gzip.compress(body, mtime=0))
    logo = served[ours.url("img/logo.png")]
    assert logo["status"] == 200 and "immutable" in logo["cache_control"]
    license_ = served["/static/LICENSE"]
    assert license_["status"] == 200 and "immutable" not in license_["cache_control"]
    assert served["/static/css/missing.css"]["status"] == 404
