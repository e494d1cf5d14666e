"""`manage.py collectstatic` on a Django site: collectstatic.django against Django's
own command and WhiteNoise's, on the admin and real third-party apps from PyPI.

The site: django.contrib.admin and the apps in ``APPS`` (installed once with
``pip install --no-deps --target benchmarks/.cache/django-apps``), plus an app
package ``vendor_assets`` holding real front-end packages fetched with ``npm
pack`` (run.py's). Each scenario is ``manage.py collectstatic --noinput`` in
a subprocess into a new STATIC_ROOT; the order of the scenarios alternates
each round. Prints medians (min-max), ratios of medians measured in the same
run, and peak RSS.

"Django start-up" is ``manage.py version`` with Django's own staticfiles:
Django's setup with every app (what any command on the site costs before it
does anything), the floor under a rerun. "ours CLI" is our engine on the
same sources through ``python -m collectstatic collect`` (the settings the
drop-in derives, written as ``[tool.collectstatic]``): what the drop-in
costs beyond the engine. Bytecode is compiled first, for this repo's package
and the site, as a deployed site has it (pip compiles what it installs).

"Shipped" is the site when every app's package ships a tree collected with
this tool at WhiteNoise's levels (what an app wheel built with the hook and
``compress = ["gzip", "brotli"]`` carries; Django's admin included, in a copy
of Django on the site's path), so collectstatic.django takes their variants.

    .venv/bin/python benchmarks/django_site.py --repeat 3
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import fetch_npm, run_measured  # noqa: E402

CACHE = HERE / ".cache"
REPO = HERE.parent
APPS = {  # PyPI distribution -> the Django apps it provides
    "django-debug-toolbar==8.0.0": ["debug_toolbar"],
    "djangorestframework==3.18.3": ["rest_framework"],
    "django-jazzmin==3.0.5": ["jazzmin"],
    "django-unfold==0.110.0": ["unfold"],
    "django-ckeditor==6.7.4": ["ckeditor"],
    "django-js-asset==5.0.0": [],
    "django-tinymce==5.0.0": ["tinymce"],
    "drf-spectacular-sidecar==2026.10.1": ["drf_spectacular_sidecar"],
}
THIRD_PARTY = [app for apps in APPS.values() for app in apps]
SHIPPED_APPS = ["django", *THIRD_PARTY, "vendor_assets"]  # packages given a shipped tree

SETTINGS = """
import os
ours = os.environ["BENCH_OURS"] == "1"
SECRET_KEY = "benchmark"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = (["collectstatic.django"] if ours else []) + [
    "django.contrib.admin", "django.contrib.auth",
    "django.contrib.contenttypes", "django.contrib.sessions", "django.contrib.messages",
    "django.contrib.staticfiles",
] + %(apps)r + ["vendor_assets"]
STATIC_URL = "/static/"
STATIC_ROOT = os.environ["BENCH_ROOT"]
STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": os.environ["BENCH_STORAGE"]}}
WHITENOISE_KEEP_ONLY_HASHED_FILES = False
DATABASES = {}
"""

MANAGE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
WHITENOISE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def install_apps() -> Path:
    """The third-party apps, installed once into benchmarks/.cache/django-apps."""
    target = CACHE / "django-apps"
    if not all((target / app).is_dir() for app in THIRD_PARTY):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--target", str(target), *APPS], check=True)
    vendor = CACHE / "django-vendor" / "vendor_assets"
    if not vendor.is_dir():
        work = Path(tempfile.mkdtemp(dir=CACHE))
        fetch_npm(work / "npm")
        (work / "vendor_assets").mkdir()
        (work / "vendor_assets/__init__.py").write_text("")
        shutil.move(str(work / "npm"), str(work / "vendor_assets/static"))
        vendor.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work / "vendor_assets"), str(vendor))
        shutil.rmtree(work)
    return target


def ship(apps: Path, site: Path) -> Path:
    """A copy of the site's packages in which each ships its collected tree
    (``<package>/staticfiles``, gzip 9 + brotli 11), as wheels built with the hook do."""
    shipped = CACHE / "django-shipped"
    if (shipped / "done").exists():
        return shipped
    if shipped.exists():
        shutil.rmtree(shipped)
    shutil.copytree(apps, shipped, symlinks=True)
    shutil.copytree(CACHE / "django-vendor" / "vendor_assets", shipped / "vendor_assets")
    # (asked of a fresh interpreter, whose path does not start with benchmarks/)
    django = subprocess.run([sys.executable, "-c", "import django; print(django.__path__[0])"],
                            cwd=CACHE, check=True, capture_output=True, text=True).stdout.strip()
    shutil.copytree(django, shipped / "django", symlinks=True)
    packages = {"django": "django.contrib.admin", **{app: app for app in THIRD_PARTY},
                "vendor_assets": "vendor_assets"}
    for app in packages.values():
        root = "/".join([*app.split("."), "staticfiles"])
        (shipped / "pyproject.toml").write_text(
            f'[tool.collectstatic]\nroot = "{root}"\napps = ["{app}"]\n'
            'compress = ["gzip", "brotli"]\n')
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shipped), str(REPO)])}
        subprocess.run([sys.executable, "-m", "collectstatic", "collect", "--noinput",
                        "-v", "0"], cwd=shipped, env=env, check=True)
        shutil.rmtree(shipped / root / ".collectstatic")  # never shipped
    (shipped / "pyproject.toml").unlink()
    (shipped / "done").write_text("")
    return shipped


# What the drop-in derives from SETTINGS with ManifestStaticFilesStorage, for the CLI.
CLI_TABLE = """[tool.collectstatic]
root = "root"
apps = %(apps)s
manifest = true
follow-external-symlinks = true
file-mode = "0o644"
"""


def write_site(work: Path) -> Path:
    site = work / "site"
    (site / "benchsite").mkdir(parents=True)
    (site / "benchsite/__init__.py").write_text("")
    (site / "benchsite/settings.py").write_text(SETTINGS % {"apps": THIRD_PARTY})
    (site / "manage.py").write_text(MANAGE)
    for package in (site, REPO / "collectstatic"):
        compileall.compile_dir(package, quiet=1)
    return site


def write_cli_project(path: Path) -> Path:
    path.mkdir(parents=True)
    apps = ["django.contrib.admin", *THIRD_PARTY, "vendor_assets"]
    (path / "pyproject.toml").write_text(CLI_TABLE % {"apps": json.dumps(apps)})
    return path


class Bench:
    def __init__(self, site: Path, apps: Path, shipped: Path | None, work: Path) -> None:
        self.site, self.apps, self.shipped, self.work = site, apps, shipped, work
        self.results: dict[str, list[tuple[float, float]]] = {}
        self.count = 0

    def collect(self, ours: bool, storage: str, root: Path, shipped: bool = False,
                command: tuple[str, ...] = ("collectstatic", "--noinput", "-v", "0")
                ) -> tuple[float, float]:
        paths = ([str(self.shipped)] if shipped and self.shipped else
                 [str(self.apps), str(CACHE / "django-vendor")])
        env = {**os.environ, "BENCH_OURS": "1" if ours else "0", "BENCH_STORAGE": storage,
               "BENCH_ROOT": str(root),
               "PYTHONPATH": os.pathsep.join([*paths, str(REPO), str(self.site)])}
        return run_measured([sys.executable, "manage.py", *command], cwd=self.site, env=env)

    def cli(self, project: Path) -> tuple[float, float]:
        paths = [str(self.apps), str(CACHE / "django-vendor"), str(REPO)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        return run_measured([sys.executable, "-m", "collectstatic", "collect", "--noinput",
                             "-v", "0"], cwd=project, env=env)

    def fresh(self, name: str) -> Path:
        self.count += 1
        return self.work / f"{name}-{self.count}"

    def record(self, name: str, measured: tuple[float, float]) -> None:
        self.results.setdefault(name, []).append(measured)

    def round(self, number: int, only: set[str]) -> None:
        groups = []
        if "django" in only:
            groups.append(self.manifest_group)
        if "whitenoise" in only:
            groups.append(self.whitenoise_group)
        for group in groups if number % 2 == 0 else groups[::-1]:
            group(number)

    def manifest_group(self, number: int) -> None:
        django_root, ours_root = self.fresh("django"), self.fresh("ours")
        cli = write_cli_project(self.fresh("cli"))
        steps = [("django cold", lambda: self.collect(False, MANIFEST, django_root)),
                 ("ours cold", lambda: self.collect(True, MANIFEST, ours_root)),
                 ("ours CLI cold", lambda: self.cli(cli))]
        for name, step in steps if number % 2 == 0 else steps[::-1]:
            self.record(name, step())
        steps = [("django rerun", lambda: self.collect(False, MANIFEST, django_root)),
                 ("ours rerun", lambda: self.collect(True, MANIFEST, ours_root)),
                 ("ours CLI rerun", lambda: self.cli(cli)),
                 ("Django start-up (manage.py version)",
                  lambda: self.collect(False, MANIFEST, django_root, command=("version",)))]
        for name, step in steps if number % 2 == 0 else steps[::-1]:
            self.record(name, step())

    def whitenoise_group(self, number: int) -> None:
        steps = [("whitenoise cold", lambda: self.collect(False, WHITENOISE,
                                                          self.fresh("whitenoise"))),
                 ("ours+whitenoise cold", lambda: self.collect(True, WHITENOISE,
                                                               self.fresh("ours-wn")))]
        if self.shipped is not None:
            steps.append(("ours+whitenoise, apps shipped variants",
                          lambda: self.collect(True, WHITENOISE, self.fresh("ours-shipped"),
                                               shipped=True)))
        for name, step in steps if number % 2 == 0 else steps[::-1]:
            self.record(name, step())


def tree_stats(root: Path) -> tuple[int, int]:
    """The collected source files (the manifest's logical names) and their bytes."""
    paths = json.loads((root / "staticfiles.json").read_bytes())["paths"]
    return len(paths), sum((root / name).stat().st_size for name in paths)


def report(bench: Bench, repeat: int, sources: tuple[int, int]) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"# {sources[0]:,} source files, {sources[1] / 1e6:,.0f} MB; {repeat} rounds; "
             f"{os.cpu_count()} cores; load {load:.1f}; Python {platform.python_version()}; "
             f"{time.strftime('%Y-%m-%d')}", "",
             "| scenario | median s | min-max s | peak RSS MB |",
             "| --- | ---: | ---: | ---: |"]
    med = {}
    for name, values in bench.results.items():
        times = [t for t, _ in values]
        med[name] = statistics.median(times)
        lines.append(f"| {name} | {med[name]:.2f} | {min(times):.2f}-{max(times):.2f} | "
                     f"{max(r for _, r in values):.0f} |")
    lines.append("")

    def ratio(label: str, a: str, b: str, target: str) -> None:
        if a in med and b in med and med[b]:
            lines.append(f"- {label}: **{med[a] / med[b]:.3f}x** (target {target})")

    ratio("ours cold / Django cold", "ours cold", "django cold", "≤ 0.3")
    ratio("ours rerun / Django cold", "ours rerun", "django cold", "≤ 0.05")
    start = "Django start-up (manage.py version)"
    ratio("Django start-up / Django cold: the least a rerun can be", start, "django cold", "-")
    ratio("ours rerun / Django start-up", "ours rerun", start, "-")
    ratio("ours cold / ours CLI cold", "ours cold", "ours CLI cold", "-")
    for a, b in (("ours cold", "ours CLI cold"), ("ours rerun", "ours CLI rerun"),
                 ("ours rerun", start)):
        if a in med and b in med:
            lines.append(f"- {a} - {b}: {med[a] - med[b]:+.2f} s")
    ratio("Django's own rerun / Django cold, for reference", "django rerun", "django cold", "-")
    ratio("ours+whitenoise cold / WhiteNoise cold", "ours+whitenoise cold", "whitenoise cold",
          "≤ 0.6")
    ratio("ours+whitenoise with shipped variants / WhiteNoise cold",
          "ours+whitenoise, apps shipped variants", "whitenoise cold", "≤ 0.1")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="django,whitenoise",
                        help="comma-separated groups: django, whitenoise")
    parser.add_argument("--no-shipped", action="store_true",
                        help="skip the scenario with shipped variants (its setup compresses "
                             "every app once)")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    apps = install_apps()
    work = Path(tempfile.mkdtemp(prefix="collectstatic-django-bench-"))
    try:
        site = write_site(work)
        shipped = None if args.no_shipped or "whitenoise" not in only else ship(apps, site)
        bench = Bench(site, apps, shipped, work)
        sources = None
        for number in range(args.repeat):
            bench.round(number, only)
            if sources is None:
                # (Django's tree: keep-unhashed, so every logical name is there)
                first = next(work.glob("django-*"), None) or next(work.glob("whitenoise-*"))
                sources = tree_stats(first)
            if number + 1 < args.repeat:  # so far, for a long run
                print(report(bench, number + 1, sources), "\n", file=sys.stderr, flush=True)
        print(report(bench, args.repeat, sources))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
