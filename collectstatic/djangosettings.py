"""``django-settings = "mysite.settings"``: a Django site's settings as our table.

Two steps, apart:

- :func:`read_django_settings` imports the settings module and sets Django up
  in a child process (``python -c``, ``DJANGO_SETTINGS_MODULE`` set, the
  project root as working directory), so the interpreter running a build
  never imports the site or Django; the child prints what Django resolved
  (:func:`collectstatic.django.describe.describe`) as JSON;
- :func:`table_from_django` (pure) turns that into ``[tool.collectstatic]``
  keys: INSTALLED_APPS -> ``apps``, STATICFILES_DIRS -> ``dirs``, STATIC_URL
  -> ``static-url``, STATIC_ROOT -> ``root``, the staticfiles app's ignore
  patterns, STORAGES["staticfiles"] -> ``manifest``/``strict``/``compress``...,
  and says what it cannot express (another finder or storage).

:func:`merge_django_settings` is what :mod:`collectstatic.config` calls: keys
given in the table override what the settings give, except ``dirs``,
``apps`` and ``ignore``, which extend them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .django.describe import KNOWN_STORAGES, MARKER
from .errors import ConfigError
from .packages import find_package_dir
from .paths import DEFAULT_MANIFEST_NAME, is_within

__all__ = ["DjangoTable", "merge_django_settings", "read_django_settings",
           "table_from_django", "FINDERS"]

KEY = "django-settings"
FILE_SYSTEM_FINDER = "django.contrib.staticfiles.finders.FileSystemFinder"
APP_DIRECTORIES_FINDER = "django.contrib.staticfiles.finders.AppDirectoriesFinder"
FINDERS = (FILE_SYSTEM_FINDER, APP_DIRECTORIES_FINDER)
DJANGO_DEFAULT_IGNORE = ["CVS", ".*", "*~"]
# STORAGES["staticfiles"]["OPTIONS"] keys we read; any other is an error.
OPTIONS = frozenset({
    "location", "base_url", "file_permissions_mode", "directory_permissions_mode",
    "allow_overwrite", "manifest_name", "manifest_strict", "support_js_module_import_aggregation",
})
EXTENDED = ("dirs", "apps", "ignore")  # keys the table adds to instead of replacing
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_TIMEOUT = 600


@dataclass
class DjangoTable:
    """What a Django site's settings give, as ``[tool.collectstatic]`` keys."""

    table: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What we do not implement (another finder or storage): Django's own command can.
    unsupported: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # mistakes in the settings
    debug: bool = False


def read_django_settings(module: str, project_root: Path | str, *, key: str = KEY,
                         python: str | None = None) -> dict[str, Any]:
    """Django's view of ``module`` (see :mod:`collectstatic.django.describe`),
    read in a child process run from ``project_root``. Raises ConfigError
    naming ``key`` when the module cannot be imported or set up."""
    if not isinstance(module, str) or not _MODULE.match(module):
        raise ConfigError([f"{key}: expected a dotted module name such as \"mysite.settings\", "
                           f"found {module!r}"])
    python = python or sys.executable
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # The project first (as manage.py has it), then wherever this collectstatic is.
    code = (f"import sys; sys.path.append({here!r}); "
            "from collectstatic.django.describe import main; main()")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=module, PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.run([python, "-c", code], cwd=str(project_root), env=env,
                              capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError([f"{key}: cannot run {python} to read {module!r}: {exc}"]) from None
    replies = [line[len(MARKER):] for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if not replies:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise ConfigError([f"{key}: reading {module!r} failed ({last}); run "
                           f"'DJANGO_SETTINGS_MODULE={module} python -c \"import django; "
                           f"django.setup()\"' in the project to see why"])
    reply: dict[str, Any] = json.loads(replies[-1])
    error = reply.get("error")
    if error == "django":
        raise ConfigError([f"{key}: {module!r} needs Django, which {python} cannot import; "
                           f"install Django there (in an isolated build: "
                           f"require-runtime-dependencies = true on the hatch hook table with "
                           f"Django in the project's dependencies, or django in "
                           f"build-system.requires for setuptools)"])
    if error == "import":
        raise ConfigError([f"{key}: cannot import settings module {module!r}: "
                           f"{reply['message']}; fix it, or give the build the environment it "
                           f"needs (a missing variable, say)"])
    if error == "setup":
        raise ConfigError([f"{key}: Django cannot set up {module!r}: {reply['message']}; an app "
                           f"in INSTALLED_APPS that cannot be imported must be installed where "
                           f"the build runs (or removed from INSTALLED_APPS)"])
    if error:
        raise ConfigError([f"{key}: cannot read the static files settings of {module!r}: "
                           f"{reply.get('message')}"])
    return reply


def _unsupported_storage(storage: Mapping[str, Any], where: str) -> list[str]:
    backend = storage.get("backend") or ""
    at = f"{where}: STORAGES['staticfiles']['BACKEND'] = {backend!r}"
    if storage.get("error"):
        return [f"{at}: {storage['error']}"]
    known = storage.get("known")
    if known is None:
        return [f"{at} is not a storage we implement (" + ", ".join(KNOWN_STORAGES)
                + ", and subclasses that keep their hashing and paths)"]
    if storage.get("overrides"):
        return [f"{at} overrides {', '.join(storage['overrides'])} of {known}, which changes "
                f"hashed names or paths"]
    unknown = [name for name in storage.get("options", []) if name not in OPTIONS]
    if unknown:
        return [f"{where}: STORAGES['staticfiles']['OPTIONS'][{unknown[0]!r}] is not supported "
                f"(supported: {', '.join(sorted(OPTIONS))})"]
    if not storage.get("manifest_storage_is_self", True):
        return [f"{at}: a manifest_storage apart from the storage is not supported"]
    return []


def _inside(path: str, parent: str) -> bool:
    return is_within(os.path.realpath(path), os.path.realpath(parent))


def _relative(path: str, project: str) -> str:
    """``path`` (inside ``project``) relative to it, posix style: the child
    reports real paths, and the project root may be spelt through a symlink."""
    return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(project))).as_posix()


