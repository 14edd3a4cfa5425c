"""Crash hygiene (issue 8, bug 5 and requirement 5).

- A SIGKILL during uploads leaves partial files in DATA_DIR/tmp: the next
  start removes ours (and only ours) before listening, and logs how many; no
  uploads row points at a missing file.
- A stored file without a row (a crash between storing it and inserting
  its row) is an orphan: the sweep removes it once older than an hour.
- Uploads nothing uses are deleted (row and file) after UPLOAD_TTL_HOURS,
  by the sweeper thread every SWEEP_INTERVAL_S or by `hwc3d sweep`; used
  ones (a model's file, thumbnail and previews, an avatar, a slide) stay,
  on local storage and on S3.
- UPLOAD_QUOTA_MB per user: 413 FILE_TOO_LARGE before the body is read when
  Content-Length tells, and at the end otherwise; admins are exempt.

Every server here is stopped with SIGTERM while its sweeper runs: exit 0 and
no sanitizer report (conftest's finish_server)."""
import glob
import json
import os
import re
import secrets
import socket
import threading
import time

import pytest
import requests

from conftest import (assert_error, finish_server, parse_raw_response, raw_request, require_pg,
                      run_binary, start_seeded_server, start_server)
from test_models import create_model, make_creator, make_users, png_bytes, upload_image, upload_model
from test_storage_s3 import s3rver  # noqa: F401  (the fixture)

TXT = b"hygiene test line\n"


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request):
    if request.param == "postgres":
        require_pg()
    return request.param


