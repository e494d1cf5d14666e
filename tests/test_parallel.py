"""Work on several cores (collectstatic._parallel): forked processes on Linux,
threads elsewhere or when this process has other threads; answers in order,
errors raised whole, no child left running."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from collectstatic._parallel import can_fork, parallel_map
from collectstatic.errors import BrokenReferencesError, CollectError, ConfigError

linux_only = pytest.mark.skipif(not can_fork(),
                                reason="forking is used on Linux, single-threaded only")


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("count", [0, 1, 5, 63, 64, 65, 1000, 5000])
@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_answers_come_back_in_order(count: int, workers: int) -> None:
    items = list(range(count))
    assert parallel_map(lambda n: (n, n * n), items, workers) == [(n, n * n) for n in items]
    assert parallel_map(lambda n: -n, items, workers, threads=False) == [-n for n in items]


@linux_only
def test_single_threaded_linux_runs_the_items_in_forked_processes() -> None:
    parent = os.getpid()

    def work(_: int) -> int:
        time.sleep(0.002)  # (a quick item is all taken before the child starts)
        return os.getpid()

    pids = parallel_map(work, list(range(400)), 2)
    assert parent in pids and len(set(pids)) == 2
    assert no_children_left()


def test_with_another_thread_running_no_fork_happens() -> None:
    # fork() would copy only this thread, and whatever lock the other holds.
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not can_fork()
        pids = parallel_map(lambda _: os.getpid(), list(range(500)), 2)
        assert set(pids) == {os.getpid()}
    finally:
        release.set()
        other.join()


def test_a_fresh_interpreter_forks(tmp_path: Path) -> None:
    # What the CLI and the build hooks run in: no thread but the main one.
    script = ("import os, time; from collectstatic._parallel import parallel_map\n"
              "def work(_):\n    time.sleep(0.002)\n    return os.getpid()\n"
              "pids = parallel_map(work, list(range(400)), 2)\n"
              "print(len(set(pids)))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == ("2" if sys.platform == "linux" else "1")


@linux_only
def test_an_error_in_a_child_is_raised_after_every_child_ended() -> None:
    parent = os.getpid()

    def work(n: int) -> int:
        if os.getpid() != parent:
            raise CollectError(f"item {n}: cannot read")
        time.sleep(0.002)  # the child must get some of the items
        return n

    with pytest.raises(CollectError, match=r"^item \d+: cannot read$"):
        parallel_map(work, list(range(300)), 2)
    assert no_children_left()


@linux_only
@pytest.mark.parametrize("error", [
    BrokenReferencesError(["css/a.css:1:1: url(x.png) -> css/x.png is not among the files",
                           "css/b.css:2:1: url(y.png) -> css/y.png is not among the files"]),
    ConfigError(["workers: expected an integer"], source="pyproject.toml"),
    CollectError("css/a.css: cannot read (Permission denied)"),
    PermissionError(13, "Permission denied", "/root/x"),
])
def test_errors_keep_their_fields_across_processes(error: Exception) -> None:
    parent = os.getpid()

    def work(n: int) -> int:
        if os.getpid() != parent:
            raise error
        time.sleep(0.002)
        return n

    with pytest.raises(type(error)) as raised:
        parallel_map(work, list(range(300)), 2)
    assert str(raised.value) == str(error)
    assert getattr(raised.value, "problems", None) == getattr(error, "problems", None)
    assert no_children_left()


@linux_only
def test_an_error_in_this_process_stops_the_children_early(tmp_path: Path) -> None:
    parent = os.getpid()
    log = tmp_path / "done"

    def work(n: int) -> int:
        if os.getpid() == parent:
            raise CollectError("here")
        time.sleep(0.002)
        with open(log, "a") as handle:
            handle.write(f"{n}\n")
        return n

    with pytest.raises(CollectError, match=r"^here$"):
        parallel_map(work, list(range(300)), 2)
    assert no_children_left()
    # The runs left were taken away: the child stopped after the one it was on
    # (or took none); without that it would have done all 300.
    assert len(log.read_text().split() if log.exists() else []) < 100


@linux_only
def test_a_child_that_dies_is_an_error_not_a_hang() -> None:
    parent = os.getpid()

    def work(n: int) -> int:
        if os.getpid() != parent:
            os._exit(3)
        time.sleep(0.002)
        return n

    with pytest.raises(RuntimeError, match="ended without an answer"):
        parallel_map(work, list(range(300)), 2)
    assert no_children_left()


@linux_only
def test_an_answer_that_cannot_be_pickled_is_an_error() -> None:
    parent = os.getpid()

    def work(_: int) -> object:
        if os.getpid() != parent:
            return lambda: None
        time.sleep(0.002)
        return None

    with pytest.raises(Exception, match=r"pickle|lambda"):
        parallel_map(work, list(range(300)), 2)
    assert no_children_left()


@linux_only
def test_the_work_is_shared_out_as_workers_become_free() -> None:
    # One slow item must not hold up a fixed half of the list: the other
    # process takes the rest.
    def work(n: int) -> int:
        if n == 0:
            time.sleep(0.5)
        return os.getpid()

    pids = parallel_map(work, list(range(2000)), 2)
    slow = pids[0]
    assert pids.count(slow) < 1000


@linux_only
def test_children_of_a_killed_run_stop_after_their_current_run(tmp_path: Path) -> None:
    log = tmp_path / "done"
    script = f"""
import os, signal, time
from collectstatic._parallel import parallel_map
parent = os.getpid()
def work(n):
    if os.getpid() == parent:
        time.sleep(0.05)
        os.kill(parent, signal.SIGKILL)  # as a user's kill -9, or an OOM kill
    time.sleep(0.002)
    with open({str(log)!r}, "a") as handle:
        handle.write(f"{{n}}\\n")
    return n
parallel_map(work, list(range(300)), 2)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert run.returncode == -9
    time.sleep(1.5)  # without the check, the child would go on to all 300 items (0.6 s)
    assert len(log.read_text().split()) < 100


@linux_only
def test_a_fork_that_fails_leaves_the_work_to_the_processes_started(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_fork = os.fork
    forks = []

    def fork_once() -> int:
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")  # EAGAIN
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", fork_once)
    items = list(range(3000))
    assert parallel_map(lambda n: n * 3, items, 4) == [n * 3 for n in items]
    assert forks == [1]
    monkeypatch.setattr(os, "fork", lambda: (_ for _ in ()).throw(OSError(11, "EAGAIN")))
    assert parallel_map(lambda n: n + 1, items, 2) == [n + 1 for n in items]
    assert no_children_left()
