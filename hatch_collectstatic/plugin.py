"""The ``collectstatic`` hatchling build hook: backend context in, one core call, files out.

- wheel ``standard``: collect into a persistent per-project staging directory
  outside the tree (incremental, so rebuilds are cheap; never the source
  tree) and force-include every output where hatchling puts files
  found at ``root`` (its own ``sources`` rewriting maps ``src/pkg/staticfiles``
  to ``pkg/staticfiles``); whatever sits in ``root`` in the tree is left out.
- wheel ``editable``: collect into ``root`` in the tree, incrementally.
- ``sdist``: force-include the source files the collection reads (git-ignored
  ones too) and leave the collected tree out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any, Callable

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

from collectstatic.build import (
    SKIP_ENV,
    build_staging_dir,
    collect_for_build,
    load_build_settings,
    nothing_kept_note,
    sdist_sources,
    skip_requested,
)
from collectstatic.config import Settings
from collectstatic.errors import CollectStaticError
from collectstatic.progress import Meter

__all__ = ["HATCH_KEYS", "CollectStaticBuildHook"]

# Keys of a hook table that hatch itself reads; everything else is ours.
HATCH_KEYS = frozenset(
    {"dependencies", "require-runtime-dependencies", "require-runtime-features",
     "enable-by-default"}
)


class CollectStaticBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "collectstatic"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._include_path: Callable[..., bool] | None = None
        self._temp_dirs: list[str] = []

    # -- hatchling's entry points --------------------------------------------------
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if skip_requested() and self.target_name != "sdist":
            # An sdist still gets the sources: without them its wheel could not be built.
            self.app.display_info(f"collectstatic: skipped ({SKIP_ENV} is set)")
            return
        if self.target_name not in ("wheel", "sdist"):
            self.app.display_debug(f"collectstatic: nothing to do for target "
                                   f"{self.target_name!r}")
            return
        try:
            settings = self.load_settings()
            if self.target_name == "sdist":
                self.add_sources(settings, build_data)
            elif version == "editable":
                self.collect(settings, None)
            else:
                self.add_collected(settings, build_data)
        except CollectStaticError as exc:
            self.cleanup()
            self.app.abort(f"collectstatic: {exc}")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self.cleanup()

    # -- the steps -----------------------------------------------------------------
    def load_settings(self) -> Settings:
        overrides = {k: v for k, v in self.config.items() if k not in HATCH_KEYS}
        target_hooks = self.build_config.target_config.get("hooks", {})
        if isinstance(target_hooks, dict) and self.PLUGIN_NAME in target_hooks:
            origin = f"tool.hatch.build.targets.{self.target_name}.hooks.{self.PLUGIN_NAME}"
        else:
            origin = f"tool.hatch.build.hooks.{self.PLUGIN_NAME}"
        settings = load_build_settings(self.root, overrides=overrides, overrides_origin=origin)
        for warning in settings.warnings:
            self.app.display_warning(f"collectstatic: warning: {warning}")
        return settings

    def add_collected(self, settings: Settings, build_data: dict[str, Any]) -> None:
        """Wheel: collect into a staging dir outside the tree and map it to where
        root belongs. The staging dir persists, so a rebuild only redoes what
        changed (see collectstatic.build.build_staging_dir)."""
        staging = build_staging_dir(settings)
        if staging is None:  # an unpacked sdist: nothing to reuse, nothing to keep
            staging = Path(tempfile.mkdtemp(prefix="collectstatic-")) / "root"
            self._temp_dirs.append(str(staging.parent))
            # finalize() removes it; this covers --hooks-only and failed builds
            weakref.finalize(self, shutil.rmtree, str(staging.parent), ignore_errors=True)
        output = self.collect(settings, str(staging))
        root_relative = settings.root_relative
        for path, name in sorted(output.files().items(), key=lambda item: item[1]):
            # A project-relative target: hatchling maps it through its ``sources``
            # rewriting exactly as it would map a file found at root in the tree.
            build_data["force_include"][path] = f"{root_relative}/{name}"
        self.exclude_from_tree(root_relative)

    def add_sources(self, settings: Settings, build_data: dict[str, Any]) -> None:
        """sdist: the sources the collection reads, never the collected tree."""
        sources = sdist_sources(settings)
        for relative in sources:
            build_data["force_include"][os.path.join(self.root, relative)] = relative
        self.exclude_from_tree(settings.root_relative)
        self.app.display_info(f"collectstatic: {len(sources):,} source files for the sdist")

    def collect(self, settings: Settings, dest: str | None) -> Any:
        where = settings.root_relative if dest is None else "the build directory"
        self.app.display_waiting(f"collectstatic: collecting into {where}")
        note = nothing_kept_note(settings) if dest is not None else None
        if note:
            self.app.display_info(f"collectstatic: {note}")
        started = time.monotonic()
        meter = Meter(lambda line: self.app.display_info(f"collectstatic: {line.rstrip()}"),
                      tty=False)
        output = collect_for_build(settings, dest, log=self.log, progress=meter)
        result = output.result
        for warning in result.warnings:
            if warning not in settings.warnings:  # (shown when the settings were read)
                self.app.display_warning(f"collectstatic: warning: {warning}")
        self.app.display_info(f"collectstatic: {result.counts()}, "
                              f"{time.monotonic() - started:.1f} s")
        return output

    def log(self, message: str, level: int) -> None:
        """The core's Django-style verbosity: 1 = notable, 2 = per file (``-v``)."""
        if level <= 1:
            self.app.display_info(f"collectstatic: {message}")
        else:
            self.app.display_debug(f"collectstatic: {message}", level=min(level - 1, 3))

    def exclude_from_tree(self, root_relative: str) -> None:
        """Leave whatever sits in root in the source tree out of the artifact.

        Hatchling has no build-data key for exclusion, so this wraps the
        target's ``include_path`` (which every file walk consults) until
        ``finalize``.
        """
        if self._include_path is not None:
            return
        config = self.build_config
        original = config.include_path
        prefix = root_relative.rstrip("/") + "/"

        def include_path(relative_path: str, *args: Any, **kwargs: Any) -> bool:
            relative = relative_path.replace(os.sep, "/")
            if relative.startswith(prefix):
                return False
            return bool(original(relative_path, *args, **kwargs))

        config.include_path = include_path
        self._include_path = original

    def cleanup(self) -> None:
        if self._include_path is not None:
            del self.build_config.include_path  # the instance attribute: the method is back
            self._include_path = None
        while self._temp_dirs:
            shutil.rmtree(self._temp_dirs.pop(), ignore_errors=True)
