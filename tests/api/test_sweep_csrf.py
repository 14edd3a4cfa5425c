"""Issue 15 item 4, the hostile sweep: CSRF on every route that reads a cookie.

The only cookie the server reads is the refresh cookie (Path=/api/auth,
HttpOnly, SameSite=Strict), on POST /api/auth/refresh and /api/auth/logout
(`grep -rn req_cookie src/`; COOKIE_ROUTES below is checked against the
route table).  SameSite=Strict keeps the cookie off cross-site requests in
today's browsers; the server refuses them as well, for older browsers and
same-site-but-cross-origin pages: a request whose Origin is another site,
or `null`, or which carries no Origin but Sec-Fetch-Site: cross-site, is a
403 that leaves the session as it was, whatever its content type (a form
or text/plain body needs no CORS preflight).  The same request from the
page itself works.
"""
import json
import re
import subprocess
import tempfile
import uuid

import pytest
import requests

from conftest import BINARY, assert_error, base_env

PASSWORD = "Quiet-Orchard-Lantern-4417"
COOKIE_ROUTES = ["/api/auth/refresh", "/api/auth/logout"]


def test_cookie_routes_are_the_ones_in_the_table():
    d = tempfile.gettempdir()
    p = subprocess.run([BINARY, "routes"], capture_output=True, text=True, env=base_env({"DATA_DIR": d}), cwd=d,
                       timeout=30)
    routes = {(r["method"], r["path"]) for r in json.loads(p.stdout)}
    for path in COOKIE_ROUTES:
        assert ("POST", path) in routes


@pytest.fixture(scope="module")
def account(server):
    email = f"csrf_{uuid.uuid4().hex[:10]}@example.com"
    r = server.post("/api/auth/register", json={"email": email, "password": PASSWORD,
                                                "username": "c_" + uuid.uuid4().hex[:10], "user_type": "buyer"})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    server.sql(f"UPDATE users SET is_email_verified = TRUE WHERE id = {uid}")
    return server, email, uid