def table_from_django(info: Mapping[str, Any], where: str, project_root: Path | str, *,
                      inside_project: bool = True) -> DjangoTable:
    """``[tool.collectstatic]`` keys from :func:`read_django_settings`'s answer.

    ``where`` names the settings in messages (``mysite.settings``). With
    ``inside_project`` (a build, the CLI), STATIC_ROOT and STATICFILES_DIRS
    must lie inside ``project_root``; installed apps may be anywhere.
    """
    result = DjangoTable(debug=bool(info.get("debug")))
    project = os.fspath(project_root)
    finders = list(info.get("finders") or [])
    _check_finders(finders, where, result)
    dirs = (info.get("dirs") or []) if FILE_SYSTEM_FINDER in finders else []
    result.table["dirs"] = _dirs(dirs, where, project, inside_project, result)
    apps = (info.get("apps") or []) if APP_DIRECTORIES_FINDER in finders else []
    result.table["apps"] = _apps(apps, where, project, result)
    _ignore(info.get("ignore_patterns"), result.table)
    storage = info.get("storage") or {}
    result.unsupported += _unsupported_storage(storage, where)
    if not result.unsupported:
        _storage_keys(info, storage, result.table)
        location = storage.get("location") or info.get("static_root")
        if location:
            _static_root(location, where, project, inside_project, result)
    return result


def _check_finders(finders: list[str], where: str, result: DjangoTable) -> None:
    for index, finder in enumerate(finders):
        if finder not in FINDERS:
            result.unsupported.append(
                f"{where}: STATICFILES_FINDERS[{index}] = {finder!r} is not supported (only "
                f"{FILE_SYSTEM_FINDER} and {APP_DIRECTORIES_FINDER}); remove it, or list the "
                f"directory it finds files in in STATICFILES_DIRS")
    if all(f in finders for f in FINDERS) and \
            finders.index(APP_DIRECTORIES_FINDER) < finders.index(FILE_SYSTEM_FINDER):
        result.unsupported.append(
            f"{where}: STATICFILES_FINDERS lists AppDirectoriesFinder before FileSystemFinder; "
            f"list FileSystemFinder first (STATICFILES_DIRS are searched before the apps)")


def _dirs(entries: list[Any], where: str, project: str, inside_project: bool,
          result: DjangoTable) -> list[Any]:
    """STATICFILES_DIRS -> ``dirs`` (problems and warnings noted in ``result``)."""
    dirs: list[Any] = []
    for index, entry in enumerate(entries):
        at = f"{where}: STATICFILES_DIRS[{index}]"
        if len(entry) != 2:
            result.problems.append(f"{at}: expected a path or a (prefix, path) pair, "
                                   f"found {entry[0]}")
            continue
        prefix, path = entry
        if prefix.endswith("/"):
            result.problems.append(f"{at}: the prefix {prefix!r} must not end with '/'")
            continue
        if not os.path.isdir(path):
            result.warnings.append(f"{at}: the directory {path} does not exist; nothing is "
                                   f"collected from it (as Django does)")
            continue
        if inside_project and not _inside(path, project):
            result.problems.append(
                f"{at}: {path} is outside the project ({project}); a build collects from "
                f"the project and installed apps only: move it into the project")
            continue
        if inside_project:
            path = _relative(path, project)
        dirs.append({"path": path, "prefix": prefix} if prefix else path)
    return dirs


