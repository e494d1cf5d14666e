"""Collect found files into root, hash them, write the manifest.

``collect()`` runs these phases in order, each a function over the run's
context (:class:`~collectstatic.context.Run`):

1. list the sources (finders), then take root's lock;
2. read the record (:mod:`.record`) and stat every source and recorded
   output; if nothing changed since the last finished run, repeat its
   answer and stop (the last-run shortcut);
3. plan (:mod:`.plan`, pure): which files to copy, which are unchanged;
4. copy (or link) those files, reading each source once and hashing it
   while copying; a file post-processing cannot change (not CSS/JS) gets
   its hashed name from the same copy;
5. post-process, write the hashed outputs and the manifest (:mod:`.hashed`);
6. remove what earlier runs wrote that is no longer wanted (but the hashed
   outputs of the last ``keep-versions`` versions), save the record.

Every file is written whole or not at all (:mod:`.files`). The record lists
every file this tool wrote; files in root it did not write are left alone
(except by ``clear``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from . import hashed
from ._parallel import parallel_map
from .config import STATE_DIR, Settings
from .context import CollectOptions, CollectResult, Log, Run
from .errors import CollectError
from .files import Copy, copy_hashing, prune_empty_dirs, symlink_whole
from .finders import Found, Listing, list_sources, name_collisions
from .plan import (
    CopyPlan,
    Job,
    next_versions,
    plan_copies,
    stale_outputs,
    standing_answer,
    version_outputs,
)
from .progress import Progress
from .record import (
    Answer,
    Shortcut,
    Source,
    StatKey,
    fingerprint,
    output_keys,
    read_record,
    read_shortcut,
    remove_record,
    source_keys,
    stat_key,
    write_record,
)

__all__ = ["CollectOptions", "CollectResult", "Log", "collect", "root_has_files"]

# Stat calls go out to the workers in runs of this many files.
_STAT_RUN = 64


def root_has_files(settings: Settings) -> bool:
    """Whether root holds anything (Django prompts before overwriting then)."""
    try:
        with os.scandir(settings.root) as entries:
            return any(True for _ in entries)
    except OSError:
        return False


def collect(settings: Settings, options: CollectOptions | None = None, *,
            log: Log | None = None, verbosity: int = 3,
            progress: Progress | None = None) -> CollectResult:
    """Collect into ``settings.root``; see the module docstring for the phases.
    ``log(message, level)`` is given the messages up to level ``verbosity``
    (Django's: 1 says what was done, 2 every file, 3 more); ``progress`` a
    :class:`~collectstatic.progress.Step` at each phase and as work gets done."""
    run = Run.start(settings, options or CollectOptions(), log, verbosity, progress)
    try:
        listing = _list(run)
        fresh = len(run.result.warnings)  # those before are the listing's, made anew each run
        with _locked(run):
            files = list(listing.files.values())
            looked = _look(run, files)
            if looked is None:
                return run.result
            keys, inputs = looked
            plan = plan_copies(files, keys, run.record.sources, run.intact, run.way)
            sources = _copy(run, plan, listing.files)
            _finish(run, listing.files, sources, inputs, fresh)
        return run.result
    except OSError as exc:
        # os.replace/os.link name our temporary file first: the output is the
        # second name, and the one the user can do something about.
        path = exc.filename2 if exc.filename2 is not None else exc.filename
        if isinstance(exc, PermissionError):
            raise CollectError(f"{path}: permission denied ({exc.strerror})") from None
        if path:
            raise CollectError(f"{path}: {exc.strerror}") from None
        raise CollectError(f"{settings.root}: {exc.strerror or exc}") from None


# -- 1. listing and lock ---------------------------------------------------------------

def _list(run: Run) -> Listing:
    """The sources, checked against root's reserved names, with their warnings."""
    listing = list_sources(run.settings, run.options.extra_ignore)
    _check_reserved_names(run, listing)
    run.result.skipped = [found.name for found in listing.conflicts]
    for found in listing.conflicts:
        run.log(f"Found another file with the destination path '{found.name}'. It will be "
                f"ignored since only the first encountered file is collected. If this is "
                f"not what you want, make sure every static file has a unique path.", 2)
    warnings = run.result.warnings
    for pattern in listing.unused_patterns:
        warnings.append(f"ignore pattern {pattern!r} matched nothing (directories match by "
                        f"name only, e.g. 'vendor'; files by name or by path relative to their "
                        f"source dir, e.g. 'css/*.map')")
    warnings.extend(run.settings.warnings)
    for group in name_collisions(listing.files):
        # NFC and NFD spellings look alike: show those with escapes.
        alike = len({unicodedata.normalize("NFC", name) for name in group}) < len(group)
        warnings.append(" and ".join(map(ascii if alike else repr, group)) + " differ only in "
                        "letter case or Unicode normalization: they are one file on case- or "
                        "normalization-insensitive file systems (macOS, Windows); rename all "
                        "but one")
    return listing


def _check_reserved_names(run: Run, listing: Listing) -> None:
    """Names in root that are ours: a source file there would be clobbered."""
    manifest_name = run.settings.manifest_name
    # (a cheap sieve first: this looks at every name of every run)
    for name in [name for name in listing.files
                 if name.startswith(STATE_DIR) or name == manifest_name]:
        found = listing.files[name]
        if name.split("/", 1)[0] == STATE_DIR:
            raise CollectError(f"{found.path}: collects as {name!r}, but {STATE_DIR}/ in "
                               f"root holds collectstatic's own record; rename it or add "
                               f"{STATE_DIR!r} to ignore")
        if run.post and name == manifest_name:
            raise CollectError(f"{found.path}: collects as {name!r}, the name of the "
                               f"manifest; rename it, ignore it, or set manifest-name")


def _make_root(run: Run) -> None:
    try:
        run.dirs.ensure(run.root)
        run.tmp_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CollectError(f"{run.root}: cannot create root ({exc.strerror}); check the "
                           f"path and its permissions") from None
    if not os.access(run.root, os.W_OK):
        raise CollectError(f"{run.root}: root is not writable; fix its permissions or "
                           f"choose another root")


@contextlib.contextmanager
def _locked(run: Run) -> Iterator[None]:
    """Root to this run alone (a second run waits), leftovers of a killed run removed."""
    if run.options.dry_run:
        yield
        return
    _make_root(run)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        fcntl = None  # type: ignore[assignment]
    with open(run.root / STATE_DIR / "lock", "a+b") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                run.log(f"Waiting for another collectstatic run into {run.root}", 1)
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        for leftover in run.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()
        yield


# -- 2. the last-run shortcut, the record -------------------------------------------

def _look(run: Run, files: list[Found]) -> tuple[list[StatKey], str] | None:
    """Stat the sources and the last run's outputs; take the last run's
    answer if it stands (None), else load the record and return the
    sources' keys and their fingerprint."""
    shortcut = None if run.options.dry_run or run.options.clear else read_shortcut(run.root)
    recorded = shortcut.answer.files if shortcut and shortcut.answer else []
    keys, recorded_keys = _stat(run, files, recorded)
    inputs = fingerprint([[found.name for found in files], [found.path for found in files],
                          keys])
    if _repeat_last_run(run, files, inputs, shortcut, recorded_keys):
        return None
    _load_record(run, dict(zip(recorded, recorded_keys)))
    return keys, inputs


def _stat(run: Run, files: list[Found], outputs: list[str]
          ) -> tuple[list[StatKey], list[StatKey | None]]:
    """Each source's stat key and each output's (None: gone), in order, in one
    pass over the workers, a run of files at a time (a tree's stat calls are
    a no-change run's main cost)."""
    paths, count = [found.path for found in files], len(files)

    def stat_run(start: int) -> list[Any]:
        end = start + _STAT_RUN
        keys: list[Any] = source_keys(paths[start:end]) if start < count else []
        if end > count:
            keys += output_keys(run.prefix, outputs[max(start - count, 0):end - count])
        return keys

    # (stat calls hold the GIL between them: threads would only take turns)
    done = parallel_map(stat_run, list(range(0, count + len(outputs), _STAT_RUN)),
                        run.settings.workers, threads=False)
    keys = [key for run_keys in done for key in run_keys]
    return keys[:count], keys[count:]


def _load_record(run: Run, known: Mapping[str, StatKey | None]) -> None:
    """The record of earlier runs (none after ``clear``), and which of its
    outputs are still as it has them (``known``: outputs statted already)."""
    if run.options.clear:
        _clear(run)
    elif run.root.exists():
        run.record = record = read_record(run.root)
        unknown = [name for name in record.outputs if name not in known]
        keys = {**known, **dict(zip(unknown, _stat(run, [], unknown)[1]))}
        run.intact = {name for name, key in record.outputs.items() if keys.get(name) == key}
    if not run.record.outputs:
        # No earlier outputs: each one this run writes gets the file-mode as it
        # is written, and none needs it applied afterwards.
        run.record.file_mode = run.settings.file_mode


def _settings_key(run: Run) -> str:
    """What a run's answer depends on besides the files: this tool, the
    settings and the options that change outputs."""
    from . import __version__

    settings = repr(dataclasses.replace(run.settings, workers=1))
    return fingerprint([__version__, settings, run.options.post_process])


def _repeat_last_run(run: Run, files: list[Found], inputs: str, shortcut: Shortcut | None,
                     recorded_keys: list[StatKey | None]) -> bool:
    """The last-run shortcut: take the last finished run's answer as this
    run's if its settings, sources and outputs (``recorded_keys``, of its
    files) are as they were then."""
    answer = standing_answer(shortcut, _settings_key(run), inputs)
    if answer is None or fingerprint(recorded_keys) != answer.outputs_key:
        return False
    result = run.result
    if run.verbosity >= 2:
        for found in files:
            run.log(f"Skipping '{found.name}' (not modified)", 2)
    result.unmodified = sorted(found.name for found in files)
    result.files = list(answer.files)
    result.manifest = answer.manifest
    result.variants = answer.variants
    result.reused = answer.rewritten  # (the last run's, all taken as they are)
    result.warnings.extend(answer.warnings)
    return True


def _clear(run: Run) -> None:
    """Delete everything in root but the bookkeeping (``--clear``)."""
    if not run.root.exists():
        return
    for dirpath, dirnames, filenames in os.walk(run.root):
        for name in sorted(filenames) + [d for d in dirnames
                                          if os.path.islink(os.path.join(dirpath, d))]:
            rel = os.path.relpath(os.path.join(dirpath, name), run.root)
            if rel.split(os.sep)[0] == STATE_DIR:
                continue
            run.result.deleted.append(rel.replace(os.sep, "/"))
            run.log(f"{'Pretending to delete' if run.options.dry_run else 'Deleting'} "
                    f"'{rel}'", 2)
    if run.options.dry_run:
        return
    remove_record(run.root)
    for entry in os.scandir(run.root):
        if entry.name == STATE_DIR:
            continue  # holds the lock of this run
        try:
            if entry.is_dir(follow_symlinks=False):
                import shutil  # (only here: a run that clears)

                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError as exc:
            raise CollectError(f"{entry.path}: cannot delete ({exc.strerror})") from None


# -- 4. copying ------------------------------------------------------------------------

class _Copied(NamedTuple):
    """What ``_copy_one`` did, for the run to record (it may run in another process)."""

    source: Source  # the source's new record entry
    copied: bool  # False: the same bytes as recorded, nothing written
    key: StatKey | None  # the new file's key, if one was written
    plain: bool  # the new file has the plain name
    hashed: str  # the hashed name it was given as well, or ""
    messages: list[tuple[str, int]]


def _copy(run: Run, plan: CopyPlan, files: Mapping[str, Found]) -> dict[str, Source]:
    """Bring in what ``plan`` says; the record entry of every listed file, in listing order."""
    unchanged = plan.unchanged
    run.result.unmodified.extend(unchanged)
    if run.verbosity >= 2:
        for name in unchanged:
            run.log(f"Skipping '{name}' (not modified)", 2)
    run.step("copying", 0, len(plan.jobs))
    done = run.parallel(lambda job: _copy_one(run, files, job), plan.jobs)
    run.step("copying", len(done), len(plan.jobs),
             sum(answer.source.size for answer in done if answer.copied))
    copied = {}
    for job, answer in zip(plan.jobs, done):
        name = job.found.name
        copied[name] = answer.source
        for message, level in answer.messages:
            run.log(message, level)
        (run.result.copied if answer.copied else run.result.unmodified).append(name)
        if answer.key is not None:
            if answer.plain:
                run.written[name] = answer.key
            if answer.hashed:
                run.written[answer.hashed] = answer.key
                run.early[name] = answer.hashed
    if not copied:
        return dict(unchanged)
    return {name: unchanged.get(name) or copied[name] for name in files}


def _copy_one(run: Run, files: Mapping[str, Found], job: Job) -> _Copied:
    """Bring one source into root (perhaps in another process: it returns what it did)."""
    found, key, old = job
    link, keep = run.way
    if run.options.dry_run:
        source = Source(found.path, key, link, keep, *(old[4:] if old else ("", "", 0)))
        return _Copied(source, True, None, False, "",
                       [(f"Pretending to {'link' if link else 'copy'} '{found.path}'", 1)])
    # Touched (checkout, cache restore) but maybe the same bytes: a read
    # is cheaper than a write.
    if old is not None and copy_hashing(found.path, None, run.tmp_dir).md5 == old.md5:
        return _Copied(old._replace(stat=key), False, None, False, "",
                           [(f"Skipping '{found.name}' (not modified)", 2)])
    dest = run.prefix + found.name
    copy, plain, hashed = _write_copy(run, files, found, dest)
    messages = []
    if copy.written is not None and hashed:
        messages.append((f"Post-processed '{found.name}' as '{hashed}'", 2))
    if link and keep:
        run.dirs.ensure(os.path.dirname(dest))
        symlink_whole(found.path, dest, run.tmp_dir)
    messages.append((f"{'Linking' if link else 'Copying'} '{found.path}'", 2))
    source = Source(found.path, key, link, keep, copy.md5, copy.sri, copy.size)
    written = None if copy.written is None else stat_key(copy.written)
    return _Copied(source, True, written, plain, hashed, messages)


def _write_copy(run: Run, files: Mapping[str, Found], found: Found, dest: str
                ) -> tuple[Copy, bool, str]:
    """Read ``found`` once: its plain copy (unless linked) and, for a file
    post-processing cannot change, its hashed copy, named from the same bytes."""
    from .rewrite import hashed_name, is_adjustable  # not needed when nothing changed

    link, keep = run.way
    early = run.post and not is_adjustable(found.name, run.settings.js_modules)
    plain = keep and not link  # a copy; with link, a symlink
    hashed = ""

    def names(md5: str) -> list[str]:
        nonlocal hashed
        dests = [dest] if plain else []
        candidate = hashed_name(found.name, md5) if early else ""
        # (a source collected under that name is written first: the
        # post-processing phase sees to the clash)
        if candidate and candidate not in files and not run.output_intact(candidate):
            hashed = candidate
            dests.append(run.prefix + hashed)
        return dests

    directory = os.path.dirname(dest)
    if plain or early:
        run.dirs.ensure(directory)
    copy = copy_hashing(found.path, directory if plain or early else None, run.tmp_dir,
                        names, run.settings.file_mode)
    return copy, plain, hashed


# -- 5 and 6. post-processing, stale outputs, the record -------------------------------

def _finish(run: Run, files: Mapping[str, Found], sources: dict[str, Source],
            inputs: str, fresh: int) -> None:
    """Post-process, then (whatever happened) remove stale outputs and save the record."""
    if run.options.dry_run:
        _sort_result(run.result, set())
        return
    old_plain = {name for name, source in run.record.sources.items() if source.keep}
    wanted = _plain_outputs(run, files, sources)
    finished = False
    try:
        old_plain |= _post_process(run, files, sources, wanted, old_plain)
        finished = True
    finally:
        run.record.sources = sources
        record = run.record
        replaced_all = run.post and finished
        if not replaced_all:
            wanted |= set(record.outputs) - old_plain - wanted
        kept = _next_versions(run) if replaced_all else set()
        stale = stale_outputs(record.outputs, wanted, old_plain, replaced_all, kept)
        wanted |= kept.difference(stale)
        _remove_stale(run, stale)
        _apply_file_mode(run)
        _sort_result(run.result, wanted)
        _save_record(run, finished and wanted == record.outputs.keys(), inputs, fresh)


def _next_versions(run: Run) -> set[str]:
    """Record this run's version (keep-versions); the hashed outputs of the
    earlier ones kept, as they were written."""
    record = run.record
    current = version_outputs(run.result.manifest, run.result.variants)
    record.versions = next_versions(record.versions, current, run.settings.keep_versions)
    return record.versions.kept() & run.intact


def _save_record(run: Run, finished: bool, inputs: str, fresh: int) -> None:
    """Save the record; with this run's answer if it finished and every
    output is accounted for (the next run may repeat it)."""
    record, result = run.record, run.result
    record.settings, record.inputs, record.answer = _settings_key(run), inputs, None
    if finished:
        outputs_key = fingerprint([record.outputs[name] for name in result.files])
        record.answer = Answer(result.files, result.manifest, result.variants,
                               result.rewritten + result.reused, result.warnings[fresh:],
                               outputs_key)
    write_record(run.root, record, run.tmp_dir)


def _plain_outputs(run: Run, files: Mapping[str, Found], sources: Mapping[str, Source]
                   ) -> set[str]:
    """Record the copies just made; the plain names that are outputs."""
    wanted = set()
    outputs, written, copied = run.record.outputs, run.written, set(run.result.copied)
    for name in files:
        if sources[name].keep:
            wanted.add(name)
            if name in copied or name not in outputs:
                run.set_output(name, written.get(name))
    for name, hashed_name in run.early.items():
        run.set_output(hashed_name, written[hashed_name])
        run.result.post_processed.append(name)
    return wanted


def _post_process(run: Run, files: Mapping[str, Found], sources: Mapping[str, Source],
                  wanted: set[str], old_plain: set[str]) -> set[str]:
    """Hashed outputs and manifest, or (manifest = false) compressed plain
    copies; adds what it made to ``wanted``; returns the recorded variants of
    old plain copies (they go with them)."""
    gone_with_plain: set[str] = set()
    if run.post:
        hashed.post_process(run, files, sources)
        wanted.update(run.result.manifest.values())
        wanted.add(run.settings.manifest_name)
    elif run.settings.compress and run.options.post_process:
        hashed.compress(run, {name: sources[name].md5 for name in sources})
        gone_with_plain = hashed.variants_of(old_plain, run.record.outputs)
    wanted.update(run.result.variants)
    return gone_with_plain


def _remove_stale(run: Run, names: list[str]) -> None:
    """Delete what earlier runs wrote and this one no longer wants, if it is
    still as written (a file the user changed is left, and forgotten)."""
    for name in names:
        path = run.root / name
        if os.path.lexists(path) and run.output_intact(name):
            run.log(f"Deleting '{name}' (no longer collected)", 2)
            os.unlink(path)
            prune_empty_dirs(path.parent, run.root)
            run.result.deleted.append(name)
        run.drop_output(name)


def _apply_file_mode(run: Run) -> None:
    """A changed file-mode reaches files that were not rewritten, once."""
    mode = run.settings.file_mode
    if mode is not None and run.record.file_mode != mode:
        for name in run.record.outputs:
            path = os.path.join(run.root, name)
            if not os.path.islink(path):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(path, mode)
    run.record.file_mode = mode


def _sort_result(result: CollectResult, files: set[str]) -> None:
    result.copied.sort()
    result.unmodified.sort()
    result.post_processed.sort()
    result.files = sorted(files)

