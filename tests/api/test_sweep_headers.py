"""Issue 15 item 4, the hostile sweep: header injection through every value
reflected into a response header.

The values a caller chooses that reach a header:
  - Content-Disposition: the file name of an upload (model sources, images,
    attachments; GET /files/..., the owner's and buyer's downloads, support
    attachments); a model's title when its upload has no name;
  - X-Request-Id: echoed when it is 8-64 of [A-Za-z0-9_-], replaced otherwise;
  - Access-Control-Allow-Origin: only an exact CORS_ORIGINS entry;
  - Content-Range: numbers the server computes from Range;
  - Location: only the S3 presigned redirect (the server's own URL).
Each response head is read as raw bytes: no CR or LF inside a value (no
split header), only printable ASCII, no header the caller made up;
Content-Disposition carries an ASCII fallback filename="..." without
quotes, backslashes or semicolons and the real name in
filename*=UTF-8''<percent-encoded>.
"""
import re
import socket
import urllib.parse

import pytest
import requests

from conftest import parse_raw_response
from test_models import CUBE_OBJ, make_users, png_bytes


def raw_head(server, path, headers=b""):
    """The raw response head (bytes) of GET path with the given raw header
    lines (bytes, each ending in CRLF)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  + headers + b"\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head = data.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 "), data[:200]
    return head


def check_head(head, forbidden=(b"x-injected",)):
    lines = head.split(b"\r\n")
    for line in lines[1:]:
        assert b"\r" not in line and b"\n" not in line
        assert re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [\x20-\x7e\t]*", line), f"bad header line {line!r}"
        for f in forbidden:
            assert not line.lower().startswith(f + b":"), f"injected header {line!r}"
    return {k: v for k, v in (l.decode().split(": ", 1) for l in lines[1:])}


def headers_list(head):
    return [l.decode().split(": ", 1) for l in head.split(b"\r\n")[1:]]


DISPOSITION_RE = re.compile(r'^(inline|attachment); filename="([\x20-\x7e]*)"; filename\*=UTF-8\'\'([A-Za-z0-9%!#$&+.^_`|~-]+)$')


def check_disposition(head, expect_name):
    cds = [v for k, v in headers_list(head) if k.lower() == "content-disposition"]
    assert len(cds) == 1, cds
    m = DISPOSITION_RE.match(cds[0])
    assert m, f"Content-Disposition {cds[0]!r}"
    fallback, star = m.group(2), m.group(3)
    assert not set(fallback) & set('"\\;'), fallback
    assert urllib.parse.unquote(star, encoding="utf-8", errors="strict") == expect_name, (star, expect_name)
    return fallback


# file name sent -> the name the server keeps (path and control characters
# and quotes dropped at upload, multipart.c)
NAMES = [
    ("modèle «rouge» 𝔸.png", "modèle «rouge» 𝔸.png"),
    ("\u202egpj.exe.png", "\u202egpj.exe.png"),
    ("semi;colon,comma.png", "semi;colon,comma.png"),
    ("per%0d%0acent.png", "per%0d%0acent.png"),
    ("C:\\fakepath\\back.png", "back.png"),
    ("sp ace 'quote'.png", "sp ace 'quote'.png"),
]


def raw_upload(server, h, route, filename_bytes, data, ctype=b"application/octet-stream"):
    """A multipart upload whose part header carries filename_bytes as is."""
    b = b"sweepboundary7MA4YWxkTrZu0gW"
    body = (b"--" + b + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename_bytes
            + b"\"\r\nContent-Type: " + ctype + b"\r\n\r\n" + data + b"\r\n--" + b + b"--\r\n")
    return requests.post(server.url + route, data=body, timeout=60,
                         headers=dict(h, **{"Content-Type": "multipart/form-data; boundary=" + b.decode()}))


@pytest.fixture(scope="module")
def owner(server):
    a, = make_users(server, 1, creator=True)
    return a


@pytest.mark.parametrize("sent,kept", NAMES, ids=[str(i) for i in range(len(NAMES))])
def test_upload_file_names_never_split_the_disposition(server, owner, sent, kept):
    r = raw_upload(server, owner.h, "/api/upload/attachment", sent.encode(), png_bytes())
    assert r.status_code == 201, r.text
    path = urllib.parse.urlsplit(r.json()["file_url"]).path
    head = raw_head(server, path, b"Authorization: " + owner.h["Authorization"].encode() + b"\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    check_head(head)
    check_disposition(head, kept)


def test_raw_control_characters_in_a_part_file_name(server, owner):
    """CR, LF, quotes and DEL in the multipart part's own header: the upload
    is refused or the characters are gone; never a split response header."""
    for raw in (b"a\rb.png", b"evil\\\".png", b"del\x7f.png", b"tab\tname.png"):
        r = raw_upload(server, owner.h, "/api/upload/attachment", raw, png_bytes())
        assert r.status_code in (201, 400, 415, 422), (raw, r.status_code, r.text[:200])
        if r.status_code != 201:
            continue
        path = urllib.parse.urlsplit(r.json()["file_url"]).path
        head = raw_head(server, path, b"Authorization: " + owner.h["Authorization"].encode() + b"\r\n")
        check_head(head)
        cd = [v for k, v in headers_list(head) if k.lower() == "content-disposition"]
        assert len(cd) == 1 and DISPOSITION_RE.match(cd[0]), (raw, cd)
    # bytes that are not UTF-8 were a 500 on PostgreSQL (it refuses to store them)
    r = raw_upload(server, owner.h, "/api/upload/attachment", b"bad\xff\xfeutf8.png", png_bytes())
    assert r.status_code == 201, r.text
    head = raw_head(server, urllib.parse.urlsplit(r.json()["file_url"]).path,
                    b"Authorization: " + owner.h["Authorization"].encode() + b"\r\n")
    check_head(head)
    check_disposition(head, "bad__utf8.png")


def test_image_and_attachment_names(server, owner):
    name = "photo é\"x\".png"
    r = requests.post(server.url + "/api/upload/image", headers=owner.h, timeout=60,
                      files={"file": (name, png_bytes(), "image/png")})
    assert r.status_code == 201, r.text
    head = raw_head(server, urllib.parse.urlsplit(r.json()["image_url"]).path)
    check_head(head)
    cd = [v for k, v in headers_list(head) if k.lower() == "content-disposition"]
    m = DISPOSITION_RE.match(cd[0]) if len(cd) == 1 else None
    assert m and m.group(1) == "inline", cd
    fallback = check_disposition(head, urllib.parse.unquote(m.group(3)))
    assert urllib.parse.unquote(m.group(3)).startswith("photo é")
    assert fallback.endswith(".png")
    att = requests.post(server.url + "/api/upload/attachment", headers=owner.h, timeout=60,
                        files={"file": ("relevé ✓.png", png_bytes(), "image/png")})
    assert att.status_code == 201, att.text
    aid = att.json()["upload_id"]
    t = server.post("/api/support/tickets", json={"subject": "Names in headers", "message": "see attached",
                                                   "attachment_ids": [aid]}, headers=owner.h)
    assert t.status_code == 201, t.text
    head = raw_head(server, f"/api/support/tickets/{t.json()['id']}/attachments/{aid}",
                    b"Authorization: " + owner.h["Authorization"].encode() + b"\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    check_head(head)
    check_disposition(head, "relevé ✓.png")


def test_model_download_name(server, owner):
    """The owner's download of a model uploaded under a hostile name."""
    r = raw_upload(server, owner.h, "/api/upload/model", "naïve \u202e;name.obj".encode(), CUBE_OBJ)
    assert r.status_code == 201, r.text
    from test_models import default_category
    m = server.post("/api/models", json={"title": 'Title "with" quotes\\ and ;', "price": 0, "is_free": True,
                                         "category_id": default_category(server),
                                         "upload_id": r.json()["upload_id"]}, headers=owner.h)
    assert m.status_code == 201, m.text
    r = server.get(f"/api/models/{m.json()['id']}/download", headers=owner.h)
    assert r.status_code == 200, r.text
    link = urllib.parse.urlsplit(r.json()["download_url"])
    head = raw_head(server, link.path + "?" + link.query)
    assert head.startswith(b"HTTP/1.1 200"), head
    check_head(head)
    check_disposition(head, "naïve \u202e;name.obj")


