"""collectstatic: Django's collectstatic, at package build time.

The core is framework-free. A run starts at :func:`collect`
(:mod:`.collection`, its phases in order) from a :class:`Settings`
(:mod:`.config`); the build hooks call :mod:`.build`, the command line is
:mod:`.cli`; an installed app looks names up with :mod:`.runtime` and serves
them with :mod:`.serve`. Each module's first lines say its one job (README.md,
Development, has the whole list). Names are imported lazily, so that an
installed app using only :mod:`collectstatic.runtime` loads nothing else.
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
