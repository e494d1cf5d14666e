"""Both examples, collected and served on 127.0.0.1, rendered by headless Chromium.

Chromium is driven over the DevTools protocol: every request must succeed,
the console must stay quiet, the web font must decode (``document.fonts``),
and a screenshot of each page is written for a person to look at (the path is
printed; ``COLLECTSTATIC_ARTIFACT_DIR`` keeps them somewhere known).

Chromium is the Debian package ``chromium``; ``.ci/run`` installs it. Without
it the tests skip, except in CI (``CI`` or ``COLLECTSTATIC_REQUIRE_BROWSER``
set), where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import EXAMPLE_SITE, REPO, cli

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1000, 720


def chromium_or_skip() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") or os.environ.get("COLLECTSTATIC_REQUIRE_BROWSER"):
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs the Debian package "
                    f"'chromium' (apt-get install -y chromium)")
    pytest.skip(f"no headless browser: {CHROMIUM} is missing (apt-get install chromium)")


# -- serving each example from a copy of it, collected --------------------------------
DJANGO_SERVER = """\
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, sys.argv[1])
""" + EXAMPLE_SITE.replace("@HOST@", '"127.0.0.1"') + """
from django.core.wsgi import get_wsgi_application
"""

FLASK_SERVER = """\
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, sys.argv[1])
from setuptools_flask_app.app import app as application

def get_wsgi_application():
    return application
"""

SERVE = """
class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", 0, get_wsgi_application(), Server, Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


def serve(project: Path, script: str) -> Iterator[str]:
    """Collect ``project`` as ``pip install -e .`` would, then serve it; yields the URL."""
    cli("collect", "--noinput", "-v", "0", cwd=project)
    (project / "serve.py").write_text(script + SERVE)
    proc = subprocess.Popen([sys.executable, str(project / "serve.py"), str(project / "src")],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), f"the example's server did not start (exit {proc.poll()})"
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def example_copy(tmp_path: Path, name: str) -> Path:
    project = tmp_path / name
    shutil.copytree(REPO / "examples" / name, project, ignore=shutil.ignore_patterns(
        "build", "dist", "staticfiles", "__pycache__", "*.egg-info"))
    return project


