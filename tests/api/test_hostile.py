"""Issue 8: walk the whole route table (`hwc3d routes`) with hostile input,
as an anonymous visitor, a signed-in creator and an admin:

  - hostile query strings (huge values, argument floods near the 128 cap,
    4-byte UTF-8 floods, invalid UTF-8 escapes, %00, hostile numbers, long
    comma lists, repeats, broken syntax);
  - hostile headers (huge and forged Authorization, `alg: none`, huge
    Cookie, bad Origin, bad Content-Type, ...);
  - type-confused JSON bodies (each field as null, bool, number, huge
    number, huge string, array, object, 30-deep nesting; and bodies that
    are not objects), alone and inside an otherwise valid body.

Path parameters are real ids (a model, category, comment, testimonial,
slide, user and stored file made first) and garbage.  No answer may be
>= 500 other than a 503 with Retry-After; the server must stay up, answer
/healthz, log only whole JSON lines, and stop cleanly without a sanitizer
report (finish_server).  It runs on its own server, never the shared one.

Requests go through http.client so that targets and headers are sent
exactly as written (no re-encoding), in a few parallel connections.
"""
import concurrent.futures
import http.client
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import (BINARY, REPO, base_env, bearer, finish_server, mint_token, require_pg, start_server, uniq)
from test_models import CUBE_OBJ, make_creator, png_bytes

WORKERS = 3


# ---------------------------------------------------------------- plumbing

