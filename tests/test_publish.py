"""``collectstatic publish`` and ``collectstatic.publish`` against a real S3 API server.

The server (moto in server mode, tests/s3server.py) listens on 127.0.0.1; the
client is the real one (obstore), objects and headers are read back over plain
HTTP. Trees are made by the public ``collect`` API. ``file://`` destinations
are published for real too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("obstore")
pytest.importorskip("moto.server")

from collectstatic.collection import CollectOptions, collect
from collectstatic.config import Settings, load_settings
from collectstatic.errors import ConfigError
from collectstatic.publish import (
    VERSIONS_DIR,
    Destination,
    Progress,
    PublishConfig,
    PublishError,
    Remote,
    Tree,
    TreeObject,
    load_publish_config,
    object_headers,
    parse_destination,
    plan_publish,
    publish,
    publish_config,
    read_tree,
    record_bytes,
)

from .s3server import S3Server
from .support import REPO, write_tree
from .support import run as run_command

IMMUTABLE = "public, max-age=31536000, immutable"
SITE = {
    "static/css/app.css": '@import "base.css";\nbody { background: url("../img/logo.png") }\n'
                          + "p { margin: 0 auto; padding: 1em 2em; }\n" * 40,
    "static/css/base.css": "h1 { color: #c00; font-weight: bold; }\n" * 40,
    "static/img/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "static/js/app.js": "console.log('hello from app');\n" * 40,
    "static/fonts/f.woff2": b"wOF2" + bytes(300),
}
_names = itertools.count()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    with server.environment():
        yield server
    server.stop()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    name = f"site-{os.getpid()}-{next(_names)}"
    s3.create_bucket(name)
    return name


def make_site(project: Path, config: str = "", files: dict[str, str | bytes] | None = None
              ) -> Settings:
    """A project with ``files`` (default: SITE), collected into ``out``."""
    write_tree(project, files if files is not None else SITE)
    (project / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\ndirs = ["static"]\ncompress = ["gzip"]\n' + config)
    return recollect(project)


def recollect(project: Path) -> Settings:
    settings = load_settings(project / "pyproject.toml")
    collect(settings, CollectOptions(), verbosity=0)
    return settings


def manifest_of(settings: Settings) -> dict[str, str]:
    return json.loads((settings.root / "staticfiles.json").read_bytes())["paths"]


def local_files(settings: Settings) -> dict[str, bytes]:
    """What root publishes: its files but the record and the hashed files of
    earlier versions that keep-versions keeps there."""
    files = {p.relative_to(settings.root).as_posix(): p.read_bytes()
             for p in settings.root.rglob("*")
             if p.is_file() and ".collectstatic" not in p.relative_to(settings.root).parts}
    if "staticfiles.json" not in files:
        return files
    current = set(manifest_of(settings).values())
    return {name: data for name, data in files.items()
            if not re.search(r"\.[0-9a-f]{12}(\.|$)", name) or name in current or
            name.rsplit(".", 1)[0] in current}


def listings(s3: S3Server, bucket: str) -> list[str]:
    """The prefixes of the listings of ``bucket`` the server answered since its log was
    cleared ("static/" for the whole destination)."""
    return [prefix for request in s3.requests
            if (prefix := request.listing(bucket)) is not None]


def writes(s3: S3Server, bucket: str) -> list[str]:
    """The keys written (under static/) since the server's log was cleared, in order."""
    return [request.path[len(f"/{bucket}/static/"):] for request in s3.requests
            if request.method in ("PUT", "POST") and request.path.startswith(f"/{bucket}/")]


RECORDS = f"static/{VERSIONS_DIR}"


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_command([sys.executable, "-m", "collectstatic", *args], cwd=cwd, env=env,
                       check=check, timeout=300)


# -- pure parts ------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "expected"), [
    ("s3://bucket/static", Destination("s3", "bucket", "static")),
    ("s3://bucket", Destination("s3", "bucket", "")),
    ("s3://bucket//a/b/", Destination("s3", "bucket", "a/b")),
    ("gs://assets/v1/static", Destination("gs", "assets", "v1/static")),
    ("az://container/static", Destination("az", "container", "static")),
    ("file:///srv/cdn/static/", Destination("file", "/srv/cdn/static", "")),
])
def test_destination_urls(url: str, expected: Destination) -> None:
    assert parse_destination(url) == expected


@pytest.mark.parametrize(("url", "message"), [
    ("bucket/static", "expected a destination such as s3://bucket/prefix"),
    ("http://example.com/x", "expected a destination such as s3://bucket/prefix"),
    ("s3:///prefix", "with a bucket name"),
    ("s3://bucket/a/../b", "no '.' or '..' in the prefix"),
    ("file://relative/dir", "expected an absolute path"),
    ("s3://bucket/x?versionId=1", "no query"),
    ("s3://bucket/a\nb", "control character"),
])
def test_bad_destination_urls(url: str, message: str) -> None:
    with pytest.raises(PublishError, match=message.replace("?", r"\?").replace(".", r"\.")):
        parse_destination(url)


