"""The progress line as a person sees it: ``collectstatic collect`` in a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .support import write_tree

pytest.importorskip("brotli")


def slow_project(root: Path) -> Path:
    """A tree whose compression (brotli 11) takes a few seconds."""
    rng = random.Random(7)
    words = [f"w{n}" for n in range(5000)]
    files = {f"static/css/part{n:02d}.css": " ".join(rng.choice(words) for _ in range(60_000))
             for n in range(16)}
    files["pyproject.toml"] = ('[tool.collectstatic]\nroot = "out"\ndirs = ["static"]\n'
                               'compress = ["brotli"]\nworkers = 2\n')
    return write_tree(root, files)


def run_in_pty(args: list[str], cwd: Path) -> tuple[bytes, str]:
    """What the command wrote to its terminal (stderr) and to stdout (a pipe)."""
    main_fd, terminal = pty.openpty()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=terminal,
                            stdin=subprocess.DEVNULL)
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # (the terminal is gone once the command ends)
            break
        if not chunk:
            break
        screen += chunk
    os.close(main_fd)
    out = proc.stdout.read().decode()  # type: ignore[union-attr]
    assert proc.wait(timeout=120) == 0, screen
    return screen, out


@pytest.mark.slow
def test_a_long_run_redraws_one_line_on_a_terminal(tmp_path: Path) -> None:
    project = slow_project(tmp_path)
    command = [sys.executable, "-m", "collectstatic", "collect", "--noinput"]
    screen, out = run_in_pty(command, project)
    frames = re.findall(rb"\r(compressing: (\d+) / (\d+) variants[^\r\n\x1b]*)\x1b\[K", screen)
    assert len(frames) >= 2, screen
    done = [int(frame[1]) for frame in frames]
    assert done == sorted(done) and len(set(done)) >= 2  # it moved
    assert all(int(frame[2]) == int(frames[0][2]) for frame in frames)
    assert b"MB/s" in frames[-1][0]
    assert b"\n" not in screen.replace(b"\r\n", b"")  # one line, redrawn: no new lines
    assert screen.endswith(b"\r\x1b[K")  # cleared before the summary
    assert "static files copied to" in out

    quiet, _ = run_in_pty([*command, "-v", "0", "--clear"], project)
    assert quiet == b""