class Client:
    """One keep-alive connection; sends exactly what it is given."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def send(self, method, target, headers=(), body=None):
        """(status, headers dict, body bytes), or None when the connection
        was closed or reset without an answer."""
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            try:
                self.conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                names = {k.lower() for k, _ in headers}
                if "host" not in names:
                    self.conn.putheader("Host", f"127.0.0.1:{self.port}")
                if body is not None and "content-length" not in names:
                    self.conn.putheader("Content-Length", str(len(body)))
                for k, v in headers:
                    self.conn.putheader(k, v)
                self.conn.endheaders(body)
                r = self.conn.getresponse()
                data = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if r.will_close:
                    self.close()
                return r.status, hdrs, data
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    return None
        return None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Walk:
    """Sends batches of requests in parallel and collects what went wrong."""

    def __init__(self, server):
        self.server = server
        self.local = threading.local()
        self.failures = []
        self.resets = []
        self.count = 0
        self.lock = threading.Lock()

    def client(self):
        if not hasattr(self.local, "c"):
            self.local.c = Client(self.server.port)
        return self.local.c

    def one(self, req):
        method, target, headers, body, may_reset = req
        # An answer decided before the body (401, 403, 413) closes the
        # connection while a big body is still being sent; the server's
        # lingering close drains it, so the answer must arrive, not a reset.
        res = self.client().send(method, target, headers, body)
        with self.lock:
            self.count += 1
        if res is None:
            if self.server.proc.poll() is not None:
                raise AssertionError(f"the server died on {method} {target[:200]}:\n{self.server.log_tail(80)}")
            if not may_reset:
                with self.lock:
                    self.resets.append(f"{method} {target[:160]} ({len(body or b'')} bytes of body)")
            return
        status, hdrs, data = res
        if status >= 500 and not (status == 503 and "retry-after" in hdrs):
            with self.lock:
                self.failures.append(f"{status} {method} {target[:160]} "
                                     f"[{', '.join(k for k, _ in headers)[:120]}] "
                                     f"body={body[:80] if body else b''!r} -> {data[:200]!r}")

    def run(self, reqs):
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
            for f in [ex.submit(self.one, r) for r in reqs]:
                f.result()

    def check(self, what):
        assert self.server.proc.poll() is None, f"{what}: the server died:\n{self.server.log_tail(80)}"
        assert requests.get(self.server.url + "/healthz", timeout=10).status_code == 200
        problems = self.failures + [f"no answer (reset): {r}" for r in self.resets]
        ids = set(re.findall(r'request id ([0-9a-f]+)', "\n".join(self.failures)))
        if ids:  # what the server logged about them
            problems += [line[:400] for line in self.server.log().splitlines()
                         if any(i in line for i in ids) and '"type":"access"' not in line]
        assert not problems, (f"{what}: {len(self.failures)} answers >= 500 and {len(self.resets)} resets "
                              f"in {self.count} requests:\n" + "\n".join(problems[:60]))


def q(s):
    return urllib.parse.quote(s, safe="")


# ---------------------------------------------------------------- the server and its data

def route_table():
    d = tempfile.gettempdir()
    p = subprocess.run([BINARY, "routes"], capture_output=True, text=True, env=base_env({"DATA_DIR": d}), cwd=d,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hostile(request):
    if request.param == "postgres":
        require_pg()
    s = start_server(request.param, label=f"hostile-{request.param}", env={"RATE_LIMIT_ENABLED": "false"})
    try:
        yield s
    finally:
        finish_server(s)


class World:
    """Real things for path parameters, fresh for each walk."""

    def __init__(self, s):
        self.admin_id = s.user_id("admin@example.com")
        self.admin = s.admin_headers()
        self.creator = make_creator(s)
        self.user = self.creator.h
        h = self.user

        def ok(r):
            assert r.status_code in (200, 201), r.text
            return r.json()

        up = ok(requests.post(s.url + "/api/upload/model", headers=h,
                              files={"file": ("cube.obj", CUBE_OBJ, "application/octet-stream")}, timeout=60))
        img = ok(requests.post(s.url + "/api/upload/image", headers=h,
                               files={"file": ("pic.png", png_bytes(), "application/octet-stream")}, timeout=60))
        self.image_url = img["image_url"]
        self.file = urllib.parse.urlsplit(up["file_url"]).path  # /files/models/<key>
        self.category = ok(s.post("/api/admin/categories", json={"name": uniq("Hc")}, headers=self.admin))["id"]
        self.model = ok(s.post("/api/models", headers=h, json={
            "title": uniq("Hostile"), "price": 5, "category_id": self.category, "upload_id": up["upload_id"],
            "tags": ["hostile", "walk"]}))["id"]
        ok(s.put(f"/api/admin/models/{self.model}/approve", headers=self.admin))
        self.comment = ok(s.post(f"/api/models/{self.model}/comments", json={"body": "a hostile comment"},
                                 headers=h))["id"]
        self.testimonial = ok(s.post("/api/admin/testimonials", headers=self.admin, json={
            "author_name": "Walker", "content": "Ten characters at least", "rating": 4}))["id"]
        self.slide = ok(s.post("/api/admin/slider", headers=self.admin, json={
            "title": "Slide", "image_url": "https://example.com/x.png"}))["id"]
        self.upload_id = ok(requests.post(s.url + "/api/upload/model", headers=h,
                                          files={"file": ("cube.obj", CUBE_OBJ, "application/octet-stream")},
                                          timeout=60))["upload_id"]
        self.username = self.creator.username
        self.identities = {"anonymous": [], "user": list(h.items()), "admin": list(self.admin.items())}

    def int_param(self, path, name):
        if name == "comment_id":
            return self.comment
        if path.startswith("/api/admin/categories"):
            return self.category
        if path.startswith("/api/admin/testimonials"):
            return self.testimonial
        if path.startswith("/api/admin/slider"):
            return self.slide
        if path.startswith("/api/users/"):
            return self.creator.id
        return self.model

    def real_path(self, route):
        path = route["path"]
        if path == "/files/{area}/{name}":
            return self.file
        out = path
        for seg in path.split("/"):
            if seg.startswith("{") and seg.endswith("}"):
                name, _, kind = seg[1:-1].partition(":")
                if kind == "int":
                    val = str(self.int_param(path, name))
                elif name == "provider":
                    val = "github"
                elif name == "username":
                    val = self.username
                else:
                    val = "x"
                out = out.replace(seg, val, 1)
        return out


GARBAGE_INT = ["0", "-1", "99999999999999999999", "9223372036854775808", "abc", "1.5", "1e3", "%00", "%F0%9F%98%80",
               "%20" + "1", "0x10", "1%2F2"]
GARBAGE_TEXT = ["%00", "a" * 300, "%F0%9F%98%80" * 50, "..%2F..%2Fetc%2Fpasswd", "%FF%FE", "x%0Ay"]
GARBAGE_FILES = ["/files/models/..%2F..%2Fjwt_secret", "/files/images/" + "a" * 300, "/files/%2e%2e/%2e%2e",
                 "/files/avatars/%00", "/files/" + "x" * 200 + "/y", "/files/models/..", "/files/attachments/.hwc3d.db"]


def garbage_paths(route):
    path = route["path"]
    if path == "/files/{area}/{name}":
        return GARBAGE_FILES
    segs = [s for s in path.split("/") if s.startswith("{")]
    if not segs:
        return []
    outs = []
    for seg in segs:
        kind = seg[1:-1].partition(":")[2]
        for g in (GARBAGE_INT if kind == "int" else GARBAGE_TEXT):
            p = path
            for other in segs:
                p = p.replace(other, g if other == seg else "1", 1)
            outs.append(p)
    return outs


def ordered(routes):
    """Destructive routes last, so that the rest still finds its data."""
    def key(r):
        return (r["method"] == "DELETE" or r["path"] == "/api/users/me/account", r["path"])
    return sorted(routes, key=key)


# ---------------------------------------------------------------- hostile query strings

TEXT_PARAMS = ["search", "q", "type", "category", "sort", "user_type", "country", "status", "period", "metric",
               "token", "redirect_uri", "state", "code", "ticket"]
NUM_PARAMS = ["page", "limit", "days", "min_price", "max_price", "min_poly_count", "max_poly_count", "id",
              "user_id", "model_id", "category_id", "upload_id", "rating"]
BOOL_PARAMS = ["is_free", "has_animations", "has_rigging", "is_verified", "is_approved", "is_active"]
LIST_PARAMS = ["tags", "skills", "price_range", "poly_count_range"]
ALL_PARAMS = TEXT_PARAMS + NUM_PARAMS + BOOL_PARAMS + LIST_PARAMS

HOSTILE_NUMBERS = ["-1", "0", "-0", "1.5", "NaN", "Infinity", "-Infinity", "1e308", "0x10", "%2B5", "%205", "5%20",
                   "-9223372036854775809", "9223372036854775807", "99999999999999999999999", "1" + "0" * 400, "",
                   "%00", "1%00"]


def all_params(value):
    return "&".join(f"{p}={value}" for p in ALL_PARAMS)


def hostile_queries():
    """(query string, may the server close without an answer)."""
    out = [
        ("", False),
        ("q=" + "A" * 8000 + "&search=" + "B" * 8000, False),
        ("x=" + "A" * 40000, False),                                  # past the header memory: 414/431
        ("&".join(f"p{i}=1" for i in range(127)), False),            # just under the 128-argument cap
        ("&".join(f"p{i}=1" for i in range(128)), False),
        ("&".join(f"p{i}=1" for i in range(129)), False),             # just over: 414
        ("&".join(f"p{i}={i}" for i in range(2000)), False),
        (all_params(q("😀" * 40)), False),
        ("search=" + q("😀" * 1100) + "&q=" + q("😀" * 1000), False),
        ("search=" + q("😀" * 63 + " ") * 15, False),
        (all_params("%FF%FE%C0%AF%ED%A0%80%F4%90%80%80%C3"), False),
        (all_params("%00"), False),
        (all_params("a%00b") + "&%00=%00&a%00b=1", False),
        (all_params("%"), False),
        (all_params("%2"), False),
        (all_params(q("' OR 1=1 --")), False),
        (all_params(q("../../etc/passwd")), False),
        ("&".join(f"{p}=" + ",".join(["a"] * 1500) for p in LIST_PARAMS), False),
        ("&".join(f"{p}=" + ",".join([q("😀" * 10)] * 100) for p in LIST_PARAMS), False),
        ("&".join(f"{p}=" + ",".join([","] * 1000) for p in LIST_PARAMS), False),
        ("&".join(["tags=a", "skills=b"] * 60), False),
        ("&".join(f"{p}=1&{p}=2" for p in NUM_PARAMS), False),
        ("==&&=&a==b&%=%&%zz=%zz&;;&=x&x&&&", False),
        ("page[]=1&limit[a]=2&search[]=x&tags[]=a&tags[]=b", False),
        ("A" * 8000 + "=1", False),
        ("token=garbage&ticket=garbage&redirect_uri=javascript:alert(1)&state=" + "x" * 2000 + "&code=%00", False),
        ("price_range=10-5&poly_count_range=-&price_range=abc&poly_count_range=" + "9" * 500, False),
    ]
    out += [("&".join(f"{p}={n}" for p in NUM_PARAMS + BOOL_PARAMS), False) for n in HOSTILE_NUMBERS]
    out += [("page=1000000000&limit=100", False), ("page=999999999999&limit=99999999999", False)]
    return out


def test_hostile_query_strings(hostile):
    world = World(hostile)
    walk = Walk(hostile)
    queries = hostile_queries()
    reqs = []
    for route in ordered(route_table()):
        m = route["method"]
        for ident, hdrs in world.identities.items():
            path = world.real_path(route)
            for qs, may_reset in queries:
                reqs.append((m, path + ("?" + qs if qs else ""), hdrs, None, may_reset))
            for g in garbage_paths(route):
                for qs, may_reset in queries[:2] + queries[10:12]:
                    reqs.append((m, g + ("?" + qs if qs else ""), hdrs, None, may_reset))
    t0 = time.time()
    walk.run(reqs)
    print(f"\n{walk.count} hostile query strings in {time.time() - t0:.1f}s")
    walk.check("hostile query strings")


# ---------------------------------------------------------------- hostile headers

def auth_variants(s, world):
    """Authorization headers sent instead of an identity."""
    admin, user = world.admin_id, world.creator.id
    tok = lambda *a, **k: "Bearer " + mint_token(s.secret, *a, **k)  # noqa: E731
    return [
        "Bearer " + "A" * 8000,
        "Bearer ",
        "Bearer",
        "Bearer a.b.c",
        "Bearer ....",
        "Bearer " + "%00" * 10,
        tok(admin, "admin", alg="none"),
        tok(admin, "admin", alg="HS512"),
        tok(admin, "admin", key="not-the-secret"),
        tok(admin, "admin", signature=""),
        tok(admin, "admin", exp_delta=-60),
        tok(admin, "admin", exp_delta=None),
        tok(admin, "admin", exp_delta=10 ** 12),
        tok(admin, "admin", claims={"exp": "soon"}),
        tok(admin, "admin", iat=10 ** 12),
        tok(user, "admin"),                       # a role the user does not have
        tok("-1"), tok("0"), tok("abc"), tok("99999999999999999999"), tok(" 1"), tok(""),
        tok(user, claims={"sub": 12}), tok(user, claims={"sub": None}), tok(user, claims={"role": ["admin"]}),
        tok(user, header={"alg": "HS256", "typ": "JWT", "kid": "../../etc/passwd"}),
        tok(user, header={"alg": "HS256", "crit": ["exp"]}),
        tok(user, claims={"pad": "x" * 6000}),
        "Bearer " + mint_token(s.secret, user).split(".")[0] + ".bm90IGpzb24." + "sig",
        "Bearer " + mint_token(s.secret, user) + " trailing",
        "bearer " + mint_token(s.secret, user),
        "Basic Zm9vOmJhcg==",
        "Bearer " + mint_token(s.secret, user) + "\t",
        b"Bearer \xf0\x9f\x98\x80" * 100,
        b"Bearer \xff\xfe\x00",
    ]


def header_variants():
    """Headers sent with each identity; (name, value) lists and a body."""
    return [
        ([("Cookie", "refresh_token=" + "A" * 8000)], None),
        ([("Cookie", "; ".join(f"c{i}=v" for i in range(500)))], None),
        ([("Cookie", "=;=;;;refresh_token=;refresh_token=x;refresh_token; refresh_token=%00")], None),
        ([("Cookie", b"refresh_token=\xf0\x9f\x98\x80\xff")], None),
        ([("Origin", "null")], None),
        ([("Origin", "http://evil.example")], None),
        ([("Origin", "http://" + "x" * 4000)], None),
        ([("Origin", b"http://\xf0\x9f\x98\x80")], None),
        ([("Content-Type", "application/json; charset=utf-16")], b"{}"),
        ([("Content-Type", "text/plain")], b"{}"),
        ([("Content-Type", "multipart/form-data")], b"{}"),
        ([("Content-Type", "multipart/form-data; boundary=" + "a" * 5000)], b"--" + b"a" * 10),
        ([("Content-Type", "multipart/form-data; boundary=")], b"----\r\n"),
        ([("Content-Type", "application/json" + ";" * 1000)], b"{}"),
        ([("Content-Type", "application/x-www-form-urlencoded")], b"a=1&b=2"),
        ([("Content-Type", "application/json"), ("Content-Type", "text/html")], b"{}"),
        ([("Content-Type", b"\xf0\x9f\x98\x80/json")], b"{}"),
        ([("X-Forwarded-For", ", ".join(["1.1.1.1"] * 500))], None),
        ([("X-Forwarded-For", "garbage, ::ffff:999.1.1.1, [::1]")], None),
        ([("X-Request-Id", "a" * 500)], None),
        ([("X-Request-Id", "../../%00")], None),
        ([("Range", "bytes=0-0,1-1")], None),
        ([("Range", "bytes=-0")], None),
        ([("Range", "bytes=99999999999999999999-")], None),
        ([("If-None-Match", '"' + "a" * 8000 + '"')], None),
        ([("Idempotency-Key", "k" * 5000)], None),
        ([("Accept", "*/*;q=NaN"), ("Accept-Encoding", "gzip;q=" + "9" * 1000)], None),
        ([("Expect", "100-continue")], b"{}"),
        ([("Expect", "garbage")], None),
        ([("Host", "a" * 8000)], None),
        ([(f"X-Junk-{i}", "v" * 50) for i in range(100)], None),
        ([("Sec-WebSocket-Key", "x"), ("Upgrade", "websocket"), ("Connection", "Upgrade")], None),
    ]


def test_hostile_headers(hostile):
    world = World(hostile)
    walk = Walk(hostile)
    auths = auth_variants(hostile, world)
    others = header_variants()
    reqs = []
    for route in ordered(route_table()):
        m = route["method"]
        path = world.real_path(route)
        for a in auths:
            reqs.append((m, path, [("Authorization", a)], None, False))
        for ident, idh in world.identities.items():
            for hdrs, body in others:
                reqs.append((m, path, idh + hdrs, body, False))
    t0 = time.time()
    walk.run(reqs)
    print(f"\n{walk.count} hostile header sets in {time.time() - t0:.1f}s")
    walk.check("hostile headers")


# ---------------------------------------------------------------- type-confused bodies

def nested(depth):
    v = 1
    for _ in range(depth):
        v = [v]
    return v


# Strings are huge but a body of all of them stays under the 1 MB JSON
# limit; the body over it (413) is sent on its own.
BAD_VALUES = [None, True, False, 0, -1, 2 ** 63 - 1, -2 ** 63, 1e308, -1.5, "", "x" * 60000, "😀" * 15000,
              "a\u0000b", "\u202e\n\t", [], [1, "a", None, {}], {}, {"a": {"b": [1]}}, nested(30),
              "' OR 1=1 --", "../../etc/passwd", "http://169.254.169.254/"]

RAW_BODIES = [b"[]", b'"str"', b"1", b"null", b"true", b"{", b"\xff\xfe", b'{"a":1,"a":2}', b"",
              b'{"a":"\\ud800"}', b'{"a":1e999999}', b'{"a":' + b"9" * 5000 + b"}", b"{" * 40 + b"}" * 40,
              b'{"a":' + b"[" * 40 + b"]" * 40 + b"}", b'{"\\u0000":1}', b"{}" + b" " * 100 + b"x",
              b'{"a":"\xed\xa0\x80"}', b"\xef\xbb\xbf{}"]

# Routes without (all) their fields in docs/openapi.yaml.
EXTRA_FIELDS = {
    ("PUT", "/api/admin/models/{id:int}/feature"): ["is_featured"],
    ("PUT", "/api/admin/testimonials/{id:int}/approve"): ["is_approved"],
}
TESTIMONIAL_FIELDS = ["author_name", "author_title", "avatar_url", "content", "rating", "sort_order", "user_id",
                      "is_approved"]
SLIDE_FIELDS = ["title", "subtitle", "image_url", "link_url", "button_text", "sort_order", "is_active"]


def body_fields(doc, route):
    key = (route["method"], route["path"])
    if key in EXTRA_FIELDS:
        return EXTRA_FIELDS[key]
    if "testimonials" in route["path"]:
        return TESTIMONIAL_FIELDS
    if "slider" in route["path"]:
        return SLIDE_FIELDS
    path = route["path"].replace(":int", "")
    op = doc["paths"].get(path, {}).get(route["method"].lower(), {})
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return list(schema.get("properties", {})) or ["name", "email", "id"]


def valid_bodies(world):
    """An acceptable body per route, to confuse one field at a time."""
    return {
        ("POST", "/api/admin/categories"): {"name": "Cat", "description": "d", "sort_order": 1},
        ("PUT", "/api/admin/categories/{id:int}"): {"description": "d", "sort_order": 2, "is_active": True},
        ("POST", "/api/models"): {"title": "T", "price": 1, "category_id": world.category,
                                  "upload_id": world.upload_id, "tags": ["a"], "description": "d"},
        ("PUT", "/api/models/{id:int}"): {"title": "T2", "price": 2, "tags": ["b"], "category_id": world.category},
        ("POST", "/api/models/{id:int}/comments"): {"body": "hello there"},
        ("POST", "/api/models/analyze"): {"upload_id": world.upload_id},
        ("PUT", "/api/users/me"): {"full_name": "F", "bio": "b", "country": "PT", "skills": ["x"],
                                   "settings": {"a": 1}},
        ("PUT", "/api/admin/models/{id:int}/reject"): {"reason": "Not good enough yet"},
        ("PUT", "/api/admin/models/{id:int}/feature"): {"is_featured": True},
        ("POST", "/api/admin/testimonials"): {"author_name": "A", "content": "Ten characters at least",
                                              "rating": 5, "user_id": world.creator.id},
        ("PUT", "/api/admin/testimonials/{id:int}"): {"content": "Ten characters at least", "rating": 3},
        ("PUT", "/api/admin/testimonials/{id:int}/approve"): {"is_approved": True},
        ("POST", "/api/admin/slider"): {"title": "S", "image_url": "https://example.com/a.png", "link_url": "/x"},
        ("PUT", "/api/admin/slider/{id:int}"): {"title": "S2", "sort_order": 3},
        ("POST", "/api/newsletter/subscribe"): {"email": "walker@example.com"},
        ("POST", "/api/auth/register"): {"email": "walker2@example.com", "password": "a long enough password 1",
                                         "username": "walker_two", "user_type": "buyer"},
    }


def dumps(v):
    return json.dumps(v, ensure_ascii=False).encode()


def multipart(boundary, parts):
    out = b""
    for headers, data in parts:
        out += b"--" + boundary + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + data + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


MULTIPART = [
    ("b1", multipart(b"b1", [([b'Content-Disposition: form-data; name="file"; filename="../../etc/passwd.obj"'],
                              CUBE_OBJ)])),
    ("b1", multipart(b"b1", [([b'Content-Disposition: form-data; name="file"; filename="' + b"a" * 4000 + b'.png"'],
                              b"\x89PNG")])),
    ("b1", multipart(b"b1", [([b'Content-Disposition: form-data; name="title"'], b"x" * 100000)])),
    ("b1", multipart(b"b1", [([b'Content-Disposition: form-data; name="file"'], b"no filename")])),
    ("b1", multipart(b"b1", [([b"Content-Disposition: form-data; name=\"file\"; filename=\"\xf0\x9f\x98\x80\x00.glb\""],
                              b"glTF\x02\x00\x00\x00")])),
    ("b1", multipart(b"b2", [([b'Content-Disposition: form-data; name="file"; filename="x.obj"'], CUBE_OBJ)])),
    ("b1", b"--b1\r\n" + b"X-Junk: " + b"j" * 10000 + b"\r\n\r\nx\r\n--b1--\r\n"),
    ("b1", b"--b1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.obj\"\r\n\r\n" + CUBE_OBJ),
    ("b1", multipart(b"b1", [([b'Content-Disposition: form-data; name="file"; filename="a.obj"'], CUBE_OBJ),
                             ([b'Content-Disposition: form-data; name="file"; filename="b.obj"'], CUBE_OBJ)])),
    ("b1", b""),
]


def test_type_confused_bodies(hostile):
    import yaml
    with open(os.path.join(REPO, "docs", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    world = World(hostile)
    walk = Walk(hostile)
    valid = valid_bodies(world)
    reqs = []
    json_ct = [("Content-Type", "application/json")]
    for route in ordered(route_table()):
        m, path = route["method"], world.real_path(route)
        if route["body"] == "multipart":
            for ident, idh in world.identities.items():
                for boundary, body in MULTIPART:
                    ct = [("Content-Type", "multipart/form-data; boundary=" + boundary)]
                    reqs.append((m, path, idh + ct, body, False))
            continue
        if route["body"] != "json":
            # a body where none is taken
            for ident, idh in world.identities.items():
                reqs.append((m, path, idh + json_ct, dumps({"x": nested(30)}), False))
            continue
        fields = body_fields(doc, route)
        base = valid.get((route["method"], route["path"]), {})
        for ident, idh in world.identities.items():
            for raw in RAW_BODIES:
                reqs.append((m, path, idh + json_ct, raw, False))
            # past the limit: 413 (the connection may close while it is sent)
            reqs.append((m, path, idh + json_ct, dumps({fields[0]: "x" * (1 << 20)}), False))
            for bad in BAD_VALUES:
                reqs.append((m, path, idh + json_ct, dumps({f: bad for f in fields}), False))
        # one field at a time, alone and inside a valid body, as whoever may call it
        idh = world.identities["admin" if route["access"] == "admin" else
                               "anonymous" if route["access"] == "public" else "user"]
        for f in fields:
            for bad in BAD_VALUES:
                reqs.append((m, path, idh + json_ct, dumps({f: bad}), False))
                if base:
                    reqs.append((m, path, idh + json_ct, dumps(dict(base, **{f: bad})), False))
    t0 = time.time()
    walk.run(reqs)
    print(f"\n{walk.count} type-confused bodies in {time.time() - t0:.1f}s")
    walk.check("type-confused bodies")


def test_long_hostile_paths(hostile):
    """Paths whose logged, JSON-escaped form is many times their size (each
    control character is 6 bytes in the access log line)."""
    walk = Walk(hostile)
    reqs = []
    for path in ("/api/" + "%01" * 5000, "/" + "%22" * 4000, "/api/models/" + "%E2%80%AE" * 1500,
                 "/api/models/1/" + "%5C" * 6000, "/files/models/" + "%1F" * 5000):
        for ident in ("GET", "POST", "DELETE", "BREW"):
            reqs.append((ident, path, [], None, False))
    walk.run(reqs)
    walk.check("long hostile paths")


def test_log_lines_stay_whole(hostile):
    """Every line the server wrote is one JSON object, however long the
    hostile path or message it logged."""
    bad = []
    for line in hostile.log().splitlines():
        if not line.strip():
            continue
        try:
            json.loads(line)
        except ValueError:
            bad.append(line[:300])
    assert not bad, f"{len(bad)} log lines are not JSON:\n" + "\n".join(bad[:20])
    assert requests.get(hostile.url + "/healthz", timeout=10).status_code == 200


# ---------------------------------------------------------------- what the walk found

def simultaneous(server, reqs):
    """Sends every request but its last byte, then all the last bytes at
    once (a race needs them in the server together); the statuses."""
    socks = []
    for method, path, headers, body in reqs:
        data = (json.dumps(body).encode() if body is not None else b"")
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        raw = head.encode() + b"\r\n" + data
        sk = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sk.sendall(raw[:-1])
        socks.append((sk, raw[-1:]))
    time.sleep(0.2)
    for sk, last in socks:
        sk.sendall(last)
    codes = []
    for sk, _ in socks:
        out = b""
        while True:
            chunk = sk.recv(65536)
            if not chunk:
                break
            out += chunk
        sk.close()
        codes.append(int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/1.1 ") else 0)
    return codes


def test_concurrent_deletes_of_one_model(server):
    """Found by the walk: two deletes of one model at once answered 500 (the
    second found the model, then deleted no row).  Now exactly one deletes
    it and the others answer 404, and the counters drop once."""
    from test_models import create_model
    c = make_creator(server)
    admin = server.admin_headers()
    for _ in range(6):
        m = create_model(server, c, approve=True)["id"]  # public: counted
        before = int(server.scalar(f"SELECT models_count FROM users WHERE id = {c.id}"))
        codes = simultaneous(server, [("DELETE", f"/api/admin/models/{m}", admin, None),
                                      ("DELETE", f"/api/models/{m}", c.h, None)] * 3)
        assert sorted(codes) == [200, 404, 404, 404, 404, 404], codes
        assert int(server.scalar(f"SELECT models_count FROM users WHERE id = {c.id}")) == before - 1


def test_writes_racing_a_delete_are_404_not_500(server):
    """The same race for the other writes to a found model: a model deleted
    between lookup and write is 404 (never 500)."""
    from test_models import create_model
    c = make_creator(server)
    admin = server.admin_headers()
    for _ in range(4):
        m = create_model(server, c)["id"]
        cm = server.post(f"/api/models/{m}/comments", json={"body": "a comment"}, headers=c.h).json()["id"]
        calls = [
            ("DELETE", f"/api/models/{m}", c.h, None),
            ("POST", f"/api/models/{m}/toggle-publish", c.h, None),
            ("POST", f"/api/models/{m}/share", c.h, None),
            ("PUT", f"/api/models/{m}", c.h, {"title": "Renamed"}),
            ("PUT", f"/api/admin/models/{m}/approve", admin, None),
            ("PUT", f"/api/admin/models/{m}/reject", admin, {"reason": "Not this time"}),
            ("PUT", f"/api/admin/models/{m}/feature", admin, {"is_featured": True}),
            ("DELETE", f"/api/models/{m}/comments/{cm}", c.h, None),
            ("DELETE", f"/api/models/{m}/comments/{cm}", admin, None)]
        codes = simultaneous(server, calls)
        assert all(0 < code < 500 for code in codes), list(zip(codes, [c[:2] for c in calls]))


def test_testimonial_user_id_at_int64_max(server):
    """Found by the walk on PostgreSQL: an update with user_id 2^63-1 was
    500 (the parameter was typed int4 from `$15 > 0`); it names no user."""
    admin = server.admin_headers()
    r = server.post("/api/admin/testimonials", headers=admin,
                    json={"author_name": "Max", "content": "Ten characters at least", "rating": 4})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    from conftest import assert_error
    for body in ({"user_id": 2 ** 63 - 1}, {"content": "Ten characters at least", "user_id": 2 ** 63 - 1}):
        assert_error(server.put(f"/api/admin/testimonials/{tid}", json=body, headers=admin), 422,
                     "VALIDATION_ERROR", "user_id")
    assert_error(server.post("/api/admin/testimonials", headers=admin,
                             json={"author_name": "Max", "content": "Ten characters at least", "rating": 4,
                                   "user_id": 2 ** 63 - 1}), 422, "VALIDATION_ERROR", "user_id")
    server.delete(f"/api/admin/testimonials/{tid}", headers=admin)