@pytest.mark.parametrize(("name", "hashed", "coding", "expected"), [
    ("css/app.0123456789ab.css", True, None,
     {"Content-Type": "text/css; charset=utf-8", "Cache-Control": IMMUTABLE}),
    ("css/app.css", False, None,
     {"Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=60"}),
    ("css/app.0123456789ab.css.gz", True, "gzip",
     {"Content-Type": "text/css; charset=utf-8", "Cache-Control": IMMUTABLE,
      "Content-Encoding": "gzip"}),
    ("js/app.js.br", False, "br", {"Content-Type": "text/javascript; charset=utf-8",
                                   "Cache-Control": "public, max-age=60",
                                   "Content-Encoding": "br"}),
    ("js/app.0123456789ab.js.zst", True, "zstd",
     {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": IMMUTABLE,
      "Content-Encoding": "zstd"}),
    ("img/a.0123456789ab.png", True, None,
     {"Content-Type": "image/png", "Cache-Control": IMMUTABLE}),
    # a collected tarball is no precompressed variant: no Content-Encoding
    ("dist/x.tar.0123456789ab.gz", True, None,
     {"Content-Type": "application/gzip", "Cache-Control": IMMUTABLE}),
])
def test_object_headers(name: str, hashed: bool, coding: str | None,
                        expected: dict[str, str]) -> None:
    assert object_headers(name, hashed, PublishConfig(), coding) == expected


def test_object_headers_follow_the_configuration() -> None:
    config = publish_config({"cache-control": "no-cache",
                             "cache-control-hashed": "public, max-age=600"})
    assert object_headers("a.css", False, config)["Cache-Control"] == "no-cache"
    assert object_headers("a.0123456789ab.css", True, config)["Cache-Control"] == \
        "public, max-age=600"


@pytest.mark.parametrize(("table", "message"), [
    ({"workers": 0}, "tool.collectstatic.publish.workers: expected an int from 1 to 256"),
    ({"workers": True}, "tool.collectstatic.publish.workers: expected an int"),
    ({"cache-control": 60}, "tool.collectstatic.publish.cache-control: expected a "
                            "Cache-Control value"),
    ({"cache-control": "max-age=60\r\nX-Evil: 1"}, "tool.collectstatic.publish.cache-control"),
    ({"cache-control-hashed": ""}, "tool.collectstatic.publish.cache-control-hashed"),
    ({"encodings": "yes"}, "tool.collectstatic.publish.encodings: expected true or false"),
    ({"cache-contol": "x"}, "tool.collectstatic.publish.cache-contol: unknown key (did you "
                            "mean 'cache-control'?)"),
    ({"store-options": {"region": 1}}, "tool.collectstatic.publish.store-options.region: "
                                       "expected a string"),
    ({"store-options": {"secret_access_key": "x"}},
     "store-options.secret_access_key: a secret does not belong in pyproject.toml"),
    ("x", "tool.collectstatic.publish: expected a table"),
])
def test_publish_table_problems_name_the_key(table: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        publish_config(table)
    assert message in str(info.value)


def test_publish_table_all_problems_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        publish_config({"workers": 0, "encodings": 1})
    assert len(info.value.problems) == 2


def test_publish_table_beside_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.collectstatic]\nroot = "out"\n\n[tool.collectstatic.publish]\nworkers = 4\n'
        'cache-control = "public, max-age=300"\nstore-options = { region = "eu-west-1" }\n')
    load_settings(tmp_path / "pyproject.toml")  # the sub-table is no unknown key
    config = load_publish_config(tmp_path / "pyproject.toml")
    assert config == PublishConfig(cache_control="public, max-age=300", workers=4,
                                   store_options={"region": "eu-west-1"})
    assert load_publish_config(tmp_path / "missing.toml") == PublishConfig()


def test_the_tree_is_what_the_manifest_names(tmp_path: Path) -> None:
    settings = make_site(tmp_path, files={**SITE, "static/dist/x.tar": b"tar" * 100,
                                          "static/dist/x.tar.gz": b"\x1f\x8b" + bytes(50)})
    (settings.root / "css" / "app.000000000000.css").write_text("left by an earlier run")
    tree = read_tree(settings.root)
    names = {obj.name for obj in tree.objects}
    paths = manifest_of(settings)
    assert set(paths.values()) <= names and set(paths) <= names
    assert "css/app.000000000000.css" not in names
    assert paths["css/app.css"] + ".gz" in names
    assert not any(name.startswith(".collectstatic") for name in names)
    assert tree.manifest is not None and tree.manifest.name == "staticfiles.json"
    assert "staticfiles.json" not in names
    encodings = {obj.name: dict(obj.headers).get("Content-Encoding") for obj in tree.objects}
    assert encodings[paths["css/app.css"] + ".gz"] == encodings["css/app.css.gz"] == "gzip"
    # a collected .gz file keeps its own type and no Content-Encoding, even beside its base
    assert encodings[paths["dist/x.tar.gz"]] is None and encodings["dist/x.tar.gz"] is None
    without = read_tree(settings.root, config=PublishConfig(encodings=False))
    assert {obj.name for obj in without.objects if obj.name.endswith(".gz")} == \
        {"dist/x.tar.gz", paths["dist/x.tar.gz"]}


