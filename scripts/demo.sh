#!/usr/bin/env bash
# Build the bundled example app's wheel with the collectstatic hook, from a
# fresh clone, and show what the wheel carries.   bash scripts/demo.sh
# Needs only Python >= 3.9 and network access to PyPI (for build and hatchling).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
work=.demo
rm -rf "$work"
mkdir -p "$work/wheelhouse" "$work/dist"

echo "== a venv with 'build', and a wheel of this checkout for the example's build-system.requires"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check build 2>&1 |
  grep -v '^WARNING: Location' || true
"$work/venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps \
  -w "$work/wheelhouse" . 2>&1 | grep -v '^WARNING: Location' || true

echo "== python -m build examples/hatch-django-app (sdist, then the wheel built from it)"
PIP_FIND_LINKS="$PWD/$work/wheelhouse" \
  "$work/venv/bin/python" -m build --outdir "$work/dist" examples/hatch-django-app |
  grep -E "collectstatic|Successfully" || true

"$work/venv/bin/python" - "$work"/dist/*.whl <<'PY'
import json, sys, zipfile

wheel = zipfile.ZipFile(sys.argv[1])
prefix = "hatch_django_app/staticfiles/"
names = [n for n in wheel.namelist() if n.startswith(prefix)]
manifest = json.loads(wheel.read(prefix + "staticfiles.json"))
paths = manifest["paths"]
hashed = set(paths.values())
variants = [n for n in names if n.endswith((".gz", ".br", ".zst"))]
print(f"\n{sys.argv[1].split('/')[-1]}: {len(names)} files under {prefix}")
print(f"  {len(paths)} collected, {len(hashed)} hashed copies, {len(variants)} compressed "
      f"variants, and staticfiles.json")
print("\nstaticfiles.json (paths):")
for name, target in sorted(paths.items()):
    print(f"  {name} -> {target}")
print(f"  version {manifest['version']}, hash {manifest['hash']}")
first = sorted(manifest["collectstatic"]["files"].items())[0]
print(f"  extra data for {first[0]}: {json.dumps(first[1])}")
css = paths["hatch_django_app/css/app.css"]
print(f"\n{css} (references rewritten to hashed names):")
for line in wheel.read(prefix + css).decode().splitlines():
    if "url(" in line or "@import" in line:
        print(f"  {line.strip()}")
print("\ncompressed variants:")
for name in sorted(variants):
    print(f"  {name[len(prefix):]} ({wheel.getinfo(name).file_size} bytes)")
PY