REQUEST_IDS = [
    b"abcdefgh\xff\xfe",
    b"abcdefgh ijk",
    b"a" * 200,
    b"abcdefgh%0d%0aX-Injected: 1",
    b"abcdefgh\tX-Injected: 1",
    "réquest-id-é".encode(),
    b"short",
]


def test_request_id_is_echoed_only_when_clean(server):
    head = raw_head(server, "/healthz", b"X-Request-Id: good-id_12345678\r\n")
    assert check_head(head)["X-Request-Id"] == "good-id_12345678"
    for rid in REQUEST_IDS:
        head = raw_head(server, "/healthz", b"X-Request-Id: " + rid + b"\r\n")
        hs = check_head(head)
        assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", hs["X-Request-Id"]), hs
        assert hs["X-Request-Id"].encode() != rid
    # an obs-fold continuation line is not a way in either
    head = raw_head(server, "/healthz", b"X-Request-Id: abcdefgh\r\n X-Injected: 1\r\n")
    assert head.startswith(b"HTTP/1.1 400") or "X-Injected" not in check_head(head).get("X-Request-Id", "")


def test_origin_is_reflected_only_when_exact(server):
    for origin in (b"http://localhost:3000\xff", b"http://localhost:3000 evil", b"http://localhost:3000.evil.example",
                   b"null", b"http://localhost:3000/"):
        head = raw_head(server, "/api/categories", b"Origin: " + origin + b"\r\n")
        hs = check_head(head)
        assert "Access-Control-Allow-Origin" not in hs, (origin, hs)
    hs = check_head(raw_head(server, "/api/categories", b"Origin: http://localhost:3000\r\n"))
    assert hs.get("Access-Control-Allow-Origin") == "http://localhost:3000"


