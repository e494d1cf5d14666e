"""collectstatic: Django's collectstatic, at package build time.

The core is framework-free: configuration (:mod:`.config`), finders
(:mod:`.finders`), collection (:mod:`.collect`) and hashing with the manifest
(:mod:`.manifest`). The build hooks and the CLI call :func:`collect`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .collect import CollectOptions, CollectResult, collect
from .config import Settings, Source, load_settings, settings_from_table
from .errors import BrokenReferencesError, CollectError, CollectStaticError, ConfigError
from .finders import find, list_sources

__all__ = [
    "BrokenReferencesError",
    "CollectError",
    "CollectOptions",
    "CollectResult",
    "CollectStaticError",
    "ConfigError",
    "Settings",
    "Source",
    "__version__",
    "collect",
    "find",
    "list_sources",
    "load_settings",
    "settings_from_table",
]
