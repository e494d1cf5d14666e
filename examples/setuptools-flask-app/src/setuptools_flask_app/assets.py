"""Find collected static files by their logical name (standard library only).

``staticfiles.json`` maps ``css/app.css`` to ``css/app.<hash>.css``; with
``manifest = false`` there is no manifest and names are used as they are.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).with_name("staticfiles")
MANIFEST = STATIC_DIR / "staticfiles.json"


@cache
def _paths() -> dict[str, str]:
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))["paths"]
    except FileNotFoundError:
        return {}


def static_name(name: str) -> str:
    """The collected (hashed) name of ``name``: ``css/app.css`` -> ``css/app.1d2c3b4a5f6e.css``."""
    return _paths().get(name, name)


def static_file(name: str) -> Path:
    """The installed file serving ``name``."""
    return STATIC_DIR / static_name(name)
