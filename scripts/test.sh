#!/usr/bin/env bash
# Set up a test environment from scratch and run the whole suite.
#   bash scripts/test.sh [pytest args...]
# Env: PYTHON=/path/to/python (default: the newest Python >= 3.12 found, since
# Django 6.1, the reference the tests compare against, needs 3.12), VENV=dir
# (default .venv), COLLECTSTATIC_DJANGO_PYTHON (a Python with Django 6.1, for
# suites run on an older Python).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local minor="${1:-12}" candidate
  for candidate in python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c "import sys; sys.exit(sys.version_info < (3, $minor))" 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in $(ls -d "$(pyenv root)"/versions/3.1[2-9]* 2>/dev/null | sort -V -r); do
      if [ -x "$candidate/bin/python3" ]; then echo "$candidate/bin/python3"; return 0; fi
    done
  fi
  return 1
}

PYTHON="${PYTHON:-$(find_python || true)}"
if [ -z "$PYTHON" ]; then
  echo "error: no Python >= 3.12 found; set PYTHON=/path/to/python3.12" >&2
  exit 2
fi
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
"$VENV/bin/python" -m pip install -q -e ".[test]" 2>&1 | grep -v '^WARNING: Location' || true
"$VENV/bin/python" -c "import collectstatic, pytest" # fail early if the install did not work
exec "$VENV/bin/python" -m pytest "$@"
