"""Benchmark: ``collectstatic publish`` against obstore's own recursive upload.

    python benchmarks/publish.py [--apps 4] [--files 150] [--rounds 3]

Generates a static tree (``--apps`` apps of ``--files`` files each: images,
fonts, CSS with url() and @import, JS with source maps), collects it with
gzip variants, and starts a local S3 API server (moto in server mode, in its
own process so that the server's CPU is not the client's GIL). Then, each
round, into fresh buckets, in alternating order:

- baseline: obstore's own recursive upload (``obstore.fsspec.FsspecStore.put(...,
  recursive=True)``) of exactly the files publish uploads (a hard-linked copy);
- first: ``publish()`` into an empty bucket;
- listing: one listing of the published prefix alone (obstore.list): what a
  re-publish would cost at least if it listed the destination (it reads the
  version records instead; ``--verify`` and ``--prune`` list);
- unchanged: ``publish()`` again, nothing changed;
- one change: one CSS file edited and collected again (not timed), then
  ``publish()``.

Prints medians (min-max) and the ratios the issue sets: first <= 1.2x the
baseline, unchanged <= 0.05x first, one change <= 0.1x first. Needs moto[server],
obstore and this repo installed (``bash scripts/test.sh`` makes such a .venv),
and fsspec for the baseline (in the test extra).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collectstatic.collection import CollectOptions, collect  # noqa: E402
from collectstatic.config import load_settings  # noqa: E402
from collectstatic.publish import publish, read_tree  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret"


def make_project(base: Path, apps: int, files: int) -> Path:
    rng = random.Random(7)
    for app in range(apps):
        root = base / "static" / f"app{app}"
        images = files // 2
        for i in range(images):
            path = root / "img" / f"pic{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            size = int(rng.expovariate(1 / 12_000)) + 200
            path.write_bytes(rng.randbytes(size // 2) + bytes(range(256)) * (size // 512 + 1))
        (root / "css").mkdir(parents=True)
        styles = max(2, files // 6)
        for i in range(styles):
            refs = "\n".join(f".c{i}-{k} {{ background: url('../img/pic{k}.png'); }}"
                             for k in rng.sample(range(images), min(8, images)))
            below = f'@import "style{i - 1}.css";\n' if i % 2 else ""
            (root / f"css/style{i}.css").write_text(
                below + refs + "\n" + ".filler { color: #333; margin: 0 auto; }\n" * 40)
        (root / "js").mkdir(parents=True)
        for i in range(files - images - styles):
            code = "".join(f"function f{i}_{j}(a, b) {{ return a * {j} + b; }}\n"
                           for j in range(60))
            (root / f"js/mod{i}.js").write_text(code + f"//# sourceMappingURL=mod{i}.js.map\n")
            (root / f"js/mod{i}.js.map").write_text(json.dumps(
                {"version": 3, "sources": [f"mod{i}.ts"], "mappings": "AAAA"}))
    (base / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["static"]\ncompress = ["gzip"]\n')
    return base


def recollect(project: Path) -> None:
    collect(load_settings(project / "pyproject.toml"), CollectOptions(), verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                             "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("moto server did not start")


def baseline(project: Path, endpoint: str, bucket: str) -> float:
    """obstore's own recursive upload of exactly the files publish sends."""
    from obstore.fsspec import FsspecStore

    settings = load_settings(project / "pyproject.toml")
    tree = read_tree(settings.root)
    staging = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        for obj in (*tree.objects, tree.manifest):
            assert obj is not None
            target = staging / obj.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(obj.path, target)
        fs = FsspecStore("s3", endpoint=endpoint, region="us-east-1", access_key_id=KEY,
                         secret_access_key=SECRET, client_options={"allow_http": True})
        start = time.perf_counter()
        fs.put(f"{staging}/", f"{bucket}/static/", recursive=True)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(staging)


def timed_publish(project: Path, bucket: str) -> tuple[float, str]:
    settings = load_settings(project / "pyproject.toml")
    start = time.perf_counter()
    result = publish(f"s3://{bucket}/static", settings=settings)
    return time.perf_counter() - start, result.summary()


def listing(bucket: str) -> float:
    """One listing of the published prefix alone: what a re-publish that listed
    the destination would cost at least."""
    import obstore
    from obstore.store import from_url

    store = from_url(f"s3://{bucket}/static", client_options={"allow_http": True})
    start = time.perf_counter()
    count = sum(len(chunk) for chunk in obstore.list(store))
    assert count
    return time.perf_counter() - start


def create_bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY,
                 aws_secret_access_key=SECRET, region_name="us-east-1").create_bucket(Bucket=name)


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=4)
    parser.add_argument("--files", type=int, default=150, help="source files per app")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    server, endpoint = start_server()
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=KEY,
                      AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-east-1")
    try:
        project = make_project(work / "project", args.apps, args.files)
        recollect(project)
        tree = read_tree(load_settings(project / "pyproject.toml").root)
        count = len(tree.objects) + 1
        size = sum(obj.size for obj in tree.objects)
        print(f"tree: {args.apps} apps x {args.files} source files -> {count} objects, "
              f"{size / 1e6:.1f} MB (gzip variants included); server: moto at {endpoint}")
        times: dict[str, list[float]] = {"baseline": [], "first": [], "listing": [],
                                         "unchanged": [], "one change": []}
        summaries = {}
        edited = project / "static/app0/css/style0.css"
        original = edited.read_text()
        for round_ in range(args.rounds):
            edited.write_text(original)
            recollect(project)
            create_bucket(endpoint, f"base{round_}")
            create_bucket(endpoint, f"pub{round_}")
            order = ["baseline", "first"] if round_ % 2 == 0 else ["first", "baseline"]
            for name in order:
                if name == "baseline":
                    times["baseline"].append(baseline(project, endpoint, f"base{round_}"))
                else:
                    elapsed, summaries["first"] = timed_publish(project, f"pub{round_}")
                    times["first"].append(elapsed)
            times["listing"].append(listing(f"pub{round_}"))
            elapsed, summaries["unchanged"] = timed_publish(project, f"pub{round_}")
            times["unchanged"].append(elapsed)
            edited.write_text(original + f"\n.round{round_} {{ color: red; }}\n")
            recollect(project)
            elapsed, summaries["one change"] = timed_publish(project, f"pub{round_}")
            times["one change"].append(elapsed)
        for name, values in times.items():
            line = f"{name:>11}: {fmt(values)}"
            if name in summaries:
                line += f"  [{summaries[name]}]"
            print(line)
        first = statistics.median(times["first"])
        print(f"first / baseline = {first / statistics.median(times['baseline']):.2f}x "
              f"(target <= 1.2x)")
        print(f"unchanged / first = {statistics.median(times['unchanged']) / first:.3f}x "
              f"(target <= 0.05x)")
        print(f"unchanged / listing alone = "
              f"{statistics.median(times['unchanged']) / statistics.median(times['listing']):.2f}x")
        print(f"one change / first = {statistics.median(times['one change']) / first:.3f}x "
              f"(target <= 0.1x)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
