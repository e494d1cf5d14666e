"""The ``build_collectstatic`` command: setuptools context in, one core call, files out.

* Wheel: collect into a staging dir under ``build_temp`` (incremental across
  builds; the core's bookkeeping stays there), then copy exactly the collected
  files into ``build_lib`` where setuptools would put files found at ``root``
  (``src/pkg/staticfiles`` -> ``{build_lib}/pkg/staticfiles``). Stale outputs
  in that place (an earlier build's, or copies that setuptools' package-data
  machinery made of files collectstatic wrote into the tree's ``root``) are
  removed first. The source tree is not written to.
* Editable install (PEP 660, ``editable_mode``): collect into ``root`` itself,
  so lenient installs (``.pth``/finder to the sources) see the files, and map
  every output to it so strict installs link them into their link tree.
* sdist: :meth:`get_source_files` lists the source assets, never the output.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from setuptools import Command
from setuptools.errors import BaseError, OptionError

from collectstatic.build import (
    SKIP_ENV,
    BuildOutput,
    collect_for_build,
    is_state_path,
    load_build_settings,
    nothing_kept_note,
    recorded_outputs,
    sdist_sources,
    skip_requested,
)
from collectstatic.config import STATE_DIR, Settings
from collectstatic.errors import CollectStaticError, ConfigError
from collectstatic.files import prune_empty_dirs
from collectstatic.progress import Meter

if TYPE_CHECKING:
    from setuptools import Distribution
    from setuptools.command.build import build

__all__ = ["COMMAND", "build_collectstatic", "register", "wheel_location"]

COMMAND = "build_collectstatic"
_ENABLED = "_collectstatic_enabled"
_log = logging.getLogger("setuptools_collectstatic")


def register(dist: Distribution) -> None:
    """Make ``build_collectstatic`` a sub-command of ``build`` for ``dist``.

    The sub-command list is a class attribute shared by every distribution in
    the process, so the entry carries a predicate that is true only for the
    distributions registered here.
    """
    setattr(dist, _ENABLED, True)
    dist.cmdclass.setdefault(COMMAND, build_collectstatic)
    build_class = dist.get_command_class("build")
    if not any(name == COMMAND for name, _ in build_class.sub_commands):
        build_class.sub_commands.append((COMMAND, _enabled))


def _enabled(command: build) -> bool:
    return bool(getattr(command.distribution, _ENABLED, False))


def wheel_location(root_relative: str, package_dir: dict[str, str] | None) -> str | None:
    """Where setuptools puts files found at ``root_relative`` (posix, project-relative).

    ``package_dir`` maps package names to directories (``{"": "src"}``); the
    longest directory containing root wins. None: root lies in no package tree.
    """
    mapping = dict(package_dir or {})
    mapping.setdefault("", "")
    best: tuple[int, str] | None = None
    for package, directory in mapping.items():
        directory = _normal(directory)
        if directory and root_relative != directory and \
                not root_relative.startswith(directory + "/"):
            continue
        if best is not None and len(directory) <= best[0]:
            continue
        rest = root_relative[len(directory):].lstrip("/") if directory else root_relative
        parts = [*package.split(".")] if package else []
        best = (len(directory), "/".join([*parts, rest]) if rest else "/".join(parts))
    return best[1] if best is not None and best[1] else None


def _normal(directory: str) -> str:
    text = directory.replace(os.sep, "/").strip("/")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    return "/".join(parts)


def _failed(exc: CollectStaticError) -> str:
    """The first line of a failed build says what failed (setuptools adds ``error: ``)."""
    return f"collectstatic: {exc}"


def _log_core(message: str, level: int) -> None:
    _log.log(logging.INFO if level <= 1 else logging.DEBUG, "collectstatic: %s", message)


class build_collectstatic(Command):
    """Collect ``[tool.collectstatic]`` sources into the build (or, editable, into root)."""

    description = "collect static files (Django collectstatic) into the build"
    user_options = [  # noqa: RUF012 - distutils reads this class attribute
        ("build-lib=", "d", "directory to \"build\" (copy) to"),
        ("build-temp=", "t", "directory for the incremental staging copy"),
    ]

    editable_mode: bool = False
    build_lib: str | None
    build_temp: str | None

    def initialize_options(self) -> None:
        self.build_lib = None
        self.build_temp = None
        self.editable_mode = False
        self._settings: Settings | None = None
        self._output: BuildOutput | None = None
        self._previous: set[str] = set()  # what the last build collected into staging
        self._sources: list[str] | None = None

    def finalize_options(self) -> None:
        self.set_undefined_options("build", ("build_lib", "build_lib"),
                                   ("build_temp", "build_temp"))

    # -- the core, behind setuptools' error types ------------------------------------
    @property
    def settings(self) -> Settings:
        """Validated once per command; a config mistake fails the build in one line."""
        if self._settings is None:
            project = getattr(self.distribution, "src_root", None) or os.curdir
            try:
                settings = load_build_settings(Path(project).absolute())
            except CollectStaticError as exc:
                raise OptionError(_failed(exc)) from None
            for warning in settings.warnings:
                _log.warning("collectstatic: %s", warning)
            self._settings = settings
        return self._settings

    def _location(self) -> str:
        settings = self.settings
        package_dir = getattr(self.distribution, "package_dir", None)
        location = wheel_location(settings.root_relative, package_dir)
        if location is None:
            mapped = ", ".join(f"{k or '<root>'!r} -> {v!r}"
                               for k, v in sorted((package_dir or {}).items()))
            raise OptionError(f"collectstatic: "
                              f"tool.collectstatic.root: expected a directory inside the "
                              f"package tree, found {settings.root_relative!r} (package-dir: "
                              f"{mapped}); put root inside a package, e.g. "
                              f"\"src/<package>/staticfiles\"")
        return location

    def _staging(self) -> Path:
        assert self.build_temp is not None
        return Path(self.build_temp, "collectstatic").absolute()

    def _collect(self) -> BuildOutput:
        if self._output is None:
            settings = self.settings
            dest = None if self.editable_mode else self._staging()
            if dest is not None:
                self._previous = set(recorded_outputs(dest))
                note = nothing_kept_note(settings)
                if note:
                    _log.info("collectstatic: %s", note)
            meter = Meter(lambda line: _log.info("collectstatic: %s", line.rstrip()), tty=False)
            try:
                output = collect_for_build(settings, dest, log=_log_core, progress=meter)
            except CollectStaticError as exc:
                raise (OptionError if isinstance(exc, ConfigError) else BaseError)(
                    _failed(exc)) from None
            for warning in output.result.warnings:
                if warning not in settings.warnings:  # (logged when the settings were read)
                    _log.warning("collectstatic: %s", warning)
            _log.info("collectstatic: %s", output.result.counts())
            self._output = output
        return self._output

    def _shipped(self) -> dict[str, str]:
        """Collected file (absolute) -> root-relative name, bookkeeping left out."""
        return {path: name for path, name in self._collect().files().items()
                if not is_state_path(name)}

    # -- the command ---------------------------------------------------------------
    def run(self) -> None:
        if skip_requested():
            _log.info("collectstatic: skipped (%s is set)", SKIP_ENV)
            return
        if self.editable_mode:
            self._collect()  # into root, in place
            return
        assert self.build_lib is not None
        target = Path(self.build_lib, self._location())
        files = self._shipped()
        # What the last build shipped, and build_py's copies of outputs that the
        # CLI or an editable install wrote into the tree's root.
        stale = self._previous | set(recorded_outputs(self.settings.root))
        self._remove_stale(target, stale - set(files.values()))
        for source, name in sorted(files.items(), key=lambda item: item[1]):
            dest = target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_symlink() or dest.exists():
                dest.unlink()
            shutil.copyfile(source, dest)
            shutil.copymode(source, dest)

    @staticmethod
    def _remove_stale(target: Path, names: set[str]) -> None:
        state = target / STATE_DIR
        if state.is_dir() and not state.is_symlink():
            shutil.rmtree(state)
        for name in sorted(names):
            path = target / name
            if path.is_file() or path.is_symlink():
                _log.debug("collectstatic: removing stale %s", path)
                path.unlink()
                prune_empty_dirs(path.parent, target)

    # -- the PEP 660 sub-command protocol -----------------------------------------------
    def get_outputs(self) -> list[str]:
        if skip_requested():
            return []
        assert self.build_lib is not None
        base = Path(self.build_lib, self._location())
        return sorted(str(base / name) for name in self._shipped().values())

    def get_output_mapping(self) -> dict[str, str]:
        if not self.editable_mode or skip_requested():
            return {}  # wheel outputs are generated (hashed), not copies of a source
        assert self.build_lib is not None
        base = Path(self.build_lib, self._location())
        root = self.settings.root_relative
        return {str(base / name): f"{root}/{name}" for name in sorted(self._shipped().values())}

    def get_source_files(self) -> list[str]:
        # egg_info asks for these on every PEP 517 call (SOURCES.txt), metadata
        # included: only an sdist needs them, so only an sdist fails on a bad
        # configuration here; a wheel build reports it when the collection runs.
        if self._sources is None:
            try:
                self._sources = sdist_sources(self.settings)
            except (CollectStaticError, OptionError) as exc:
                if "sdist" not in (getattr(self.distribution, "commands", None) or ()):
                    return []
                if isinstance(exc, OptionError):
                    raise
                raise BaseError(_failed(exc)) from None
        return list(self._sources)