def _apps(entries: list[Any], where: str, project: str, result: DjangoTable) -> list[str]:
    """INSTALLED_APPS with a static dir -> ``apps``: each must be found here
    where Django found it."""
    apps: list[str] = []
    for index, app in enumerate(entries):
        if not app["static"]:
            continue  # (Django's app finder skips it too)
        name, path = app["name"], app["path"]
        found = find_package_dir(name, Path(project))
        if found is None or os.path.realpath(found) != os.path.realpath(path):
            seen = "is not found" if found is None else f"resolves to {found}"
            result.problems.append(
                f"{where}: INSTALLED_APPS[{index}] ({name!r}): Django has it at {path}, but "
                f"here {name!r} {seen}; install it where the build runs, or list its static "
                f"dir in STATICFILES_DIRS")
            continue
        apps.append(name)
    return apps


def _ignore(patterns: list[str] | None, table: dict[str, Any]) -> None:
    if patterns is None or sorted(patterns) == sorted(DJANGO_DEFAULT_IGNORE):
        table["default-ignore"] = True
    else:
        table["default-ignore"] = False
        table["ignore"] = list(patterns)


def _storage_keys(info: Mapping[str, Any], storage: Mapping[str, Any],
                  table: dict[str, Any]) -> None:
    """A supported storage's options -> the keys that do what it does."""
    kind, compressed = KNOWN_STORAGES[storage["known"]]
    table["manifest"] = kind == "manifest"
    if kind == "manifest":
        table["manifest-name"] = storage.get("manifest_name", DEFAULT_MANIFEST_NAME)
        table["strict"] = bool(storage.get("manifest_strict", True))
        table["js-modules"] = bool(storage.get("support_js_module_import_aggregation"))
    if compressed:
        table["compress"] = ["gzip", "brotli"] if info.get("brotli") else ["gzip"]
        if storage.get("keep_only_hashed_files") and kind == "manifest":
            table["keep-unhashed"] = False
    for option, key in (("file_permissions_mode", "file-mode"),
                        ("directory_permissions_mode", "dir-mode")):
        mode = storage.get(option)
        if isinstance(mode, int):
            table[key] = f"0o{mode:o}"
    base_url = storage.get("base_url") or info.get("static_url")
    if base_url:
        table["static-url"] = base_url


def _static_root(location: str, where: str, project: str, inside_project: bool,
                 result: DjangoTable) -> None:
    if inside_project and not _inside(location, project):
        result.problems.append(
            f"{where}: STATIC_ROOT ({location}) is outside the project ({project}); "
            f"a build ships only what it collects inside the project: point it at a "
            f"directory in the site's package, or set root in [tool.collectstatic]")
    else:
        result.table["root"] = _relative(location, project) if inside_project else location


def merge_django_settings(merged: Mapping[str, Any], origins: MutableMapping[str, str],
                          project_root: Path | str, source: str = "pyproject.toml"
                          ) -> tuple[dict[str, Any], list[str]]:
    """``merged`` (a table with ``django-settings``) completed from the site's
    settings; what the table gives wins (``dirs``, ``apps``, ``ignore``: the
    table's entries come after the settings'). ``origins`` (key -> where it
    came from, for messages) gets the settings module for each key it adds.
    Returns the table and the warnings; a problem is a ConfigError from ``source``."""
    module = merged[KEY]
    where = f"{origins.get(KEY, 'tool.collectstatic')}.{KEY}"
    try:
        info = read_django_settings(module, project_root, key=where)
    except ConfigError as exc:
        raise ConfigError(exc.problems, source=source) from None
    django = table_from_django(info, module, project_root)
    problems = django.problems + django.unsupported
    if "root" in merged:
        problems = [p for p in problems if "STATIC_ROOT" not in p]
    elif "root" not in django.table:
        problems.append(f"{module}: STATIC_ROOT is not set; set it to a directory in the "
                        f"project (the site package's collected dir), or set root in "
                        f"[tool.collectstatic]")
    if problems:  # (each named by the key that brought the settings in, as config's are)
        raise ConfigError([p if p.startswith(where) else f"{where}: {p}" for p in problems],
                          source=source)
    result = dict(merged)
    del result[KEY]
    for name, value in django.table.items():
        if name not in merged:
            result[name] = value
            origins[name] = module
        elif name in EXTENDED and isinstance(merged[name], list):
            extra = [item for item in merged[name] if item not in value]
            result[name] = [*value, *extra]
    return result, django.warnings
