"""Names and path checks that several modules share.

A leaf module: it imports only :mod:`os`, so the run-time lookups and the
server can use it without loading the configuration reader.
"""

from __future__ import annotations

import os

__all__ = ["DEFAULT_MANIFEST_NAME", "DEFAULT_STATIC_URL", "is_within"]

# Django's defaults: ManifestStaticFilesStorage.manifest_name and the usual STATIC_URL.
DEFAULT_MANIFEST_NAME = "staticfiles.json"
DEFAULT_STATIC_URL = "/static/"


def is_within(path: str | os.PathLike[str], parent: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is ``parent`` or lies below it.

    A comparison of the strings, component-wise: both must already be in the
    same form (absolute and ``normpath``-ed, or both ``realpath``-ed, and
    ``normcase``-d where case does not count). ``/srv/static-old`` is not
    within ``/srv/static``.
    """
    path, parent = os.fspath(path), os.fspath(parent)
    return path == parent or path.startswith(os.path.join(parent, ""))
