"""``collectstatic collect|find|serve|publish``: the only module that prints or prompts."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .collection import CollectOptions, collect, root_has_files
from .config import Settings, load_settings
from .errors import CollectStaticError
from .finders import find, suggest
from .progress import Meter

__all__ = ["build_parser", "console_main", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command line: each command with its flags (docs/cli.md lists them)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", default="pyproject.toml",
                        help="the pyproject.toml to read [tool.collectstatic] from "
                             "(default: ./pyproject.toml)")
    parser = argparse.ArgumentParser(
        prog="collectstatic",
        description="Collect, hash and manifest static files as Django's collectstatic does, "
                    "configured from [tool.collectstatic] in pyproject.toml.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{collect,find,serve,publish}")
    commands.required = True

    c = commands.add_parser("collect", parents=[common], help="collect static files into root")
    c.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                   help="do NOT prompt before overwriting or clearing root")
    c.add_argument("-i", "--ignore", action="append", default=[], metavar="PATTERN",
                   dest="ignore", help="ignore files or directories matching this glob "
                                       "pattern (repeatable)")
    c.add_argument("-n", "--dry-run", action="store_true",
                   help="do everything except modify the file system")
    c.add_argument("-c", "--clear", action="store_true",
                   help="delete everything in root before collecting")
    c.add_argument("-l", "--link", action="store_true",
                   help="symlink each file instead of copying it")
    c.add_argument("--no-post-process", action="store_false", dest="post_process",
                   help="do not hash files or write the manifest")
    c.add_argument("--no-default-ignore", action="store_false", dest="default_ignore",
                   help="do not ignore 'CVS', '.*' and '*~'")
    c.add_argument("-v", "--verbosity", type=int, choices=(0, 1, 2, 3), default=1)
    c.add_argument("--root", metavar="DIR", help="collect into DIR instead of the "
                                                 "configured root")

    f = commands.add_parser("find", parents=[common],
                            help="show where static files are found (Django's findstatic)")
    f.add_argument("paths", nargs="+", metavar="PATH")
    f.add_argument("--first", action="store_true", help="only the first match for each path")
    f.add_argument("-v", "--verbosity", type=int, choices=(0, 1, 2), default=1)

    s = commands.add_parser("serve", parents=[common],
                            help="development server: static files straight from the sources "
                                 "(or the collected root with --collected)")
    add_serve_arguments(s)

    p = commands.add_parser("publish", parents=[common],
                            help="upload the collected tree to object storage, the manifest last")
    p.add_argument("dest", metavar="DEST", help="s3://bucket/prefix, gs://..., az://..., "
                                                "or file:///abs/dir")
    tree = p.add_mutually_exclusive_group()
    tree.add_argument("--package", metavar="PKG", help="the collected tree of an installed "
                                                       "package (PKG or PKG:DIR)")
    tree.add_argument("--wheel", metavar="FILE", help="the collected tree inside a built wheel")
    p.add_argument("--prune", action="store_true", help="delete objects only versions older "
                                                        "than the last keep-versions need")
    p.add_argument("--verify", action="store_true",
                   help="list every object of the destination instead of trusting its "
                        "version records: uploads what something else deleted or changed")
    p.add_argument("-n", "--dry-run", action="store_true",
                   help="list what would be uploaded or removed; change nothing")
    return parser


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``collectstatic serve``; here so that other commands do not
    import the server (wsgiref, http.server)."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to listen on (default: 8000; 0 picks a free one)")
    parser.add_argument("--collected", action="store_true",
                        help="serve the collected root with production headers instead of "
                             "the sources")
    parser.add_argument("--prefix", metavar="URL",
                        help="URL prefix to serve under (default: the path of static-url)")
    parser.add_argument("--app", metavar="MODULE:CALLABLE",
                        help="a WSGI application to pass every other request to")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log requests")


def _settings(args: argparse.Namespace, overrides: dict[str, Any]) -> Settings:
    return load_settings(Path(args.config), overrides=overrides, overrides_origin="--")


def _printable(message: str) -> str:
    """``message`` on one line: control characters (from file names or hostile CSS:
    NUL, CR, newlines, terminal escapes) shown as ``\\x1b``-style escapes."""
    if message.isprintable():
        return message
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in message)


class _Output:
    """Where one command prints (one per run, passed down). A stream that
    cannot be written (a closed pipe, as with ``| head``; a full disk) is not
    written again: the run goes on to its end, and ``main`` then reports the
    failure once and ends with status 120."""

    def __init__(self) -> None:
        self.failed: dict[int, BaseException] = {}  # id of each stream that failed

    def __call__(self, text: str, error: bool = False, flush: bool = False) -> None:
        stream = sys.stderr if error else sys.stdout
        if id(stream) in self.failed:
            return
        try:
            print(text, file=stream, flush=flush)
        except (OSError, ValueError) as exc:  # (ValueError: the stream was closed)
            self.failed[id(stream)] = exc

    def ended(self, status: int) -> int:
        """The status to end with, once a failure is reported (if stderr takes it)."""
        if not self.failed:
            return status
        failure = next(iter(self.failed.values()))
        self(f"error: cannot write the output ({getattr(failure, 'strerror', None) or failure})",
             error=True, flush=True)
        return status or 120  # (Python's own status when its exit cannot flush)

    def frame(self, text: str) -> None:
        """A progress frame, written to stderr as it is (it brings its own
        line ending or carriage return)."""
        if id(sys.stderr) in self.failed:
            return
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError) as exc:
            self.failed[id(sys.stderr)] = exc

    def flush(self) -> None:
        """Flush both streams; a failure counts as a failed write."""
        for stream in (sys.stdout, sys.stderr):
            if id(stream) not in self.failed:
                try:
                    stream.flush()
                except (OSError, ValueError) as exc:  # a full disk, a closed pipe
                    self.failed[id(stream)] = exc


def _confirm(settings: Settings, args: argparse.Namespace) -> None:
    lines = ["\n"]
    if args.dry_run:
        lines.append("You have activated the --dry-run option so no files will be modified.\n\n")
    lines.append("You have requested to collect static files at the destination\n"
                 f"location as configured in {args.config}:\n\n    {settings.root}\n\n")
    lines.append("This will DELETE ALL FILES in this location!\n" if args.clear
                 else "This will overwrite existing files!\n")
    lines.append("Are you sure you want to do this?\n\nType 'yes' to continue, or 'no' to "
                 "cancel: ")
    try:
        answer = input("".join(lines))
    except EOFError:
        raise CollectStaticError("Collecting static files cancelled: no answer on standard "
                                 "input (pass --noinput to run without asking)") from None
    if answer != "yes":
        raise CollectStaticError("Collecting static files cancelled.")


def _collect(args: argparse.Namespace, output: _Output) -> int:
    overrides: dict[str, Any] = {}
    if args.root is not None:
        overrides["root"] = os.path.abspath(args.root)
    if args.link:
        overrides["link"] = True
    if not args.default_ignore:
        overrides["default-ignore"] = False
    settings = _settings(args, overrides)
    if args.interactive and root_has_files(settings):
        _confirm(settings, args)
    verbosity = args.verbosity

    def log(message: str, level: int) -> None:
        if verbosity >= level:
            output(message, flush=True)

    options = CollectOptions(clear=args.clear, dry_run=args.dry_run,
                             post_process=args.post_process, extra_ignore=tuple(args.ignore))
    # At -v 2 and more every file is a line of its own: that is the progress.
    meter = _meter(output) if verbosity == 1 else None
    try:
        result = collect(settings, options, log=log, verbosity=verbosity, progress=meter)
    finally:
        if meter is not None:
            meter.close()
    if verbosity >= 1:
        for message in result.warnings:
            output(f"warning: {_printable(message)}", error=True)
        output(result.summary())
    return 0


def _meter(output: _Output) -> Meter:
    """Progress on stderr: one line redrawn on a terminal; in a log, a plain
    line now and then, and only for a run long enough to need one."""
    tty = sys.stderr.isatty()
    return Meter(output.frame, tty=tty, delay=1.0 if tty else 5.0)


def _find(args: argparse.Namespace, output: _Output) -> int:
    settings = _settings(args, {})
    status = 0
    for path in args.paths:
        matches = find(settings, path, first=args.first)
        searched = ""
        if args.verbosity >= 2:
            searched = "\nLooking in the following locations:\n  " + "\n  ".join(
                str(source.path) for source in settings.sources)
        if matches:
            if args.verbosity >= 1:
                output(f"Found '{path}' here:\n  " + "\n  ".join(matches) + searched)
            else:
                output("\n".join(matches))
        else:
            status = 1
            if args.verbosity >= 1:
                close = suggest(settings, path)
                hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
                output(f"error: No matching file found for '{path}'.{hint}{searched}", error=True)
    return status


def _serve(args: argparse.Namespace, output: _Output) -> int:
    """The development server, until Control-C: a start-up line, then one
    line per request (unless ``--quiet``)."""
    from . import devserver  # (only this command needs wsgiref)

    settings = _settings(args, {})
    app = devserver.load_app(args.app) if args.app else None
    served = devserver.build_app(settings, collected=args.collected, prefix=args.prefix,
                                 app=app)
    log = None if args.quiet else (lambda line: output(line, flush=True))
    server = devserver.make_server(served, args.host, args.port, log=log)
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    what = (f"the collected root {settings.root}" if args.collected
            else f"{len(settings.sources)} source dir(s), through the finders")
    output(f"Serving static files from {what} at http://{shown}:{port}{served.prefix} "
           f"- for development only, do not use it in production. Quit with CONTROL-C.",
           flush=True)
    if not devserver.is_loopback(str(host)):
        output(f"warning: listening on {host}, which is not a loopback address", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _publish(args: argparse.Namespace, output: _Output) -> int:
    import contextlib

    from . import publish  # (the object-store client is imported only to publish)

    own_tree = args.package is None and args.wheel is None
    settings = _settings(args, {}) if own_tree or Path(args.config).is_file() else None
    tty = sys.stderr.isatty()

    def line(text: str) -> None:  # (progress: one line on a terminal, rewritten in place)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"\r\x1b[K{text}")
            sys.stderr.flush()

    def progress(event: publish.Progress) -> None:
        if tty:
            line(f"{event.action} {event.done}/{event.total}: {_printable(event.name)[-60:]}")

    try:
        result = publish.publish(args.dest, package=args.package, wheel=args.wheel,
                                 settings=settings,
                                 config=publish.load_publish_config(args.config),
                                 prune=args.prune, dry_run=args.dry_run,
                                 verify=args.verify, progress=progress)
    finally:
        if tty:
            line("")
    if args.dry_run:
        for name in result.uploaded:
            output(f"would upload {_printable(name)}")
        for name in result.pruned:
            output(f"would remove {_printable(name)}")
    output(result.summary())
    return 0


_COMMANDS = {"collect": _collect, "find": _find, "serve": _serve, "publish": _publish}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (for callers that go on)."""
    output = _Output()
    return output.ended(_run(argv, output))


def _run(argv: Sequence[str] | None, output: _Output) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args, output)
    except CollectStaticError as exc:
        output(f"error: {_printable(str(exc))}", error=True)
        return 1
    except KeyboardInterrupt:
        output("error: interrupted", error=True)
        return 130


def console_main() -> NoReturn:
    """The ``collectstatic`` command and ``python -m collectstatic``: ``main()``,
    then the process ends at once (``main`` is for callers that go on).

    Tearing the interpreter down frees its objects one by one, for memory
    the exit gives back anyway; a run with nothing to do is mostly start-up
    and that teardown. Only this entry point ends so: the library never does.
    """
    output = _Output()
    status = output.ended(_run(None, output))
    reported = bool(output.failed)  # (a failure while printing, reported already)
    output.flush()
    if not reported:
        status = output.ended(status)
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    console_main()
