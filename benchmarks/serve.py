"""Benchmark: serving throughput of collectstatic.serve.StaticFiles against WhiteNoise.

    python benchmarks/serve.py [--files 300] [--seconds 2] [--rounds 5] [--clients 4]

Both apps serve the same collected tree (made by our CLI, with gzip siblings
beside every text file), mounted at /static/, in two ways:

- in-process: the WSGI callable driven directly (no sockets): the app's own cost;
- HTTP: each app in its own server subprocess, the same threaded wsgiref server
  (collectstatic.devserver.make_server) on 127.0.0.1, hit by ``--clients`` client
  threads over fresh connections (wsgiref speaks HTTP/1.0).

Every loop is bounded by time and count; rounds alternate the order of the two
apps; the report gives requests/s medians (min-max) and the ratio. Needs
whitenoise and this repo installed in the running Python.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
MAX_REQUESTS = 10_000_000  # a hard cap on every loop, besides its time limit


def make_tree(base: Path, count: int) -> Path:
    """A project with ``count`` source files, collected by our CLI; returns root."""
    rng = random.Random(42)
    assets = base / "assets"
    for index in range(count):
        kind = index % 4
        if kind == 0:
            path, data = f"css/s{index}.css", (f".c{index} {{ color: red }}\n" * rng.randint(
                20, 400)).encode()
        elif kind == 1:
            path, data = f"js/m{index}.js", (f"export const v{index} = {index};\n" * rng.randint(
                20, 800)).encode()
        elif kind == 2:
            path, data = f"img/i{index}.png", rng.randbytes(rng.randint(500, 40_000))
        else:
            path, data = f"fonts/f{index}.woff2", rng.randbytes(rng.randint(5_000, 60_000))
        target = assets / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (base / "pyproject.toml").write_text('[tool.collectstatic]\nroot = "out"\n'
                                         'dirs = ["assets"]\n')
    subprocess.run([sys.executable, "-m", "collectstatic", "collect", "--noinput", "-v", "0"],
                   cwd=base, check=True)
    root = base / "out"
    for path in list(root.rglob("*")):
        if path.suffix in (".css", ".js") and path.is_file():
            gz = path.with_name(path.name + ".gz")
            if not gz.exists():
                gz.write_bytes(gzip.compress(path.read_bytes(), 6, mtime=0))
    return root


def request_paths(root: Path) -> list[str]:
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and not p.name.endswith(".gz")
                   and ".collectstatic" not in p.parts)
    return ["/static/" + name for name in names]


def make_app(kind: str, root: Path) -> Callable[..., Any]:
    def not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("404 Not Found", [("Content-Length", "0")])
        return []

    if kind == "ours":
        from collectstatic.serve import StaticFiles

        return StaticFiles(root, "/static/", app=not_found)
    from whitenoise import WhiteNoise

    return WhiteNoise(not_found, root=str(root), prefix="/static/")  # type: ignore[no-any-return]


# -- in-process -------------------------------------------------------------------------------
def in_process(app: Callable[..., Any], paths: list[str], seconds: float) -> float:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                       ) -> None:
        statuses.append(status)

    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while done < MAX_REQUESTS and time.perf_counter() < deadline:
        for path in paths:
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "bench",
                       "SERVER_PORT": "80", "wsgi.url_scheme": "http",
                       "HTTP_ACCEPT_ENCODING": "gzip, deflate"}
            body = app(environ, start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
            done += 1
    elapsed = time.perf_counter() - start
    assert all(s.startswith("200") for s in statuses[:len(paths)]), statuses[:5]
    return done / elapsed


# -- over HTTP -------------------------------------------------------------------------------
def serve_main(kind: str, root: str) -> None:
    """Child process: serve ``kind`` on an ephemeral loopback port until stdin closes."""
    from collectstatic.devserver import make_server

    server = make_server(make_app(kind, Path(root)), "127.0.0.1", 0)
    print(server.server_address[1], flush=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    sys.stdin.read()  # the parent closes stdin to stop us
    server.shutdown()
    server.server_close()


def over_http(kind: str, root: Path, paths: list[str], seconds: float, clients: int) -> float:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(root)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        counts = [0] * clients
        errors: list[str] = []
        deadline = time.perf_counter() + seconds

        def client(index: int) -> None:
            order = paths[index:] + paths[:index]
            while counts[index] < MAX_REQUESTS and time.perf_counter() < deadline:
                for path in order:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    try:
                        connection.request("GET", path, headers={
                            "Accept-Encoding": "gzip, deflate"})
                        response = connection.getresponse()
                        response.read()
                        if response.status != 200:
                            errors.append(f"{path}: {response.status}")
                            return
                    finally:
                        connection.close()
                    counts[index] += 1
                    if time.perf_counter() >= deadline:
                        break

        start = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 30)
        elapsed = time.perf_counter() - start
        if errors:
            raise SystemExit(f"{kind}: {errors[0]}")
        return sum(counts) / elapsed
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):9.0f} req/s ({min(values):.0f}-{max(values):.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_main(*args.serve)
        return 0
    import whitenoise  # noqa: F401 - fail early when the baseline is missing

    with tempfile.TemporaryDirectory(prefix="collectstatic-serve-bench-") as tmp:
        root = make_tree(Path(tmp), args.files)
        paths = request_paths(root)
        print(f"{len(paths)} files under /static/; Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs; {args.rounds} rounds of {args.seconds}s")
        apps = {kind: make_app(kind, root) for kind in ("ours", "whitenoise")}
        results: dict[str, dict[str, list[float]]] = {"in-process": {}, "http": {}}
        for round_index in range(args.rounds):
            order = list(apps) if round_index % 2 == 0 else list(reversed(apps))
            for kind in order:
                results["in-process"].setdefault(kind, []).append(
                    in_process(apps[kind], paths, args.seconds))
                results["http"].setdefault(kind, []).append(
                    over_http(kind, root, paths, args.seconds, args.clients))
        for mode, by_kind in results.items():
            print(f"\n{mode}:")
            for kind, values in by_kind.items():
                print(f"  {kind:<11} {summary(values)}")
            ratio = statistics.median(by_kind["ours"]) / statistics.median(by_kind["whitenoise"])
            print(f"  ours / whitenoise: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
