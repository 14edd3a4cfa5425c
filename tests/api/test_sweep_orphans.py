"""The orphan sweep on S3 and in the derived/ area.

A file no row references (a crash between storing it and writing its row)
is removed by the sweep once older than an hour (src/svc/sweep.h); files the
server made itself (area derived/: converted GLBs...) once older than six
hours and referenced by no column (models.viewer_key, a file URL).

- S3: the sweep lists the bucket with ListObjectsV2 page by page
  (S3_LIST_PAGE_SIZE=2 here, so every area spans several pages); objects
  are put straight into s3rver's bucket and aged by setting the mtime of
  s3rver's object file (its LastModified).  The sweeper thread of the
  running server does it (SWEEP_INTERVAL_S=1), not the CLI.
- local disk: the same areas and rules through `hwc3d sweep`.

Each test runs on SQLite and PostgreSQL."""
import json
import os
import secrets
import time

import pytest
import requests

from conftest import finish_server, run_binary, start_server
from test_hygiene import engine, run_sweep, upload_rows  # noqa: F401  (engine: the fixture)
from test_models import create_model, make_creator, upload_image, upload_model
from test_storage_s3 import BUCKET, in_bucket, s3_env, s3rver  # noqa: F401  (s3rver: the fixture)

HOUR = 3600


def name(area, ext):
    return f"{area}/{secrets.token_hex(16)}.{ext}"


def s3_object_file(s3, key):
    parts = key.split("/")
    return os.path.join(s3["data"], BUCKET, *parts[:-1], parts[-1] + "._S3rver_object")


def s3_put(s3, key, data=b"orphan bytes"):
    r = requests.put(f"{s3['url']}/{BUCKET}/{key}", data=data, timeout=10)
    assert r.status_code == 200, r.text
    assert in_bucket(s3, key)


def s3_age(s3, key, seconds):
    """Sets the object's LastModified `seconds` into the past (s3rver takes
    it from its file's mtime)."""
    t = time.time() - seconds
    os.utime(s3_object_file(s3, key), (t, t))


def s3_listed(s3, prefix):
    """What a ListObjectsV2 of the bucket answers now (keys)."""
    r = requests.get(f"{s3['url']}/{BUCKET}/", params={"list-type": "2", "prefix": prefix}, timeout=10)
    assert r.status_code == 200, r.text
    return r.text


def references(server):
    """A creator's model (its source referenced by an uploads row and
    models.file_key), an unused image (its uploads row), and the derived
    key the model names: viewer_key (the GLB the server converts the OBJ
    to), the one column that holds a derived/ key.
    Returns the keys, and whether the viewer GLB is still to be stored."""
    c = make_creator(server)
    up = upload_model(server, c.h)
    m = create_model(server, c, upload=up)
    mid = int(m["id"])
    model_key = server.scalar(f"SELECT storage_key FROM uploads WHERE id = {int(up['upload_id'])}")
    image_key = upload_image(server, c.h).split("/files/", 1)[1]
    # the conversion job replaces (and deletes) any viewer_key: wait for it
    deadline = time.time() + 60
    while time.time() < deadline and server.scalar(
            f"SELECT conversion_status FROM models WHERE id = {mid}") not in ("done", "failed"):
        time.sleep(0.2)
    viewer = server.scalar(f"SELECT viewer_key FROM models WHERE id = {mid}")
    store_viewer = not viewer
    if store_viewer:  # no converter here: name one ourselves
        viewer = name("derived", "glb")
    assert viewer.startswith("derived/"), viewer
    server.sql(f"UPDATE models SET viewer_key = '{viewer}' WHERE id = {mid}")
    return {"model": model_key, "image": image_key, "viewer": viewer}, store_viewer


@pytest.fixture
def s3sweeper(engine, s3rver):  # noqa: F811
    s = start_server(engine, label=f"sweep-s3-{engine}",
                     env=s3_env(s3rver["port"], S3_LIST_PAGE_SIZE="2", SWEEP_INTERVAL_S="1"))
    yield s
    finish_server(s)