def size_or_0(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def tmp_entries(server, prefix=""):
    d = os.path.join(server.data_dir, "tmp")
    return sorted(n for n in os.listdir(d) if n.startswith(prefix)) if os.path.isdir(d) else []


def stored_files(server):
    """Keys of every file under DATA_DIR/files (but derived/)."""
    root = os.path.join(server.data_dir, "files")
    out = set()
    for area in ("models", "images", "avatars", "attachments"):
        for p in glob.glob(os.path.join(root, area, "*")):
            out.add(f"{area}/{os.path.basename(p)}")
    return out


def upload_rows(server):
    return {key: int(i) for i, key in server.sql("SELECT id, storage_key FROM uploads")}


def assert_rows_have_files(server):
    files = stored_files(server)
    missing = [k for k in upload_rows(server) if k not in files]
    assert not missing, f"uploads rows whose file is missing: {missing}"


def backdate_files(server, seconds=7200):
    old = time.time() - seconds
    for key in stored_files(server):
        p = os.path.join(server.data_dir, "files", key)
        os.utime(p, (old, old))


def run_sweep(server, **env):
    e = dict(server.env)
    e.update({k: str(v) for k, v in env.items()})
    p = run_binary(["sweep"], e, server.tmp, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def post_file(server, kind, name, data, headers, timeout=60):
    return requests.post(server.url + f"/api/upload/{kind}", headers=headers,
                         files={"file": (name, data, "application/octet-stream")}, timeout=timeout)


def multipart_head(boundary, name):
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()


def open_stream(server, token_headers, total, first_bytes):
    """A raw upload of an announced `total`-byte attachment that sends only
    its first bytes and then stalls: the server is streaming it to tmp."""
    boundary = "hyg" + secrets.token_hex(8)
    head = multipart_head(boundary, "big.txt")
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + total + len(tail)
    req = (f"POST /api/upload/attachment HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           f"Authorization: {token_headers['Authorization']}\r\n"
           f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
           f"Content-Length: {length}\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(req + head)
    sent = 0
    while sent < first_bytes:
        chunk = (TXT * 4096)[:min(65536, first_bytes - sent)]
        s.sendall(chunk)
        sent += len(chunk)
    return s


# ---------------------------------------------------------------- SIGKILL

def test_kill_during_uploads_then_restart_leaves_no_partial_file_or_orphan(engine):
    s = start_server(engine, label=f"hyg-kill-{engine}")
    socks = []
    try:
        who = make_creator(s)
        # a few finished uploads, whose rows and files must survive everything
        for i in range(3):
            assert post_file(s, "attachment", f"done{i}.txt", TXT * 100, who.h).status_code == 201
        # three large bodies streaming, and small uploads finishing all along
        socks = [open_stream(s, who.h, 20 << 20, 1 << 20) for _ in range(3)]
        stop = threading.Event()

        def small_uploads():
            while not stop.is_set():
                try:
                    post_file(s, "attachment", "small.txt", TXT * 50, who.h, timeout=5)
                except requests.RequestException:
                    return

        t = threading.Thread(target=small_uploads)
        t.start()
        deadline = time.time() + 15
        while time.time() < deadline:
            big = [n for n in tmp_entries(s, "up-")
                   if size_or_0(os.path.join(s.data_dir, "tmp", n)) >= (512 << 10)]
            if len(big) >= 3:
                break
            time.sleep(0.05)
        assert len(big) >= 3, f"the streams never reached DATA_DIR/tmp: {tmp_entries(s)}"
        time.sleep(0.3)
        s.kill()  # SIGKILL, in the middle of everything
        stop.set()
        t.join(10)
        for sock in socks:
            sock.close()
        socks = []
        # what the crash left, plus a Blender work dir and a stranger's file
        left = tmp_entries(s, "up-")
        assert len(left) >= 3, left
        tmp = os.path.join(s.data_dir, "tmp")
        os.makedirs(os.path.join(tmp, "blend-crash1"))
        with open(os.path.join(tmp, "blend-crash1", "in.blend"), "wb") as f:
            f.write(b"BLENDER")
        with open(os.path.join(tmp, "not-ours.dat"), "wb") as f:
            f.write(b"keep me")

        s.logf.close()
        s.stopped = False
        s.start()
        assert tmp_entries(s) == ["not-ours.dat"], tmp_entries(s)
        counts = re.findall(r"removed (\d+) leftover temp files", s.log())
        assert len(counts) == 2 and int(counts[-1]) >= len(left) + 1, s.log_tail()
        # no row without its file
        assert_rows_have_files(s)
        rows_before = upload_rows(s)
        assert len(rows_before) >= 3

        # a crash between storing a file and writing its row: an orphan
        orphan = f"attachments/{secrets.token_hex(16)}.txt"
        with open(os.path.join(s.data_dir, "files", orphan), "wb") as f:
            f.write(b"orphan")
        young = f"attachments/{secrets.token_hex(16)}.txt"
        backdate_files(s)
        with open(os.path.join(s.data_dir, "files", young), "wb") as f:
            f.write(b"maybe its row is being written")
        out = run_sweep(s)  # beside the running server
        assert out["orphan_files"] >= 1, out
        files = stored_files(s)
        assert orphan not in files
        assert young in files, "a file younger than the grace period was swept"
        assert set(upload_rows(s)) == set(rows_before)
        assert_rows_have_files(s)
        # no stored file without a row, apart from the young one
        assert files - set(rows_before) == {young}, files - set(rows_before)
        # and the finished uploads are still served
        for key in list(rows_before)[:3]:
            r = s.get("/files/" + key, headers=who.h)
            assert r.status_code == 200, (key, r.status_code)
    finally:
        for sock in socks:
            sock.close()
        finish_server(s)


def test_sweep_leaves_a_temp_file_alone_while_it_is_written(engine):
    s = start_server(engine, label=f"hyg-lock-{engine}")
    sock = None
    try:
        who = make_creator(s)
        sock = open_stream(s, who.h, 4 << 20, 256 << 10)
        deadline = time.time() + 10
        while not tmp_entries(s, "up-") and time.time() < deadline:
            time.sleep(0.05)
        names = tmp_entries(s, "up-")
        assert names, "no temp file"
        p = os.path.join(s.data_dir, "tmp", names[0])
        old = time.time() - 7200
        os.utime(p, (old, old))  # older than the grace period, but still being written
        assert run_sweep(s)["temp_files"] == 0
        assert os.path.exists(p)
        # an old one nobody writes goes
        stale = os.path.join(s.data_dir, "tmp", "up-stale1")
        with open(stale, "wb") as f:
            f.write(b"x")
        os.utime(stale, (old, old))
        assert run_sweep(s)["temp_files"] == 1
        assert not os.path.exists(stale)
        assert os.path.exists(p)
    finally:
        if sock:
            sock.close()
        finish_server(s)


# ---------------------------------------------------------------- UPLOAD_TTL_HOURS

def test_unused_uploads_expire_and_used_ones_stay(engine):
    # the full demo data: its models' files and the slider's images are
    # uploads that are used, and older than the TTL by the time it sweeps
    s = start_seeded_server(engine, ["--scale", "3"], seed_timeout=120, label=f"hyg-ttl-{engine}",
                            env={"UPLOAD_TTL_HOURS": "0.002", "SWEEP_INTERVAL_S": "1"})  # 7.2 s
    try:
        seeded = upload_rows(s)
        assert len(seeded) >= 24, "seed-demo stores model files and slide images as uploads"
        c = make_creator(s)
        h = c.h
        used_model = upload_model(s, h)
        thumb, preview = upload_image(s, h), upload_image(s, h)
        m = create_model(s, c, upload=used_model, thumbnail_url=thumb, preview_images=[preview])
        r = post_file(s, "avatar", "me.png", png_bytes(8, 8), h)
        assert r.status_code == 201, r.text
        avatar = r.json()["avatar_url"]
        unused_model = upload_model(s, h)
        unused_image = upload_image(s, h)
        r = post_file(s, "attachment", "notes.txt", TXT, h)
        assert r.status_code == 201, r.text
        unused_attachment = r.json()["file_url"]

        def key(url):
            return url.split("/files/", 1)[1]

        gone = {key(unused_image), key(unused_attachment)}
        rows = upload_rows(s)
        gone.add(next(k for k, i in rows.items() if i == unused_model["upload_id"]))
        kept = {key(thumb), key(preview), key(avatar), key(m["thumbnail_url"])}
        kept.add(next(k for k, i in rows.items() if i == used_model["upload_id"]))
        assert gone <= stored_files(s)

        deadline = time.time() + 30
        while time.time() < deadline and gone & set(upload_rows(s)):
            time.sleep(0.25)
        rows = upload_rows(s)
        assert not gone & set(rows), f"expired unused uploads still there: {gone & set(rows)}"
        files = stored_files(s)
        assert not gone & files, f"their files are still there: {gone & files}"
        assert kept <= set(rows), kept - set(rows)
        assert set(seeded) <= set(rows), "seeded slides (used by the slider) were swept"
        assert kept <= files
        assert_rows_have_files(s)
        assert "sweep: removed" in s.log()
        # what the API says about them
        r = s.post("/api/models/analyze", json={"upload_id": unused_model["upload_id"]}, headers=h)
        assert_error(r, 404, "NOT_FOUND")
        assert s.get("/files/" + key(unused_image)).status_code == 404
        assert s.get("/files/" + key(thumb)).status_code == 200
        assert s.get(f"/api/models/{m['id']}", headers=h).status_code == 200
        # the model can be deleted; its file goes with it, row first
        r = s.delete(f"/api/models/{m['id']}", headers=h)
        assert r.status_code == 200, r.text
        assert_rows_have_files(s)
    finally:
        finish_server(s)


def test_ttl_zero_keeps_unused_uploads_and_the_cli_sweeps_expired_ones(engine):
    s = start_server(engine, label=f"hyg-cli-{engine}", env={"UPLOAD_TTL_HOURS": "0"})
    try:
        c = make_creator(s)
        up = upload_model(s, c.h)
        time.sleep(1.2)
        assert run_sweep(s)["expired_uploads"] == 0  # 0: keep them
        assert up["upload_id"] in upload_rows(s).values()
        out = run_sweep(s, UPLOAD_TTL_HOURS="0.0002")  # 0.72 s
        assert out["expired_uploads"] == 1, out
        assert up["upload_id"] not in upload_rows(s).values()
        assert_rows_have_files(s)
    finally:
        finish_server(s)


@pytest.mark.parametrize("var,value", [
    ("UPLOAD_TTL_HOURS", "abc"), ("UPLOAD_TTL_HOURS", "-1"), ("UPLOAD_TTL_HOURS", "1.2.3"),
    ("UPLOAD_TTL_HOURS", "."), ("UPLOAD_TTL_HOURS", "87601"), ("UPLOAD_QUOTA_MB", "-5"),
    ("UPLOAD_QUOTA_MB", "lots"), ("SWEEP_INTERVAL_S", "0"), ("SWEEP_INTERVAL_S", "1h"),
])
def test_bad_hygiene_settings_exit_2(tmp_path, var, value):
    from conftest import base_env
    env = base_env({"DATA_DIR": str(tmp_path / "data"), "JWT_SECRET_KEY": secrets.token_hex(32), var: value})
    p = run_binary(["sweep"], env, str(tmp_path), timeout=30)
    assert p.returncode == 2, p.stdout + p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and var in lines[0], lines


# ---------------------------------------------------------------- UPLOAD_QUOTA_MB

def test_upload_quota(engine):
    s = start_server(engine, label=f"hyg-quota-{engine}", env={"UPLOAD_QUOTA_MB": "1"})
    try:
        who = make_users(s, 1, creator=True)[0]
        r = post_file(s, "attachment", "a.txt", TXT * (700_000 // len(TXT)), who.h)
        assert r.status_code == 201, r.text
        rows = len(upload_rows(s))

        # Content-Length says it will not fit: 413 before a byte of the body
        boundary = "q" + secrets.token_hex(8)
        head = (f"POST /api/upload/attachment HTTP/1.1\r\nHost: x\r\nAuthorization: {who.h['Authorization']}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {600_000 + 65536}\r\n\r\n").encode()
        status, headers, body = parse_raw_response(raw_request(s.port, head, timeout=10))
        assert status == 413, (status, body[:300])
        b = json.loads(body)
        assert b["error_code"] == "FILE_TOO_LARGE" and "quota" in b["detail"].lower(), b

        # no Content-Length (chunked): refused at the end, nothing kept
        data = TXT * (400_000 // len(TXT))

        boundary2 = "c" + secrets.token_hex(8)

        def chunks():
            yield multipart_head(boundary2, "b.txt")
            for i in range(0, len(data), 65536):
                yield data[i:i + 65536]
            yield f"\r\n--{boundary2}--\r\n".encode()

        r = requests.post(s.url + "/api/upload/attachment", data=chunks(), timeout=30,
                          headers=dict(who.h, **{"Content-Type": f"multipart/form-data; boundary={boundary2}"}))
        b = assert_error(r, 413, "FILE_TOO_LARGE")
        assert "quota" in b["detail"].lower(), b
        assert len(upload_rows(s)) == rows
        assert tmp_entries(s, "up-") == []

        # what still fits is accepted
        r = post_file(s, "attachment", "c.txt", TXT * (100_000 // len(TXT)), who.h)
        assert r.status_code == 201, r.text
        # another user has a quota of their own; admins have none
        other = make_users(s, 1)[0]
        assert post_file(s, "attachment", "d.txt", TXT * (700_000 // len(TXT)), other.h).status_code == 201
        r = post_file(s, "attachment", "e.txt", TXT * (1_500_000 // len(TXT)), s.admin_headers())
        assert r.status_code == 201, r.text
    finally:
        finish_server(s)


# ---------------------------------------------------------------- S3

def test_s3_expired_uploads_leave_the_bucket(s3rver):
    from test_storage_s3 import in_bucket, s3_env
    s = start_server("sqlite", label="hyg-s3",
                     env=s3_env(s3rver["port"], UPLOAD_TTL_HOURS="0.0008", SWEEP_INTERVAL_S="1"))
    try:
        c = make_creator(s)
        used = upload_model(s, c.h)
        create_model(s, c, upload=used)
        unused = upload_image(s, c.h)
        key = unused.split("/files/", 1)[1]
        rows = upload_rows(s)
        used_key = next(k for k, i in rows.items() if i == used["upload_id"])
        assert in_bucket(s3rver, key) and in_bucket(s3rver, used_key)
        deadline = time.time() + 20
        while time.time() < deadline and key in upload_rows(s):
            time.sleep(0.25)
        assert key not in upload_rows(s)
        # the row goes first, the object right after it (one S3 DELETE later)
        while time.time() < deadline and in_bucket(s3rver, key):
            time.sleep(0.1)
        assert not in_bucket(s3rver, key), "the expired upload's object is still in the bucket"
        assert in_bucket(s3rver, used_key) and used_key in upload_rows(s)
    finally:
        finish_server(s)

