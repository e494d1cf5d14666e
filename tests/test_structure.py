"""The package's shape, checked on its source with :mod:`ast` so that it keeps holding.

Over ``collectstatic/``, ``hatch_collectstatic/`` and ``setuptools_collectstatic/``:

- no function over 50 lines (from ``def`` to its last line, decorators aside),
  except argparse parser builders (a function whose name ends in ``parser`` or
  ``_arguments``: a flat list of ``add_argument`` calls reads best whole);
- no class over 250 lines;
- nesting depth at most 5: compound statements (``if``, ``for``, ``while``,
  ``with``, ``try``) inside one function, counted from its body; ``elif`` is
  the same level as its ``if``, and a nested function starts its own count;
- no module uses another module's private names: neither ``from .x import _y``
  nor ``x._y`` on a module of this project bound by an import (a module's own
  private names are its business; ``_parallel`` and ``_jsmodules`` are private
  *modules* whose public names others use);
- no import cycle among ``collectstatic``'s modules. The rule: every
  ``from . import``/``from .x import`` counts, at module level *and* inside
  functions, because a function-level import that closes a cycle is still a
  layer that leaks (``config`` needing ``compress`` at run time is as tangled
  as at import time). Only imports under ``if TYPE_CHECKING:`` do not count.
  A lazy import is for speed (a module not loaded until a command needs it),
  never to hide a cycle;
- no ``gc.disable()``/``gc.enable()``, ``os.fork`` only in ``_parallel.py``,
  no ``global`` statement;
- no module-level mutable state (except what ``ALLOWED`` names, with why):
  inside functions, no ``.append``/``.add``/``[...] =`` (and the other
  mutating calls) on a module-level name the function does not bind itself.
  A constant tuple, frozenset or
  ``MappingProxyType`` is fine, as is a dict built once at import time and only
  read afterwards. (``collectstatic/__init__.py`` caches its lazily imported
  names through ``globals()``, the PEP 562 idiom; that is not checked.)
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from .support import REPO

PACKAGES = ("collectstatic", "hatch_collectstatic", "setuptools_collectstatic")
MAX_FUNCTION_LINES = 50
MAX_CLASS_LINES = 250
MAX_DEPTH = 5
COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)
if hasattr(ast, "TryStar"):  # pragma: no cover - Python 3.11+
    COMPOUND += (ast.TryStar,)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
MUTATORS = frozenset({
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "add",
    "discard", "update", "setdefault", "sort", "reverse",
    "difference_update", "intersection_update", "symmetric_difference_update",
})

# Known offenders, each with the reason it stands: {(check, offender prefix): reason}.
EXPECTED: dict[tuple[str, str], str] = {}

# Not offenders: deliberate state, with the reason. {(check, offender prefix): reason}.
ALLOWED: dict[tuple[str, str], str] = {
    ("state", "collectstatic/runtime.py:clear_cache mutates"): "the run-time lookup reads "
    "each manifest once per process (docs/runtime.md), behind a lock, with clear_cache()",
    ("state", "collectstatic/runtime.py:_cached mutates"): "the same per-process manifest cache",
}


def _label(path: Path) -> str:
    return _rel(path) if path.is_absolute() else path.as_posix()


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_parser_builder(name: str) -> bool:
    return name.endswith("parser") or name.endswith("_arguments")


def _long_functions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and not _is_parser_builder(node.name):
                found.append(f"{_rel(path)}:{node.name} ({lines} lines)")
    return found


def _long_classes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ClassDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_CLASS_LINES:
                found.append(f"{_rel(path)}:{node.name} ({lines} lines)")
    return found


def _is_elif(node: ast.stmt, parent: ast.stmt, source: list[str]) -> bool:
    return (
        isinstance(node, ast.If) and isinstance(parent, ast.If)
        and parent.orelse == [node]
        and source[node.lineno - 1].lstrip().startswith("elif")
    )


def _depth(node: ast.AST, source: list[str]) -> int:
    """The deepest nesting of compound statements below ``node`` (a function)."""
    deepest = 0
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (*FUNCTIONS, ast.ClassDef)):
            continue  # counted on its own
        below = _depth(child, source)
        if isinstance(child, COMPOUND) and not _is_elif(child, node, source):
            below += 1
        deepest = max(deepest, below)
    return deepest


def _deep_functions(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            depth = _depth(node, source)
            if depth > MAX_DEPTH:
                found.append(f"{_rel(path)}:{node.name} (depth {depth})")
    return found


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module name an ``ImportFrom`` names."""
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _ours(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def _project_module_aliases(path: Path) -> dict[str, str]:
    """Names bound in ``path`` to a module of this project -> that module."""
    aliases = {}
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(path, node)
            if not _ours(base):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if (REPO / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                    REPO / Path(*candidate.split(".")) / "__init__.py"
                ).exists():
                    aliases[alias.asname or alias.name] = candidate
    return aliases


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in (
        "_parallel", "_jsmodules",
    )


def _private_uses(path: Path) -> list[str]:
    found = []
    own = _module_name(path)
    aliases = _project_module_aliases(path)
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            base = _resolve(path, node)
            if _ours(base) and base != own:
                found += [
                    f"{_rel(path)}: from {base} import {a.name}"
                    for a in node.names if _private(a.name)
                ]
        elif (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in aliases and aliases[node.value.id] != own
            and _private(node.attr)
        ):
            found.append(f"{_rel(path)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def _type_checking_blocks(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids.update(id(n) for child in node.body for n in ast.walk(child))
    return ids


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _modules():
        own = _module_name(path)
        if not own.startswith("collectstatic"):
            continue
        tree = _tree(path)
        skipped = _type_checking_blocks(tree)
        targets = graph.setdefault(own, set())
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom):
                base = _resolve(path, node)
                if not base.startswith("collectstatic"):
                    continue
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    sub = REPO / Path(*candidate.split("."))
                    is_module = sub.with_suffix(".py").exists() or (sub / "__init__.py").exists()
                    targets.add(candidate if is_module else base)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("collectstatic"))
        targets.discard(own)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _calls(path: Path) -> list[tuple[int, str]]:
    calls = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            calls.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return calls


