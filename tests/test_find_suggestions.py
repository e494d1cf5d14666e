"""`collectstatic find` suggests close logical names when nothing matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import cli, write_tree


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_tree(tmp_path, {
        "assets/css/site.css": "site",
        "assets/css/print.css": "print",
        "vendor/jq/jq.js": "jq",
        "src/myapp/__init__.py": "",
        "src/myapp/static/myapp/app.js": "app",
    })
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\n'
        'dirs = ["assets", {path = "vendor", prefix = "lib"}]\napps = ["myapp"]\n')
    return tmp_path


@pytest.mark.parametrize(("asked", "line"), [
    ("site.css", "error: No matching file found for 'site.css'. Did you mean 'css/site.css'?"),
    ("jq/jq.js", "error: No matching file found for 'jq/jq.js'. Did you mean 'lib/jq/jq.js'?"),
    ("css/sites.css",
     "error: No matching file found for 'css/sites.css'. "
     "Did you mean 'css/site.css' or 'css/print.css'?"),
    ("app.js", "error: No matching file found for 'app.js'. Did you mean 'myapp/app.js'?"),
    ("nothing/like/it.woff2", "error: No matching file found for 'nothing/like/it.woff2'."),
])
def test_a_miss_names_close_logical_names(project: Path, asked: str, line: str) -> None:
    proc = cli("find", asked, cwd=project, check=False)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == line
    assert proc.stdout == ""


def test_suggestions_stay_off_verbosity_0_and_before_the_locations(project: Path) -> None:
    quiet = cli("find", "site.css", "-v", "0", cwd=project, check=False)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (1, "", "")
    loud = cli("find", "site.css", "-v", "2", cwd=project, check=False)
    assert loud.stderr.splitlines()[:2] == [
        "error: No matching file found for 'site.css'. Did you mean 'css/site.css'?",
        "Looking in the following locations:"]
