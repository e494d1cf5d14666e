"""What the build hooks call: one function to collect, one to list sources.

The hooks stay thin: they turn their backend's context into these calls and
the returned file lists into wheel/sdist entries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .collection import CollectOptions, CollectResult, Log, collect
from .compress import CACHE_ENV, default_build_cache_dir
from .config import STATE_DIR, Settings, load_settings
from .errors import ConfigError
from .finders import list_sources
from .paths import is_within
from .progress import Progress
from .record import recorded_outputs

__all__ = ["BuildOutput", "collect_for_build", "load_build_settings", "nothing_kept_note",
           "recorded_outputs", "sdist_sources", "SKIP_ENV"]

# Set to 1/true/yes to skip the hooks for one build.
SKIP_ENV = "COLLECTSTATIC_SKIP"


def skip_requested() -> bool:
    return os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def load_build_settings(project_root: Path | str, overrides: Mapping[str, Any] | None = None,
                        overrides_origin: str = "tool.hatch.build.hooks.collectstatic"
                        ) -> Settings:
    """Settings from ``project_root/pyproject.toml``, a hook table overriding keys."""
    return load_settings(Path(project_root) / "pyproject.toml", overrides=overrides,
                         overrides_origin=overrides_origin)


@dataclass(frozen=True)
class BuildOutput:
    settings: Settings  # as configured: settings.root is the configured root
    root: Path  # where the files were collected (a build dir, or settings.root)
    result: CollectResult

    def files(self) -> dict[str, str]:
        """Absolute path of every collected output -> its path relative to root (posix)."""
        return {str(self.root / name): name for name in self.result.files}


def collect_for_build(settings: Settings, dest: Path | str | None = None, *,
                      log: Log | None = None, progress: Progress | None = None
                      ) -> BuildOutput:
    """Collect for a build: into ``dest`` (a fresh build dir) or, for an
    editable install, into the configured root. Builds always copy."""
    target = Path(dest).absolute() if dest is not None else settings.root
    real_target = os.path.realpath(target)
    for source in settings.sources:
        real_source = os.path.realpath(source.path)
        if is_within(real_target, real_source):
            raise ConfigError([f"build directory {target} lies inside {source.origin}"],
                              source=str(settings.project_root / "pyproject.toml"))
    # Modes that do not follow the builder's umask (setuptools copies them
    # into the wheel), unless configured. A wheel ships only the current
    # version: its dir keeps no hashed files of earlier builds.
    build_settings = dataclasses.replace(
        settings, root=target, link=False,
        keep_versions=0 if dest is not None else settings.keep_versions,
        file_mode=0o644 if settings.file_mode is None else settings.file_mode,
        dir_mode=0o755 if settings.dir_mode is None else settings.dir_mode)
    # A wheel build collects into a fresh dir: keep compressed variants in a
    # per-project cache so that only changed content is compressed again.
    cache = _build_compress_cache(settings) if dest is not None else None
    result = collect(build_settings, CollectOptions(compress_cache=cache), log=log,
                     progress=progress)
    return BuildOutput(settings=settings, root=target, result=result)


def _throwaway(project_root: Path) -> bool:
    """A project in the temp dir (an sdist unpacked by pip, build or uv): a new
    path every build, so state kept for it would never be used again."""
    temp = os.path.realpath(tempfile.gettempdir())
    real = os.path.realpath(project_root)
    return is_within(real, temp)


def nothing_kept_note(settings: Settings) -> str | None:
    """What a build's log should say once when nothing it does is kept for
    the next build (a throwaway project), or None."""
    if not _throwaway(settings.project_root):
        return None
    note = (f"{settings.project_root} is a temporary directory (an unpacked sdist): "
            f"nothing is kept between its builds, so every build collects cold")
    if settings.compress and not os.environ.get(CACHE_ENV):
        note += f"; set {CACHE_ENV} to a directory to keep compressed variants"
    return note


def build_staging_dir(settings: Settings) -> Path | None:
    """A persistent directory to collect a wheel's files in, per project and
    settings; None for a throwaway project (collect into a temporary dir then).

    Wheel builds must not write into the source tree, but collecting into a
    fresh directory every time makes every build a cold one. Collected here
    instead (beside the compression cache), a rebuild costs what an unchanged
    ``collectstatic collect`` costs: the record inside decides, by content, what
    to redo. Deleting it is always safe.
    """
    if _throwaway(settings.project_root):
        return None
    # (keep-versions does not change a wheel: the same dir serves every value)
    plain = dataclasses.replace(settings, keep_versions=0)
    key = hashlib.md5(repr(plain).encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
    return default_build_cache_dir(settings.project_root) / f"wheel-{key}"


def _build_compress_cache(settings: Settings) -> Path | None:
    # Keyed by content, so a cache named by COLLECTSTATIC_CACHE_DIR serves
    # throwaway projects too; the per-project default would only pile up.
    if os.environ.get(CACHE_ENV) or not _throwaway(settings.project_root):
        return default_build_cache_dir(settings.project_root)
    return None


def sdist_sources(settings: Settings) -> list[str]:
    """Project-relative posix paths of every source file a collection reads.

    Files outside the project (installed apps) are not listed: an sdist
    cannot carry them, and the wheel build finds them installed again.
    """
    listing = list_sources(settings)
    paths = []
    project = str(settings.project_root) + os.sep
    for found in [*listing.files.values(), *listing.conflicts]:
        if found.path.startswith(project):
            paths.append(found.path[len(project):].replace(os.sep, "/"))
    return sorted(set(paths))


def is_state_path(relative: str) -> bool:
    """Whether a root-relative path is our bookkeeping (never shipped)."""
    return relative.split("/", 1)[0] == STATE_DIR
