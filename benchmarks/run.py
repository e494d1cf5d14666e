"""Benchmark: collectstatic against a plain copy, Django and WhiteNoise.

    python benchmarks/run.py [--size small|large|bigjs] [--repeat 5] [--only NAME,...]
                             [--baseline REV]

Builds (once, cached under benchmarks/.cache) a realistic static tree: Django
admin's own files, real front-end packages fetched with ``npm pack``
(Bootstrap, Font Awesome, jQuery), and generated apps whose CSS uses url(),
nested @import and source maps, with duplicates across apps. ``--size bigjs``
is instead the whole published contents of npm packages with big JS (Monaco,
pdf.js, MathJax, TinyMCE, Ace, three.js, ECharts, core-js: about 11,000 files,
200 MB of JS/CSS), where post-processing's memory shows. Then it runs
every scenario as a subprocess, alternating their order each round, and
prints medians (min-max), ratios measured in the same run, and the peak RSS
of every scenario (the largest of its processes).

Needs, in the running Python: Django >= 6.1 and whitenoise (the baselines),
brotli (WhiteNoise's and our brotli), hatchling (the wheel scenario), and
this repo installed. ``bash scripts/test.sh`` makes such a venv (.venv).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
REPO = HERE.parent
NPM_PACKAGES = ["bootstrap@5.3.3", "@fortawesome/fontawesome-free@6.5.2", "jquery@3.7.1"]
SIZES = {  # generated apps, files per app, and the mean binary size in bytes
    "small": (4, 150, 12_000),
    "large": (40, 260, 30_000),
    "bigjs": (0, 0, 0),  # no generated apps: BIG_JS_PACKAGES whole
}
BIG_JS_PACKAGES = ["monaco-editor@0.52.2", "pdfjs-dist@4.10.38", "mathjax@3.2.2",
                   "tinymce@7.6.0", "ace-builds@1.37.5", "three@0.170.0", "echarts@5.5.1",
                   "core-js@3.39.0"]


# -- the tree ------------------------------------------------------------------------

def build_tree(size: str) -> Path:
    tree = CACHE / f"tree-{size}"
    if (tree / ".complete").exists():
        return tree
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    if size == "bigjs":
        for archive in npm_archives(BIG_JS_PACKAGES):
            with tarfile.open(archive) as tar:
                safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(tree / "npm" / archive.name.rsplit("-", 1)[0], **safe)
        (tree / ".complete").write_text("ok")
        return tree
    import django

    admin = Path(django.__file__).parent / "contrib/admin/static"
    shutil.copytree(admin, tree / "admin")
    fetch_npm(tree / "npm")
    apps, per_app, mean = SIZES[size]
    rng = random.Random(1234)
    for index in range(apps):
        generate_app(tree / f"app{index:02d}", index, per_app, mean, rng)
    (tree / ".complete").write_text("ok")
    return tree


def npm_archives(specs: list[str]) -> list[Path]:
    """The ``npm pack`` archives of ``specs`` (``name@version``), fetched once
    into benchmarks/.cache/npm; [] if npm cannot fetch them."""
    cache = CACHE / "npm"
    cache.mkdir(parents=True, exist_ok=True)

    def archive(spec: str) -> Path:
        name, version = spec.rsplit("@", 1)
        return cache / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"

    wanted = [spec for spec in specs if not archive(spec).exists()]
    if wanted:
        try:
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(cache),
                            *wanted], cwd=cache, check=True, capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"note: npm pack failed ({exc})", file=sys.stderr)
            return []
    return [archive(spec) for spec in specs]


def fetch_npm(dest: Path) -> None:
    dest.mkdir(parents=True)
    work = Path(tempfile.mkdtemp())
    archives = npm_archives(NPM_PACKAGES)
    if not archives:
        print("note: the tree has no npm packages", file=sys.stderr)
        return
    for archive in archives:
        name = archive.name.rsplit("-", 1)[0]
        with tarfile.open(archive) as tar:
            tar.extractall(work / name)
        package = work / name / "package"
        for part in ("dist", "css", "js", "webfonts", "svgs", "sprites"):
            if (package / part).is_dir():
                shutil.copytree(package / part, dest / name / part)
    shutil.rmtree(work)


def _binary(rng: random.Random, size: int) -> bytes:
    # half random (incompressible, like images), half repetitive
    head = rng.randbytes(size // 2) if hasattr(rng, "randbytes") else os.urandom(size // 2)
    return head + bytes(range(256)) * ((size - len(head)) // 256 + 1)


def image_name(number: int) -> str:
    return f"{'sub/' if number % 3 else ''}pic{number}.png"


def generate_app(root: Path, index: int, files: int, mean: int, rng: random.Random) -> None:
    images = max(4, files // 2)
    fonts = max(2, files // 20)
    styles = max(3, files // 6)
    scripts = max(2, files - images - fonts - 2 * styles)
    for i in range(images):
        path = root / "img" / image_name(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_binary(rng, int(rng.expovariate(1 / mean)) + 200))
    for i in range(fonts):
        path = root / f"fonts/font{i}.woff2"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_binary(rng, mean * 2))
    (root / "css/parts").mkdir(parents=True, exist_ok=True)
    for i in range(styles):
        refs = "\n".join(
            f".c{i}-{j} {{ background: url('../img/{image_name(k)}'); }}"
            for j, k in enumerate(rng.sample(range(images), min(8, images))))
        font = f"@font-face {{ src: url(../fonts/font{i % fonts}.woff2) format('woff2'); }}"
        body = f"/* app {index} style {i} */\n{font}\n{refs}\n" + \
            ".filler { color: #333; margin: 0 auto; }\n" * 40
        # nested imports: style i imports part i, which imports part i-1 for odd
        # i (Django gives up on chains deeper than its 5 passes can settle).
        part = root / f"css/parts/p{i}.css"
        below = f'@import "p{i - 1}.css";\n' if i % 2 else ""
        image = image_name(i % images)
        part_body = body.replace("url(../", "url(../../").replace("url('../", "url('../../")
        part.write_text(f"{below}.part{i} {{ background: url(../../img/{image}); }}\n"
                        f"{part_body}")
        (root / f"css/style{i}.css").write_text(
            f'@import url("parts/p{i}.css");\n{body}/*# sourceMappingURL=style{i}.css.map */\n')
        (root / f"css/style{i}.css.map").write_text(json.dumps(
            {"version": 3, "sources": [f"style{i}.scss"], "mappings": "AAAA"}))
    (root / "js").mkdir(parents=True, exist_ok=True)
    for i in range(scripts):
        code = f"// app {index} module {i}\n" + "".join(
            f"function f{i}_{j}(a, b) {{ return a * {j} + b; }}\n" for j in range(60))
        (root / f"js/mod{i}.js").write_text(code + f"//# sourceMappingURL=mod{i}.js.map\n")
        (root / f"js/mod{i}.js.map").write_text(json.dumps(
            {"version": 3, "sources": [f"mod{i}.ts"], "mappings": "AAAA"}))
    if index:  # duplicates across apps: an earlier app's name wins
        (root / "css/style0.css").write_text("/* shadowed duplicate */\n")


def sources(tree: Path) -> list[tuple[str, Path]]:
    """(prefix, dir) pairs: the same for every tool."""
    result = [("", tree / "admin")] if (tree / "admin").is_dir() else []
    result += [(f"vendor/{p.name}", p) for p in sorted((tree / "npm").iterdir())]
    result += [(p.name, p) for p in sorted(tree.glob("app*"))]
    return result


def change_target(tree: Path) -> Path:
    """The CSS file the one-change scenario edits."""
    apps = sorted(tree.glob("app*/css/style1.css"))
    return apps[0] if apps else sorted(tree.glob("npm/monaco-editor/package/min/**/*.css"))[0]


def tree_stats(tree: Path) -> tuple[int, int]:
    count = size = 0
    for _, directory in sources(tree):
        for path in directory.rglob("*"):
            if path.is_file():
                count += 1
                size += path.stat().st_size
    return count, size


# -- scenarios -----------------------------------------------------------------------

FLOOR = """
import hashlib, os, shutil, sys
pairs = [a.split("=", 1) for a in sys.argv[2:]]
dest = sys.argv[1]
for prefix, top in pairs:
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames:
            src = os.path.join(dirpath, name)
            rel = os.path.join(prefix, os.path.relpath(src, top))
            out = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copyfile(src, out)
            md5 = hashlib.md5()
            with open(src, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    md5.update(chunk)
"""

# The least any tool can spend to write the variants that ours writes: each
# distinct compressible content of our output (the same files our
# compression would take), read, then gzip 9 and brotli 11 in memory on one
# thread per core, largest first, nothing written.
COMPRESS_FLOOR = """
import gzip, hashlib, io, os, sys
from concurrent.futures import ThreadPoolExecutor
import brotli
from collectstatic.compress import should_compress
root = sys.argv[1]
manifest = os.path.join(root, "staticfiles.json")  # not compressed
contents = {}
for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    for name in filenames:
        path = os.path.join(dirpath, name)
        if should_compress(name) and path != manifest:  # (.gz, .br are skipped types)
            with open(path, "rb") as f:
                data = f.read()
            if data:
                contents[hashlib.md5(data).digest()] = data
def gzip9(data):
    with gzip.GzipFile(filename="", mode="wb", fileobj=io.BytesIO(), compresslevel=9,
                       mtime=0) as f:
        f.write(data)
jobs = [(codec, data) for data in sorted(contents.values(), key=len, reverse=True)
        for codec in (gzip9, lambda data: brotli.compress(data, quality=11))]
with ThreadPoolExecutor(os.cpu_count()) as pool:
    list(pool.map(lambda job: job[0](job[1]), jobs))
"""

DJANGO = """
import sys, django
from django.conf import settings
root, backend = sys.argv[1], sys.argv[2]
dirs = [tuple(a.split("=", 1)) if a.split("=", 1)[0] else a.split("=", 1)[1]
        for a in sys.argv[3:]]
settings.configure(
    INSTALLED_APPS=["django.contrib.staticfiles"], STATIC_ROOT=root, STATIC_URL="/static/",
    STATICFILES_DIRS=dirs, STORAGES={"staticfiles": {"BACKEND": backend}},
    WHITENOISE_KEEP_ONLY_HASHED_FILES=False)
django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
"""


def run_measured(args: list[str], cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one subprocess."""
    # What the previous scenario wrote is flushed first, not while this one runs.
    if hasattr(os, "sync"):
        os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else status >> 8
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{out.decode()}\n"
                         f"{err.decode()}")
    rss_kb = usage.ru_maxrss
    return elapsed, rss_kb / 1024


