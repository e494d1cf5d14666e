"""``[function(item) for item in items]`` on several cores.

Python threads run Python code one at a time (the GIL), and a cold run is
mostly Python per file: listing, naming, rewriting CSS/JS. Where the OS can
fork (Linux) and this process has no other thread, the items are dealt out to
forked copies of this process, each answering its share through a pipe; the
function must then return everything it changes (a child's memory is its own).
Elsewhere, or for a few items, a thread pool does the work (or this thread).
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["MIN_FORK_ITEMS", "can_fork", "parallel_map"]

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, starting the children costs more than they save.
MIN_FORK_ITEMS = 64


def parallel_map(function: Callable[[T], R], items: list[T], workers: int, *,
                 threads: bool = True) -> list[R]:
    """``[function(item) for item in items]``, in order, on up to ``workers`` cores.

    ``function`` must not rely on changing this process's memory. The first
    exception an item raises is raised here, after every worker has stopped.
    ``threads=False``: no thread pool where forking is not possible (for
    work that holds the GIL throughout, threads only add switching).
    """
    workers = min(workers, len(items))
    if workers <= 1:
        return [function(item) for item in items]
    if len(items) >= MIN_FORK_ITEMS and can_fork():
        return _forked(function, items, workers)
    if not threads:
        return [function(item) for item in items]
    return _threaded(function, items, workers)


def can_fork() -> bool:
    """Whether work may go to forked children now: on Linux, with no other thread."""
    # fork() copies only the calling thread: a lock another thread holds
    # (an import, an allocator, a logger) would stay locked in the child
    # forever. Count the OS's threads, C ones included.
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return len(fields) > 17 and fields[17] == b"1"  # num_threads, field 20 of stat(5)


def _threaded(function: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    # Batches: a future per small file cost more than some of the files
    # (locks and wake-ups on every one). Windows of batches: a pool given
    # 100,000 futures at once holds them all, and memory must stay flat.
    from concurrent.futures import ThreadPoolExecutor  # (not imported where processes do the work)

    size = max(1, min(16, len(items) // (workers * 8)))
    batches = [items[start:start + size] for start in range(0, len(items), size)]

    def run_batch(batch: list[T]) -> list[R]:
        return [function(item) for item in batch]

    window = workers * 16
    results: list[R] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(batches), window):
            for done in pool.map(run_batch, batches[start:start + window]):
                results.extend(done)
    return results


def _forked(function: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    # The items go out in runs (of 16 for 15,000 items) that each process,
    # this one included, takes from a shared pipe as it is ready for more:
    # one slow file (a large font, a big CSS bundle) does not hold up a share.
    run = -(-len(items) // _MAX_RUNS)
    starts = range(0, len(items), max(run, min(16, len(items) // (workers * 16)), 1))
    size = starts.step
    task_read, task_write = os.pipe()
    try:
        os.write(task_write, b"".join(_RUN.pack(start) for start in starts))
    finally:
        os.close(task_write)  # before forking: an empty pipe then reads as the end
    children: list[tuple[int, int]] = []  # (pid, read end of its answer pipe)
    answers: dict[int, list[Any]] = {}
    failure: BaseException | None = None
    parent = os.getpid()
    try:
        for _ in range(workers - 1):
            read_fd, write_fd = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # a process limit: those started share the work
                os.close(read_fd)
                os.close(write_fd)
                break
            if pid == 0:  # pragma: no cover - runs in the child, which never returns
                os.close(read_fd)
                _answer(function, items, size, task_read, write_fd, parent)
            os.close(write_fd)
            children.append((pid, read_fd))
        try:
            answers.update(_take_runs(function, items, size, task_read))
        except BaseException as exc:  # the children are waited for first
            failure = exc
            while os.read(task_read, 4096):
                pass  # take the runs left, so the children stop after their current one
    finally:
        os.close(task_read)
        # Every child runs to its end and is reaped, whatever happened here:
        # none is left writing into root after this returns.
        for pid, read_fd in children:
            try:
                answers.update(_receive(pid, read_fd))
            except BaseException as exc:
                failure = failure or exc
    if failure is not None:
        raise failure
    return [result for start in starts for result in answers[start]]


# A pipe holds at least a page (4 KiB, when the system is short of pipe
# memory): the whole list of runs must fit before anyone reads it.
_RUN = struct.Struct("=I")
_MAX_RUNS = 4096 // _RUN.size


def _take_runs(function: Callable[[T], R], items: list[T], size: int, task_read: int,
               parent: int | None = None) -> dict[int, list[R]]:
    """Run the items of each run read from ``task_read`` until none are left
    (or, in a child, until its ``parent`` is gone: killed, nobody waits)."""
    done: dict[int, list[R]] = {}
    while True:
        task = os.read(task_read, _RUN.size)  # pipe reads this small are atomic
        if not task or (parent is not None and os.getppid() != parent):
            return done
        (start,) = _RUN.unpack(task)
        done[start] = [function(item) for item in items[start:start + size]]


def _answer(function: Callable[[T], R], items: list[T], size: int, task_read: int,
            write_fd: int, parent: int) -> None:  # pragma: no cover - runs in the child
    """In the child: take runs, then send each run's answers, or the exception, and exit.

    A frame per run, not one pickle of everything: neither side ever holds a
    second copy of all the answers as bytes (rewritten CSS/JS can be many MB).
    """
    status = 0
    try:
        with open(write_fd, "wb") as out:
            try:
                for start, results in _take_runs(function, items, size, task_read,
                                                 parent).items():
                    _send(out, True, (start, results))
            except BaseException as exc:
                try:
                    _send(out, False, exc)
                except Exception:
                    import traceback

                    error = RuntimeError("a worker process failed:\n" + traceback.format_exc())
                    _send(out, False, error)
    except BaseException:
        status = 1
    finally:
        os._exit(status)  # no atexit handlers, no flushing the parent's buffers twice


_FRAME = struct.Struct("=?Q")  # answers (True) or an exception, and the pickle's size


def _send(out: Any, ok: bool, value: Any) -> None:  # pragma: no cover - in the child
    payload = pickle.dumps(value, protocol=-1)
    out.write(_FRAME.pack(ok, len(payload)))
    out.write(payload)


def _receive(pid: int, read_fd: int) -> dict[int, list[Any]]:
    """A child's answers by run, once it has ended; its exception raised."""
    answers: dict[int, list[Any]] = {}
    error: BaseException | None = None
    complete = True
    with open(read_fd, "rb") as pipe:
        while error is None:
            head = pipe.read(_FRAME.size)
            if not head:
                break
            ok, size = _FRAME.unpack(head) if len(head) == _FRAME.size else (False, -1)
            payload = pipe.read(size) if size >= 0 else b""
            if len(payload) != size:
                complete = False
                break
            value = pickle.loads(payload)
            if ok:
                answers[value[0]] = value[1]
            else:
                error = value
    _, status = os.waitpid(pid, 0)
    if error is not None:
        raise error
    if status != 0 or not complete:
        raise RuntimeError(f"a worker process (pid {pid}) ended without an answer "
                           f"(wait status {status})")
    return answers
