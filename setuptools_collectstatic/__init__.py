"""Setuptools integration (placeholder until the setuptools issue lands).

The ``setuptools.finalize_distribution_options`` entry point fires for every
setuptools build in an environment where this package is installed, so it
must stay a silent no-op for projects that do not configure us.
"""

from __future__ import annotations

from typing import Any


def finalize_distribution_options(dist: Any) -> None:
    return None


build_collectstatic = None