def test_a_root_collected_with_links_is_refused(tmp_path: Path) -> None:
    settings = make_site(tmp_path, "link = true\n")
    assert any(p.is_symlink() for p in settings.root.rglob("*"))
    with pytest.raises(PublishError, match="a link leading outside the collected root is not "
                                           "published"):
        read_tree(settings.root)


def test_a_manifest_naming_a_file_outside_root_is_refused(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "root", {"a.css": "x"})
    (root / "staticfiles.json").write_text(json.dumps(
        {"paths": {"a.css": "../../etc/passwd"}, "version": "1.1"}))
    with pytest.raises(PublishError, match="not a name inside root"):
        read_tree(root)


def _obj(name: str, size: int, md5: str | None = None) -> TreeObject:
    return TreeObject(name, f"/root/{name}", size, md5 is None, md5, ())


def _tree(*objects: TreeObject) -> Tree:
    return Tree(Path("/root"), objects, _obj("staticfiles.json", 10, "m" * 32))


def _record(number: int, tree: Tree) -> tuple[str, bytes]:
    data = record_bytes(tree)
    return f"{VERSIONS_DIR}/{number:06d}-{hashlib.md5(data).hexdigest()[:12]}.json", data


MD5_A, MD5_B = "a" * 32, "b" * 32


@pytest.mark.parametrize(("local", "remote", "recorded", "uploaded"), [
    (_obj("a.0123456789ab.css", 5), None, None, True),  # missing
    (_obj("a.0123456789ab.css", 5), Remote(5, None), None, False),  # hashed, right size
    (_obj("a.0123456789ab.css", 5), Remote(4, None), None, True),  # a damaged copy
    (_obj("a.css", 5, MD5_A), Remote(5, MD5_A), None, False),  # the ETag is its md5
    (_obj("a.css", 5, MD5_A), Remote(5, MD5_B), None, True),  # same size, other bytes
    (_obj("a.css", 5, MD5_A), Remote(5, None), [5, MD5_A], False),  # no md5: the record
    (_obj("a.css", 5, MD5_A), Remote(5, None), [5, MD5_B], True),
    (_obj("a.css", 5, MD5_A), Remote(5, None), None, True),  # nothing to compare with
])
def test_plan_uploads_only_what_is_missing(local: TreeObject, remote: Remote | None,
                                           recorded: list[object] | None,
                                           uploaded: bool) -> None:
    listing = {local.name: remote} if remote else {}
    records: dict[str, bytes | None] = {}
    if recorded is not None:
        name = f"{VERSIONS_DIR}/000001-{'0' * 12}.json"
        listing[name] = Remote(1, None)
        records[name] = json.dumps({"objects": {local.name: recorded}}).encode()
    plan = plan_publish(_tree(local), listing, records, remote_manifest=None)
    assert [obj.name for obj in plan.upload] == ([local.name] if uploaded else [])
    assert plan.present == (() if uploaded else (local.name,))


def test_plan_writes_no_record_or_manifest_when_nothing_changed() -> None:
    manifest = b"same bytes"
    tree = Tree(Path("/root"), (_obj("a.0123456789ab.css", 5),),
                TreeObject("staticfiles.json", "/root/staticfiles.json", len(manifest), False,
                           hashlib.md5(manifest).hexdigest(), ()))
    record = _record(3, tree)
    listing = {"a.0123456789ab.css": Remote(5, None), record[0]: Remote(9, None)}
    plan = plan_publish(tree, listing, {record[0]: record[1]}, remote_manifest=manifest)
    assert plan.upload == () and plan.record is None and plan.manifest is None
    # a run killed after the record and before the manifest: only the manifest is left
    plan = plan_publish(tree, listing, {record[0]: record[1]}, remote_manifest=b"old")
    assert plan.record is None and plan.manifest is not None
    # another version: the next number
    other = _tree(_obj("b.0123456789ab.css", 5))
    plan = plan_publish(other, listing, {}, remote_manifest=manifest)
    assert plan.record is not None and plan.record[0].startswith(f"{VERSIONS_DIR}/000004-")


def test_plan_marks_replacing_unhashed_names_and_a_marker_renews_the_record() -> None:
    old = _tree(_obj("a.css", 5, MD5_A), _obj("a.0123456789ab.css", 5))
    name, data = _record(1, old)
    listing = {name: Remote(9, None), "a.css": Remote(5, MD5_A),
               "a.0123456789ab.css": Remote(5, None)}
    new = _tree(_obj("a.css", 5, MD5_B), _obj("a.ba9876543210.css", 5))
    plan = plan_publish(new, listing, {name: data}, remote_manifest=None)
    assert plan.overwrite == ("a.css",)
    assert plan.record is not None and plan.record[0].startswith(f"{VERSIONS_DIR}/000002-")
    assert plan.marker is not None and plan.marker[0] == f"{VERSIONS_DIR}/000002.pending"
    # only new names: no marker
    assert plan_publish(_tree(_obj("b.css", 5, MD5_A)), listing, {name: data},
                        remote_manifest=None).marker is None
    # a marker no record follows: the same version gets a new record, which retires it
    stopped = {**listing, plan.marker[0]: Remote(1, None)}
    again = plan_publish(old, stopped, {name: data}, remote_manifest=b"m")
    assert again.record is not None and again.record[0].startswith(f"{VERSIONS_DIR}/000002-")
    assert plan_publish(old, listing, {name: data}, remote_manifest=None).record is None
    done = {**stopped, again.record[0]: Remote(9, None)}
    assert plan_publish(old, done, {again.record[0]: again.record[1]},
                        remote_manifest=None).record is None
    assert plan.marker[0] in plan_publish(old, done, {}, remote_manifest=None,
                                          keep_versions=0, prune=True).delete


