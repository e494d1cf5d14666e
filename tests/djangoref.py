"""Run Django's own ``collectstatic`` / ``findstatic`` on a tree, in a subprocess.

The reference the differential tests compare against. Not a test module.

    proc = run_django(["src/static", ("vendor", "src/vendor")], root, python=django_python)

``python`` is an interpreter with Django >= 6.1: ``$COLLECTSTATIC_DJANGO_PYTHON``,
else the running one if it has Django 6.1 (``find_django_python``; the
``django_python`` fixture skips when there is none). Settings are built from the
arguments; nothing is read from the caller's environment besides ``PATH``/``HOME``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Union

__all__ = [
    "DJANGO_MINIMUM",
    "django_version",
    "find_django_python",
    "run_django",
    "run_findstatic",
]

DJANGO_MINIMUM = (6, 1)

TreeDir = Union[str, "os.PathLike[str]", tuple[str, Union[str, "os.PathLike[str]"]]]

_SCRIPT = r"""
import json, sys
config = json.loads(sys.argv[1])
sys.path[:0] = config["extra_sys_path"]

import django
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class JSModulesManifestStaticFilesStorage(ManifestStaticFilesStorage):
    support_js_module_import_aggregation = True


backends = {
    "manifest": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    "manifest-js-modules": "__main__.JSModulesManifestStaticFilesStorage",
    "plain": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "whitenoise": "whitenoise.storage.CompressedManifestStaticFilesStorage",
}
settings.configure(
    DEBUG=False,
    SECRET_KEY="collectstatic-djangoref",
    USE_TZ=True,
    INSTALLED_APPS=["django.contrib.staticfiles", *config["apps"]],
    STATIC_URL=config["static_url"],
    STATIC_ROOT=config["static_root"],
    STATICFILES_DIRS=[d if isinstance(d, str) else tuple(d) for d in config["dirs"]],
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": backends[config["storage"]]},
    },
)
django.setup()
from django.core.management import execute_from_command_line

execute_from_command_line(["django-admin", *config["argv"]])
"""


def _config(
    tree_dirs: Sequence[TreeDir],
    static_root: str | os.PathLike[str],
    *,
    static_url: str,
    storage: str,
    js_modules: bool,
    apps: Sequence[str],
    extra_sys_path: Sequence[str | os.PathLike[str]],
    argv: list[str],
) -> str:
    if storage not in ("manifest", "plain", "whitenoise"):
        raise ValueError(f"storage must be 'manifest', 'plain' or 'whitenoise', not {storage!r}")
    if js_modules and storage != "manifest":
        raise ValueError("js_modules=True needs storage='manifest'")
    dirs: list[object] = []
    for entry in tree_dirs:
        if isinstance(entry, tuple):
            prefix, path = entry
            dirs.append([prefix, str(Path(path).resolve())])
        else:
            dirs.append(str(Path(entry).resolve()))
    return json.dumps(
        {
            "dirs": dirs,
            "static_root": str(Path(static_root).resolve()),
            "static_url": static_url,
            "storage": "manifest-js-modules" if js_modules else storage,
            "apps": list(apps),
            "extra_sys_path": [str(Path(p).resolve()) for p in extra_sys_path],
            "argv": argv,
        }
    )


def _run(
    python: str, config: str, cwd: str | os.PathLike[str] | None
) -> subprocess.CompletedProcess:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "SYSTEMROOT") if key in os.environ}
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [python, "-c", _SCRIPT, config],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def run_django(
    tree_dirs: Sequence[TreeDir],
    static_root: str | os.PathLike[str],
    *,
    python: str | None = None,
    static_url: str = "/static/",
    js_modules: bool = False,
    storage: str = "manifest",
    apps: Sequence[str] = (),
    extra_sys_path: Sequence[str | os.PathLike[str]] = (),
    ignore: Sequence[str] = (),
    no_default_ignore: bool = False,
    args: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess:
    """``django-admin collectstatic --noinput`` with these settings.

    ``tree_dirs``: STATICFILES_DIRS, each a path or a ``(prefix, path)`` pair.
    ``storage``: ``"manifest"`` (ManifestStaticFilesStorage; with
    ``js_modules=True`` a subclass with ``support_js_module_import_aggregation``)
    or ``"plain"`` (StaticFilesStorage). ``apps`` are added to INSTALLED_APPS
    after ``django.contrib.staticfiles`` (importable from ``extra_sys_path``).
    ``args`` are extra collectstatic flags (``-v 2``, ``--clear``, ``--link``...).
    Returns the finished process (stdout/stderr as text); it never raises on a
    non-zero exit.
    """
    argv = ["collectstatic", "--noinput"]
    for pattern in ignore:
        argv += ["-i", pattern]
    if no_default_ignore:
        argv.append("--no-default-ignore")
    argv += list(args)
    config = _config(
        tree_dirs,
        static_root,
        static_url=static_url,
        storage=storage,
        js_modules=js_modules,
        apps=apps,
        extra_sys_path=extra_sys_path,
        argv=argv,
    )
    return _run(python or _required_python(), config, cwd)


def run_findstatic(
    paths: Sequence[str],
    tree_dirs: Sequence[TreeDir],
    *,
    python: str | None = None,
    first: bool = False,
    verbosity: int = 1,
    apps: Sequence[str] = (),
    extra_sys_path: Sequence[str | os.PathLike[str]] = (),
    static_root: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess:
    """``django-admin findstatic PATH... [--first] -v N`` with these settings."""
    argv = ["findstatic", *paths, "-v", str(verbosity)]
    if first:
        argv.append("--first")
    config = _config(
        tree_dirs,
        static_root if static_root is not None else os.devnull,
        static_url="/static/",
        storage="plain",
        js_modules=False,
        apps=apps,
        extra_sys_path=extra_sys_path,
        argv=argv,
    )
    return _run(python or _required_python(), config, cwd)


def django_version(python: str) -> tuple[int, ...] | None:
    """Django's version under ``python``, or None if it cannot import Django."""
    try:
        proc = subprocess.run(
            [python, "-c", "import django; print('.'.join(map(str, django.VERSION[:3])))"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return tuple(int(part) for part in proc.stdout.strip().split(".") if part.isdigit())


def find_django_python() -> tuple[str | None, str]:
    """A Python with Django >= 6.1, and why not when there is none.

    ``$COLLECTSTATIC_DJANGO_PYTHON`` if set (it must have Django >= 6.1), else
    ``sys.executable`` if Django >= 6.1 imports there.
    """
    wanted = ".".join(map(str, DJANGO_MINIMUM))
    configured = os.environ.get("COLLECTSTATIC_DJANGO_PYTHON")
    candidates = [configured] if configured else [sys.executable]
    for python in candidates:
        version = django_version(python)
        if version is not None and version >= DJANGO_MINIMUM:
            return python, ""
        found = "no Django" if version is None else "Django " + ".".join(map(str, version))
        source = "$COLLECTSTATIC_DJANGO_PYTHON" if configured else "this Python"
        return None, (
            f"needs Django >= {wanted} (the reference implementation): {source} ({python}) "
            f"has {found}; set COLLECTSTATIC_DJANGO_PYTHON to a Python 3.12+ with Django {wanted}"
        )
    return None, f"needs Django >= {wanted}"


def _required_python() -> str:
    python, reason = find_django_python()
    if python is None:
        raise RuntimeError(reason)
    return python
