"""The run's post-processing phase: hashed outputs, compressed variants, the manifest.

``postprocess.post_process`` decides (pure) every hashed name and rewritten
file; this module writes what is not already in root, as :mod:`files` does,
and keeps the answer in the record for the next run: when its settings and
digests come again, with its outputs intact, nothing is computed or written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ._parallel import parallel_map
from .config import STATE_DIR
from .context import Run
from .errors import BrokenReferencesError, CollectError
from .files import copy_hashing, holds, link_whole, write_whole
from .finders import Found
from .plan import hashed_collisions
from .record import Source, StatKey, fingerprint, stat_key

if TYPE_CHECKING:
    from .postprocess import Processed

__all__ = ["compress", "post_process", "variants_of"]

_Job = tuple[str, str, "bytes | None"]  # logical name, hashed name, bytes (None: the source's)


class _Hashes(NamedTuple):
    """What post-processing decided, before anything is written."""

    paths: dict[str, str]  # logical -> hashed
    extra: dict[str, Any]  # hashed -> {"integrity", "size"}
    jobs: list[_Job]  # hashed outputs to write
    warnings: list[str]
    final_digests: dict[str, str]  # logical -> md5 of the hashed file's bytes
    memo: dict[str, Any]  # for the next run (postprocess.post_process)


def post_process(run: Run, files: Mapping[str, Found], sources: Mapping[str, Source]) -> None:
    """Hashed names, the hashed outputs, compressed variants and the manifest."""
    digests = {name: sources[name].md5 for name in files}
    key = _post_key(run)
    previous = run.record.post
    old_paths = _previous_paths(run, key, digests)
    if old_paths is not None:  # the previous answer stands: nothing is written
        run.result.manifest = old_paths
        run.result.variants = list(previous.get("variants", []))
        run.result.warnings.extend(previous["warnings"])
        run.result.reused = previous["rewritten"]
        return
    emit = _Emitted(run, files)
    hashes = _decide(run, sources, _process(run, files, digests, emit), emit.held)
    _write_hashed(run, files, hashes.jobs)
    hashes.jobs.clear()  # written: their bytes go before the manifest is built
    run.result.variants = []
    if run.settings.compress:
        outputs = {hashes.paths[name]: hashes.final_digests[name] for name in files}
        if run.way.keep_plain:
            outputs.update(digests)
        made = compress(run, outputs)
        for hashed in hashes.paths.values():
            hashes.extra[hashed]["encodings"] = made.get(hashed, {})
    run.record.post = {"key": key, "warnings": hashes.warnings,
                       "rewritten": run.result.rewritten + run.result.reused,
                       "memo": hashes.memo,
                       "variants": list(run.result.variants)}
    _write_manifest(run, hashes.paths, hashes.extra)
    run.result.manifest = hashes.paths


def _post_key(run: Run) -> str:
    """What the whole post-processing answer depends on, but the files'
    digests (the memo has those, and a dict compares faster than a
    fingerprint of them all is made)."""
    settings = run.settings
    return fingerprint([settings.static_url, settings.js_modules, settings.strict,
                        run.way.keep_plain, settings.manifest_name,
                        [(name, settings.level(name)) for name in settings.compress],
                        settings.compress_skip])


def _previous_paths(run: Run, key: str, digests: Mapping[str, str]) -> dict[str, str] | None:
    """The last run's hashed names if its answer stands: same settings
    (``key``) and digests, its outputs and manifest intact."""
    from .manifest import read_manifest

    previous = run.record.post
    name = run.settings.manifest_name
    if previous.get("key") != key or previous["memo"].get("digests") != digests or \
            not run.output_intact(name):
        return None
    try:
        old_paths = read_manifest((run.root / name).read_bytes()).get("paths")
    except (OSError, ValueError):
        return None
    if old_paths is not None and all(
            map(run.output_intact, [*old_paths.values(), *previous.get("variants", [])])):
        return old_paths
    return None


class _Stored(NamedTuple):
    """What :meth:`_Emitted.store` did with a rewritten file's bytes."""

    key: StatKey | None  # the hashed output's, if it wrote one
    held: bytes | None  # the bytes, if the output waits for the collision check