def test_plan_prune_keeps_the_current_and_keep_versions_earlier() -> None:
    versions = [_tree(_obj(f"v{i}.0123456789ab.css", 5), _obj("shared.0123456789ab.png", 3))
                for i in range(5)]
    records = dict(_record(i + 1, tree) for i, tree in enumerate(versions[:4]))
    listing = {name: Remote(1, None) for name in records}
    listing.update({f"v{i}.0123456789ab.css": Remote(5, None) for i in range(4)})
    listing.update({"shared.0123456789ab.png": Remote(3, None),
                    "theirs.png": Remote(1, None)})
    plan = plan_publish(versions[4], listing, records, remote_manifest=None,
                        keep_versions=2, prune=True)
    old = sorted(records)[:2]
    assert plan.kept_versions == tuple(sorted(records)[2:])
    assert plan.delete == ("v0.0123456789ab.css", "v1.0123456789ab.css", *old)
    assert plan_publish(versions[4], listing, records, remote_manifest=None,
                        keep_versions=2).delete == ()


# -- against the S3 server ---------------------------------------------------------------

def test_first_publish_objects_and_headers_over_http(tmp_path: Path, s3: S3Server,
                                                     bucket: str) -> None:
    settings = make_site(tmp_path)
    events: list[Progress] = []
    result = publish(f"s3://{bucket}/static", settings=settings, progress=events.append)
    local = local_files(settings)
    stored = s3.keys(bucket, "static/")
    records = [name for name in stored if name.startswith(VERSIONS_DIR + "/")]
    assert len(records) == 1
    assert {name: size for name, size in stored.items() if name not in records} == \
        {name: len(data) for name, data in local.items()}
    assert set(result.uploaded) == set(local)
    assert result.present == 0
    assert result.uploaded_bytes == sum(len(data) for data in local.values())
    # The manifest is written last, after this version's record.
    uploads = [e.name for e in events if e.action == "upload"]
    assert uploads[-2:] == [records[0], "staticfiles.json"]
    assert [e.done for e in events] == list(range(1, len(events) + 1))
    assert events[-1].bytes_done == events[-1].bytes_total == result.uploaded_bytes

    paths = manifest_of(settings)
    hashed_css = paths["css/app.css"]
    data, headers = s3.get(bucket, f"static/{hashed_css}")
    assert data == local[hashed_css]
    assert headers["content-type"] == "text/css; charset=utf-8"
    assert headers["cache-control"] == IMMUTABLE
    data, headers = s3.get(bucket, f"static/{hashed_css}.gz")
    assert data == local[hashed_css + ".gz"]
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "text/css; charset=utf-8"
    _, headers = s3.get(bucket, "static/css/app.css")
    assert headers["cache-control"] == "public, max-age=60"
    _, headers = s3.get(bucket, f"static/{paths['img/logo.png']}")
    assert headers["content-type"] == "image/png" and headers["cache-control"] == IMMUTABLE
    _, headers = s3.get(bucket, f"static/{paths['fonts/f.woff2']}")
    assert headers["content-type"] == "font/woff2"
    data, headers = s3.get(bucket, "static/staticfiles.json")
    assert data == local["staticfiles.json"]
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=60"


def test_second_publish_uploads_nothing(tmp_path: Path, s3: S3Server, bucket: str) -> None:
    settings = make_site(tmp_path)
    first = publish(f"s3://{bucket}/static", settings=settings)
    before = s3.keys(bucket)
    events: list[Progress] = []
    s3.requests.clear()
    second = publish(f"s3://{bucket}/static", settings=settings, progress=events.append)
    # two requests: the version records listed, the manifest read; no object listed
    assert sorted((r.method, r.path) for r in s3.requests) == \
        [("GET", f"/{bucket}"), ("GET", f"/{bucket}/static/staticfiles.json")]
    assert [prefix.rstrip("/") for prefix in listings(s3, bucket)] == [RECORDS]
    assert second.uploaded == () and events == []
    assert second.present == len(first.uploaded) - 1  # (all but the manifest)
    assert second.summary() == (f"uploaded 0 objects / 0.0 MB to s3://{bucket}/static, "
                                f"{second.present} already present, pruned 0.")
    assert s3.keys(bucket) == before


