"""Rate limits: per IP for anonymous callers, per user when signed in,
X-Forwarded-For only from trusted proxies, shared through Redis.

These tests start their own SQLite servers with small limits."""
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import (ADMIN_EMAIL, ADMIN_PASSWORD, IS_CI, assert_error, finish_server, free_port,
                      start_server)

ADMIN2 = ("admin2@example.com", "another-long-admin-password")
LIMITS = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_GENERAL": "5/minute", "RATE_LIMIT_ADMIN": "7/minute"}


def assert_429(r):
    body = assert_error(r, 429, "RATE_LIMIT_EXCEEDED")
    ra = body.get("retry_after")
    assert isinstance(ra, int) and 1 <= ra <= 60, body
    assert r.headers.get("Retry-After") == str(ra)
    assert r.headers.get("X-Request-Id")
    return ra


@pytest.fixture(scope="module")
def limited():
    s = start_server("sqlite", env=LIMITS, admins=((ADMIN_EMAIL, ADMIN_PASSWORD), ADMIN2), label="ratelimit")
    yield s
    finish_server(s)


def test_anonymous_limit_per_ip_ignores_forwarded_for(limited):
    """5/minute for 127.0.0.1, whatever X-Forwarded-For claims (no trusted
    proxy is configured); unlimited routes stay open."""
    s = limited
    for i, xff in enumerate(["1.1.1.1", "1.1.1.1", "2.2.2.2", "3.3.3.3, 4.4.4.4", "5.5.5.5"]):
        r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": xff}, timeout=10)
        assert r.status_code == 200, (i, r.text)
    r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": "9.9.9.9"}, timeout=10)
    ra = assert_429(r)
    assert str(ra) in r.json()["detail"]
    r = requests.get(s.url + "/api/categories", headers={"Origin": "http://localhost:3000"}, timeout=10)
    assert_429(r)
    assert r.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"
    assert "Retry-After" in r.headers.get("Access-Control-Expose-Headers", "")
    # never limited
    for _ in range(20):
        assert requests.get(s.url + "/healthz", timeout=10).status_code == 200
    for path in ("/readyz", "/metrics", "/api/version", "/api/openapi.json"):
        assert requests.get(s.url + path, timeout=10).status_code == 200, path
    # still limited
    assert_429(requests.get(s.url + "/api/categories", timeout=10))
    assert '/api/categories",status="429"}' in requests.get(s.url + "/metrics", timeout=10).text


def test_admin_limit_is_per_user(limited):
    s = limited
    h1 = s.admin_headers(ADMIN_EMAIL)
    h2 = s.admin_headers(ADMIN2[0])
    for i in range(7):
        assert requests.get(s.url + "/api/admin/categories", headers=h1, timeout=10).status_code == 200, i
    assert_429(requests.get(s.url + "/api/admin/categories", headers=h1, timeout=10))
    # the limit is per user and per class, not per route
    assert_429(requests.get(s.url + "/api/admin/categories/1", headers=h1, timeout=10))
    # a fresh token of the same user does not reset the count
    assert_429(requests.get(s.url + "/api/admin/categories", headers=s.admin_headers(ADMIN_EMAIL), timeout=10))
    # the second admin has a budget of their own
    for i in range(7):
        assert requests.get(s.url + "/api/admin/categories", headers=h2, timeout=10).status_code == 200, i
    assert_429(requests.get(s.url + "/api/admin/categories", headers=h2, timeout=10))


def test_bad_tokens_are_refused_before_counting(limited):
    """401s for garbage tokens answer without touching anyone's budget."""
    s = limited
    for _ in range(12):
        r = requests.get(s.url + "/api/admin/categories", headers={"Authorization": "Bearer garbage"}, timeout=10)
        assert r.status_code == 401


def test_preflight_is_not_limited(limited):
    s = limited
    for _ in range(10):
        r = requests.options(s.url + "/api/categories", headers={"Origin": "http://localhost:3000",
                                                                 "Access-Control-Request-Method": "GET"}, timeout=10)
        assert r.status_code == 204


def test_trusted_proxy_forwarded_for_gets_separate_budgets():
    s = start_server("sqlite", env=dict(LIMITS, TRUSTED_PROXIES="127.0.0.1/32"), label="ratelimit-proxy")
    try:
        for client in ("203.0.113.1", "203.0.113.2"):
            for i in range(5):
                r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": client}, timeout=10)
                assert r.status_code == 200, (client, i)
            assert_429(requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": client}, timeout=10))
        # the client is the right-most address that is not a trusted proxy
        r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": "203.0.113.1, 127.0.0.1"},
                         timeout=10)
        assert_429(r)
        # a spoofed left-most entry does not buy a new budget
        r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.2"},
                         timeout=10)
        assert_429(r)
        # a third client still has its own budget; the proxy itself (no header) too
        assert requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": "203.0.113.3"},
                            timeout=10).status_code == 200
        assert requests.get(s.url + "/api/categories", timeout=10).status_code == 200
        # garbage in the header falls back to the peer address, never crashes
        for bad in ("not-an-ip", "", "999.1.1.1", "1.2.3.4, ,", "::1, zz", "x" * 3000):
            r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": bad}, timeout=10)
            assert r.status_code in (200, 429), bad
    finally:
        finish_server(s)


# ---------------------------------------------------------------- Redis

@pytest.fixture(scope="module")
def redis_port():
    exe = shutil.which("redis-server")
    if not exe:
        if IS_CI:
            pytest.fail("redis-server is not installed (needed for the shared rate-limit tests)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    d = tempfile.mkdtemp(prefix="hwc3d-redis-")
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        p.kill()
        pytest.fail("redis-server did not start")
    yield port
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
    shutil.rmtree(d, ignore_errors=True)


def test_redis_shares_limits_between_instances(redis_port):
    env = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_GENERAL": "5/minute",
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}"}
    a = start_server("sqlite", env=env, label="redis-a")
    b = None
    try:
        b = start_server("sqlite", env=env, label="redis-b")
        for srv in (a, a, a, b, b):
            assert requests.get(srv.url + "/api/categories", timeout=10).status_code == 200
        assert_429(requests.get(b.url + "/api/categories", timeout=10))
        assert_429(requests.get(a.url + "/api/categories", timeout=10))
    finally:
        if b:
            finish_server(b)
        finish_server(a)


def test_redis_down_falls_back_to_memory():
    closed = free_port()
    env = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_GENERAL": "5/minute",
           "REDIS_URL": f"redis://127.0.0.1:{closed}"}
    s = start_server("sqlite", env=env, label="redis-down")
    try:
        for i in range(5):
            r = requests.get(s.url + "/api/categories", timeout=10)
            assert r.status_code == 200, (i, r.text)
        assert_429(requests.get(s.url + "/api/categories", timeout=10))
        assert "unavailable" in s.log().lower() or "redis" in s.log().lower()
    finally:
        finish_server(s)


def test_disabled_rate_limits(server):
    """The main servers run with RATE_LIMIT_ENABLED=false: no 429 ever."""
    for _ in range(30):
        assert server.get("/api/categories").status_code == 200
