"""``compress_outputs(progress=...)``: called after each (content, algorithm) job."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from collectstatic.compress import compress_outputs

from .support import write_tree


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_counts_every_job_and_the_bytes_done(tmp_path: Path, workers: int) -> None:
    texts = {f"t{number}.txt": f"line {number}\n" * (50 + number) for number in range(6)}
    texts["same.txt"] = texts["t0.txt"]  # one content for two names: one job per algorithm
    texts["img.png"] = "not compressed"
    root = write_tree(tmp_path / "root", texts)
    (tmp_path / "tmp").mkdir()
    calls: list[tuple[int, int, int]] = []
    lock = threading.Lock()

    def progress(done: int, total: int, nbytes: int) -> None:
        with lock:
            calls.append((done, total, nbytes))

    result = compress_outputs(root, [(name, None) for name in texts], ["gzip"],
                              tmp_dir=tmp_path / "tmp", workers=workers, progress=progress)
    sizes = sum(len(texts[f"t{number}.txt"]) for number in range(6))
    assert result.compressed == 6
    calls.sort()
    assert [done for done, _, _ in calls] == [1, 2, 3, 4, 5, 6]
    assert {total for _, total, _ in calls} == {6}
    assert calls[-1][2] == sizes
    assert [nbytes for _, _, nbytes in calls] == sorted(nbytes for _, _, nbytes in calls)


def test_no_progress_without_jobs(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "root", {"a.png": "x" * 100})
    (tmp_path / "tmp").mkdir()
    calls: list[tuple[int, int, int]] = []
    compress_outputs(root, [("a.png", None)], ["gzip"], tmp_dir=tmp_path / "tmp",
                     progress=lambda *args: calls.append(args))
    assert calls == []