def test_s3_orphans_are_swept_across_pages_and_referenced_or_fresh_files_stay(s3sweeper, s3rver):  # noqa: F811
    s = s3sweeper
    refs, store_viewer = references(s)
    assert in_bucket(s3rver, refs["model"]) and in_bucket(s3rver, refs["image"])
    for key in ([refs["viewer"]] if store_viewer else []):
        s3_put(s3rver, key)
    assert in_bucket(s3rver, refs["viewer"])
    # orphans, two hours old: several in one area, so its listing has pages
    old = [name("attachments", "txt") for _ in range(5)]
    old += [name("models", "obj"), name("images", "png"), name("avatars", "jpg")]
    old_derived = [name("derived", "glb"), name("derived", "pdf")]
    # kept: a fresh orphan; a derived orphan past the hour but not past six;
    # names the server never gives (upper case, a deeper path, another area)
    fresh = name("images", "png")
    young_derived = name("derived", "mp4")
    foreign = ["images/NotOurs.PNG", "images/sub/dir.png", "backups/old.tar"]
    for key in old + old_derived + [fresh, young_derived] + foreign:
        s3_put(s3rver, key)
    assert "<IsTruncated>" in s3_listed(s3rver, "attachments/")
    for key in old + foreign + list(refs.values()):
        s3_age(s3rver, key, 2 * HOUR)
    for key in old_derived:
        s3_age(s3rver, key, 7 * HOUR)
    s3_age(s3rver, young_derived, 5 * HOUR)
    s3_age(s3rver, refs["viewer"], 7 * HOUR)

    # the server's own sweeper thread, every second
    deadline = time.time() + 60
    while time.time() < deadline and any(in_bucket(s3rver, k) for k in old + old_derived):
        time.sleep(0.25)
    left = [k for k in old + old_derived if in_bucket(s3rver, k)]
    assert not left, f"orphans still in the bucket: {left}\n{s.log_tail()}"
    for key in list(refs.values()) + [fresh, young_derived] + foreign:
        assert in_bucket(s3rver, key), f"{key} was swept"
    assert refs["model"] in upload_rows(s) and refs["image"] in upload_rows(s)
    assert "removed orphan file attachments/" in s.log()
    # the model still downloads its source from the bucket
    r = requests.get(s.url + "/files/" + refs["image"], allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text


def test_s3_sweep_keeps_everything_when_the_listing_fails(engine, s3rver):  # noqa: F811
    """A bucket that cannot be listed (here: not there) deletes nothing and
    fails no sweep: the listing's error is logged."""
    s = start_server(engine, label=f"sweep-s3-missing-{engine}",
                     env=s3_env(s3rver["port"], S3_BUCKET_NAME="no-such-bucket"))
    try:
        # a row, so the sweep does not stop at "no uploads at all"
        now = int(time.time() * 1000)
        s.sql("INSERT INTO uploads (user_id, kind, storage_key, original_name, content_type, file_format,"
              " size_bytes, sha256, created_at) SELECT id, 'image', 'images/x.png', 'x.png', 'image/png', 'PNG',"
              f" 1, 'x', {now} FROM users LIMIT 1")
        p = run_binary(["sweep"], s.env, s.tmp, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert json.loads(p.stdout.strip().splitlines()[-1])["orphan_files"] == 0
        assert "S3 list models/: " in p.stdout + p.stderr and "NoSuchBucket" in p.stdout + p.stderr, \
            p.stdout + p.stderr
    finally:
        finish_server(s)


def test_local_derived_orphans_are_swept_after_six_hours(engine):  # noqa: F811
    s = start_server(engine, label=f"sweep-derived-{engine}")
    try:
        refs, store_viewer = references(s)
        root = os.path.join(s.data_dir, "files")

        def put(key, age):
            p = os.path.join(root, key)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(b"derived bytes")
            t = time.time() - age
            os.utime(p, (t, t))

        def there(key):
            return os.path.exists(os.path.join(root, key))

        old_derived = [name("derived", "glb"), name("derived", "pdf")]
        young_derived = name("derived", "mp4")
        orphan = name("attachments", "txt")
        for key in old_derived + ([refs["viewer"]] if store_viewer else []):
            put(key, 7 * HOUR)
        put(young_derived, 5 * HOUR)
        put(orphan, 2 * HOUR)
        for key in (refs["model"], refs["image"], refs["viewer"]):
            t = time.time() - 7 * HOUR
            os.utime(os.path.join(root, key), (t, t))

        out = run_sweep(s)
        assert out["orphan_files"] == 3, out
        assert not any(there(k) for k in old_derived + [orphan])
        for key in list(refs.values()) + [young_derived]:
            assert there(key), f"{key} was swept"
        # a second sweep finds nothing more
        assert run_sweep(s)["orphan_files"] == 0
    finally:
        finish_server(s)
