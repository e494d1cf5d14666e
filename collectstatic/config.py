"""``[tool.collectstatic]`` -> one frozen :class:`Settings`.

All validation lives here. Every later stage takes a :class:`Settings` and
trusts it. Problems are collected, then raised once as a :class:`ConfigError`
whose message names each key (``tool.collectstatic.dirs[1]``), what was
expected and what was found.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .codecs import ALGORITHMS, SKIP_COMPRESS_EXTENSIONS, missing_libraries
from .errors import MAX_LISTED, ConfigError
from .packages import find_package_dir
from .paths import DEFAULT_MANIFEST_NAME, DEFAULT_STATIC_URL, is_within

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    import tomli as tomllib

__all__ = [
    "DEFAULT_IGNORE_PATTERNS",
    "DEFAULT_MANIFEST_NAME",
    "DEFAULT_STATIC_URL",
    "KEYS",
    "STATE_DIR",
    "Settings",
    "Source",
    "load_pyproject",
    "load_settings",
    "settings_from_table",
]

TABLE = "tool.collectstatic"
DEFAULT_IGNORE_PATTERNS = ("CVS", ".*", "*~")
# Where our own bookkeeping (collection record, lock, compression cache) lives, inside root.
STATE_DIR = ".collectstatic"

# key -> (type description, default). "required" has no default.
KEYS: dict[str, tuple[str, Any]] = {
    "root": ("path", None),
    "dirs": ("list of paths or {path, prefix} tables", []),
    "apps": ("list of import names", []),
    "ignore": ("list of glob patterns", []),
    "default-ignore": ("bool", True),
    "manifest": ("bool", True),
    "manifest-name": ("file name", DEFAULT_MANIFEST_NAME),
    "strict": ("bool", True),
    "static-url": ("str", DEFAULT_STATIC_URL),
    "js-modules": ("bool", False),
    "keep-unhashed": ("bool", True),
    "compress": ('list of "gzip", "brotli", "zstd"', []),
    "compress-levels": ("table of algorithm = int", {}),
    "compress-skip": ("list of file extensions", None),
    "workers": ("int >= 1", None),
    "keep-versions": ("int >= 0", 2),
    "link": ("bool", False),
    "follow-external-symlinks": ("bool", False),
    "file-mode": ('octal string such as "0o644"', None),
    "dir-mode": ('octal string such as "0o755"', None),
    "django-settings": ("dotted module", None),
}

_EXTENSION = re.compile(r"[^./\\\s\x00-\x1f\x7f]+\Z")  # "png", ".png"; not "tar.gz"
_FLAGS = ("default-ignore", "manifest", "strict", "js-modules", "keep-unhashed", "link",
          "follow-external-symlinks")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Source:
    """A directory searched for static files, mounted under ``prefix`` in root."""

    path: Path  # absolute
    prefix: str  # "" or "vendor/lib", no leading or trailing slash
    origin: str  # the key that configured it, for messages: "tool.collectstatic.dirs[0]"


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Paths are absolute."""

    project_root: Path
    root: Path
    sources: tuple[Source, ...]
    ignore: tuple[str, ...] = ()
    default_ignore: bool = True
    manifest: bool = True
    manifest_name: str = DEFAULT_MANIFEST_NAME
    strict: bool = True
    static_url: str = DEFAULT_STATIC_URL
    js_modules: bool = False
    keep_unhashed: bool = True
    compress: tuple[str, ...] = ()
    compress_levels: Mapping[str, int] = field(default_factory=dict)
    compress_skip: tuple[str, ...] = SKIP_COMPRESS_EXTENSIONS  # lowercase, no dot
    workers: int = 1
    keep_versions: int = 2  # earlier runs whose hashed outputs stay in root
    link: bool = False
    follow_external_symlinks: bool = False  # symlinks in sources may lead outside the project
    file_mode: int | None = None
    dir_mode: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def root_relative(self) -> str:
        """``root`` relative to the project root, posix style (``src/pkg/staticfiles``)."""
        return self.root.relative_to(self.project_root).as_posix()

    @property
    def ignore_patterns(self) -> tuple[str, ...]:
        """The effective patterns, normalised as Django normalises them."""
        patterns = list(self.ignore)
        if self.default_ignore:
            patterns += DEFAULT_IGNORE_PATTERNS
        seen: dict[str, None] = {}
        for pattern in patterns:
            seen.setdefault(posixpath.normpath(pattern), None)
        return tuple(seen)

    def level(self, algorithm: str) -> int:
        return self.compress_levels.get(algorithm, ALGORITHMS[algorithm].default_level)


