"""System checks: a manifest under STATIC_ROOT that would 500 a page.

With a manifest storage and ``DEBUG = False``, ``{% static %}`` looks every
name up in STATIC_ROOT's manifest and raises ``ValueError: Missing
staticfiles manifest entry`` for one it lacks. These checks (``manage.py
check``, server start) read the manifest once and compare it with what the
installed apps and STATICFILES_DIRS provide, so a broken deploy stops there:

- ``collectstatic.E001``: the manifest is missing;
- ``collectstatic.E002``: it cannot be read (not JSON, no ``paths``);
- ``collectstatic.E003``: it lacks names the apps or STATICFILES_DIRS provide;
- ``collectstatic.E004``: it names hashed files that are not in STATIC_ROOT;
- ``collectstatic.E005``: the static files settings cannot be used (the message says why).

They carry the tag ``collectstatic``, not ``staticfiles``: ``collectstatic``
itself, which writes the manifest, does not run them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core import checks

from collectstatic.config import Settings
from collectstatic.finders import list_sources

from .plan import plan_from_django

__all__ = ["check_manifest"]

SHOWN = 3  # names listed per app in a message


def _owner(source_path: str, info: dict[str, Any]) -> str:
    for app in info.get("apps") or []:
        if os.path.join(app["path"], "static") == source_path:
            return f"app {app['name']!r}"
    for index, entry in enumerate(info.get("dirs") or []):
        if len(entry) == 2 and os.path.abspath(entry[1]) == source_path:
            return f"STATICFILES_DIRS[{index}] ({entry[1]})"
    return source_path


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:SHOWN])
    more = len(names) - SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


@checks.register("collectstatic")
def check_manifest(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.conf import settings as django_settings

    if django_settings.DEBUG:
        return []  # (the finders serve the sources; no manifest is read)
    plan = plan_from_django()
    if plan.fallback or not plan.table.get("manifest"):
        return []
    if plan.settings is None:
        return [checks.Error(plan.problem, hint="Fix the setting it names.",
                             id="collectstatic.E005")]
    settings = plan.settings
    manifest_path = settings.root / settings.manifest_name
    collect_hint = ("Run 'manage.py collectstatic', or install the site wheel built with "
                    "django-settings (its STATIC_ROOT is inside the package).")
    try:
        with open(manifest_path, "rb") as handle:
            data = json.load(handle)
        paths = data["paths"]
        if not isinstance(paths, dict):
            raise TypeError("paths is not an object")
    except FileNotFoundError:
        return [checks.Error(f"STATIC_ROOT has no manifest: {manifest_path} is missing, so "
                             f"every {{% static %}} raises 'Missing staticfiles manifest "
                             f"entry'.", hint=collect_hint, id="collectstatic.E001")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [checks.Error(f"{manifest_path} cannot be read as a manifest ({exc}).",
                             hint=collect_hint, id="collectstatic.E002")]
    return _lacking(manifest_path, paths, settings, plan.info) + \
        _absent(manifest_path, paths, settings)


def _lacking(manifest_path: Path, paths: dict[str, Any], settings: Settings,
             info: Any) -> list[checks.CheckMessage]:
    """E003: files the sources provide that the manifest does not name."""
    errors = []
    missing: dict[str, list[str]] = {}
    for name, found in list_sources(settings).files.items():
        if name not in paths:
            missing.setdefault(str(found.source.path), []).append(name)
    for source_path, names in missing.items():
        owner = _owner(source_path, info)
        errors.append(checks.Error(
            f"The manifest {manifest_path} lacks {len(names)} file(s) that {owner} provides: "
            f"{_names(sorted(names))}; pages using them raise 'Missing staticfiles manifest "
            f"entry'.",
            hint=("Collect again ('manage.py collectstatic'), or, for a wheel that ships "
                  "STATIC_ROOT, build it with django-settings or add the app to apps in "
                  "[tool.collectstatic]."),
            id="collectstatic.E003"))
    return errors


def _absent(manifest_path: Path, paths: dict[str, Any],
            settings: Settings) -> list[checks.CheckMessage]:
    """E004: hashed names the manifest gives that are not in STATIC_ROOT."""
    errors = []
    root = str(settings.root)
    absent = sorted(name for name, hashed in paths.items()
                    if not isinstance(hashed, str)
                    or not os.path.isfile(os.path.join(root, hashed)))
    if absent:
        shown = [paths[n] if isinstance(paths[n], str) else n for n in absent]
        errors.append(checks.Error(
            f"The manifest {manifest_path} names {len(absent)} file(s) that are not in "
            f"STATIC_ROOT: {_names(shown)}.",
            hint="Collect again ('manage.py collectstatic --clear'), or reinstall the wheel "
                 "that ships STATIC_ROOT.",
            id="collectstatic.E004"))
    return errors
