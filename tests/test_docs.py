"""The reference docs (``docs/*.md``) against the code: a doc that drifts fails here.

- configuration.md: one table row per ``config.KEYS`` key, no other rows, the
  same type text and default; the compression levels and ranges; hatch's keys.
- cli.md: per command, the flags in its table are exactly the parser's.
- manifest.md: the keys it documents are those of a manifest written by a real
  ``collectstatic collect``; the hash and byte format it describes hold.
- troubleshooting.md: the fixed parts of every message listed are in the code.
- every relative link between the docs resolves, anchors included.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import string
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from collectstatic import cli
from collectstatic.codecs import ALGORITHMS
from collectstatic.config import DEFAULT_IGNORE_PATTERNS, KEYS, settings_from_table
from collectstatic.errors import ConfigError
from collectstatic.rewrite import hashed_name

from .support import REPO, write_tree
from .support import cli as run_cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    import tomli as tomllib

DOCS = REPO / "docs"
PACKAGES = ("collectstatic", "collectstatic/django", "hatch_collectstatic",
            "setuptools_collectstatic")
CODE_SPAN = re.compile(r"`([^`]+)`")


# -- Markdown helpers ---------------------------------------------------------------

def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def sections(text: str, level: int = 2) -> dict[str, str]:
    """Heading text (of ``level``) -> the text up to the next heading of that level."""
    marker = "#" * level + " "
    result: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith(marker):
            current = line[len(marker):].strip()
            result[current] = ""
        elif current is not None:
            result[current] += line + "\n"
    return result


def cells(line: str) -> list[str]:
    # Split on unescaped pipes; code spans here never hold a pipe.
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every table in ``text``: (header cells, body rows)."""
    found = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("|") and index + 1 < len(lines) and \
                re.match(r"^\|\s*-{3}", lines[index + 1]):
            header = cells(lines[index])
            rows = []
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                rows.append(cells(lines[index]))
                index += 1
            found.append((header, rows))
        else:
            index += 1
    return found


def table_with(text: str, first_header: str) -> list[list[str]]:
    matches = [rows for header, rows in tables(text) if header[0] == first_header]
    assert len(matches) == 1, f"expected one table headed {first_header!r}"
    return matches[0]


def code(cell: str) -> str:
    match = CODE_SPAN.search(cell)
    assert match, f"no code span in {cell!r}"
    return match.group(1)


# -- configuration.md ---------------------------------------------------------------

def config_rows() -> dict[str, list[str]]:
    rows = table_with(sections(doc("configuration.md"))["Keys"], "key")
    documented = {}
    for row in rows:
        key = code(row[0])
        assert key not in documented, f"{key} has two rows"
        documented[key] = row
    return documented


def test_every_config_key_has_exactly_one_row() -> None:
    documented = config_rows()
    assert sorted(set(KEYS) - set(documented)) == [], "keys missing from configuration.md"
    assert sorted(set(documented) - set(KEYS)) == [], "rows for keys that do not exist"


def test_config_types_match() -> None:
    for key, row in config_rows().items():
        assert row[1].replace("`", "") == KEYS[key][0], key


PHRASES = {"required": "root", "number of cores": "workers", "unset": None,
           "the list below": "compress-skip"}


def test_config_defaults_match(tmp_path: Path) -> None:
    for key, row in config_rows().items():
        cell = row[2]
        default = KEYS[key][1]
        if cell.startswith("`"):
            value = tomllib.loads(f"v = {code(cell)}")["v"]
            assert value == default, f"{key}: documented {value!r}, code {default!r}"
        else:
            assert cell in PHRASES, f"{key}: default {cell!r} is neither TOML nor a known phrase"
            assert default is None, f"{key}: documented {cell!r}, code {default!r}"
            assert PHRASES[cell] in (None, key), f"{key}: {cell!r} describes {PHRASES[cell]}"
    # The phrases say what the code does when the key is absent.
    with pytest.raises(ConfigError, match=r"tool\.collectstatic\.root: required"):
        settings_from_table({}, tmp_path)
    settings = settings_from_table({"root": "out"}, tmp_path)
    assert settings.workers == (os.cpu_count() or 1)
    assert settings.file_mode is None and settings.dir_mode is None


