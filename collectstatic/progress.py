"""Progress of a long run: steps from the core, lines for a person.

The core reports where it is by calling ``progress(Step(...))`` at the start of
each phase and as its work gets done; it never prints. :class:`Meter` turns
those calls into text at a human pace: nothing for a run shorter than
``delay`` seconds (most reruns), then, on a terminal, one line redrawn in
place at most ``redraw`` times a second; elsewhere (a CI log, a build
front-end's pipe) a plain line at each new phase and every ``interval``
seconds, with no control characters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Meter", "Progress", "Step", "describe"]


@dataclass(frozen=True)
class Step:
    """Where a run is: ``done`` of ``total`` ``unit`` of ``phase``, ``nbytes`` read so far."""

    phase: str
    done: int
    total: int
    nbytes: int = 0
    unit: str = "files"


Progress = Callable[[Step], None]


def describe(step: Step, seconds: float) -> str:
    """``"compressing: 1,234 / 3,300 files, 12.3 MB, 4.1 MB/s"`` (the rate over ``seconds``)."""
    text = f"{step.phase}: {step.done:,} / {step.total:,} {step.unit}"
    if step.nbytes:
        megabytes = step.nbytes / 1e6
        text += f", {megabytes:,.1f} MB"
        if seconds > 0:
            text += f", {megabytes / seconds:,.1f} MB/s"
    return text


class Meter:
    """A :data:`Progress` callback that writes :func:`describe` lines through ``write``.

    Safe to call from several threads (compression reports from its pool).
    Call :meth:`close` when the run ends, so that a terminal line is cleared
    before the summary is printed.
    """

    def __init__(self, write: Callable[[str], None], *, tty: bool,
                 clock: Callable[[], float] = time.monotonic, delay: float = 1.0,
                 interval: float = 5.0, redraw: float = 0.1) -> None:
        self._write = write
        self._tty = tty
        self._clock = clock
        self._delay = delay
        self._gap = redraw if tty else interval
        self._lock = threading.Lock()
        self._started = clock()
        self._phase = ""
        self._phase_started = self._started
        self._last_shown = -float("inf")
        self._shown_phase = ""
        self._drawn = False

    def __call__(self, step: Step) -> None:
        with self._lock:
            now = self._clock()
            if step.phase != self._phase:
                self._phase, self._phase_started = step.phase, now
            if now - self._started < self._delay or not self._due(step, now):
                return
            self._last_shown, self._shown_phase = now, step.phase
            line = describe(step, now - self._phase_started)
            if self._tty:
                self._write(f"\r{line}\x1b[K")
                self._drawn = True
            else:
                self._write(line + "\n")

    def _due(self, step: Step, now: float) -> bool:
        if step.phase != self._shown_phase and not self._tty:
            return True  # a plain log gets a line for every phase it reaches
        finished = step.total > 0 and step.done == step.total
        return now - self._last_shown >= self._gap or finished

    def close(self) -> None:
        """Clear the terminal line, if one was drawn."""
        with self._lock:
            if self._drawn:
                self._write("\r\x1b[K")
                self._drawn = False
