"""Setuptools integration: a ``build_collectstatic`` sub-command of ``build``.

Activation is automatic. The ``setuptools.finalize_distribution_options``
entry point calls :func:`finalize_distribution_options` for *every* setuptools
build in an environment where this package is installed, so it stays a cheap,
silent no-op unless the project's ``pyproject.toml`` has a
``[tool.collectstatic]`` table *and* lists ``collectstatic`` in
``build-system.requires``. Only then is the core imported and the sub-command
registered (see :mod:`setuptools_collectstatic.command`).

Needs setuptools >= 64 (the PEP 660 build sub-command protocol).
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from setuptools import Distribution

    from .command import build_collectstatic as build_collectstatic

__all__ = ["build_collectstatic", "finalize_distribution_options", "is_configured"]

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def finalize_distribution_options(dist: Distribution) -> None:
    """Register the sub-command when the project configures us; otherwise nothing."""
    pyproject = os.path.join(getattr(dist, "src_root", None) or os.curdir, "pyproject.toml")
    if not is_configured(pyproject):
        return
    from .command import register

    register(dist)


def is_configured(pyproject: str | os.PathLike[str]) -> bool:
    """Whether ``pyproject`` has ``[tool.collectstatic]`` and requires us to build.

    Never raises: an unreadable or invalid file is setuptools' problem to report.
    """
    try:
        with open(pyproject, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    if b"collectstatic" not in data:  # the common case: no TOML parsing at all
        return False
    try:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on 3.9/3.10
            import tomli as tomllib
        document = tomllib.loads(data.decode("utf-8"))
    except Exception:
        return False
    tool = document.get("tool")
    if not isinstance(tool, dict) or "collectstatic" not in tool:
        return False
    build_system = document.get("build-system")
    requires = build_system.get("requires") if isinstance(build_system, dict) else None
    if not isinstance(requires, list):
        return False
    return any(_requirement_name(item) == "collectstatic" for item in requires)


def _requirement_name(requirement: Any) -> str | None:
    if not isinstance(requirement, str):
        return None
    match = _REQUIREMENT_NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def __getattr__(name: str) -> Any:
    # ``distutils.commands`` loads ``setuptools_collectstatic:build_collectstatic``;
    # import the command (and with it the core) only when someone asks for it.
    if name == "build_collectstatic":
        from .command import build_collectstatic

        return build_collectstatic
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
