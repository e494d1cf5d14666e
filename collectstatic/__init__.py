"""collectstatic: Django's collectstatic, at package build time.

The core is framework-free: configuration (:mod:`.config`), finders
(:mod:`.finders`), collection (:mod:`.collection`), hashing with the manifest
(:mod:`.manifest`), the runtime lookup (:mod:`.runtime`) and serving
(:mod:`.serve`). Names are imported lazily, so that an installed app using
only :mod:`collectstatic.runtime` loads nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "BrokenReferencesError": "errors",
    "CollectError": "errors",
    "CollectStaticError": "errors",
    "ConfigError": "errors",
    "CollectOptions": "collection",
    "CollectResult": "collection",
    "collect": "collection",
    "Settings": "config",
    "Source": "config",
    "load_settings": "config",
    "settings_from_table": "config",
    "find": "finders",
    "list_sources": "finders",
    "Manifest": "runtime",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'collectstatic' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