def _bound_locally(function: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _module_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _mutated_module_state(path: Path, tree: ast.Module | None = None) -> list[str]:
    tree = tree or _tree(path)
    module_names = _module_level_names(tree)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        local = _bound_locally(function)
        for node in ast.walk(function):
            name = None
            if (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.attr in MUTATORS
            ):
                name = node.func.value.id
            elif (
                isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del))
                and isinstance(node.value, ast.Name)
            ):
                name = node.value.id
            if name in module_names and name not in local:
                found.append(f"{_label(path)}:{function.name} mutates {name} (line {node.lineno})")
    return found


def _check(check: str, offenders: list[str]) -> None:
    """Fail on an offender not in EXPECTED; xfail, saying why, on those that are."""
    def reason(offender: str) -> str | None:
        return next(
            (why for (kind, prefix), why in EXPECTED.items()
             if kind == check and offender.startswith(prefix)),
            None,
        )

    offenders = [
        o for o in offenders
        if not any(kind == check and o.startswith(prefix) for kind, prefix in ALLOWED)
    ]
    unexpected = [o for o in offenders if reason(o) is None]
    assert not unexpected, "\n".join(unexpected)
    stale = [prefix for kind, prefix in EXPECTED
             if kind == check and not any(o.startswith(prefix) for o in offenders)]
    assert not stale, f"fixed, so no longer expected: {stale}"
    if offenders:
        pytest.xfail("; ".join(sorted({f"{o}: {reason(o)}" for o in offenders})))


def test_no_long_functions() -> None:
    _check("function", [o for p in _modules() for o in _long_functions(p)])


def test_no_long_classes() -> None:
    _check("class", [o for p in _modules() for o in _long_classes(p)])


def test_nesting_depth() -> None:
    _check("depth", [o for p in _modules() for o in _deep_functions(p)])


def test_no_private_names_across_modules() -> None:
    _check("private", [o for p in _modules() for o in _private_uses(p)])


def test_no_import_cycles() -> None:
    _check("cycle", [" <-> ".join(c) for c in _cycles(_import_graph())])


def test_no_process_wide_tricks() -> None:
    found = []
    for path in _modules():
        tree = _tree(path)
        found += [f"{_rel(path)}:{node.lineno}: global"
                  for node in ast.walk(tree) if isinstance(node, ast.Global)]
        for lineno, name in _calls(path):
            if name in ("gc.disable", "gc.enable"):
                found.append(f"{_rel(path)}:{lineno}: {name}")
            if name == "os.fork" and path.name != "_parallel.py":
                found.append(f"{_rel(path)}:{lineno}: {name}")
    assert not found, "\n".join(found)


def test_no_mutable_module_state() -> None:
    _check("state", [o for p in _modules() for o in _mutated_module_state(p)])


# The checker itself, on small sources: each check must be able to fail.
@pytest.mark.parametrize(("source", "depth"), [
    ("def f():\n    if a:\n        pass\n", 1),
    ("def f():\n    if a:\n        pass\n    elif b:\n        if c:\n            pass\n", 2),
    ("def f():\n    for x in y:\n        with z:\n            try:\n                pass\n"
     "            except E:\n                while 1:\n                    pass\n", 4),
    ("def f():\n    if a:\n        def g():\n            if b:\n                pass\n", 1),
])
def test_depth_counts_compound_statements(source: str, depth: int) -> None:
    tree = ast.parse(source)
    assert _depth(tree.body[0], source.splitlines()) == depth


def test_cycles_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_mutation_of_module_state_found() -> None:
    tree = ast.parse(
        "CACHE = {}\nNAMES = []\n"
        "def f(x):\n    CACHE[x] = 1\n    NAMES.append(x)\n"
        "def g(CACHE):\n    CACHE[1] = 2\n"
    )
    found = _mutated_module_state(Path("probe.py"), tree)
    assert [f.split(" (")[0] for f in found] == [
        "probe.py:f mutates CACHE", "probe.py:f mutates NAMES",
    ]