def test_one_changed_css_file(tmp_path: Path, s3: S3Server, bucket: str) -> None:
    settings = make_site(tmp_path)
    publish(f"s3://{bucket}/static", settings=settings)
    old_files, old_paths = local_files(settings), manifest_of(settings)
    (tmp_path / "static/css/base.css").write_text("h1 { color: #00c; }\n" * 40)
    recollect(tmp_path)
    new_files, new_paths = local_files(settings), manifest_of(settings)
    s3.requests.clear()
    result = publish(f"s3://{bucket}/static", settings=settings)
    # without a listing of the objects: each upload written once, then the record and
    # the manifest (behind a marker, since base.css's unhashed copy is replaced)
    assert all(prefix.startswith(RECORDS) for prefix in listings(s3, bucket))
    written = writes(s3, bucket)
    assert sorted(name for name in written if not name.startswith(VERSIONS_DIR)) == \
        sorted(result.uploaded)
    assert written[-1] == "staticfiles.json" and written[-2].startswith(VERSIONS_DIR)
    # base.css changed, so did the hashed name of app.css, which imports it
    assert new_paths["css/base.css"] != old_paths["css/base.css"]
    assert new_paths["css/app.css"] != old_paths["css/app.css"]
    changed = {name for name, data in new_files.items() if old_files.get(name) != data}
    assert set(result.uploaded) == changed
    assert {new_paths["css/base.css"], new_paths["css/app.css"], "css/base.css",
            "staticfiles.json"} <= set(result.uploaded)
    assert new_paths["img/logo.png"] not in result.uploaded
    assert "js/app.js" not in result.uploaded
    assert s3.get(bucket, "static/staticfiles.json")[0] == new_files["staticfiles.json"]
    # the previous version's objects are still there
    assert {old_paths["css/base.css"], old_paths["css/app.css"]} <= set(s3.keys(bucket,
                                                                                "static/"))


