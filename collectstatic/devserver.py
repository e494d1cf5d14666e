"""The development server behind ``collectstatic serve``, for the CLI.

A threaded :mod:`wsgiref` server around :class:`~collectstatic.serve.SourceFiles`
(the sources, as collect would collect them) or, with ``collected=True``,
:class:`~collectstatic.serve.StaticFiles` (the collected root). It passes the
raw request target as ``REQUEST_URI``, so encoded slashes are seen, and hands
every line it would write (request lines, errors) to a ``log`` callback, with
control characters escaped as :mod:`http.server` escapes them: a request
cannot write terminal escape sequences. It prints nothing itself.
"""

from __future__ import annotations

import importlib
import ipaddress
import os
import socket
import socketserver
import sys
from typing import Any, Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .config import Settings
from .errors import CollectStaticError
from .serve import SourceFiles, StaticFiles, WSGIApp

__all__ = ["build_app", "escape", "is_loopback", "load_app", "make_server"]

Log = Callable[[str], None]

# http.server's table (BaseHTTPRequestHandler.log_message): C0 and C1 controls
# as \xNN, and the backslash doubled so that an escape cannot be forged.
_CONTROL = str.maketrans({**{c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))},
                          ord("\\"): "\\\\"})


def escape(text: str) -> str:
    """``text`` with control characters escaped as :mod:`http.server` logs them."""
    return text.translate(_CONTROL)


class _LogStream:
    """A text stream that sends each line to ``log`` (wsgiref writes the
    traceback of a failing ``--app`` to a stream)."""

    def __init__(self, log: Log | None) -> None:
        self.log = log
        self.pending = ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        if self.log is not None:
            for line in lines:
                self.log(escape(line))
        return len(text)

    def flush(self) -> None:
        pass


class _Handler(WSGIRequestHandler):
    """wsgiref's handler: the raw target as ``REQUEST_URI``, lines to the log."""

    server: _Server

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["REQUEST_URI"] = self.path
        return environ

    def get_stderr(self) -> Any:
        return _LogStream(self.server.log)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} - {escape(format % args)}")


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    log: Log | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # One line instead of socketserver's traceback on stderr (a client that
        # went away mid-response is the usual cause).
        if self.log is not None:
            error = sys.exc_info()[1]
            self.log(escape(f"{client_address[0]} - request not completed ({error!r})"))


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(app: WSGIApp, host: str = "127.0.0.1", port: int = 0, *,
                log: Log | None = None) -> WSGIServer:
    """A threaded :mod:`wsgiref` server for ``app`` on ``host:port`` (port 0:
    a free one); ``log`` gets request and error lines (``None``: none are kept).

    Call ``serve_forever()``; ``shutdown()`` from another thread. A port out
    of range, an unknown host or a taken port is a :class:`CollectStaticError`.
    """
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not 0 <= port <= 65535:
        raise CollectStaticError(f"cannot listen on {where} (a port is a number from 0 to "
                                 f"65535; 0 picks a free one)")
    server_class = _Server6 if ":" in host else _Server
    try:
        server = server_class((host, port), _Handler)
    except (OSError, OverflowError, ValueError) as exc:  # (ValueError: a NUL in the host)
        reason = getattr(exc, "strerror", None) or exc
        raise CollectStaticError(f"cannot listen on {where} ({reason})") from None
    server.log = log
    server.set_app(app)
    return server


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (the only safe place to listen)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def load_app(spec: str) -> WSGIApp:
    """``MODULE:CALLABLE`` -> the WSGI application, imported with the current
    directory on ``sys.path`` (as ``python -m`` would)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CollectStaticError(f"--app: expected MODULE:CALLABLE, found {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise CollectStaticError(f"--app: cannot load {spec!r} ({exc})") from None
    if not callable(target):
        raise CollectStaticError(f"--app: {spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def build_app(settings: Settings, *, collected: bool = False, prefix: str | None = None,
              app: WSGIApp | None = None) -> SourceFiles | StaticFiles:
    """What ``collectstatic serve`` serves: the sources, or the collected root.

    A root collected with ``link = true`` holds links into the sources; they
    are served, and no other link out of root.
    """
    prefix = prefix or settings.static_url
    if not collected:
        return SourceFiles(settings, prefix, app=app)
    if not settings.root.is_dir():
        raise CollectStaticError(f"{settings.root}: root does not exist; run "
                                 f"'collectstatic collect' first, or drop --collected")
    return StaticFiles(settings.root, prefix, app=app, manifest_name=settings.manifest_name,
                       sources=[source.path for source in settings.sources])
