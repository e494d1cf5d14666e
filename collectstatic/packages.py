"""Where a package's files are, found without importing (so without running) it.

Configuration (``apps``) and ``django-settings`` (INSTALLED_APPS) both need
an app's directory; neither may execute the app to find it.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["find_package_dir"]


def find_package_dir(name: str, project_root: Path) -> Path | None:
    """Locate package ``name`` without importing (so without running) it.

    The project tree is searched first (flat and ``src/`` layouts), then
    ``sys.path``. Namespace packages resolve to their first portion.
    """
    parts = name.split(".")
    search: list[str] = [str(project_root / "src"), str(project_root)]
    search += [p for p in sys.path if p and p not in search]
    for directory in search:
        candidate = Path(directory, *parts)
        if os.path.isfile(candidate / "__init__.py"):
            return candidate
    # Installed packages that are not plain directories on sys.path (.pth
    # editable finders, namespace packages): ask the path finders, which locate
    # without executing anything.
    locations: list[str] | None = None
    for depth, part in enumerate(parts):
        try:
            spec = importlib.machinery.PathFinder.find_spec(
                ".".join(parts[: depth + 1]) if depth else part, locations
            )
        except (ImportError, ValueError, OSError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            spec = _meta_path_spec(".".join(parts[: depth + 1]), locations)
        if spec is None or not spec.submodule_search_locations:
            return None
        locations = list(spec.submodule_search_locations)
    return Path(locations[0]) if locations else None


def _meta_path_spec(fullname: str, locations: list[str] | None) -> Any:
    # Editable installs register finders on sys.meta_path; find_spec on them
    # does not execute the package. Skip the import system's own finders.
    for finder in sys.meta_path:
        if getattr(finder, "__module__", "").startswith("importlib"):
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(fullname, locations)
        except Exception:  # a third-party finder misbehaving is "not found"
            continue
        if spec is not None:
            return spec
    return None