def test_compression_levels_and_ranges_match() -> None:
    text = doc("configuration.md")
    row = config_rows()["compress-levels"]
    defaults = dict(re.findall(r"(\w+) (\d+)", row[2].split("(", 1)[1]))
    assert {k: int(v) for k, v in defaults.items()} == {
        k: v.default_level for k, v in ALGORITHMS.items()}
    line = re.search(r"ranges (.*?)\(", text.replace("\n", " "))
    assert line, "the compress-levels ranges sentence is gone"
    ranges = {name: (int(low), int(high))
              for name, low, high in re.findall(r"(\w+)\s+(\d+)\u2013(\d+)", line.group(1))}
    assert ranges == {k: (v.min_level, v.max_level) for k, v in ALGORITHMS.items()}


def test_default_ignore_patterns_and_hatch_keys_are_documented() -> None:
    text = doc("configuration.md")
    for pattern in DEFAULT_IGNORE_PATTERNS:
        assert f"`{pattern}`" in text
    plugin = pytest.importorskip("hatch_collectstatic.plugin")
    hatch_section = sections(text)["The hatch hook table"]
    for key in plugin.HATCH_KEYS:
        assert f"`{key}`" in hatch_section, key


# -- cli.md -----------------------------------------------------------------------

def parsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    found = {"Global": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"`collectstatic {name}`"] = sub
    return found


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def test_cli_flags_match_the_parser() -> None:
    documented_sections = sections(doc("cli.md"))
    known = parsers()
    assert set(known) <= set(documented_sections), "a command has no section in cli.md"
    for title, parser in known.items():
        rows = table_with(documented_sections[title], "flag")
        documented: dict[str, str] = {}
        for row in rows:
            for flag in FLAG.findall(row[0]):
                documented[flag] = row[0]
        accepted = options(parser)
        if title != "Global":  # -h/--help: documented once, under Global
            for flag in ("-h", "--help"):
                accepted.pop(flag)
        long_accepted = {flag for flag in accepted if flag.startswith("--")}
        long_documented = {flag for flag in documented if flag.startswith("--")}
        assert sorted(long_accepted - long_documented) == [], f"{title}: undocumented flags"
        assert sorted(long_documented - long_accepted) == [], f"{title}: flags the parser lacks"
        short_accepted = {flag for flag in accepted if not flag.startswith("--")}
        short_documented = {flag for flag in documented if not flag.startswith("--")}
        assert short_accepted == short_documented, title
        for flag, cell in documented.items():
            choices = accepted[flag].choices
            if choices is not None:
                shown = re.search(r"\{([^}]*)\}", cell)
                assert shown, f"{flag}: choices not shown"
                assert shown.group(1).split(",") == [str(c) for c in choices], flag


def test_cli_defaults_in_serve_table_match() -> None:
    serve = options(parsers()["`collectstatic serve`"])
    text = sections(doc("cli.md"))["`collectstatic serve`"]
    assert f"default `{serve['--host'].default}`" in text
    assert f"default `{serve['--port'].default}`" in text


# -- manifest.md --------------------------------------------------------------------

@lru_cache(maxsize=1)
def collected(root: str) -> tuple[bytes, list[str]]:
    project = Path(root)
    big = "".join(f".c{i} {{ color: #{i:06x}; }}\n" for i in range(200))
    write_tree(project, {
        "pyproject.toml": '[tool.collectstatic]\nroot = "out"\ndirs = ["assets"]\n'
                          'compress = ["gzip"]\n',
        "assets/css/app.css": 'body { background: url("../img/a.png"); }\n' + big,
        "assets/img/a.png": b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
        **{f"assets/img/i{number}.png": b"PNG %d" % number for number in range(40)},
    })
    run_cli("collect", "--noinput", "-v", "0", cwd=project)
    write_tree(project, {"assets/img/i0.png": b"PNG changed"})
    run_cli("collect", "--noinput", "-v", "0", cwd=project)
    out = project / "out"
    return (out / "staticfiles.json").read_bytes(), sorted(
        entry.name for entry in (out / ".collectstatic").iterdir())