@pytest.fixture
def django_site(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("django")
    pytest.importorskip("whitenoise")
    yield from serve(example_copy(tmp_path, "hatch-django-app"), DJANGO_SERVER)


@pytest.fixture
def flask_site(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("flask")
    yield from serve(example_copy(tmp_path, "setuptools-flask-app"), FLASK_SERVER)


# -- the browser ----------------------------------------------------------------------
class Page:
    """One Chromium tab over the DevTools protocol, recording what went wrong."""

    def __init__(self, url: str) -> None:
        import websocket  # websocket-client

        self.events: list[dict[str, Any]] = []
        self._next = 0
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                assert "error" not in message, (method, message["error"])
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not any(e.get("method") == event for e in self.events):
            assert time.monotonic() < deadline, f"no {event} within {seconds} s"
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Failed requests, HTTP errors, console errors and warnings, page exceptions."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.loadingFailed":
                found.append(f"request failed: {params.get('errorText')} "
                             f"({self._url(params['requestId'])})")
            elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
                found.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(f"console {params['entry']['level']}: {params['entry']['text']}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning"):
                found.append(f"console.{params['type']}: {params['args']}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
        return found

    def responses(self) -> dict[str, dict[str, Any]]:
        return {e["params"]["response"]["url"]: e["params"]["response"] for e in self.events
                if e.get("method") == "Network.responseReceived"}

    def _url(self, request_id: str) -> str:
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Network.requestWillBeSent" and \
                    params.get("requestId") == request_id:
                return str(params["request"]["url"])
        return "?"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Page]:
    chromium = chromium_or_skip()
    pytest.importorskip("websocket", reason="websocket-client (the test extra) is missing")
    proc = subprocess.Popen([
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--remote-debugging-port=0", f"--window-size={WIDTH},{HEIGHT}", "about:blank",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        endpoint = None
        for line in proc.stderr:
            match = re.search(r"DevTools listening on ws://([^/]+)/", line)
            if match:
                endpoint = match.group(1)
                break
        assert endpoint, f"chromium did not start (exit {proc.poll()})"
        with urllib.request.urlopen(f"http://{endpoint}/json/list", timeout=60) as response:
            targets = json.load(response)
        (target,) = [t for t in targets if t["type"] == "page"]
        page = Page(target["webSocketDebuggerUrl"])
        for domain in ("Network", "Log", "Runtime", "Page"):
            page.call(f"{domain}.enable")
        page.call("Network.setCacheDisabled", cacheDisabled=True)
        page.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                  deviceScaleFactor=1, mobile=False)
        yield page
        page.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck browser
            proc.kill()
            proc.wait()


FONTS = """document.fonts.ready.then(() => ({
  status: document.fonts.status,
  inter: document.fonts.check('16px Inter') && document.fonts.check('bold 16px Inter'),
  faces: [...document.fonts].map(f => [f.family, f.weight, f.status]),
}))"""


def render(page: Page, url: str, name: str, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Load ``url``; assert a clean load with the font decoded; write the screenshot."""
    page.call("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired")
    fonts = page.evaluate(FONTS)
    page.evaluate("new Promise(done => setTimeout(done, 300))")  # late console messages
    artifacts = Path(os.environ.get("COLLECTSTATIC_ARTIFACT_DIR") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / f"{name}.png"
    import base64

    shot.write_bytes(base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"]))
    print(f"screenshot: {shot}")
    assert page.problems() == []
    assert fonts["status"] == "loaded" and fonts["inter"], fonts
    assert sorted(fonts["faces"]) == [["Inter", "400", "loaded"], ["Inter", "700", "loaded"]]
    responses = page.responses()
    fetched = {re.sub(r"\.[0-9a-f]{12}\.", ".", u.rsplit("/", 1)[-1]): r
               for u, r in responses.items()}
    for asset, kind in (("inter-latin-400-normal.woff2", "font/woff2"),
                        ("logo.svg", "image/svg+xml"), ("pattern.png", "image/png")):
        assert asset in fetched, sorted(responses)
        assert fetched[asset]["status"] == 200
        assert fetched[asset]["mimeType"] == kind
    return responses


def cache_control(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.headers["Cache-Control"])


def test_django_example_renders_clean(browser: Page, django_site: str, tmp_path: Path) -> None:
    responses = render(browser, django_site, "hatch-django-app", tmp_path)
    css = [u for u in responses if re.search(r"/app\.[0-9a-f]{12}\.css$", u)]
    assert css, sorted(responses)  # {% static %} read the manifest
    assert browser.evaluate("getComputedStyle(document.querySelector('.mark'))"
                            ".backgroundImage").startswith('url("http://127.0.0.1')


def test_flask_example_renders_clean_and_caches_by_name(browser: Page, flask_site: str,
                                                        tmp_path: Path) -> None:
    responses = render(browser, flask_site, "setuptools-flask-app", tmp_path)
    (css,) = [u for u in responses if re.search(r"/css/app\.[0-9a-f]{12}\.css$", u)]
    assert cache_control(css) == "public, max-age=31536000, immutable"
    unhashed = cache_control(re.sub(r"\.[0-9a-f]{12}\.css$", ".css", css))
    assert "immutable" not in unhashed
    max_age = int(re.search(r"max-age=(\d+)", unhashed).group(1))  # type: ignore[union-attr]
    assert max_age <= 3600, unhashed


def test_skips_only_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a browser the suite says why; in CI it fails instead."""
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("COLLECTSTATIC_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        chromium_or_skip()
    monkeypatch.setenv("COLLECTSTATIC_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="missing in CI"):
        chromium_or_skip()


