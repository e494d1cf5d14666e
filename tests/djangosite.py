"""A small Django site written into a temp dir, and ways to run its commands.

Not a test module. ``write_site(path)`` writes a startproject-style site: the
admin, two local apps (``blog``, ``shop``), STATICFILES_DIRS with a plain dir
and a ``(prefix, path)`` pair, and files Django ignores. Its settings read
``SITE_*`` environment variables so one site serves every case:

- ``SITE_STORAGE``: ``manifest`` (default), ``plain``, ``whitenoise``,
  ``whitenoise-plain``, ``s3`` (a storage we do not implement: a subclass
  that overrides ``hashed_name``), ``js-modules`` (a subclass setting
  ``support_js_module_import_aggregation``);
- ``SITE_OURS=0``: without ``collectstatic.django`` (Django's own commands);
- ``SITE_STATIC_ROOT``: STATIC_ROOT (``-`` for unset), ``SITE_DEBUG=1``,
  ``SITE_FINDERS`` (comma-separated dotted paths).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .support import write_tree

__all__ = ["SITE", "manage", "write_site"]

SETTINGS = '''\
import os
from pathlib import Path

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "site-tests"
DEBUG = os.environ.get("SITE_DEBUG") == "1"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    *(["collectstatic.django"] if os.environ.get("SITE_OURS", "1") == "1" else []),
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "blog",
    "shop.apps.ShopConfig",
    "nostatic",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "mysite.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
              "APP_DIRS": True, "OPTIONS": {"context_processors": [
                  "django.template.context_processors.request",
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
STATIC_URL = "static/"
MEDIA_ROOT = BASE_DIR / "media"
_root = os.environ.get("SITE_STATIC_ROOT", str(BASE_DIR / "collected"))
STATIC_ROOT = None if _root == "-" else _root
STATICFILES_DIRS = [BASE_DIR / "assets", ("vendor", BASE_DIR / "vendor")]
if os.environ.get("SITE_FINDERS"):
    STATICFILES_FINDERS = os.environ["SITE_FINDERS"].split(",")


class JSModulesStorage(ManifestStaticFilesStorage):
    support_js_module_import_aggregation = True


class RemoteStorage(ManifestStaticFilesStorage):
    def hashed_name(self, name, content=None, filename=None):
        return super().hashed_name(name, content, filename)


_storages = {
    "manifest": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    "plain": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "whitenoise": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    "whitenoise-plain": "whitenoise.storage.CompressedStaticFilesStorage",
    "js-modules": "mysite.settings.JSModulesStorage",
    "s3": "mysite.settings.RemoteStorage",
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _storages[os.environ.get("SITE_STORAGE", "manifest")]},
}
'''

SITE: dict[str, str | bytes] = {
    "manage.py": "import os, sys\n"
                 "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
                 "from django.core.management import execute_from_command_line\n"
                 "execute_from_command_line(sys.argv)\n",
    "mysite/__init__.py": "",
    "mysite/settings.py": SETTINGS,
    "mysite/urls.py": "from django.contrib import admin\nfrom django.urls import path\n"
                      "urlpatterns = [path('admin/', admin.site.urls)]\n",
    "blog/__init__.py": "",
    "blog/static/blog/css/blog.css": '@import "parts/base.css";\n'
                                     'body { background: url("../img/bg.png"); }\n'
                                     '.icon { src: url(../fonts/icons.woff2?#iefix) }\n'
                                     "h1 { background: url('/static/vendor/lib/logo.svg') }\n",
    "blog/static/blog/css/parts/base.css": "p { color: red }\n" * 40,
    "blog/static/blog/img/bg.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "blog/static/blog/fonts/icons.woff2": b"wOF2" + bytes(64),
    "blog/static/blog/.hidden": "ignored by default",
    "blog/static/blog/notes.txt~": "ignored by default",
    "shop/__init__.py": "",
    "shop/apps.py": "from django.apps import AppConfig\n\n\nclass ShopConfig(AppConfig):\n"
                    "    name = 'shop'\n    label = 'shop_app'\n",
    "shop/static/shop/js/cart.js": "import { total } from './total.js';\n"
                                   "export { total };\nconsole.log('cart');\n" * 10,
    "shop/static/shop/js/total.js": "export const total = 1;\n",
    "shop/static/blog/css/blog.css": "/* shadowed by blog's */\n",
    "nostatic/__init__.py": "",
    "assets/site.css": "body { margin: 0 }\n" * 30,
    "assets/robots.txt": "User-agent: *\n",
    "assets/CVS": "ignored by default",
    "media/uploaded.txt": "found only by DefaultStorageFinder\n",
    "vendor/lib/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'></svg>\n" * 5,
}


def write_site(path: Path) -> Path:
    return write_tree(path, SITE)


def manage(site: Path, *args: str, python: str, env: Mapping[str, str] | None = None,
           input: str | None = None, settings: str = "mysite.settings"
           ) -> subprocess.CompletedProcess[str]:
    """``python manage.py ARGS`` in ``site``; never raises on a failure."""
    full = {key: os.environ[key] for key in ("PATH", "HOME", "SYSTEMROOT") if key in os.environ}
    full["DJANGO_SETTINGS_MODULE"] = settings
    full["PYTHONDONTWRITEBYTECODE"] = "1"
    # This checkout's collectstatic, for a Django Python that is not this one.
    full["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    full.update(env or {})
    return subprocess.run([python, "manage.py", *args], cwd=site, env=full, text=True,
                          capture_output=True, input=input, check=False)


def cli(site: Path, *args: str, python: str | None = None, env: Mapping[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """``python -m collectstatic ARGS`` in ``site`` (a pyproject.toml there)."""
    full = dict(os.environ)
    full["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    full["PYTHONDONTWRITEBYTECODE"] = "1"
    full.update(env or {})
    command: Sequence[str] = [python or sys.executable, "-m", "collectstatic", *args]
    return subprocess.run(command, cwd=site, env=full, text=True, capture_output=True,
                          check=False)
