"""Django's static-files settings as plain data (JSON-able), read from a set-up Django.

:func:`describe` runs in two places: in the child process that
:mod:`collectstatic.djangosettings` starts for ``django-settings`` (the build's
interpreter never imports the site), and inside ``manage.py collectstatic``.
It reports what Django would use, resolved by Django itself (the app registry
for INSTALLED_APPS, the storage class and its instance for STORAGES); turning
that into our settings, and deciding what is supported, is
:func:`collectstatic.djangosettings.table_from_django`'s job.

    python -c "from collectstatic.django.describe import main; main()"   # prints the JSON
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

__all__ = ["KNOWN_STORAGES", "MARKER", "describe", "main"]

# The storage classes we implement -> how (manifest, compress).
KNOWN_STORAGES = {
    "django.contrib.staticfiles.storage.StaticFilesStorage": ("plain", False),
    "django.contrib.staticfiles.storage.ManifestStaticFilesStorage": ("manifest", False),
    "whitenoise.storage.CompressedStaticFilesStorage": ("plain", True),
    "whitenoise.storage.CompressedManifestStaticFilesStorage": ("manifest", True),
}
# What a subclass may set without changing how names are hashed or where files go.
TUNABLES = frozenset({
    "manifest_name", "manifest_strict", "support_js_module_import_aggregation",
    "keep_only_hashed_files", "__init__",
})
# OPTIONS that are ours to read rather than the storage's: Django's
# ManifestStaticFilesStorage takes them only as class attributes.
CLASS_OPTIONS = ("manifest_name", "manifest_strict", "support_js_module_import_aggregation")


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _storage(settings: Any) -> dict[str, Any]:
    from django.utils.module_loading import import_string

    config = dict(settings.STORAGES.get("staticfiles") or {})
    backend = config.get("BACKEND", "")
    options = dict(config.get("OPTIONS") or {})
    info: dict[str, Any] = {"backend": backend, "options": sorted(options), "known": None,
                            "overrides": []}
    try:
        cls = import_string(backend)
    except ImportError as exc:
        info["error"] = f"cannot import it: {exc}"
        return info
    bases = {_dotted(c): c for c in cls.__mro__}
    known = next((name for name in bases if name in KNOWN_STORAGES), None)
    info["known"] = known
    if known is None:
        return info
    info["overrides"] = _overrides(cls, bases[known])
    ours = {key: options.pop(key) for key in CLASS_OPTIONS if key in options}
    try:
        storage = cls(**options)
    except TypeError as exc:  # an OPTIONS key it does not take: Django raises it at first use
        info["error"] = f"cannot create it with its OPTIONS: {type(exc).__name__}: {exc}"
        return info
    except Exception:
        # Without STATIC_ROOT, or with a damaged manifest there (it is read when
        # the storage is made), what it would be is the class's and the settings'.
        storage = None
    source = storage if storage is not None else cls
    for key in CLASS_OPTIONS:
        if key in ours:
            info[key] = ours[key]
        elif hasattr(source, key):
            info[key] = getattr(source, key)
    if hasattr(source, "keep_only_hashed_files"):
        info["keep_only_hashed_files"] = bool(source.keep_only_hashed_files)
    info.update(_place(storage, options, settings))
    return info


def _overrides(cls: type, base: type) -> list[str]:
    """What the subclasses above the known ``base`` change of it (tunable
    class attributes aside)."""
    before = cls.__mro__[: cls.__mro__.index(base)]
    return sorted({
        name for klass in before for name in vars(klass)
        if not (name.startswith("__") and name.endswith("__")) and name not in TUNABLES
        and hasattr(base, name)
    })


def _place(storage: Any, options: dict[str, Any], settings: Any) -> dict[str, Any]:
    """Where the storage writes, its URL and modes: the instance's, or, when it
    could not be made, what the options and settings would give it."""
    if storage is None:
        location = options.get("location") or settings.STATIC_ROOT
        return {
            "location": os.path.abspath(location) if location else None,
            "base_url": options.get("base_url") or settings.STATIC_URL,
            "file_permissions_mode": options.get("file_permissions_mode",
                                                 settings.FILE_UPLOAD_PERMISSIONS),
            "directory_permissions_mode": options.get(
                "directory_permissions_mode", settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS),
        }
    return {
        "manifest_storage_is_self": getattr(storage, "manifest_storage", storage) is storage,
        "location": storage.location and os.fspath(storage.location),
        "base_url": storage.base_url,
        "file_permissions_mode": storage.file_permissions_mode,
        "directory_permissions_mode": storage.directory_permissions_mode,
    }


def describe() -> dict[str, Any]:
    """What Django's collectstatic would use, from the configured, set-up Django."""
    from django.apps import apps
    from django.conf import settings

    app_list = []
    for config in apps.get_app_configs():
        path = os.fspath(config.path)
        app_list.append({"name": config.name, "label": config.label, "path": path,
                         "static": os.path.isdir(os.path.join(path, "static"))})
    dirs = []
    for entry in settings.STATICFILES_DIRS:
        if isinstance(entry, (list, tuple)):
            dirs.append([entry[0], os.fspath(entry[1])] if len(entry) == 2 else [repr(entry)])
        else:
            dirs.append(["", os.fspath(entry)])
    # (FileSystemFinder makes each path absolute against the working directory)
    dirs = [[d[0], os.path.abspath(d[1])] if len(d) == 2 else d for d in dirs]
    ignore = None
    if apps.is_installed("django.contrib.staticfiles"):
        ignore = list(apps.get_app_config("staticfiles").ignore_patterns)
    try:
        import brotli  # noqa: F401
        has_brotli = True
    except ImportError:
        has_brotli = False
    root = settings.STATIC_ROOT
    return {
        "apps": app_list,
        "dirs": dirs,
        "static_url": settings.STATIC_URL,
        "static_root": os.fspath(root) if root else None,
        "ignore_patterns": ignore,
        "finders": list(settings.STATICFILES_FINDERS),
        "storage": _storage(settings),
        "debug": bool(settings.DEBUG),
        "brotli": has_brotli,
    }


def _where(exc: BaseException) -> str:
    """Where in the site it failed, as `` (file:line)``: the innermost frame under
    the working directory (the project), or the file a SyntaxError names."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" ({exc.filename}:{exc.lineno})"
    project = os.path.join(os.getcwd(), "")
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.startswith("<") \
                and os.path.abspath(frame.filename).startswith(project):
            return f" ({frame.filename}:{frame.lineno})"
    return ""


def main() -> None:
    """The child process: one JSON object on stdout, ``{"error": ...}`` when the
    settings cannot be read (never a traceback: the parent reports it)."""
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    stage = "import"
    try:
        try:
            import django
        except ImportError:
            raise SystemExit(_reply({"error": "django", "message": "no Django"})) from None
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018  (imports the settings module)
        stage = "setup"
        django.setup()
        stage = "read"
        reply = describe()
    except SystemExit:
        raise
    except BaseException as exc:
        text = exc.msg if isinstance(exc, SyntaxError) else str(exc)  # (msg: without the file)
        message = f"{type(exc).__name__}: {text}".splitlines()[0] if text \
            else type(exc).__name__
        raise SystemExit(_reply({"error": stage, "module": module,
                                 "message": message + _where(exc)})) from None
    _reply(reply)


# The reply's line starts with this (the settings or an app may print too).
MARKER = "collectstatic-django-settings: "


def _reply(value: dict[str, Any]) -> int:
    sys.stdout.write("\n" + MARKER + json.dumps(value, default=repr) + "\n")
    sys.stdout.flush()
    return 0