def export_baseline(rev: str) -> Path:
    """This repo's package at ``rev`` (``git archive``), compiled, for
    ``PYTHONPATH``: the same scenarios run against it in the same run."""
    commit = subprocess.run(["git", "rev-parse", "--short", rev], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.strip()
    dest = CACHE / f"baseline-{commit}"
    if not (dest / "collectstatic").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "collectstatic"], cwd=REPO,
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        compileall.compile_dir(dest / "collectstatic", quiet=1)
    return dest


class Bench:
    def __init__(self, tree: Path, work: Path, strict: bool = True,
                 baseline: tuple[str, Path] | None = None) -> None:
        self.baseline = baseline
        self.tree = tree
        self.work = work
        self.strict = strict
        self.pairs = [f"{prefix}={path}" for prefix, path in sources(tree)]
        self.results: dict[str, list[tuple[float, float]]] = {}
        self.rounds: dict[str, int] = {}
        self.project = self.write_project()

    def write_project(self, compress: bool = False) -> Path:
        project = self.work / ("project-compress" if compress else "project")
        project.mkdir(parents=True, exist_ok=True)
        dirs = self.link_tree(project)
        extra = 'compress = ["gzip", "brotli"]\n' if compress else ""
        if not self.strict:  # (published packages name files they do not ship)
            extra += "strict = false\n"
        # root is overridden per run with --root; this one is only a placeholder
        (project / "pyproject.toml").write_text(
            f'[tool.collectstatic]\nroot = "out"\ndirs = [{dirs}]\n{extra}')
        return project

    def link_tree(self, project: Path) -> str:
        """Mount the cached tree inside ``project`` (sources must live in the
        project); return the TOML for ``dirs``."""
        link = project / "tree"
        if not link.exists():
            link.symlink_to(self.tree, target_is_directory=True)
        return ", ".join(
            f'{{path = "tree/{path.relative_to(self.tree)}", prefix = "{prefix}"}}' if prefix
            else f'"tree/{path.relative_to(self.tree)}"' for prefix, path in sources(self.tree))

    def fresh(self, name: str) -> Path:
        """A new directory name for ``name``'s output in this round.

        Nothing is deleted until the whole benchmark is done: on a journal-less
        ext4 (this benchmark's VM) creating a file after a large deletion scans
        past every inode freed in the last minutes (``recently_deleted`` in
        ext4's inode allocator: a third of all cycles in ``perf``), so whatever
        ran after a ``rmtree`` of the previous round was slowed by it.
        """
        self.rounds[name] = self.rounds.get(name, 0) + 1
        return self.work / f"{name}-{self.rounds[name]}"

    def record(self, name: str, measured: tuple[float, float]) -> None:
        self.results.setdefault(name, []).append(measured)

    def floor(self) -> None:
        dest = self.fresh("floor")
        self.record("floor", run_measured([sys.executable, "-c", FLOOR, str(dest), *self.pairs]))

    def django(self, backend: str, name: str) -> None:
        root = self.fresh(name)
        args = [sys.executable, "-c", DJANGO, str(root), backend, *self.pairs]
        self.record(name, run_measured(args))
        if name == "django":
            self.record("django warm", run_measured(args))

    def ours(self, compress: bool = False) -> None:
        self.ours_at(compress)
        if self.baseline is not None:
            self.ours_at(compress, self.baseline)

    def ours_at(self, compress: bool, baseline: tuple[str, Path] | None = None) -> None:
        project = self.write_project(compress)
        label = "ours+compress" if compress else "ours"
        env = None
        if baseline is not None:
            label += f"@{baseline[0]}"
            env = {**os.environ, "PYTHONPATH": str(baseline[1])}
        root = self.fresh(label)
        args = [sys.executable, "-m", "collectstatic", "collect", "--noinput", "-v", "0",
                "--root", str(root)]
        self.record(f"{label} cold", run_measured(args, cwd=project, env=env))
        self.record(f"{label} warm", run_measured(args, cwd=project, env=env))
        if compress:
            if baseline is None:
                self.record("compress floor", run_measured([sys.executable, "-c",
                                                            COMPRESS_FLOOR, str(root)]))
        else:
            target = change_target(self.tree)
            original = target.read_bytes()
            try:
                target.write_bytes(original + b"\n.changed { color: red; }\n")
                self.record(f"{label} one change", run_measured(args, cwd=project, env=env))
            finally:
                target.write_bytes(original)

    def wheel(self) -> None:
        """(g) a wheel with the hook (cold) vs the same wheel with the tree precollected."""
        base = self.work / "wheelproj"
        if not base.exists():
            (base / "src/benchapp").mkdir(parents=True)
            dirs = self.link_tree(base)
            (base / "src/benchapp/__init__.py").write_text("")
            (base / "pyproject.toml").write_text(textwrap.dedent(f"""\
                [build-system]
                requires = ["hatchling", "collectstatic"]
                build-backend = "hatchling.build"
                [project]
                name = "benchapp"
                version = "1.0"
                [tool.hatch.build.targets.wheel]
                packages = ["src/benchapp"]
                [tool.hatch.build.hooks.collectstatic]
                [tool.collectstatic]
                root = "src/benchapp/staticfiles"
                dirs = [{dirs}]
                """))
            plain = self.work / "wheelproj-plain"
            shutil.copytree(base, plain)
            text = (plain / "pyproject.toml").read_text()
            (plain / "pyproject.toml").write_text(
                text.split("[tool.hatch.build.hooks.collectstatic]")[0])
            subprocess.run([sys.executable, "-m", "collectstatic", "collect", "--noinput", "-v",
                            "0"], cwd=base, check=True)
            shutil.copytree(base / "src/benchapp/staticfiles",
                            plain / "src/benchapp/staticfiles",
                            ignore=shutil.ignore_patterns(".collectstatic"))
            shutil.rmtree(base / "src/benchapp/staticfiles")
        build = [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d"]
        cache = self.fresh("build-cache")  # the hook's staging and compression cache
        env = {**os.environ, "COLLECTSTATIC_CACHE_DIR": str(cache)}
        self.record("wheel with hook, first build",
                    run_measured([*build, str(self.fresh("dist-hook"))], cwd=base, env=env))
        self.record("wheel with hook, rebuild",
                    run_measured([*build, str(self.fresh("dist-hook"))], cwd=base, env=env))
        self.record("wheel precollected",
                    run_measured([*build, str(self.fresh("dist-plain"))],
                                 cwd=self.work / "wheelproj-plain"))


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(bench: Bench, count: int, size: int, repeat: int) -> str:
    lines = [
        f"# {count:,} files, {size / 1e6:,.0f} MB; {repeat} rounds; "
        f"{os.cpu_count()} cores; Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d')}",
        "",
        "| scenario | median s | min-max s | peak RSS MB |",
        "| --- | ---: | ---: | ---: |",
    ]
    med = {}
    for name, values in bench.results.items():
        times = [t for t, _ in values]
        med[name] = median(times)
        lines.append(f"| {name} | {med[name]:.2f} | {min(times):.2f}-{max(times):.2f} | "
                     f"{max(r for _, r in values):.0f} |")
    lines.append("")

    def ratio(label: str, a: str, b: str, target: str) -> None:
        if a in med and b in med and med[b]:
            lines.append(f"- {label}: **{med[a] / med[b]:.2f}x** (target {target})")

    ratio("ours cold / floor", "ours cold", "floor", "≤ 1.5")
    ratio("ours cold / Django", "ours cold", "django", "≤ 0.25")
    ratio("ours warm / ours cold", "ours warm", "ours cold", "≤ 0.1")
    ratio("ours one change / ours cold", "ours one change", "ours cold", "≤ 0.2")
    if bench.baseline is not None:
        at = bench.baseline[0]
        for scenario in ("cold", "warm", "one change"):
            ratio(f"ours {scenario} / ours@{at} {scenario}", f"ours {scenario}",
                  f"ours@{at} {scenario}", "-")
        ratio(f"ours+compress cold / ours+compress@{at} cold", "ours+compress cold",
              f"ours+compress@{at} cold", "-")
    ratio("Django's own warm/cold for reference: django warm / django", "django warm", "django",
          "-")
    ratio("ours+compress cold / WhiteNoise", "ours+compress cold", "whitenoise", "-")
    ratio("compress floor / WhiteNoise (the best any tool writing our files can do)",
          "compress floor", "whitenoise", "-")
    ratio("ours+compress cold / compress floor", "ours+compress cold", "compress floor",
          "≤ 1.1")
    ratio("ours+compress warm / ours+compress cold", "ours+compress warm", "ours+compress cold",
          "≤ 0.1")
    ratio("wheel with hook, first build / wheel precollected", "wheel with hook, first build",
          "wheel precollected", "≤ 1.3")
    ratio("wheel with hook, rebuild / wheel precollected", "wheel with hook, rebuild",
          "wheel precollected", "≤ 1.3")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated groups: floor, django, "
                        "whitenoise, ours, compress, wheel")
    parser.add_argument("--baseline", metavar="REV",
                        help="also run our scenarios with this repo's package at REV")
    args = parser.parse_args()
    groups = [g for g in (args.only.split(",") if args.only else
                          ["floor", "django", "whitenoise", "ours", "compress", "wheel"]) if g]
    # Bytecode for this repo, as an installed wheel has: with an editable
    # install and PYTHONDONTWRITEBYTECODE set, every run would compile it.
    import collectstatic

    compileall.compile_dir(Path(collectstatic.__file__).parent, quiet=1)
    tree = build_tree(args.size)
    count, size = tree_stats(tree)
    print(f"tree: {tree} ({count:,} files, {size / 1e6:,.0f} MB)", file=sys.stderr)
    # Outside the system temp dir, as a checkout is: builds keep their staging
    # there (a project in the temp dir is taken for an unpacked sdist).
    work = CACHE / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        baseline = None
        if args.baseline:
            baseline = (args.baseline, export_baseline(args.baseline))
        bench = Bench(tree, work, strict=args.size != "bigjs", baseline=baseline)
        steps = {
            "floor": bench.floor,
            "django": lambda: bench.django(
                "django.contrib.staticfiles.storage.ManifestStaticFilesStorage", "django"),
            "whitenoise": lambda: bench.django(
                "whitenoise.storage.CompressedManifestStaticFilesStorage", "whitenoise"),
            "ours": bench.ours,
            "compress": lambda: bench.ours(compress=True),
            "wheel": bench.wheel,
        }
        for round_number in range(args.repeat):
            order = groups[round_number % len(groups):] + groups[:round_number % len(groups)]
            for group in order:
                steps[group]()
            print(f"round {round_number + 1}/{args.repeat} done", file=sys.stderr)
        print(report(bench, count, size, args.repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
