"""S3 storage through the real server (S3_BUCKET_NAME set): uploads land in
a local s3rver bucket and nothing under DATA_DIR/files, /files/... answers
with a redirect to a presigned URL that serves the same bytes, replaced
avatars are deleted from the bucket, an unreachable bucket fails an upload
cleanly, and bad S3 settings stop `serve` with exit 2 and one line.

s3rver (an npm devDependency, run with node) does not check V4 signatures:
tests/unit/test_s3.c checks our signing against AWS's published examples
and libcurl's against our own."""
import json
import os
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse
import zlib

import pytest
import requests

from conftest import (IS_CI, REPO, base_env, finish_server, free_port, run_binary,
                      start_server)

S3RVER = os.path.join(REPO, "node_modules", "s3rver", "bin", "s3rver.js")
BUCKET = "hwc3d-test"


def png_bytes(w=3, h=2):
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + b"\x10\x80\xf0" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_size(data):
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), data[:16]
    return struct.unpack(">II", data[16:24])


def s3_env(port, **extra):
    env = {"S3_BUCKET_NAME": BUCKET, "S3_ENDPOINT": f"http://127.0.0.1:{port}",
           "S3_ACCESS_KEY_ID": "S3RVER", "S3_SECRET_ACCESS_KEY": "S3RVER", "S3_REGION": "us-east-1"}
    env.update(extra)
    return env


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def s3rver():
    """A local S3 stand-in on a free port with one bucket."""
    if not os.path.exists(S3RVER) or not shutil.which("node"):
        msg = f"s3rver is not installed ({S3RVER}: run npm ci) or node is missing"
        if IS_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    d = tempfile.mkdtemp(prefix="hwc3d-s3rver-")
    port = free_port()
    log = open(os.path.join(d, "s3rver.log"), "wb")
    data = os.path.join(d, "data")
    # --openssl-legacy-provider: s3rver makes ListObjectsV2 continuation
    # tokens with DES, which OpenSSL 3 only has in its legacy provider
    # (without it a listing that spans pages answers 500).
    proc = subprocess.Popen(["node", "--openssl-legacy-provider", S3RVER, "--directory", data, "--address", "127.0.0.1",
                             "--port", str(port), "--silent", "--configure-bucket", BUCKET],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while not port_open(port):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            log.close()
            with open(os.path.join(d, "s3rver.log"), errors="replace") as f:
                pytest.fail(f"s3rver did not start:\n{f.read()}")
        time.sleep(0.05)
    yield {"port": port, "data": data, "url": f"http://127.0.0.1:{port}"}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    shutil.rmtree(d, ignore_errors=True)


def in_bucket(s3, key):
    """Is key stored in s3rver's directory (its layout: <bucket>/<key>._S3rver_object)?"""
    parts = key.split("/")
    return os.path.exists(os.path.join(s3["data"], BUCKET, *parts[:-1], parts[-1] + "._S3rver_object"))


@pytest.fixture(scope="module")
def s3server(s3rver):
    s = start_server("sqlite", label="s3", env=s3_env(s3rver["port"]))
    yield s
    finish_server(s)


def local_files(server):
    out = []
    for root, _, files in os.walk(os.path.join(server.data_dir, "files")):
        out += [os.path.join(root, f) for f in files]
    return out


def upload(server, kind, name, data, headers):
    return requests.post(server.url + f"/api/upload/{kind}", headers=headers,
                         files={"file": (name, data, "application/octet-stream")}, timeout=60)


def key_of(url):
    path = urllib.parse.urlsplit(url).path
    assert path.startswith("/files/"), url
    return path[len("/files/"):]


def follow(server, key, headers=None):
    """GET /files/<key>: the 302 and what its presigned URL answers."""
    r = requests.get(server.url + "/files/" + key, headers=headers or {}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, f"{r.status_code}: {r.text[:300]}"
    loc = r.headers["Location"]
    return r, loc, requests.get(loc, timeout=10)


def test_image_upload_is_stored_in_the_bucket_and_served_by_redirect(s3server, s3rver):
    user = s3server.user_headers(1)
    r = upload(s3server, "image", "pic.png", png_bytes(3, 2), user)
    assert r.status_code == 201, r.text
    key = key_of(r.json()["image_url"])
    assert key.startswith("images/")
    assert in_bucket(s3rver, key)
    assert local_files(s3server) == []
    _, loc, g = follow(s3server, key)
    parts = urllib.parse.urlsplit(loc)
    q = urllib.parse.parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == s3rver["url"]
    assert parts.path == f"/{BUCKET}/{key}"
    assert q["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and q["X-Amz-SignedHeaders"] == ["host"]
    assert q["X-Amz-Credential"][0].startswith("S3RVER/") and q["X-Amz-Credential"][0].endswith(
        "/us-east-1/s3/aws4_request")
    assert 1 <= int(q["X-Amz-Expires"][0]) <= 3600
    assert len(q["X-Amz-Signature"][0]) == 64
    assert g.status_code == 200, g.text[:300]
    assert g.headers["Content-Type"] == "image/png"
    assert png_size(g.content) == (3, 2)


def test_private_attachment_redirects_only_for_its_owner(s3server, s3rver):
    user = s3server.user_headers(1)
    data = "plain text in S3, ünïcode\n".encode()
    r = upload(s3server, "attachment", "notes.txt", data, user)
    assert r.status_code == 201, r.text
    key = key_of(r.json()["file_url"])
    assert in_bucket(s3rver, key)
    assert requests.get(s3server.url + "/files/" + key, allow_redirects=False, timeout=10).status_code == 404
    assert requests.get(s3server.url + "/files/" + key, headers=s3server.user_headers(2),
                        allow_redirects=False, timeout=10).status_code == 404
    _, _, g = follow(s3server, key, user)
    assert g.status_code == 200 and g.content == data


def test_replaced_avatar_is_deleted_from_the_bucket(s3server, s3rver):
    uid = s3server.make_user()
    hdr = {"Authorization": f"Bearer {s3server.token(uid)}"}
    r1 = upload(s3server, "avatar", "a.png", png_bytes(8, 8), hdr)
    assert r1.status_code == 201, r1.text
    first = key_of(r1.json()["avatar_url"])
    assert in_bucket(s3rver, first)
    r2 = upload(s3server, "avatar", "b.png", png_bytes(9, 9), hdr)
    assert r2.status_code == 201, r2.text
    second = key_of(r2.json()["avatar_url"])
    assert in_bucket(s3rver, second)
    # Deleted by a durable job (kind s3_delete), off the poll thread.
    deadline = time.time() + 30
    while in_bucket(s3rver, first) and time.time() < deadline:
        time.sleep(0.1)
    assert not in_bucket(s3rver, first)
    rows = s3server.sql(f"SELECT status, attempts FROM jobs WHERE kind = 's3_delete' AND payload LIKE '%{first}%'")
    assert rows == [("done", "1")], rows


def test_failed_bucket_delete_is_retried():
    """An S3 delete that fails (bucket unreachable) stays queued and is
    tried again with backoff, instead of being lost."""
    closed = free_port()
    s = start_server("sqlite", label="s3-delete-retry", env=s3_env(closed, JOB_BACKOFF_MS="200"), seed=False)
    try:
        p = run_binary(["job-enqueue", "s3_delete", '{"key": "images/0123456789abcdef.png"}'], s.env, s.tmp)
        assert p.returncode == 0, p.stdout + p.stderr
        job = json.loads(p.stdout)["id"]
        deadline = time.time() + 60
        row = None
        while time.time() < deadline:
            row = s.sql(f"SELECT status, attempts, error FROM jobs WHERE id = {job}")[0]
            if int(row[1]) >= 2:
                break
            time.sleep(0.2)
        assert int(row[1]) >= 2 and row[0] in ("queued", "running"), row
        assert "cannot delete images/0123456789abcdef.png" in row[2] or row[0] == "running", row
        # a bad key is not retried
        p = run_binary(["job-enqueue", "s3_delete", '{"key": "../etc/passwd"}'], s.env, s.tmp)
        bad = json.loads(p.stdout)["id"]
        deadline = time.time() + 30
        while time.time() < deadline and s.sql(f"SELECT status FROM jobs WHERE id = {bad}")[0][0] != "failed":
            time.sleep(0.2)
        assert s.sql(f"SELECT status, attempts FROM jobs WHERE id = {bad}")[0] == ("failed", "1")
    finally:
        finish_server(s)


def test_unreachable_bucket_fails_the_upload_cleanly():
    closed = free_port()
    secret = "sekrit-" + secrets.token_hex(8)
    s = start_server("sqlite", label="s3-down", env=s3_env(closed, S3_SECRET_ACCESS_KEY=secret), seed=False)
    try:
        uid = s.make_user()
        hdr = {"Authorization": f"Bearer {s.token(uid)}"}
        r = upload(s, "image", "pic.png", png_bytes(), hdr)
        assert r.status_code >= 500, r.text
        assert isinstance(r.json().get("error_code"), str)
        assert secret not in r.text
        assert s.scalar(f"SELECT COUNT(*) FROM uploads WHERE user_id = {uid}") == "0"
        assert os.listdir(os.path.join(s.data_dir, "tmp")) == []
        assert local_files(s) == []
        # the log says what failed, and never the secret
        assert "S3 PUT images/" in s.log() and secret not in s.log()
        # and what does not need the bucket goes on working
        for path in ("/api/categories", "/api/models?page=1&sort=newest", "/api/users/me", "/", "/marketplace"):
            r = requests.get(s.url + path, headers=hdr, timeout=10)
            assert r.status_code == 200, (path, r.status_code, r.text[:200])
    finally:
        finish_server(s)


@pytest.mark.parametrize("env,name", [
    ({"S3_BUCKET_NAME": BUCKET}, "S3_ACCESS_KEY_ID"),
    ({"S3_BUCKET_NAME": BUCKET, "S3_ACCESS_KEY_ID": "k"}, "S3_SECRET_ACCESS_KEY"),
    (dict(s3_env(9000), S3_ENDPOINT="not a url"), "S3_ENDPOINT"),
    (dict(s3_env(9000), S3_ENDPOINT="ftp://127.0.0.1:9000"), "S3_ENDPOINT"),
    (dict(s3_env(9000), S3_ENDPOINT="http://127.0.0.1:9000/?x=1"), "S3_ENDPOINT"),
    (dict(s3_env(9000), S3_ENDPOINT=None, AWS_ENDPOINT_URL="127.0.0.1:9000"), "AWS_ENDPOINT_URL"),
    (dict(s3_env(9000), S3_BUCKET_NAME="a/b"), "S3_BUCKET_NAME"),
    (dict(s3_env(9000), S3_REGION="us:east"), "S3_REGION"),
])
def test_bad_s3_settings_refuse_to_serve(env, name):
    tmp = tempfile.mkdtemp(prefix="hwc3d-s3cfg-")
    try:
        e = base_env(dict({"DATA_DIR": os.path.join(tmp, "data"), "JWT_SECRET_KEY": secrets.token_hex(32),
                           "PORT": str(free_port())}, **env))
        p = run_binary(["serve"], e, tmp, timeout=30)
        assert p.returncode == 2, f"exit {p.returncode}\n{p.stdout}{p.stderr}"
        # one plain line (the JSON log lines before it are migrations)
        lines = [l for l in p.stderr.splitlines() if l.strip() and not l.startswith("{")]
        assert len(lines) == 1 and lines[0].startswith("hwc3d: ") and name in lines[0], p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
