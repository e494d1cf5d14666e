"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from .djangoref import find_django_python


@pytest.fixture(autouse=True, scope="session")
def _build_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Builds stage and cache under a temp dir, not the user's ~/.cache."""
    import os

    saved = os.environ.get("COLLECTSTATIC_CACHE_DIR")
    os.environ["COLLECTSTATIC_CACHE_DIR"] = str(tmp_path_factory.mktemp("build-cache"))
    yield
    if saved is None:
        del os.environ["COLLECTSTATIC_CACHE_DIR"]
    else:
        os.environ["COLLECTSTATIC_CACHE_DIR"] = saved


@pytest.fixture(scope="session")
def django_python() -> str:
    """A Python with Django >= 6.1 for the differential tests, or skip saying why."""
    python, reason = find_django_python()
    if python is None:
        pytest.skip(reason)
    return python


@pytest.fixture
def tmp_tree(tmp_path: Path) -> Callable[..., Path]:
    """``tmp_tree({"css/a.css": "...", "img/a.png": b"..."}, "src")`` writes a tree.

    Text is written as UTF-8 bytes exactly as given (no newline translation);
    returns the directory (``tmp_path / subdir``).
    """

    def write(files: Mapping[str, str | bytes], subdir: str = "tree") -> Path:
        root = tmp_path / subdir
        root.mkdir(parents=True, exist_ok=True)
        for relative, content in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return root

    return write
