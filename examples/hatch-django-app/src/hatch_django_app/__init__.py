"""A reusable Django app that ships its static files precollected."""

from __future__ import annotations

from pathlib import Path

# Point STATIC_ROOT here (or serve it with WhiteNoise): the build collected it.
STATIC_ROOT = Path(__file__).resolve().parent / "staticfiles"
