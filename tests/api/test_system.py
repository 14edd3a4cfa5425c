"""Health, readiness, metrics, OpenAPI, version, docs, and the behaviour every
response shares: request ids, security headers, 404/405, HEAD, CORS."""
import json
import re
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import (BINARY, assert_error, base_env, finish_server, psql, require_pg, start_server)

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def test_healthz(server):
    r = server.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok"}


def test_readyz_names_the_engine(server):
    r = server.get("/readyz")
    assert r.status_code == 200
    want = "sqlite" if server.engine == "sqlite" else "postgresql"
    assert r.json() == {"status": "ready", "database": want}


def test_version(server):
    r = server.get("/api/version")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "hwc3d"
    assert isinstance(body["version"], str) and re.match(r"^\d+\.\d+\.\d+", body["version"])


def test_openapi_document(server):
    r = server.get("/api/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert "openapi" in doc and str(doc["openapi"]).startswith("3")
    assert isinstance(doc["paths"], dict) and doc["paths"]
    assert "/api/categories" in doc["paths"]


def test_openapi_lists_every_public_route(server):
    """The route table and the OpenAPI document must not drift apart."""
    p = subprocess.run([BINARY, "routes"], capture_output=True, text=True,
                       env=base_env({"DATA_DIR": tempfile.gettempdir()}), cwd=tempfile.gettempdir())
    assert p.returncode == 0, p.stderr
    doc = server.get("/api/openapi.json").json()
    missing = []
    for rt in json.loads(p.stdout):
        if not rt["path"].startswith("/api/"):
            continue
        path = re.sub(r"\{(\w+):int\}", r"{\1}", rt["path"])
        ops = doc["paths"].get(path) or doc["paths"].get(rt["path"])
        if not ops or rt["method"].lower() not in ops:
            missing.append(f"{rt['method']} {rt['path']}")
    assert not missing, f"routes missing from the OpenAPI document: {missing}"


def test_metrics_prometheus_text(server):
    server.get("/api/categories")
    r = server.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert "# TYPE hwc3d_http_requests_total counter" in text
    assert re.search(r'^hwc3d_http_requests_total\{method="GET",route="/api/categories",status="200"\} [1-9]\d*$',
                     text, re.M), text
    assert re.search(r'^hwc3d_http_request_duration_seconds_bucket\{method="GET",route="/api/categories",le="\+Inf"\} [1-9]',
                     text, re.M)
    m = re.search(r"^hwc3d_requests_in_flight (-?\d+)$", text, re.M)
    assert m and int(m.group(1)) >= 1  # this very request is in flight


def test_metrics_count_increases(server):
    def count():
        m = re.search(r'^hwc3d_http_requests_total\{method="GET",route="/api/version",status="200"\} (\d+)$',
                      server.get("/metrics").text, re.M)
        return int(m.group(1)) if m else 0
    before = count()
    for _ in range(3):
        assert server.get("/api/version").status_code == 200
    deadline = time.time() + 3
    while count() < before + 3 and time.time() < deadline:
        time.sleep(0.05)
    assert count() >= before + 3


def test_docs_page_and_swagger_bundle(server):
    r = server.get("/docs")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html" in r.text.lower()
    assert r.headers.get("X-Request-Id")
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    js = server.get("/vendor/swagger-ui/swagger-ui-bundle.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["Content-Type"]
    assert len(js.content) > 10000
    assert js.headers.get("X-Request-Id")


def test_static_etag_revalidation(server):
    r = server.get("/vendor/swagger-ui/swagger-ui-bundle.js")
    etag = r.headers.get("ETag")
    assert etag
    r2 = server.get("/vendor/swagger-ui/swagger-ui-bundle.js", headers={"If-None-Match": etag})
    assert r2.status_code == 304
    assert r2.content == b""


def test_head_is_get_without_body(server):
    g = server.get("/api/categories")
    h = server.request("HEAD", "/api/categories")
    assert h.status_code == 200
    assert h.content == b""
    assert h.headers["Content-Type"].startswith("application/json")
    assert h.headers.get("X-Request-Id")
    hz = server.request("HEAD", "/healthz")
    assert hz.status_code == 200 and hz.content == b""
    assert g.status_code == 200 and g.content


def test_head_on_static_file(server):
    h = server.request("HEAD", "/vendor/swagger-ui/swagger-ui-bundle.js")
    assert h.status_code == 200
    assert h.content == b""


@pytest.mark.parametrize("path", ["/healthz", "/api/categories", "/api/nope", "/no/such/file.js",
                                  "/api/admin/categories"])
def test_every_response_has_a_request_id(server, path):
    r = server.get(path)
    rid = r.headers.get("X-Request-Id")
    assert rid and re.fullmatch(r"[A-Za-z0-9_-]{8,39}", rid), rid


def test_request_ids_differ(server):
    a = server.get("/healthz").headers["X-Request-Id"]
    b = server.get("/healthz").headers["X-Request-Id"]
    assert a != b


@pytest.mark.parametrize("rid", ["abcdefgh", "Req_1234-ABCD", "x" * 39])
def test_valid_request_id_is_echoed(server, rid):
    for path in ("/healthz", "/api/nope", "/api/admin/categories"):
        r = server.get(path, headers={"X-Request-Id": rid})
        assert r.headers["X-Request-Id"] == rid, path


@pytest.mark.parametrize("rid", ["short", "x" * 40, "has space1", "semi;colon1", "ünïcødé-id", "a/b/c/d/e/f"])
def test_invalid_request_id_is_replaced(server, rid):
    r = server.get("/healthz", headers={"X-Request-Id": rid.encode("utf-8")})
    got = r.headers["X-Request-Id"]
    assert got != rid
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,39}", got), got


@pytest.mark.parametrize("path", ["/api/categories", "/api/nope", "/healthz", "/api/admin/categories"])
def test_security_headers_on_api_responses(server, path):
    r = server.get(path)
    h = r.headers
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("X-Frame-Options") == "DENY"
    assert h.get("Content-Security-Policy") == API_CSP
    assert h.get("Cache-Control") == "no-store"
    assert h.get("Referrer-Policy")
    assert "Origin" in h.get("Vary", "")


@pytest.mark.parametrize("path", ["/api/nope", "/api/categories/extra/segments", "/api", "/api/",
                                  "/api/admin", "/api/admin/categories/1/more"])
def test_unknown_api_path_is_404(server, path):
    r = server.get(path, headers=server.admin_headers())
    assert_error(r, 404, "NOT_FOUND")


def test_unknown_static_path_is_404_json(server):
    r = server.get("/definitely/not/here.html")
    assert_error(r, 404, "NOT_FOUND")
    assert r.headers.get("X-Request-Id")


def test_unknown_path_with_post_is_404(server):
    r = server.post("/api/nope", json={})
    assert_error(r, 404, "NOT_FOUND")


def test_trailing_slash_is_the_same_resource(server):
    r = server.get("/api/categories/")
    assert r.status_code == 200
    assert r.json()["total"] == server.get("/api/categories").json()["total"]


@pytest.mark.parametrize("method,path,allowed", [
    ("POST", "/api/categories", {"GET", "HEAD", "OPTIONS"}),
    ("DELETE", "/api/categories", {"GET", "HEAD", "OPTIONS"}),
    ("PATCH", "/api/admin/categories/1", {"GET", "PUT", "DELETE", "HEAD", "OPTIONS"}),
    ("PUT", "/api/admin/categories", {"GET", "POST", "HEAD", "OPTIONS"}),
    ("POST", "/healthz", {"GET", "HEAD", "OPTIONS"}),
])
def test_wrong_method_is_405_with_allow(server, method, path, allowed):
    r = server.request(method, path, headers=server.admin_headers())
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    got = {m.strip() for m in r.headers["Allow"].split(",")}
    assert got == allowed


def test_unknown_method_is_405_or_501(server):
    r = server.request("FROB", "/api/categories")
    assert r.status_code in (405, 501)
    assert server.get("/healthz").status_code == 200


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://localhost:8000"])
def test_cors_preflight_allowed_origin(server, origin):
    r = server.request("OPTIONS", "/api/admin/categories", headers={
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert r.headers.get("Access-Control-Allow-Origin") == origin
    assert r.headers.get("Access-Control-Allow-Credentials") == "true"
    methods = {m.strip() for m in r.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert {"GET", "POST"} <= methods
    allow_headers = r.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "authorization" in allow_headers and "content-type" in allow_headers
    assert "Origin" in r.headers.get("Vary", "")


def test_cors_preflight_foreign_origin(server):
    r = server.request("OPTIONS", "/api/categories", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code in (204, 403)
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert "Origin" in r.headers.get("Vary", "")


def test_cors_preflight_unknown_path_is_404(server):
    r = server.request("OPTIONS", "/api/nope", headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 404


def test_cors_on_normal_responses(server):
    r = server.get("/api/categories", headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"
    assert r.headers.get("Access-Control-Allow-Credentials") == "true"
    assert "Origin" in r.headers.get("Vary", "")
    # errors carry CORS too, or the browser hides them from the client
    e = server.get("/api/admin/categories", headers={"Origin": "http://localhost:3000"})
    assert e.status_code == 401
    assert e.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"


def test_cors_foreign_origin_on_normal_response(server):
    r = server.get("/api/categories", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Origin" in r.headers.get("Vary", "")


def test_cors_origin_must_match_exactly(server):
    for origin in ("http://localhost:3000.evil.example", "http://localhost:30000", "https://localhost:3000",
                   "null"):
        r = server.get("/api/categories", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in r.headers, origin


def test_keep_alive_survives_errors(server):
    """Several requests, including errors, over one connection."""
    with requests.Session() as s:
        for path, want in (("/healthz", 200), ("/api/nope", 404), ("/api/admin/categories", 401),
                           ("/api/categories", 200)):
            assert s.get(server.url + path, timeout=10).status_code == want


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def breakable(request):
    """A private server whose database the test may damage."""
    if request.param == "postgres":
        require_pg()
    s = start_server(request.param, label=f"breakable-{request.param}")
    yield s
    finish_server(s)


def test_internal_error_body_has_request_id_and_no_sql(breakable):
    s = breakable
    s.sql("ALTER TABLE categories RENAME TO categories_gone")
    r = s.get("/api/categories", params={"page": 2}, headers={"X-Request-Id": "trace-500-abcdef"})
    body = assert_error(r, 500, "INTERNAL_ERROR")
    assert body["request_id"] == "trace-500-abcdef" == r.headers["X-Request-Id"]
    low = body["detail"].lower()
    for leak in ("select", "categories", "sqlite", "postgres", "relation", "no such table", ".c:"):
        assert leak not in low, body["detail"]
    assert "trace-500-abcdef" in s.log()  # the log has the details, under the same id
    r = s.post("/api/admin/categories", json={"name": "x"}, headers=s.admin_headers())
    assert r.status_code == 500 and "request_id" in r.json()
    s.sql("ALTER TABLE categories_gone RENAME TO categories")
    assert s.get("/api/categories").status_code == 200
    assert s.get("/healthz").status_code == 200


def test_database_gone_is_503_and_health_stays_up():
    """PostgreSQL refusing connections: readiness fails with 503, liveness
    stays up, API calls fail cleanly, and all recovers once it is back."""
    require_pg()
    s = start_server("postgres", label="pg-gone")
    try:
        admin = s.admin_headers()
        psql(s.pg.base, f"ALTER DATABASE {s.pg.name} WITH ALLOW_CONNECTIONS false")
        psql(s.pg.base, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{s.pg.name}'")
        try:
            assert_error(s.get("/readyz"), 503, "SERVICE_UNAVAILABLE")
            assert s.get("/healthz").status_code == 200
            r = s.get("/api/categories", params={"limit": 3, "page": 3})
            body = assert_error(r, 503, "SERVICE_UNAVAILABLE")
            assert "request_id" not in body or body["request_id"] == r.headers["X-Request-Id"]
            r = s.get("/api/admin/categories", headers=admin)
            assert r.status_code == 503
        finally:
            psql(s.pg.base, f"ALTER DATABASE {s.pg.name} WITH ALLOW_CONNECTIONS true")
        deadline = time.time() + 10
        while s.get("/readyz").status_code != 200 and time.time() < deadline:
            time.sleep(0.2)
        assert s.get("/readyz").status_code == 200, "did not recover once the database was back"
        assert s.get("/api/categories").status_code == 200
    finally:
        finish_server(s)