def load_pyproject(path: Path) -> dict[str, Any]:
    """Parse a pyproject.toml; any file that is not TOML is a :class:`ConfigError`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise ConfigError(["file not found; run from the project root or pass --config FILE"],
                          source=str(path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read: {exc.strerror}"], source=str(path)) from None
    return _parse_toml(data, str(path))


def _parse_toml(data: bytes, source: str = "pyproject.toml") -> dict[str, Any]:
    """``data`` as TOML, or a :class:`ConfigError` saying what is wrong with it."""
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            raise ConfigError([f"the file is {encoding} text; TOML is UTF-8: save it as UTF-8"],
                              source=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError([f"not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
                           f"TOML is UTF-8: save the file as UTF-8"], source=source) from None
    try:
        return tomllib.loads(text)
    except RecursionError:
        # (the parser recurses once per level of arrays and inline tables)
        raise ConfigError(["invalid TOML: arrays or inline tables nested too deeply to "
                           "read; no setting needs more than a few levels"],
                          source=source) from None
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        if text.startswith("\ufeff"):
            reason += " (the file starts with a byte order mark: save it as UTF-8 without one)"
        elif "\0" in text:
            reason += " (the file holds NUL bytes: UTF-16 text? TOML is UTF-8: save it as UTF-8)"
        raise ConfigError([f"invalid TOML: {reason}"], source=source) from None
    except ValueError:  # int() refused a literal longer than the interpreter's limit
        limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
        raise ConfigError([f"invalid TOML: an integer of more than {limit} digits; no setting "
                           f"needs one"], source=source) from None


# (UTF-32's little-endian mark starts with UTF-16's: test it first)
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def load_settings(
    pyproject: Path | str = "pyproject.toml",
    *,
    overrides: Mapping[str, Any] | None = None,
    overrides_origin: str = "--",
) -> Settings:
    """Read ``[tool.collectstatic]`` from ``pyproject`` and validate it.

    ``overrides`` (a hook table, or command-line options keyed like the config)
    replace keys of the table; their problems are reported under
    ``overrides_origin`` (``tool.hatch.build.hooks.collectstatic`` or ``--``).
    """
    path = Path(pyproject).absolute()
    data = load_pyproject(path)
    table = data.get("tool", {}).get("collectstatic")
    if table is None and not overrides:
        raise ConfigError(
            [f"no [{TABLE}] table; add one with at least root = \"...\""], source=str(path)
        )
    if table is not None and not isinstance(table, dict):
        raise ConfigError([f"{TABLE} must be a table"], source=str(path))
    return settings_from_table(
        table or {},
        path.parent,
        overrides=overrides,
        overrides_origin=overrides_origin,
        source=str(path),
    )


def settings_from_table(
    table: Mapping[str, Any],
    project_root: Path | str,
    *,
    overrides: Mapping[str, Any] | None = None,
    overrides_origin: str = "--",
    source: str = "pyproject.toml",
) -> Settings:
    """Validate a ``[tool.collectstatic]`` table (plus overrides) into Settings."""
    validator = _Validator(Path(project_root).absolute(), source)
    return validator.run(table, overrides or {}, overrides_origin)


class _Base:
    """What every check shares: the problems and warnings found, key names."""

    def __init__(self, project_root: Path, source: str) -> None:
        self.project_root = project_root
        self.real_project_root = Path(os.path.realpath(project_root))
        self.source = source
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.origins: dict[str, str] = {}

    def problem(self, key: str, expected: str, found: Any = ..., hint: str = "") -> None:
        message = f"{key}: expected {expected}"
        if found is not ...:
            message += f", found {_describe(found)}"
        if hint:
            message += f" ({hint})"
        self.problems.append(message)

    def key(self, name: str) -> str:
        origin = self.origins.get(name, TABLE)
        if len(name) > 100:  # (a hostile key can be megabytes long)
            name = f"{name[:50]}...({len(name):,} characters)"
        if origin.startswith("--"):
            return "--" + name
        return f"{origin}.{name}"


class _PathKeys(_Base):
    """The keys that name places: root, dirs, apps, and how they may overlap."""

    def resolve_path(self, key: str, value: Any) -> Path | None:
        """A path inside the project root, or None (problem recorded)."""
        if not isinstance(value, str) or not value.strip():
            self.problem(key, "a path relative to the project root", value)
            return None
        unusable = _unusable_in_names(value)
        if unusable:
            self.problem(key, "a path relative to the project root", value, unusable)
            return None
        raw = Path(value)
        path = raw if raw.is_absolute() else self.project_root / raw
        normal = Path(os.path.normpath(path))
        if not is_within(normal, self.project_root):
            self.problem(key, "a path inside the project root", value,
                         "paths may not escape the project root")
            return None
        return normal

    def root(self, value: Any) -> Path | None:
        if value is None:
            self.problems.append(
                f"{self.key('root')}: required (where collected files go, e.g. "
                f"root = \"src/myapp/staticfiles\")"
            )
            return None
        if self.origins.get("root", "").startswith("--") and isinstance(value, str) \
                and os.path.isabs(value) and not _unusable_in_names(value):
            # --root on the command line may name any directory (a deploy dir).
            path: Path | None = Path(os.path.normpath(value))
        else:
            path = self.resolve_path(self.key("root"), value)
        if path is not None and path == self.project_root:
            self.problem(self.key("root"), "a subdirectory of the project root", value,
                         "collecting into the project root would mix outputs with sources")
            return None
        return path

    def dirs(self, value: Any) -> list[Source]:
        key = self.key("dirs")
        if not isinstance(value, list):
            self.problem(key, "a list of paths or {path, prefix} tables", value)
            return []
        sources = []
        for index, item in enumerate(value):
            item_key = f"{key}[{index}]"
            prefix = ""
            if isinstance(item, dict):
                unknown = sorted(set(item) - {"path", "prefix"})
                if unknown:
                    self.problem(f"{item_key}.{unknown[0]}", "only 'path' and 'prefix' keys",
                                 unknown[0])
                if "path" not in item:
                    self.problem(f"{item_key}.path", "a path (the key is missing)")
                    continue
                prefix = self.prefix(f"{item_key}.prefix", item.get("prefix", ""))
                raw = item["path"]
                path_key = f"{item_key}.path"
            else:
                raw, path_key = item, item_key
            path = self.resolve_path(path_key, raw)
            if path is None:
                continue
            # os.path's checks: False on any OSError (a name too long, say),
            # where pathlib's raise for some on Python < 3.14
            if not os.path.isdir(path):
                found = "a file" if os.path.exists(path) else "nothing"
                self.problem(path_key, "an existing directory", raw, f"{found} is there")
                continue
            if any(s.path == path and s.prefix == prefix for s in sources):
                continue  # Django dedups identical (prefix, path) pairs too
            sources.append(Source(path, prefix or "", item_key))
        return sources

    def prefix(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            self.problem(key, "a string such as \"vendor\"", value)
            return ""
        parts = value.split("/")
        if value and (value.startswith("/") or value.endswith("/") or "" in parts
                      or "." in parts or ".." in parts or "\\" in value):
            self.problem(key, "a relative URL path without leading or trailing '/' or "
                         "'.'/'..' segments", value)
            return ""
        unusable = _unusable_in_names(value)
        if unusable:  # (it starts the name of every file collected from the dir)
            self.problem(key, "a string such as \"vendor\"", value, unusable)
            return ""
        return value

    def apps(self, value: Any) -> list[Source]:
        key = self.key("apps")
        if not isinstance(value, list):
            self.problem(key, "a list of import names", value)
            return []
        sources = []
        for index, name in enumerate(value):
            item_key = f"{key}[{index}]"
            if not isinstance(name, str) or not _IDENTIFIER.match(name):
                self.problem(item_key, "an import name such as \"myapp\" or \"pkg.app\"", name)
                continue
            package_dir = find_package_dir(name, self.project_root)
            if package_dir is None:
                self.problem(item_key, "an importable package", name,
                             "not found in the project (flat or src/ layout) nor installed")
                continue
            static = package_dir / "static"
            if not os.path.isdir(static):
                self.warnings.append(f"{item_key}: app {name!r} has no static/ directory "
                                     f"({package_dir}); nothing is collected from it")
                continue
            sources.append(Source(Path(os.path.normpath(static)), "", item_key))
        return sources

    def check_root_against_sources(self, root: Path, sources: list[Source]) -> None:
        # (strings, not Path.parents: this runs in every collect, even one with nothing to do)
        real_root = os.path.normcase(os.path.realpath(root))
        for source in sources:
            real_source = os.path.normcase(os.path.realpath(source.path))
            if is_within(real_root, real_source):
                where = "is" if real_root == real_source else "lies inside"
                self.problem(self.key("root"), "a directory outside every source dir",
                             str(root.relative_to(self.project_root).as_posix()),
                             f"it {where} {source.origin} ({source.path}); a root inside a "
                             f"source re-collects its own output")
            elif is_within(real_source, real_root):
                self.problem(source.origin, "a source dir outside root",
                             str(source.path), "--clear would delete it")


class _Validator(_PathKeys):
    """The run over the whole table, and the keys that are values."""

    def merge(self, table: Mapping[str, Any], overrides: Mapping[str, Any],
              overrides_origin: str) -> dict[str, Any]:
        """The table with the overrides on top (and a Django site's settings
        under them), each key's origin noted for messages."""
        merged: dict[str, Any] = {}
        for name, value in table.items():
            merged[name] = value
            self.origins[name] = TABLE
        for name, value in overrides.items():
            merged[name] = value
            self.origins[name] = overrides_origin
        if merged.get("django-settings") is not None:  # (imported in a child process)
            from .djangosettings import merge_django_settings

            merged, warnings = merge_django_settings(merged, self.origins, self.project_root,
                                                     self.source)
            self.warnings += warnings
        return merged

    def unknown_keys(self, merged: Mapping[str, Any]) -> None:
        unknown = [name for name in merged if name not in KEYS and name != "publish"]
        for name in unknown[:MAX_LISTED]:
            import difflib  # (only for a mistake: it is slow to import)

            close = difflib.get_close_matches(name, KEYS, n=1) if len(name) < 100 else []
            hint = f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(KEYS)
            self.problems.append(f"{self.key(name)}: unknown key ({hint})")
        # More than the message lists are no typos: no suggestions (each costs a difflib search).
        self.problems.extend(f"{self.key(name)}: unknown key"
                             for name in unknown[MAX_LISTED:])

    def run(self, table: Mapping[str, Any], overrides: Mapping[str, Any],
            overrides_origin: str) -> Settings:
        merged = self.merge(table, overrides, overrides_origin)
        self.unknown_keys(merged)
        get = merged.get
        root = self.root(get("root"))
        sources = self.dirs(get("dirs", [])) + self.apps(get("apps", []))
        ignore = self.string_list("ignore", get("ignore", []))
        flags = {name: self.boolean(name, get(name, KEYS[name][1])) for name in _FLAGS}
        manifest_name = self.manifest_name(get("manifest-name", DEFAULT_MANIFEST_NAME))
        static_url = self.static_url(get("static-url", DEFAULT_STATIC_URL))
        compress = self.compress(get("compress", []))
        levels = self.compress_levels(get("compress-levels", {}))
        skip = self.compress_skip(get("compress-skip"))
        workers = self.workers(get("workers"))
        keep_versions = self.keep_versions(get("keep-versions", KEYS["keep-versions"][1]))
        file_mode = self.mode("file-mode", get("file-mode"))
        dir_mode = self.mode("dir-mode", get("dir-mode"))
        if root is not None:
            self.check_root_against_sources(root, sources)

        if self.problems:
            raise ConfigError(self.problems, source=self.source)
        assert root is not None
        return Settings(
            project_root=self.project_root,
            root=root,
            sources=tuple(sources),
            ignore=tuple(ignore),
            default_ignore=flags["default-ignore"],
            manifest=flags["manifest"],
            manifest_name=manifest_name,
            strict=flags["strict"],
            static_url=static_url,
            js_modules=flags["js-modules"],
            keep_unhashed=flags["keep-unhashed"],
            compress=tuple(compress),
            compress_levels=levels,
            compress_skip=skip,
            workers=workers,
            keep_versions=keep_versions,
            link=flags["link"],
            follow_external_symlinks=flags["follow-external-symlinks"],
            file_mode=file_mode,
            dir_mode=dir_mode,
            warnings=tuple(self.warnings),
        )

    # -- one method per key -----------------------------------------------------
    def string_list(self, name: str, value: Any) -> list[str]:
        key = self.key(name)
        if not isinstance(value, list):
            self.problem(key, "a list of strings", value)
            return []
        result = []
        for index, item in enumerate(value):
            unusable = _unusable_in_names(item) if isinstance(item, str) else ""
            if not isinstance(item, str) or not item:
                self.problem(f"{key}[{index}]", "a non-empty string", item)
            elif unusable:  # (such a pattern can never match a file name)
                self.problem(f"{key}[{index}]", "a pattern for file names", item, unusable)
            else:
                result.append(item)
        return result

    def boolean(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.problem(self.key(name), "true or false", value)
            return bool(KEYS[name][1])
        return value

    def manifest_name(self, value: Any) -> str:
        plain = isinstance(value, str) and bool(value) and "/" not in value \
            and "\\" not in value and value not in (".", "..") \
            and not value.startswith(STATE_DIR)
        unusable = _unusable_in_names(value) if plain else ""
        if not plain or unusable:
            self.problem(self.key("manifest-name"),
                         f'a plain file name such as "{DEFAULT_MANIFEST_NAME}"', value, unusable)
            return DEFAULT_MANIFEST_NAME
        return value

    def static_url(self, value: Any) -> str:
        prefix = isinstance(value, str) and value.endswith("/")
        unusable = _unusable_in_urls(value) if prefix else ""  # (it is written into CSS/JS)
        if not prefix or unusable:
            self.problem(self.key("static-url"), f"a URL prefix ending in '/' such as "
                         f'"{DEFAULT_STATIC_URL}"', value, unusable)
            return DEFAULT_STATIC_URL
        return value

    def compress(self, value: Any) -> list[str]:
        key = self.key("compress")
        if not isinstance(value, list):
            self.problem(key, 'a list such as ["gzip", "brotli"]', value)
            return []
        result: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or item not in ALGORITHMS:
                self.problem(f"{key}[{index}]", "one of " + ", ".join(map(repr, ALGORITHMS)),
                             item)
            elif item not in result:
                result.append(item)
        if result:
            self.problems.extend(missing_libraries(result, key=key))
        return result

    def compress_levels(self, value: Any) -> dict[str, int]:
        key = self.key("compress-levels")
        if not isinstance(value, dict):
            self.problem(key, "a table such as {brotli = 5}", value)
            return {}
        levels = {}
        for name, level in value.items():
            if name not in ALGORITHMS:
                self.problem(f"{key}.{name}", "one of " + ", ".join(map(repr, ALGORITHMS)),
                             name)
                continue
            low, high = ALGORITHMS[name].min_level, ALGORITHMS[name].max_level
            if isinstance(level, bool) or not isinstance(level, int) or not low <= level <= high:
                self.problem(f"{key}.{name}", f"an integer from {low} to {high}", level)
                continue
            levels[name] = level
        return levels

    def compress_skip(self, value: Any) -> tuple[str, ...]:
        key = self.key("compress-skip")
        if value is None:
            return SKIP_COMPRESS_EXTENSIONS
        if not isinstance(value, list):
            self.problem(key, 'a list of extensions such as ["png", "woff2"]', value)
            return SKIP_COMPRESS_EXTENSIONS
        extensions: dict[str, None] = {}
        for index, item in enumerate(value):
            bare = item[1:] if isinstance(item, str) and item.startswith(".") else item
            if not isinstance(bare, str) or not _EXTENSION.match(bare):
                self.problem(f"{key}[{index}]", 'a file extension such as "png"', item)
            else:
                extensions.setdefault(bare.lower(), None)
        return tuple(extensions)

    def workers(self, value: Any) -> int:
        cores = os.cpu_count() or 1
        if value is None:
            return cores
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.problem(self.key("workers"), "an integer >= 1", value)
            return cores
        return value

    def keep_versions(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(self.key("keep-versions"), "an integer >= 0", value)
            return 0
        return value

    def mode(self, name: str, value: Any) -> int | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else None
        mode = None
        if text is not None:
            digits = text[2:] if text[:2].lower() == "0o" else text
            if re.fullmatch(r"[0-7]+", digits):
                mode = int(digits, 8)
        if mode is None:
            self.problem(self.key(name), 'an octal string such as "0o644"', value,
                         "TOML has no octal-looking decimal: quote it")
            return None
        if mode > 0o777:
            self.problem(self.key(name), "permission bits from 0o000 to 0o777", value,
                         "setuid, setgid and sticky bits do not belong on collected files")
            return None
        if mode & 0o002:
            usual = "0o644" if name == "file-mode" else "0o755"
            self.warnings.append(f"{self.key(name)}: {value!r} lets every user of the machine "
                                 f"change what is collected (world-writable); {usual!r} "
                                 f"is usual")
        return mode


def _unusable_in_names(value: str) -> str:
    """Why ``value`` cannot be (part of) a file name on this system, or "".

    A NUL ends a name for the OS; a lone surrogate (possible through the API or
    a hook table, not in TOML) has no bytes in the file system's encoding.
    """
    if "\0" in value:
        return "no file name can hold a NUL character"
    try:
        os.fsencode(value)
    except UnicodeError:
        bad = next(char for char in value if _not_encodable(char))
        return f"no file name can hold {bad!r}: it has no bytes in the file-system encoding"
    return ""


def _not_encodable(char: str) -> bool:
    try:
        os.fsencode(char)
    except UnicodeError:
        return True
    return False


def _unusable_in_urls(value: str) -> str:
    """Why ``value`` cannot start URLs written into CSS/JS, or ""."""
    for char in value:
        if char < " " or char == "\x7f":
            return f"a URL holds no control character such as {char!r}; percent-encode it"
        if "\ud800" <= char <= "\udfff":
            return f"{char!r} has no UTF-8 form"
    return ""


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _short_repr(value)
    if isinstance(value, (list, Sequence)) and not isinstance(value, str):
        text = _short_repr(value, 60) if len(value) < 60 else ""
        return f"a list ({text})" if text not in ("", "...") and len(text) < 60 else "a list"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {_short_repr(value)}"


def _short_repr(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut short past ``limit`` characters (hostile values are
    megabytes long, or nested too deeply for ``repr``)."""
    if isinstance(value, str) and len(value) > limit:
        head = repr(value[:limit // 2])
        return f"{head[:-1]}...{head[-1]} ({len(value):,} characters)"
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # (ValueError: an int of > 4300 digits)
        return "..."
    return text if len(text) <= limit else text[:limit] + "..."
