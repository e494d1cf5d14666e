"""What one collection run knows as it goes: the context every phase takes.

``collect()`` (collection.py) makes one :class:`Run` and hands it from phase
to phase; each phase reads what it needs and adds what it decided.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._parallel import parallel_map
from .config import STATE_DIR, Settings
from .files import Dirs
from .plan import Way
from .progress import Progress, Step
from .record import Record, StatKey, out_key

__all__ = ["CollectOptions", "CollectResult", "Log", "Run"]

Log = Callable[[str, int], None]


@dataclass(frozen=True)
class CollectOptions:
    """Per-run choices that are not configuration (Django's command flags)."""

    clear: bool = False
    dry_run: bool = False
    post_process: bool = True
    extra_ignore: tuple[str, ...] = ()
    # Where compressed variants are cached by content (default: root/.collectstatic/compress).
    compress_cache: Path | None = None


@dataclass
class CollectResult:
    root: Path
    link: bool
    dry_run: bool
    copied: list[str] = field(default_factory=list)  # copied or linked
    unmodified: list[str] = field(default_factory=list)
    post_processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # shadowed duplicates
    deleted: list[str] = field(default_factory=list)
    rewritten: int = 0  # CSS/JS files rewritten by this run
    reused: int = 0  # rewritten CSS/JS files whose hashed outputs an earlier run made
    compressed: int = 0  # variants compressed in this run (not taken from the cache)
    variants: list[str] = field(default_factory=list)  # .gz/.br/.zst files in root
    manifest: dict[str, str] = field(default_factory=dict)  # logical -> hashed
    files: list[str] = field(default_factory=list)  # everything in root that is ours
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Django 6.0's closing line of ``collectstatic``."""
        deleted = len(self.deleted)
        modified = len(self.copied)
        parts = []
        if deleted:
            parts.append(f"{deleted} static file{'' if deleted == 1 else 's'} deleted, ")
        parts.append(f"{modified} static file{'' if modified == 1 else 's'} "
                     f"{'symlinked' if self.link else 'copied'} to '{self.root}'")
        if self.unmodified:
            parts.append(f", {len(self.unmodified)} unmodified")
        if self.post_processed:
            parts.append(f", {len(self.post_processed)} post-processed")
        if self.skipped:
            parts.append(f", {len(self.skipped)} skipped due to conflict")
        return "".join(parts) + "."

    def counts(self) -> str:
        """What this run did and what it took from earlier runs, for a build's log:
        ``3,301 files (3,301 unmodified), 3,000 rewritten (all reused), ...``."""
        files = len(self.copied) + len(self.unmodified)
        parts = [f"{files:,} files" + (f" ({len(self.unmodified):,} unmodified)"
                                        if self.unmodified else "")]
        if self.rewritten or self.reused:
            parts.append(f"{self.rewritten + self.reused:,} rewritten"
                         + _of_them(self.reused, "reused"))
        if self.variants:
            count = len(self.variants)
            made = ("" if self.compressed >= count else " (none compressed now)"
                    if not self.compressed else f" ({self.compressed:,} compressed now)")
            parts.append(f"{count:,} compressed variant{'' if count == 1 else 's'}{made}")
        return ", ".join(parts)


def _of_them(taken: int, how: str) -> str:
    """`` (12 reused)``, or nothing."""
    return "" if not taken else f" ({taken:,} {how})"


def _quiet(message: str, level: int) -> None:
    pass


@dataclass
class Run:
    settings: Settings
    options: CollectOptions
    result: CollectResult
    log: Log = _quiet
    verbosity: int = 0
    record: Record = field(default_factory=Record)
    # Outputs known to be as the record has them: those found so when the run
    # began, and those it wrote since.
    intact: set[str] = field(default_factory=set)
    dirs: Dirs = field(default_factory=lambda: Dirs(None))
    # Output name -> key of what the copies wrote, and logical name -> the
    # hashed name a copy was given at once (a file post-processing cannot change).
    written: dict[str, StatKey] = field(default_factory=dict)
    early: dict[str, str] = field(default_factory=dict)
    progress: Progress | None = None

    @classmethod
    def start(cls, settings: Settings, options: CollectOptions, log: Log | None,
              verbosity: int, progress: Progress | None = None) -> Run:
        result = CollectResult(root=settings.root, link=settings.link, dry_run=options.dry_run)
        run = cls(settings, options, result, dirs=Dirs(settings.dir_mode), progress=progress)
        if log is not None:
            def filtered(message: str, level: int) -> None:
                if level <= verbosity:
                    log(message, level)

            # (the loops over every file do not even make their messages then)
            run.log, run.verbosity = (log if verbosity >= 3 else filtered), verbosity
        return run

    @property
    def root(self) -> Path:
        return self.settings.root

    # (cached: every file's path is made from them; the settings do not change)
    @functools.cached_property
    def prefix(self) -> str:
        """Root and a separator: an output's path is prefix + name."""
        return os.path.join(self.settings.root, "")

    @functools.cached_property
    def tmp_dir(self) -> Path:
        return self.settings.root / STATE_DIR / "tmp"

    @property
    def post(self) -> bool:
        """Whether this run post-processes (hashed names, manifest)."""
        return self.settings.manifest and self.options.post_process

    @property
    def way(self) -> Way:
        return Way(self.settings.link, self.settings.keep_unhashed or not self.post)

    def parallel(self, function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``[function(item) for item in items]`` on the workers, in order; the
        function may run in another process (``_parallel``): it returns what it did."""
        return parallel_map(function, items, self.settings.workers)

    def step(self, phase: str, done: int, total: int, nbytes: int = 0,
             unit: str = "files") -> None:
        """Tell the caller's progress callback where the run is."""
        if self.progress is not None:
            self.progress(Step(phase, done, total, nbytes, unit))

    def output_intact(self, name: str) -> bool:
        """Whether the output ``name`` is as this tool wrote it."""
        return name in self.intact

    def set_output(self, name: str, key: StatKey | None) -> None:
        """Record what this run wrote as ``name`` (``key`` None: it looks now)."""
        key = key or out_key(self.prefix + name)
        if key is None:  # (not there after all)
            self.record.outputs.pop(name, None)
            self.intact.discard(name)
        else:
            self.record.outputs[name] = key
            self.intact.add(name)

    def drop_output(self, name: str) -> None:
        """Forget the output ``name`` (deleted, or no longer this tool's)."""
        self.record.outputs.pop(name, None)
        self.intact.discard(name)