class _Emitted:
    """Writes each rewritten file's hashed output where post-processing
    finishes it (a worker process, mostly), so that no process holds every
    rewritten text at once, then records it here. An output that would take
    a source's name waits (in ``held``) for the collision check."""

    def __init__(self, run: Run, files: Mapping[str, Found]) -> None:
        self.run, self.files = run, files
        self.held: dict[str, bytes] = {}

    def store(self, name: str, hashed: str, data: bytes) -> _Stored:
        """Write ``hashed`` (perhaps in another process: it returns what it did)."""
        run = self.run
        if hashed in self.files and run.way.keep_plain:
            return _Stored(None, data)
        if run.output_intact(hashed):
            return _Stored(None, None)
        dest = run.prefix + hashed
        run.dirs.ensure(os.path.dirname(dest))
        return _Stored(stat_key(write_whole(dest, data, run.tmp_dir, run.settings.file_mode)),
                       None)

    def __call__(self, name: str, hashed: str, stored: _Stored) -> None:
        if stored.held is not None:
            self.held[name] = stored.held
        elif stored.key is not None:
            self.run.log(f"Post-processed '{name}' as '{hashed}'", 2)
            self.run.result.post_processed.append(name)
            self.run.set_output(hashed, stored.key)


def _process(run: Run, files: Mapping[str, Found], digests: Mapping[str, str],
             emit: _Emitted) -> Processed:
    """Every hashed name (``postprocess.post_process``); rewritten files go to ``emit``."""
    from .postprocess import post_process as decide

    def read(name: str) -> bytes:
        try:
            with open(files[name].path, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise CollectError(f"{files[name].path}: cannot read ({exc.strerror})") from None

    from .rewrite import is_adjustable

    total, done = sum(map(is_adjustable, files)), 0

    def map_files(function: Callable[[str], Any], names: list[str]) -> list[Any]:
        nonlocal done
        # Rewriting is Python through and through: threads would only take turns.
        answers = parallel_map(function, names, run.settings.workers, threads=False)
        done = min(done + len(names), total)  # (a file in a chain may be rewritten twice)
        run.step("rewriting CSS/JS", done, total)
        return answers

    options = {"static_url": run.settings.static_url, "js_modules": run.settings.js_modules,
               "map_files": map_files, "emit": emit, "store": emit.store}
    processed = decide(digests, read, memo=run.record.post.get("memo"), **options)
    reused = {processed.paths[name] for name in processed.reused}
    clash = _check_collisions(run, files, digests, processed)
    if clash or not all(map(run.output_intact, reused)):
        # A remembered output was damaged, removed or taken: its bytes are needed again.
        processed = decide(digests, read, **options)
        if clash:
            _check_collisions(run, files, digests, processed)
    return processed


def _decide(run: Run, sources: Mapping[str, Source], processed: Processed,
            held: Mapping[str, bytes]) -> _Hashes:
    """Integrity of every hashed output, and which ones are still to write
    (``held``: rewritten bytes that :class:`_Emitted` did not write)."""
    warnings = list(processed.warnings)
    if processed.errors:
        if run.settings.strict:
            raise BrokenReferencesError(processed.errors)
        warnings += [f"{problem} (left unchanged: strict = false)"
                     for problem in processed.errors]
    run.result.warnings.extend(warnings)
    run.result.rewritten = processed.rewritten_count
    remembered = processed.memo["files"]
    run.result.reused = sum("final" in remembered[name] for name in processed.reused)
    extra: dict[str, Any] = {}
    jobs = []
    # (a loop over every file of every run that post-processes: names looked up once)
    reused, made, early, intact = processed.reused, processed.sizes, run.early, run.intact
    for name, hashed in processed.paths.items():
        if name in reused and "final" in remembered[name]:
            entry = remembered[name]  # (rewritten by an earlier run)
            extra[hashed] = {"integrity": entry["integrity"], "size": entry["size"]}
        elif name in made:
            extra[hashed] = {"integrity": processed.integrity[name], "size": made[name]}
        else:
            source = sources[name]
            extra[hashed] = {"integrity": source.sri, "size": source.size}
        # (_process found every reused output intact just now; what _Emitted
        # wrote is intact too)
        if name not in early and name not in reused and hashed not in intact:
            jobs.append((name, hashed, held.get(name)))
    return _Hashes(dict(processed.paths), dict(sorted(extra.items())), jobs, warnings,
                   dict(processed.final_digests), processed.memo)


def _check_collisions(run: Run, files: Mapping[str, Found], digests: Mapping[str, str],
                      processed: Processed) -> bool:
    """A source collected under another file's hashed name, with other bytes:
    strict, an error; else a warning, and the hashed output wins (the
    manifest promises its bytes). Whether there were any."""
    if not run.way.keep_plain:
        return False  # no plain names in root: nothing shares a name
    collisions = hashed_collisions(processed.paths, files, digests, processed.final_digests)
    for logical, hashed in collisions:
        problem = (f"{files[hashed].path}: collects as {hashed!r}, the hashed name of "
                   f"{files[logical].path} ({logical!r}), with other bytes")
        if run.settings.strict:
            raise CollectError(f"{problem}; rename or ignore one of them")
        # (with post-processing's own warnings: kept with its answer for the next run)
        processed.warnings.append(f"{problem}: the hashed copy of {logical!r} is kept "
                                  f"(strict = false)")
        run.intact.discard(hashed)  # (the plain copy is there: the hashed output replaces it)
    return bool(collisions)


def _write_hashed(run: Run, files: Mapping[str, Found], jobs: list[_Job]) -> None:
    link, mode, prefix, tmp_dir = run.settings.link, run.settings.file_mode, run.prefix, \
        run.tmp_dir

    def write(job: _Job) -> bytes | None:
        """Write one hashed output; return its key if known already."""
        name, hashed, data = job
        dest = prefix + hashed
        directory = os.path.dirname(dest)
        run.dirs.ensure(directory)
        if data is not None:
            return stat_key(write_whole(dest, data, tmp_dir, mode))
        # Same bytes as the plain copy just made: share them.
        if not link and run.output_intact(name) and \
                link_whole(prefix + name, dest, tmp_dir):
            return None
        written = copy_hashing(files[name].path, directory, tmp_dir, lambda _: [dest],
                               mode).written
        return None if written is None else stat_key(written)

    run.step("writing hashed copies", 0, len(jobs))
    for (name, hashed, _), key in zip(jobs, run.parallel(write, jobs)):
        run.log(f"Post-processed '{name}' as '{hashed}'", 2)
        run.result.post_processed.append(name)
        run.set_output(hashed, key)


def _write_manifest(run: Run, paths: Mapping[str, str], extra: Mapping[str, Any]) -> None:
    """Write the manifest unless the one in root, as this tool left it, has
    these bytes already."""
    from .manifest import manifest_bytes

    name = run.settings.manifest_name
    path = run.root / name
    ours: dict[str, Any] = {"version": 1, "files": extra}
    if run.settings.compress:  # how the variants were made: what a site may reuse
        from .codecs import load_codecs
        from .shipped import compress_data

        settings = run.settings
        ours["compress"] = compress_data(load_codecs(
            settings.compress, {name: settings.level(name) for name in settings.compress}))
    data = manifest_bytes(paths, {"collectstatic": ours})
    if not (run.output_intact(name) and holds(path, data)):
        write_whole(path, data, run.tmp_dir, run.settings.file_mode)
    run.set_output(name, None)


def compress(run: Run, outputs: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Precompressed siblings of ``outputs`` (root-relative name -> md5)."""
    from .compress import compress_outputs
    from .shipped import find_shipped

    settings = run.settings
    cache = run.options.compress_cache or run.root / STATE_DIR / "compress"
    made = compress_outputs(run.root, sorted(outputs.items()), settings.compress,
                            {name: settings.level(name) for name in settings.compress},
                            tmp_dir=run.tmp_dir, cache_dir=cache, workers=settings.workers,
                            file_mode=settings.file_mode, skip=settings.compress_skip,
                            shipped=find_shipped(settings.sources, settings.manifest_name,
                                                 exclude=run.root),
                            progress=lambda done, total, nbytes: run.step(
                                "compressing", done, total, nbytes, unit="variants"))
    run.result.warnings.extend(made.warnings)
    run.result.compressed = made.compressed
    run.result.variants = list(made.files)
    for name in made.files:
        run.set_output(name, None)
    run.log(f"Compressed {made.compressed} variant(s), {made.cached} from the cache, "
            f"{made.shipped} shipped by installed packages", 2)
    return made.variants


def variants_of(names: set[str], outputs: Mapping[str, Any]) -> set[str]:
    """The recorded compressed variants of ``names``."""
    from .codecs import ALGORITHMS

    suffixes = [algorithm.suffix for algorithm in ALGORITHMS.values()]
    found = set()
    for output in outputs:
        for suffix in suffixes:
            if output.endswith(suffix) and output[:-len(suffix)] in names:
                found.add(output)
    return found