def test_range_answers_carry_only_numbers(server, owner):
    r = requests.post(server.url + "/api/upload/image", headers=owner.h, timeout=60,
                      files={"file": ("r.png", png_bytes(), "image/png")})
    path = urllib.parse.urlsplit(r.json()["image_url"]).path
    for rng in (b"bytes=0-3", b"bytes=99999999-", b"bytes=0-1,2-3", b"bytes=abc\xff", b"bytes=-5"):
        head = raw_head(server, path, b"Range: " + rng + b"\r\n")
        hs = check_head(head)
        if "Content-Range" in hs:
            assert re.fullmatch(r"bytes (\d+-\d+|\*)/\d+", hs["Content-Range"]), hs


def test_no_route_reflects_the_request_into_a_header(server, owner):
    """Every GET route (ids filled with 1), with CR/LF and non-ASCII in the
    path and query: every answer's head stays clean."""
    import json
    import subprocess
    import tempfile
    from conftest import BINARY, base_env
    d = tempfile.gettempdir()
    routes = json.loads(subprocess.run([BINARY, "routes"], capture_output=True, text=True,
                                       env=base_env({"DATA_DIR": d}), cwd=d, timeout=30).stdout)
    evil = "%0d%0aX-Injected:%201%E2%80%AE%C3%A9"
    auth = b"Authorization: " + owner.h["Authorization"].encode() + b"\r\n"
    for r in routes:
        if r["method"] != "GET":
            continue
        path = "/".join(("1" if ":int" in seg else "x" + evil) if seg.startswith("{") else seg
                        for seg in r["path"].split("/"))
        check_head(raw_head(server, path + "?next=" + evil + "&redirect_uri=" + evil + "&q=" + evil, auth))
    for path in ("/", "/models/" + evil, "/x" + evil + ".js", "/files/models/" + evil):
        check_head(raw_head(server, path, auth))
