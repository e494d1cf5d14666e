"""The ``staticfiles.json`` format: written as Django writes it, read as
Django reads it. (Post-processing, which decides the names, is :mod:`.postprocess`.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

__all__ = ["MANIFEST_VERSION", "manifest_bytes", "read_manifest"]

MANIFEST_VERSION = "1.1"


def manifest_bytes(paths: Mapping[str, str], extra: Mapping[str, object] | None = None) -> bytes:
    """``staticfiles.json`` exactly as Django 6.x's ``save_manifest`` writes it.

    ``{"paths": {sorted}, "version": "1.1", "hash": md5[:12] of the sorted
    items}``, default ``json.dumps`` separators and ASCII; ``extra`` keys follow
    Django's (Django ignores them when loading).
    """
    items = sorted(paths.items())
    payload: dict[str, object] = {
        "paths": dict(items),
        "version": MANIFEST_VERSION,
        "hash": hashlib.md5(json.dumps(items).encode()).hexdigest()[:12],
    }
    for key, value in (extra or {}).items():
        if key in payload:
            raise ValueError(f"extra manifest key {key!r} would replace Django's")
        payload[key] = value
    return json.dumps(payload).encode()


def read_manifest(data: bytes) -> dict:
    """Parse a manifest written by Django (1.0/1.1) or by us; raise ValueError if unusable.

    Tolerates a UTF-8 BOM, surrounding whitespace, a missing ``hash`` and extra
    keys; the result always has ``paths`` (str -> str), ``version`` and ``hash``.
    """
    try:
        stored = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not a staticfiles manifest: {exc}") from None
    if not isinstance(stored, dict):
        raise ValueError("not a staticfiles manifest: expected a JSON object")
    version = stored.get("version")
    if version not in ("1.0", "1.1"):
        raise ValueError(f"unsupported staticfiles manifest version {version!r}")
    paths = stored.get("paths", {})
    if not isinstance(paths, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in paths.items()
    ):
        raise ValueError("not a staticfiles manifest: 'paths' must map names to names")
    manifest = dict(stored)
    manifest["paths"] = paths
    manifest.setdefault("hash", "")
    return manifest