def login(account):
    s, email, _ = account
    r = requests.post(s.url + "/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=15)
    assert r.status_code == 200, r.text
    m = re.search(r"refresh_token=([^;]+)", r.headers.get("Set-Cookie", ""))
    assert m, r.headers
    return m.group(1)


def live_sessions(account):
    s, _, uid = account
    return s.sql(f"SELECT id, replaced_at, revoked_at FROM refresh_tokens WHERE user_id = {uid} ORDER BY id")


CROSS_SITE = [
    ("evil-origin-text", {"Origin": "https://evil.example", "Content-Type": "text/plain"}, "x"),
    ("evil-origin-form", {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
     "a=b"),
    ("evil-origin-json", {"Origin": "https://evil.example", "Content-Type": "application/json"}, "{}"),
    ("evil-origin-host-suffix", {"Origin": "http://127.0.0.1.evil.example", "Content-Type": "text/plain"}, "x"),
    ("null-origin", {"Origin": "null", "Content-Type": "text/plain"}, "x"),
    ("no-origin-cross-site", {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, "x"),
    ("no-origin-cross-site-form", {"Sec-Fetch-Site": "cross-site",
                                   "Content-Type": "multipart/form-data; boundary=x"}, "--x--\r\n"),
    ("no-origin-cross-site-nobody", {"Sec-Fetch-Site": "cross-site"}, None),
]


@pytest.mark.parametrize("path", COOKIE_ROUTES)
def test_cross_site_requests_are_refused_without_effect(account, path):
    s = account[0]
    cookie = login(account)
    before = live_sessions(account)
    for name, headers, body in CROSS_SITE:
        h = dict(headers, Cookie=f"refresh_token={cookie}")
        r = requests.post(s.url + path, headers=h, data=body, timeout=15)
        assert r.status_code == 403, f"{name}: {r.status_code} {r.text[:200]}"
        assert_error(r, 403, "FORBIDDEN")
        assert "access_token" not in r.text
        assert "refresh_token=" not in r.headers.get("Set-Cookie", ""), f"{name}: the cookie was touched"
    # a refresh would have rotated the token, a logout revoked its family
    assert live_sessions(account) == before, "a refused request changed the session"
    # the session is intact: the page itself refreshes with the same cookie
    r = requests.post(s.url + "/api/auth/refresh", headers={"Cookie": f"refresh_token={cookie}",
                                                            "Origin": s.url, "Sec-Fetch-Site": "same-origin"},
                      timeout=15)
    assert r.status_code == 200 and r.json()["access_token"], r.text


SAME_ORIGIN = [
    ("origin-is-the-page", lambda s: {"Origin": s.url, "Sec-Fetch-Site": "same-origin"}),
    ("no-origin-same-origin", lambda s: {"Sec-Fetch-Site": "same-origin"}),
    ("no-origin-no-fetch-metadata", lambda s: {}),  # curl, the CLI, old browsers on a GET-less POST
    ("user-typed", lambda s: {"Sec-Fetch-Site": "none"}),
]


@pytest.mark.parametrize("name,headers", SAME_ORIGIN, ids=[n for n, _ in SAME_ORIGIN])
def test_same_origin_refresh_and_logout_work(account, name, headers):
    s = account[0]
    cookie = login(account)
    h = dict(headers(s), Cookie=f"refresh_token={cookie}")
    r = requests.post(s.url + "/api/auth/refresh", headers=h, timeout=15)
    assert r.status_code == 200, r.text
    new = re.search(r"refresh_token=([^;]+)", r.headers["Set-Cookie"]).group(1)
    h["Cookie"] = f"refresh_token={new}"
    r = requests.post(s.url + "/api/auth/logout", headers=h, timeout=15)
    assert r.status_code == 200, r.text
    r = requests.post(s.url + "/api/auth/refresh", headers={"Cookie": f"refresh_token={new}"}, timeout=15)
    assert r.status_code == 401, r.text


# Routes that set the session cookie (login CSRF would sign a victim in as
# the attacker): all take JSON only, and a cross-site page can send JSON
# only after a CORS preflight, which a foreign origin fails.
COOKIE_SETTING = ["/api/auth/login", "/api/auth/verify-email", "/api/auth/admin/verify-otp",
                  "/api/auth/oauth/{provider}"]
SIMPLE_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]


def routes():
    d = tempfile.gettempdir()
    p = subprocess.run([BINARY, "routes"], capture_output=True, text=True, env=base_env({"DATA_DIR": d}), cwd=d,
                       timeout=30)
    return json.loads(p.stdout)


def test_cookie_setting_routes_take_json_only(server, account):
    _, email, _ = account
    table = {(r["method"], r["path"]): r for r in routes()}
    for path in COOKIE_SETTING:
        assert table[("POST", path)]["body"] == "json", path
        url = server.url + path.replace("{provider}", "google")
        body = json.dumps({"email": email, "password": PASSWORD, "code": "123456", "redirect_uri":
                           "http://localhost:3000/cb"})
        for ct in SIMPLE_TYPES:
            h = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
            if ct:
                h["Content-Type"] = ct
            r = requests.post(url, data=body, headers=h, timeout=15)
            assert r.status_code == 415, f"{path} {ct}: {r.status_code} {r.text[:200]}"
            assert "refresh_token=" not in r.headers.get("Set-Cookie", ""), (path, ct)


def test_every_json_route_refuses_simple_content_types(server):
    """No JSON route can be driven by a form or text/plain body (what a
    cross-site page may send without a preflight)."""
    adm = server.admin_headers()
    problems = []
    for r in routes():
        if r["body"] != "json":
            continue
        path = "/".join(("1" if ":int" in seg else "google" if seg == "{provider}" else "x")
                        if seg.startswith("{") else seg for seg in r["path"].split("/"))
        got = server.request(r["method"], path, data="{}", headers=dict(adm, **{"Content-Type": "text/plain"}))
        if got.status_code != 415:
            problems.append(f"{r['method']} {r['path']} text/plain -> {got.status_code}")
    assert not problems, "\n".join(problems)