def test_dry_run_lists_and_changes_nothing(tmp_path: Path, s3: S3Server, bucket: str) -> None:
    make_site(tmp_path)
    proc = cli("publish", f"s3://{bucket}/static", "--dry-run", cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert "would upload staticfiles.json" in lines
    assert lines[-1].startswith("would upload ") and "would prune 0." in lines[-1]
    assert s3.keys(bucket) == {}


def test_cli_publishes_and_summarises(tmp_path: Path, s3: S3Server, bucket: str) -> None:
    settings = make_site(tmp_path)
    proc = cli("publish", f"s3://{bucket}/static", cwd=tmp_path)
    count = len(local_files(settings))
    assert proc.stdout.startswith(f"uploaded {count} objects / 0.0 MB to s3://{bucket}/static, "
                                  f"0 already present, pruned 0.")
    assert proc.stderr == ""  # (no terminal: no progress line)
    again = cli("publish", f"s3://{bucket}/static", cwd=tmp_path)
    assert again.stdout.startswith(f"uploaded 0 objects / 0.0 MB to s3://{bucket}/static, "
                                   f"{count - 1} already present, pruned 0.")


def test_denied_object_fails_in_one_line_and_the_manifest_stays(
        tmp_path: Path, s3: S3Server, bucket: str) -> None:
    settings = make_site(tmp_path)
    publish(f"s3://{bucket}/static", settings=settings)
    old_manifest = s3.get(bucket, "static/staticfiles.json")[0]
    (tmp_path / "static/css/base.css").write_text("h1 { color: #0c0; }\n" * 40)
    recollect(tmp_path)
    denied = manifest_of(settings)["css/base.css"]
    s3.set_policy(bucket, [{"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                            "Resource": f"arn:aws:s3:::{bucket}/static/{denied}"}])
    proc = cli("publish", f"s3://{bucket}/static", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert f"s3://{bucket}/static/{denied}: cannot upload it: permission denied" in proc.stderr
    assert s3.get(bucket, "static/staticfiles.json")[0] == old_manifest
    s3.set_policy(bucket, [])
    result = publish(f"s3://{bucket}/static", settings=settings)
    assert denied in result.uploaded
    assert s3.get(bucket, "static/staticfiles.json")[0] == \
        (settings.root / "staticfiles.json").read_bytes()


def test_missing_bucket_and_missing_credentials(tmp_path: Path, s3: S3Server) -> None:
    make_site(tmp_path)
    proc = cli("publish", "s3://no-such-bucket/static", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: s3://no-such-bucket/static: cannot list the "
                                  "destination: the bucket (or container) does not exist")
    env = {key: value for key, value in os.environ.items()
           if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
                          "AWS_SESSION_TOKEN")}
    # (no instance metadata here: a closed local port answers at once)
    env["AWS_METADATA_ENDPOINT"] = f"http://127.0.0.1:{_closed_port()}"
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run([sys.executable, "-m", "collectstatic", "publish",
                           "s3://any-bucket/static"], cwd=tmp_path, env=env, timeout=120,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "no usable credentials for the store: set them in the environment" in proc.stderr


def _closed_port() -> int:
    from .s3server import free_port

    return free_port()


def test_network_failing_mid_way_then_rerun(tmp_path: Path, s3: S3Server,
                                            bucket: str) -> None:
    files = dict(SITE)
    files.update({f"static/img/icon{i}.png": bytes([i]) * 500 for i in range(40)})
    settings = make_site(tmp_path, "\n[tool.collectstatic.publish]\nworkers = 2\n", files)
    config = load_publish_config(tmp_path / "pyproject.toml")
    total = len(read_tree(settings.root).objects)

    def outage(event: Progress) -> None:
        if event.done == 10:
            s3.stop()

    try:
        with pytest.raises(PublishError, match="cannot reach the store") as info:
            publish(f"s3://{bucket}/static", settings=settings, config=config,
                    progress=outage)
    finally:
        s3.start()
    assert "what arrived is not uploaded again" in str(info.value)
    arrived = s3.keys(bucket, "static/")
    assert "staticfiles.json" not in arrived
    assert 10 <= len(arrived) < total
    result = publish(f"s3://{bucket}/static", settings=settings, config=config)
    assert result.present == len(arrived)
    assert not set(result.uploaded) & set(arrived)
    assert len(result.uploaded) == total - len(arrived) + 1  # (+ the manifest)


_KILLABLE = """
import os, signal, sys
from pathlib import Path
from collectstatic.config import load_settings
from collectstatic.publish import load_publish_config, publish

after = sys.argv[2]  # a count of objects written, or the name of one

def progress(event):
    if after in (str(event.done), event.name):  # killed at once: no cleanup at all
        os.kill(os.getpid(), signal.SIGKILL)

publish(sys.argv[1], settings=load_settings("pyproject.toml"),
        config=load_publish_config("pyproject.toml"), progress=progress)
"""


def test_killed_half_way_then_rerun(tmp_path: Path, s3: S3Server, bucket: str) -> None:
    files = dict(SITE)
    files.update({f"static/img/icon{i}.png": bytes([i]) * 700 for i in range(40)})
    settings = make_site(tmp_path, "\n[tool.collectstatic.publish]\nworkers = 3\n", files)
    publish(f"s3://{bucket}/static", settings=settings)  # an earlier version
    old_manifest = s3.get(bucket, "static/staticfiles.json")[0]
    for i in range(40):
        (tmp_path / f"static/img/icon{i}.png").write_bytes(bytes([i + 1]) * 700)
    recollect(tmp_path)
    local = local_files(settings)

    def missing() -> set[str]:  # what the bucket lacks or holds other bytes of
        held = s3.etags(bucket, "static/")
        return {name for name, data in local.items()
                if held.get(name) != (len(data), hashlib.md5(data).hexdigest())}

    before = missing()
    proc = subprocess.run([sys.executable, "-c", _KILLABLE, f"s3://{bucket}/static", "25"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert s3.get(bucket, "static/staticfiles.json")[0] == old_manifest
    left = missing()
    assert len(before) - len(left) >= 25 and "staticfiles.json" in left
    # every object that arrived before the kill is skipped: only the rest, then the manifest
    result = publish(f"s3://{bucket}/static", settings=settings)
    assert set(result.uploaded) == left
    assert result.uploaded[-1] == "staticfiles.json"
    assert missing() == set()


def _killed(tmp_path: Path, bucket: str, after: str) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILLABLE, f"s3://{bucket}/static", after],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def test_killed_among_new_objects_then_rerun_checks_only_those(
        tmp_path: Path, s3: S3Server, bucket: str) -> None:
    files = {**SITE, **{f"static/img/icon{i}.png": bytes([i]) * 700 for i in range(12)}}
    settings = make_site(tmp_path, "\n[tool.collectstatic.publish]\nworkers = 2\n", files)
    publish(f"s3://{bucket}/static", settings=settings)
    old_manifest = s3.get(bucket, "static/staticfiles.json")[0]
    for i in range(3):  # three hashed names new, three unhashed copies replaced
        (tmp_path / f"static/img/icon{i}.png").write_bytes(bytes([i + 1]) * 700)
    recollect(tmp_path)
    paths = manifest_of(settings)
    new = {paths[f"img/icon{i}.png"] for i in range(3)}
    s3.requests.clear()
    _killed(tmp_path, bucket, "2")
    arrived = set(writes(s3, bucket))
    assert len(arrived) >= 2 and arrived <= new  # (the new names go first)
    assert s3.get(bucket, "static/staticfiles.json")[0] == old_manifest
    s3.requests.clear()
    result = publish(f"s3://{bucket}/static", settings=settings)
    # the rerun checks the six objects the latest record does not vouch for, one by
    # one, instead of listing them all, and writes none of what arrived again
    assert all(prefix.startswith(RECORDS) for prefix in listings(s3, bucket))
    assert sorted(r.path for r in s3.requests if r.method == "HEAD") == sorted(
        f"/{bucket}/static/{name}" for name in new | {f"img/icon{i}.png" for i in range(3)})
    assert set(result.uploaded) == new - arrived | {f"img/icon{i}.png" for i in range(3)} | \
        {"staticfiles.json"}
    assert not arrived & set(writes(s3, bucket))
    assert s3.get(bucket, "static/staticfiles.json")[0] == local_files(settings)[
        "staticfiles.json"]


def test_killed_while_replacing_unhashed_names_then_the_previous_version(
        tmp_path: Path, s3: S3Server, bucket: str) -> None:
    settings = make_site(tmp_path, "\n[tool.collectstatic.publish]\nworkers = 1\n")
    publish(f"s3://{bucket}/static", settings=settings)
    before = local_files(settings)
    (tmp_path / "static/js/app.js").write_text("console.log('hello from app 2');\n" * 40)
    recollect(tmp_path)
    _killed(tmp_path, bucket, "js/app.js")  # (killed once the unhashed copy is replaced)
    assert s3.get(bucket, "static/js/app.js")[0] != before["js/app.js"]
    # The previous version again: its record vouches for js/app.js, but the marker the
    # stopped run left says that no longer holds, so the destination is listed.
    (tmp_path / "static/js/app.js").write_text(SITE["static/js/app.js"])  # type: ignore
    recollect(tmp_path)
    s3.requests.clear()
    result = publish(f"s3://{bucket}/static", settings=settings)
    assert "js/app.js" in result.uploaded
    assert s3.get(bucket, "static/js/app.js")[0] == before["js/app.js"]
    assert "static/" in listings(s3, bucket)
    # its new record supersedes the marker: the next publish reads the records alone
    s3.requests.clear()
    again = publish(f"s3://{bucket}/static", settings=settings)
    assert again.uploaded == () and "static/" not in listings(s3, bucket)


def test_verify_lists_and_restores_objects_deleted_behind_its_back(
        tmp_path: Path, s3: S3Server, bucket: str) -> None:
    settings = make_site(tmp_path)
    publish(f"s3://{bucket}/static", settings=settings)
    lost = manifest_of(settings)["css/app.css"]
    s3.client().delete_object(Bucket=bucket, Key=f"static/{lost}")
    # a publish trusts the version records: the object is not missed...
    assert publish(f"s3://{bucket}/static", settings=settings).uploaded == ()
    # ...unless told to list the destination
    s3.requests.clear()
    proc = cli("publish", f"s3://{bucket}/static", "--verify", "--dry-run", cwd=tmp_path)
    assert proc.stdout.splitlines()[0] == f"would upload {lost}"
    assert "static/" in listings(s3, bucket) and writes(s3, bucket) == []
    proc = cli("publish", f"s3://{bucket}/static", "--verify", cwd=tmp_path)
    assert proc.stdout.startswith(f"uploaded 1 object / 0.0 MB to s3://{bucket}/static")
    assert s3.get(bucket, f"static/{lost}")[0] == local_files(settings)[lost]


def test_many_changes_or_no_records_fall_back_to_one_listing(
        tmp_path: Path, s3: S3Server, bucket: str) -> None:
    files = {**SITE, **{f"static/img/icon{i}.png": bytes([i]) * 700 for i in range(12)}}
    settings = make_site(tmp_path, "\n[tool.collectstatic.publish]\nworkers = 1\n", files)
    # objects put there by another tool, no version record: listed, and skipped
    for name, data in local_files(settings).items():
        if name.startswith("img/icon"):
            s3.client().put_object(Bucket=bucket, Key=f"static/{name}", Body=data)
    s3.requests.clear()
    first = publish(f"s3://{bucket}/static", settings=settings)
    assert "static/" in listings(s3, bucket) and first.present == 24
    # twelve icons changed: more objects to check than one listing costs
    for i in range(12):
        (tmp_path / f"static/img/icon{i}.png").write_bytes(bytes([i + 1]) * 700)
    recollect(tmp_path)
    s3.requests.clear()
    result = publish(f"s3://{bucket}/static", settings=settings,
                     config=load_publish_config(tmp_path / "pyproject.toml"))
    assert "static/" in listings(s3, bucket)
    assert not any(r.method == "HEAD" for r in s3.requests)
    assert len(result.uploaded) == 24 + 1
    assert set(s3.keys(bucket, "static/")) >= set(local_files(settings))


def test_prune_keeps_exactly_the_last_versions(tmp_path: Path, s3: S3Server,
                                               bucket: str) -> None:
    settings = make_site(tmp_path)
    dest = f"s3://{bucket}/static"
    versions = []
    for colour in ("#100", "#200", "#300", "#400", "#500"):
        (tmp_path / "static/css/base.css").write_text(f"h1 {{ color: {colour}; }}\n" * 40)
        recollect(tmp_path)
        publish(dest, settings=settings, keep_versions=2)
        versions.append(set(local_files(settings)))
    stored = set(s3.keys(bucket, "static/"))
    assert set().union(*versions) <= stored  # without --prune nothing is deleted
    dry = publish(dest, settings=settings, keep_versions=2, prune=True, dry_run=True)
    assert dry.pruned and set(s3.keys(bucket, "static/")) == stored
    result = publish(dest, settings=settings, keep_versions=2, prune=True)
    assert result.pruned == dry.pruned
    left = set(s3.keys(bucket, "static/"))
    objects = {name for name in left if not name.startswith(VERSIONS_DIR + "/")}
    assert objects == versions[-1] | versions[-2] | versions[-3]
    assert len([name for name in left if name.startswith(VERSIONS_DIR + "/")]) == 3
    again = publish(dest, settings=settings, keep_versions=2, prune=True)
    assert again.pruned == () and again.uploaded == ()


def test_prune_never_deletes_objects_no_version_named(tmp_path: Path, s3: S3Server,
                                                      bucket: str) -> None:
    settings = make_site(tmp_path)
    s3.client().put_object(Bucket=bucket, Key="static/uploads/user.png", Body=b"theirs")
    for colour in ("#100", "#200", "#300"):
        (tmp_path / "static/css/base.css").write_text(f"h1 {{ color: {colour}; }}\n" * 40)
        recollect(tmp_path)
        publish(f"s3://{bucket}/static", settings=settings, keep_versions=0, prune=True)
    left = set(s3.keys(bucket, "static/"))
    assert "uploads/user.png" in left
    assert {name for name in left if not name.startswith((VERSIONS_DIR, "uploads/"))} == \
        set(local_files(settings))


# -- other sources and file:// ----------------------------------------------------------------

def test_file_destination(tmp_path: Path) -> None:
    settings = make_site(tmp_path / "project")
    dest = tmp_path / "cdn" / "static"
    result = publish(dest.as_uri(), settings=settings)
    published = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*")
                 if p.is_file() and not p.relative_to(dest).as_posix().startswith(VERSIONS_DIR)}
    assert published == local_files(settings)
    assert len(result.uploaded) == len(published)
    again = publish(dest.as_uri(), settings=settings)
    assert again.uploaded == () and again.present == len(published) - 1
    (tmp_path / "project/static/js/app.js").write_text("console.log('changed');\n")
    recollect(tmp_path / "project")
    paths = manifest_of(settings)
    changed = publish(dest.as_uri(), settings=settings)
    assert set(changed.uploaded) == {"js/app.js", paths["js/app.js"], "staticfiles.json"}
    old_js = paths["js/app.js"]
    (tmp_path / "project/static/js/app.js").write_text("console.log('again');\n")
    recollect(tmp_path / "project")
    pruned = publish(dest.as_uri(), settings=settings, keep_versions=0, prune=True)
    assert old_js in pruned.pruned and not (dest / old_js).exists()
    published = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert {name for name in published if not name.startswith(VERSIONS_DIR)} == \
        set(local_files(settings))


def _package(where: Path, settings: Settings) -> Path:
    """An installed-looking package ``mysite`` whose ``staticfiles`` is the collected tree."""
    package = where / "mysite"
    (package / "staticfiles").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, data in local_files(settings).items():
        write_tree(package / "staticfiles", {name: data})
    return package


def test_package_and_wheel_sources(tmp_path: Path) -> None:
    settings = make_site(tmp_path / "project")
    _package(tmp_path / "site-packages", settings)
    elsewhere = tmp_path / "elsewhere"  # no pyproject.toml here
    elsewhere.mkdir()
    dest = tmp_path / "from-package"
    proc = cli("publish", dest.as_uri(), "--package", "mysite", cwd=elsewhere,
               env={"PYTHONPATH": f"{tmp_path / 'site-packages'}{os.pathsep}{REPO}"})
    count = len(local_files(settings))
    assert proc.stdout.startswith(f"uploaded {count} objects")
    assert (dest / "staticfiles.json").read_bytes() == \
        (settings.root / "staticfiles.json").read_bytes()

    wheel = tmp_path / "mysite-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mysite/__init__.py", "")
        for name, data in local_files(settings).items():
            archive.writestr(f"mysite/staticfiles/{name}", data)
        archive.writestr("mysite-1.0.dist-info/METADATA", "Name: mysite\n")
    result = publish((tmp_path / "from-wheel").as_uri(), wheel=wheel)
    assert len(result.uploaded) == count
    assert (tmp_path / "from-wheel" / manifest_of(settings)["css/app.css"]).is_file()

    proc = cli("publish", dest.as_uri(), "--package", "not_installed_pkg", cwd=elsewhere,
               check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: --package not_installed_pkg: cannot find the package")


def test_no_collected_tree_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.collectstatic]\nroot = "out"\n')
    proc = cli("publish", (tmp_path / "dest").as_uri(), cwd=tmp_path, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "no collected tree there; run 'collectstatic collect' first" in proc.stderr
    proc = cli("publish", "ftp://host/x", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("error: 'ftp://host/x': expected")


def test_publish_docs_list_the_table_keys() -> None:
    from collectstatic.publish import PUBLISH_KEYS

    text = (REPO / "docs" / "publish.md").read_text()
    for key, (kind, _default) in PUBLISH_KEYS.items():
        assert f"| `{key}` | {kind} |" in text, key



def test_progress_on_a_terminal(tmp_path: Path) -> None:
    import pty

    make_site(tmp_path)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "collectstatic", "publish",
                               (tmp_path / "dest").as_uri()], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=follower, env={**os.environ, "PYTHONPATH": str(REPO)},
                              timeout=120, text=True)
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # (EIO: the terminal closed)
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    assert proc.stdout.startswith("uploaded ")
    text = shown.decode()
    assert "\r\x1b[Kupload 1/" in text and "staticfiles.json" in text
    assert text.endswith("\r\x1b[K")  # the progress line is cleared at the end
