"""The progress meter: what a person sees on a terminal and in a log."""

from __future__ import annotations

import threading

from collectstatic.progress import Meter, Step, describe


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def meter(tty: bool) -> tuple[Meter, Clock, list[str]]:
    clock, written = Clock(), []
    return Meter(written.append, tty=tty, clock=clock), clock, written


def test_describe_gives_phase_counts_size_and_rate() -> None:
    assert describe(Step("compressing", 1234, 3300, 12_300_000), 3.0) == \
        "compressing: 1,234 / 3,300 files, 12.3 MB, 4.1 MB/s"
    assert describe(Step("copying", 0, 10), 0.0) == "copying: 0 / 10 files"


def test_a_short_run_shows_nothing() -> None:
    show, clock, written = meter(tty=True)
    for done in range(10):
        clock.now = done * 0.09
        show(Step("copying", done, 10, done * 1000))
    show.close()
    assert written == []


def test_a_terminal_gets_one_line_redrawn_in_place() -> None:
    show, clock, written = meter(tty=True)
    for tick in range(40):
        clock.now = 0.5 + tick * 0.05
        show(Step("compressing", tick, 40, tick * 1_000_000))
    show.close()
    frames = written[:-1]
    assert len(frames) >= 5
    assert all(frame.startswith("\r") and frame.endswith("\x1b[K") for frame in frames)
    assert all("\n" not in frame for frame in written)
    assert frames[-1].startswith("\rcompressing: 39 / 40 files")
    assert written[-1] == "\r\x1b[K"  # cleared before the summary line
    # at most one frame per tenth of a second
    assert len(frames) <= 2 * 0.05 * 40 / 0.1 + 1


def test_a_log_gets_plain_lines_at_each_phase_and_every_few_seconds() -> None:
    show, clock, written = meter(tty=False)
    clock.now = 1.5
    show(Step("copying", 0, 100))
    for tick in range(1, 101):
        clock.now = 1.5 + tick * 0.2
        show(Step("copying", tick, 100, tick * 100_000))
    clock.now = 25.0
    show(Step("compressing", 0, 50))
    show.close()
    assert all(line.endswith("\n") and "\r" not in line and "\x1b" not in line
               for line in written)
    assert written[0] == "copying: 0 / 100 files\n"
    assert written[-1] == "compressing: 0 / 50 files\n"
    assert "copying: 100 / 100 files, 10.0 MB, 0.5 MB/s\n" in written
    assert 5 <= len(written) <= 8  # every five seconds of twenty, the end, the new phase


def test_threads_may_report_at_once() -> None:
    written: list[str] = []
    show = Meter(written.append, tty=False, delay=0.0, interval=0.0)

    def work() -> None:
        for done in range(200):
            show(Step("compressing", done, 200))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(written) == 800
    assert all(line.startswith("compressing: ") and line.endswith(" files\n") for line in written)
