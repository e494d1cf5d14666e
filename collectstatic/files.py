"""The one way this package writes a file: whole, or not at all.

A new file is written without a name and named once it is complete, so an
interrupted run never leaves a truncated file under a name a reader uses.
Where the OS allows it (Linux, ``O_TMPFILE``) the new file is an inode with no
name in its destination's own directory, named with linkat(2) through
``/proc/self/fd``: a killed run leaves nothing behind, and no rename between
directories takes the file system's rename lock. Elsewhere it is a named
file in a temp dir (``tmp_dir``, on the same file system), renamed into place.
An existing name is always replaced by a rename, so it is never missing or
half-written.

Also here: copying while hashing (one read of each source), hard and
symbolic links that appear whole, creating and pruning directories.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from .errors import CollectError

__all__ = ["CHUNK", "UNNAMED", "Copy", "Dirs", "NewFile", "copy_hashing", "holds",
           "link_whole", "new_file", "prune_empty_dirs", "sri", "symlink_whole",
           "tmp_name", "write_whole"]

CHUNK = 1 << 20
_O_TMPFILE: int = getattr(os, "O_TMPFILE", 0)
# Whether unnamed files are possible at all here (a file system may still refuse).
UNNAMED = bool(_O_TMPFILE) and os.path.isdir("/proc/self/fd")
_NO_UNNAMED = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)  # this file system has none


def tmp_name(tmp_dir: str | Path) -> str:
    """A fresh name in ``tmp_dir``: unique across processes and threads."""
    return os.path.join(tmp_dir, f"{os.getpid()}-{os.urandom(8).hex()}")


def _open_new(path: str) -> int:
    # 0o666 & ~umask, like any new file, not mkstemp's 0o600.
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)


def _link_fd(fd: int, dest: str | Path) -> None:
    """Give the open file ``fd`` the name ``dest``."""
    # With a dir fd given, os.link calls linkat(AT_SYMLINK_FOLLOW), which
    # follows the /proc link to the file (plain link(2) would not). The
    # path is absolute, so the kernel ignores which fd that is.
    os.link(f"/proc/self/fd/{fd}", dest, src_dir_fd=fd, follow_symlinks=True)


def _replace(tmp: str, dest: str | Path) -> None:
    try:
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class NewFile:
    """A file being written; it has a name only once :meth:`publish` gives it one."""

    def __init__(self, directory: str | Path, tmp_dir: str | Path) -> None:
        self.tmp_dir = tmp_dir
        self.tmp: str | None = None  # the named stand-in, where unnamed files are not possible
        fd = -1
        if UNNAMED:
            try:
                fd = os.open(directory, _O_TMPFILE | os.O_WRONLY, 0o666)
            except OSError as exc:
                if exc.errno not in _NO_UNNAMED:
                    raise
        if fd < 0:
            self.tmp = tmp_name(tmp_dir)
            fd = _open_new(self.tmp)
        self.fd = fd

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def publish(self, dests: list[str] | list[Path], mode: int | None) -> os.stat_result:
        """Name the file ``dests``, each whole or not at all; return its stat."""
        if mode is not None and self.tmp is not None:
            os.chmod(self.tmp, mode)  # (no os.fchmod on Windows before Python 3.13)
        elif mode is not None:
            os.fchmod(self.fd, mode)
        info = os.fstat(self.fd)
        if self.tmp is None:
            for dest in dests:
                try:
                    _link_fd(self.fd, dest)
                except FileExistsError:
                    tmp = tmp_name(self.tmp_dir)
                    _link_fd(self.fd, tmp)
                    _replace(tmp, dest)
        elif dests:
            for dest in dests[1:]:
                if not link_whole(self.tmp, dest, self.tmp_dir):
                    import shutil  # (only where hard links fail)

                    copy = tmp_name(self.tmp_dir)
                    shutil.copyfile(self.tmp, copy)
                    _replace(copy, dest)
            os.replace(self.tmp, dests[0])
            self.tmp = None
        return info

    def close(self) -> None:
        os.close(self.fd)
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


@contextlib.contextmanager
def new_file(directory: str | Path, tmp_dir: str | Path) -> Iterator[NewFile]:
    """A :class:`NewFile` in ``directory``, closed (and forgotten if not published) after."""
    new = NewFile(directory, tmp_dir)
    try:
        yield new
    finally:
        new.close()


def write_whole(dest: str | Path, data: bytes | list[bytes], tmp_dir: str | Path,
                mode: int | None = None) -> os.stat_result:
    """Write ``data`` (or its pieces, one after the other) as ``dest``, whole
    or not at all; return the new file's stat."""
    with new_file(os.path.dirname(dest), tmp_dir) as new:
        for piece in [data] if isinstance(data, bytes) else data:
            new.write(piece)
        return new.publish([dest], mode)


