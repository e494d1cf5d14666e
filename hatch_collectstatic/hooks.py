"""Registers the ``collectstatic`` build hook with hatchling."""

from __future__ import annotations

from hatchling.plugin import hookimpl

from .plugin import CollectStaticBuildHook


@hookimpl
def hatch_register_build_hook() -> type[CollectStaticBuildHook]:
    return CollectStaticBuildHook