@pytest.fixture(scope="module")
def real_manifest(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str]]:
    return collected(str(tmp_path_factory.mktemp("docs-manifest")))


def first_column(rows: list[list[str]]) -> set[str]:
    return {code(row[0]) for row in rows}


def test_manifest_keys_match_a_real_manifest(real_manifest: tuple[bytes, list[str]]) -> None:
    data = json.loads(real_manifest[0])
    parts = sections(doc("manifest.md"))
    django = first_column(table_with(parts["Django's part"], "key"))
    extra_heading = next(title for title in parts if title.startswith("Our part"))
    ours_key = code(extra_heading)
    assert set(data) == django | {ours_key}
    ours, per_file = [rows for header, rows in tables(parts[extra_heading])
                      if header[0] == "key"]
    assert first_column(ours) == set(data[ours_key])
    files = data[ours_key]["files"]
    assert set(files) == set(data["paths"].values())
    assert first_column(per_file) == {key for entry in files.values() for key in entry}
    assert any(entry.get("encodings") for entry in files.values()), "compression did not run"


def test_manifest_format_as_documented(real_manifest: tuple[bytes, list[str]]) -> None:
    raw, state_entries = real_manifest
    data = json.loads(raw)
    text = doc("manifest.md")
    assert f'`"{data["version"]}"`' in text
    items = sorted(data["paths"].items())
    assert data["hash"] == hashlib.md5(json.dumps(items).encode()).hexdigest()[:12]
    assert raw == json.dumps(data).encode()  # one line, json.dumps defaults, no newline
    for entry in data["collectstatic"]["files"].values():
        assert entry["integrity"].startswith("sha384-")
        assert list(entry["encodings"]) == [e for e in ("gzip", "br", "zstd")
                                            if e in entry["encodings"]]
    bookkeeping = first_column(table_with(
        sections(text)["The `.collectstatic/` bookkeeping directory"], "entry"))
    assert {name.rstrip("/") for name in bookkeeping} == set(state_entries)


def test_hashed_name_examples() -> None:
    rows = table_with(sections(doc("manifest.md"))["Hashed names"], "logical name")
    checked = 0
    for row in rows:
        logical, hashed = code(row[0]), code(row[1])
        digest = re.search(r"\.([0-9a-f]{12})(\.|$)", hashed)
        assert digest, hashed
        assert hashed_name(logical, digest.group(1) + "0" * 20) == hashed
        checked += 1
    assert checked >= 3


# -- troubleshooting.md -------------------------------------------------------------

def _render(node: ast.AST) -> str:
    """A string expression with every variable part as NUL."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_render(value) for value in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _render(node.left) + _render(node.right)
    return "\0"


def _problem_message(call: ast.Call) -> str:
    """What config's ``_Validator.problem(key, expected, found, hint)`` prints."""
    args = list(call.args)
    message = "\0: expected " + _render(args[1])
    if len(args) > 2:
        message += ", found \0"
    hint = args[3] if len(args) > 3 else next(
        (kw.value for kw in call.keywords if kw.arg == "hint"), None)
    if hint is not None:
        message += " (" + _render(hint) + ")"
    return message