def link_whole(existing: str | Path, dest: str | Path, tmp_dir: str | Path) -> bool:
    """Hard-link ``existing`` as ``dest`` (replacing it); False where links are not possible."""
    try:
        os.link(existing, dest)  # a link appears whole or not at all
        return True
    except FileExistsError:
        pass
    except OSError:
        return False
    tmp = tmp_name(tmp_dir)
    try:
        os.link(existing, tmp)
        os.replace(tmp, dest)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False


def symlink_whole(target: str, dest: str, tmp_dir: str | Path) -> None:
    """Make ``dest`` a symlink to ``target``, replacing what is there in one step."""
    tmp = tmp_name(tmp_dir)
    try:
        os.symlink(target, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CollectError(f"{dest}: cannot create symlink ({exc.strerror})") from None


class Copy(NamedTuple):
    """What :func:`copy_hashing` read, and the new file it wrote (if any)."""

    md5: str  # hex
    sri: str  # "sha384-..."
    size: int
    written: os.stat_result | None


def copy_hashing(source: str, directory: str | Path | None, tmp_dir: str | Path,
                 names: Callable[[str], list[str]] | None = None, mode: int | None = None
                 ) -> Copy:
    """Read ``source`` once, hashing it; with a ``directory``, also stream it
    into a new file there, named ``names(md5)`` once whole."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha384()
    total = 0
    try:
        src = open(source, "rb", buffering=0)  # noqa: SIM115 - closed below
        # A buffer just big enough: a large one for every small file would be
        # allocated (and zeroed) by the OS each time.
        buffer = memoryview(bytearray(min(CHUNK, os.fstat(src.fileno()).st_size + 1)))
    except OSError as exc:
        raise CollectError(f"{source}: cannot read ({exc.strerror})") from None
    with src, (new_file(directory, tmp_dir) if directory is not None
               else contextlib.nullcontext()) as new:
        while True:
            try:
                size = src.readinto(buffer)
            except OSError as exc:
                raise CollectError(f"{source}: cannot read ({exc.strerror})") from None
            if not size:
                break
            total += size
            chunk = buffer[:size]
            md5.update(chunk)
            sha.update(chunk)
            if new is not None:
                new.write(chunk)
        digest = md5.hexdigest()
        written = new.publish(names(digest), mode) if new is not None and names else None
    return Copy(digest, sri(sha), total, written)


def holds(path: str | Path, data: bytes) -> bool:
    """Whether the file ``path`` holds ``data`` (read a piece at a time, never a
    second copy of it whole; reading is cheaper than hashing)."""
    view = memoryview(data)
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size != len(data):
                return False
            return all(handle.read(CHUNK) == view[start:start + CHUNK]
                       for start in range(0, len(data), CHUNK))
    except OSError:
        return False


def sri(sha: Any) -> str:
    """The Subresource Integrity value of a finished sha384 hash object."""
    return "sha384-" + base64.b64encode(sha.digest()).decode("ascii")


class Dirs:
    """Creates directories (with ``mode``), each looked at once per run, from any thread."""

    def __init__(self, mode: int | None) -> None:
        self.mode = mode
        self.made: set[str] = set()
        self.lock = threading.Lock()

    def ensure(self, directory: str | Path) -> None:
        directory = os.fspath(directory)
        if directory in self.made:
            return
        with self.lock:
            missing = []
            current = directory
            while current and not os.path.isdir(current):
                missing.append(current)
                parent = os.path.dirname(current)
                if parent == current:
                    break
                current = parent
            for path in reversed(missing):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(path)
                if self.mode is not None:
                    os.chmod(path, self.mode)
            self.made.add(directory)


def prune_empty_dirs(directory: str | Path, top: str | Path) -> None:
    """Remove ``directory`` and its parents while they are empty, up to (not including) ``top``."""
    directory, top = Path(directory), Path(top)
    while directory != top and top in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
