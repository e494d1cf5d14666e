"""The one exception family of the core.

The library never prints: it raises these (or reports through a callback).
The CLI and the build hooks turn them into a one-line ``error: ...``.
"""

from __future__ import annotations

__all__ = ["CollectStaticError", "ConfigError", "CollectError", "BrokenReferencesError"]

# How many configuration problems one message lists; the rest are counted.
MAX_LISTED = 20


class CollectStaticError(Exception):
    """Base class: a problem the user can fix. ``str(exc)`` is the message."""


class ConfigError(CollectStaticError):
    """One or more problems in ``[tool.collectstatic]``; all are listed at once."""

    def __init__(self, problems: list[str], source: str = "pyproject.toml") -> None:
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        if count == 1:
            message = f"{source}: {self.problems[0]}"
        else:
            # (all of them stay in ``problems``; a message of thousands helps nobody)
            message = f"{source}: {count} problems: " + "; ".join(self.problems[:MAX_LISTED])
            if count > MAX_LISTED:
                message += f"; and {count - MAX_LISTED} more"
        super().__init__(message)

    def __reduce__(self) -> tuple[type, tuple[list[str], str]]:  # (pickled by worker processes)
        return type(self), (self.problems, self.source)


class CollectError(CollectStaticError):
    """Collection failed: unreadable source, unwritable root, broken symlink..."""


class BrokenReferencesError(CollectStaticError):
    """CSS/JS references that name no collected file (``strict = true``)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} broken reference{'' if count == 1 else 's'}: "
        super().__init__(head + "; ".join(self.problems))

    def __reduce__(self) -> tuple[type, tuple[list[str]]]:
        return type(self), (self.problems,)
