"""The collected static files, looked up through collectstatic's runtime.

``staticfiles.json`` (written at build time, or by ``pip install -e .``) maps
``css/app.css`` to ``css/app.<hash>.css``; collectstatic reads it once per process.
"""

from __future__ import annotations

from pathlib import Path

from collectstatic.runtime import Manifest

STATIC_DIR = Path(__file__).with_name("staticfiles")


def manifest() -> Manifest:
    return Manifest.from_package("setuptools_flask_app", "staticfiles")


def static_url(name: str) -> str:
    """``css/app.css`` -> ``/static/css/app.3931ee424910.css``."""
    return manifest().url(name)


def static_file(name: str) -> Path:
    """The installed file behind ``name``."""
    return STATIC_DIR / manifest().hashed_name(name)