@lru_cache(maxsize=1)
def message_corpus() -> str:
    strings: list[str] = []
    for package in PACKAGES:
        for path in sorted((REPO / package).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    rendered = _render(node)
                    if rendered != "\0":
                        strings.append(rendered)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                        node.func.attr == "problem" and len(node.args) >= 2:
                    strings.append(_problem_message(node))
                if isinstance(node, ast.FunctionDef) and node.name == "problem":
                    # The synthesis above mirrors this helper; keep them in step.
                    body = "\1".join(_render(n) for n in ast.walk(node)
                                     if isinstance(n, ast.JoinedStr))
                    for piece in ("\0: expected \0", ", found \0", " (\0)"):
                        assert piece in body, f"config problem() no longer formats {piece!r}"
    return "\1".join(strings)


PLACEHOLDER = re.compile(r"<[^<>]*>")
EDGES = string.punctuation + string.whitespace


def documented_messages() -> list[str]:
    messages = []
    for header, rows in tables(doc("troubleshooting.md")):
        if header[0] == "message":
            messages += [code(row[0]) for row in rows]
    return messages


def test_troubleshooting_lists_many_messages() -> None:
    assert len(documented_messages()) >= 70


@pytest.mark.parametrize("message", documented_messages())
def test_documented_message_is_in_the_code(message: str) -> None:
    corpus = message_corpus()
    fragments = [part.strip(EDGES) for part in PLACEHOLDER.split(message)]
    missing = [part for part in fragments if part and part not in corpus]
    assert not missing, f"not found in {', '.join(PACKAGES)}: {missing}"


# -- links --------------------------------------------------------------------------

def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower().replace("`", "")
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def test_index_links_every_doc() -> None:
    index = doc("README.md")
    for path in DOCS.glob("*.md"):
        if path.name != "README.md":
            assert f"({path.name})" in index, f"docs/README.md does not link {path.name}"


def test_relative_links_resolve() -> None:
    anchors = {path.name: {slug(line.lstrip("#")) for line in path.read_text().splitlines()
                           if line.startswith("#")}
               for path in DOCS.glob("*.md")}
    for path in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if "://" in target:
                continue
            name, _, anchor = target.partition("#")
            name = name or path.name
            assert (DOCS / name).exists(), f"{path.name}: broken link {target}"
            if anchor and name in anchors:
                assert anchor in anchors[name], f"{path.name}: no anchor {target}"


# -- README.md: its commands and examples must be accepted by the code ----------------

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_blocks(language: str | None = None) -> list[str]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)
    return [body for lang, body in blocks if language is None or lang == language]


def test_readme_cli_commands_parse() -> None:
    import shlex

    from collectstatic.cli import build_parser

    commands = []
    for block in _readme_blocks():
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("collectstatic "):
                commands.append(shlex.split(line.split("  #")[0])[1:])
    assert len(commands) >= 4, commands
    for args in commands:
        build_parser().parse_args(args)  # argparse exits (SystemExit) on an unknown flag


def test_readme_scripts_exist() -> None:
    scripts = {match for block in _readme_blocks("sh")
               for match in re.findall(r"bash (scripts/\S+)", block)}
    assert scripts >= {"scripts/demo.sh", "scripts/test.sh"}
    for script in scripts:
        assert (README.parent / script).is_file(), script


def test_readme_configuration_examples_are_valid(tmp_path: Path) -> None:
    import sys

    from collectstatic.config import KEYS, settings_from_table

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    tables = [tomllib.loads(block) for block in _readme_blocks("toml")]
    configs = [t["tool"]["collectstatic"] for t in tables if "collectstatic" in t.get("tool", {})]
    assert len(configs) >= 2
    for config in configs:
        assert set(config) <= set(KEYS), set(config) - set(KEYS)
        # the paths it names, made real, so only the values themselves are judged
        for item in config.get("dirs", []):
            (tmp_path / (item["path"] if isinstance(item, dict) else item)).mkdir(
                parents=True, exist_ok=True)
        for app in config.get("apps", []):
            (tmp_path / "src" / app / "static").mkdir(parents=True, exist_ok=True)
            (tmp_path / "src" / app / "__init__.py").touch()
        settings_from_table(config, tmp_path)  # raises ConfigError on a bad value
