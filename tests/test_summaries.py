"""What a run says it did: work done now apart from work taken from earlier runs."""

from __future__ import annotations

from pathlib import Path

from collectstatic.collection import CollectOptions, collect
from collectstatic.config import Settings, settings_from_table
from collectstatic.progress import Step

from .support import write_tree

TREE = {
    "static/css/app.css": 'body { background: url("../img/dot.png") }\n' * 40,
    "static/img/dot.png": b"\x89PNG not really" * 10,
    "static/js/app.js": "console.log('hello, world');\n" * 40,
}


def settings(project: Path, root: str = "root") -> Settings:
    return settings_from_table({"root": root, "dirs": ["static"], "compress": ["gzip"]},
                               project)


def test_a_first_run_counts_what_it_made(tmp_path: Path) -> None:
    # (app.js and its hashed copy hold the same bytes: compressed once for two names)
    project = write_tree(tmp_path, TREE)
    result = collect(settings(project), CollectOptions(compress_cache=tmp_path / "cache"))
    assert result.counts() == "3 files, 1 rewritten, 4 compressed variants (3 compressed now)"


def test_a_rerun_with_nothing_changed_says_it_made_nothing(tmp_path: Path) -> None:
    project = write_tree(tmp_path, TREE)
    collect(settings(project))
    again = collect(settings(project))
    assert again.rewritten == 0 and again.compressed == 0
    assert again.counts() == ("3 files (3 unmodified), 1 rewritten (1 reused), "
                              "4 compressed variants (none compressed now)")


def test_variants_taken_from_the_cache_are_not_counted_as_made(tmp_path: Path) -> None:
    project = write_tree(tmp_path, TREE)
    cache = CollectOptions(compress_cache=tmp_path / "cache")
    collect(settings(project, "first"), cache)
    second = collect(settings(project, "second"), cache)  # a fresh root, the same cache
    assert second.compressed == 0
    assert second.counts() == "3 files, 1 rewritten, 4 compressed variants (none compressed now)"


def test_one_change_rewrites_only_what_it_reaches(tmp_path: Path) -> None:
    project = write_tree(tmp_path, {**TREE, "static/css/other.css": "p { color: red }\n" * 40})
    collect(settings(project))
    (project / "static/css/other.css").write_text("p { color: blue }\n" * 40)
    result = collect(settings(project))
    assert result.rewritten == 0 and result.reused == 1  # other.css has no reference
    assert result.counts().startswith("4 files (3 unmodified), 1 rewritten (1 reused), ")


def test_progress_reaches_every_phase_in_order(tmp_path: Path) -> None:
    project = write_tree(tmp_path, TREE)
    steps: list[Step] = []
    collect(settings(project), progress=steps.append)
    phases = list(dict.fromkeys(step.phase for step in steps))
    assert phases == ["copying", "rewriting CSS/JS", "writing hashed copies", "compressing"]
    assert {step.unit for step in steps if step.phase == "compressing"} == {"variants"}
    assert all(0 <= step.done <= step.total for step in steps)
    copied = [step for step in steps if step.phase == "copying"]
    assert copied[-1].done == copied[-1].total == 3
    assert copied[-1].nbytes == sum(len(v) for v in TREE.values())
