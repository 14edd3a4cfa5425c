"""The web client as the server delivers it (src/http/static.c): the SPA
shell for page routes, the import map's vendor modules, cache headers and
ETags, traversal on the new paths, and the default WEB_DIR found beside the
binary.  The pages' behaviour in a browser is not tested here (no browser
in this slice)."""
import base64
import hashlib
import json
import os
import re

import pytest
import requests

from conftest import REPO, finish_server, parse_raw_response, raw_request, start_server

WEB = os.path.join(REPO, "web")
INDEX = open(os.path.join(WEB, "index.html"), "rb").read()
IMPORT_MAP_TEXT = re.search(rb'<script type="importmap">(.*?)</script>', INDEX, re.S).group(1)
IMPORT_MAP = json.loads(IMPORT_MAP_TEXT)["imports"]


def assert_shell(r, status=200):
    assert r.status_code == status, (r.url, r.status_code, r.text[:200])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.content == INDEX
    assert r.headers.get("ETag")


@pytest.mark.parametrize("path", ["/", "/marketplace", "/marketplace?search=robot&sort=newest&page=2",
                                  "/model/1", "/model/999999", "/auth", "/dashboard/inventory",
                                  "/community/anything", "/u/someone"])
def test_page_routes_answer_the_shell(server, path):
    assert_shell(server.get(path))


@pytest.mark.parametrize("path", ["/no-such-page", "/etc/passwd", "/wp-admin/setup"])
def test_other_page_like_paths_are_404_with_the_shell(server, path):
    """A browser still gets the app (it shows "page not found"); crawlers
    and scanners get an honest 404."""
    assert_shell(server.get(path), status=404)


@pytest.mark.parametrize("path", ["/api", "/ws", "/files", "/vendor", "/api/nope", "/api/models/1/nope", "/no/such/file.js", "/files/nope",
                                  "/vendor/nope/x.js", "/docs/nope.html"])
def test_non_pages_stay_json_404(server, path):
    r = server.get(path)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error_code"] == "NOT_FOUND"


def test_csp_allows_exactly_the_import_map(server):
    r = server.get("/")
    digest = base64.b64encode(hashlib.sha256(IMPORT_MAP_TEXT).digest()).decode()
    csp = r.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1).split()
    assert script_src == ["'self'", f"'sha256-{digest}'"], csp
    # No other inline script that the CSP would block.
    scripts = re.findall(rb"<script([^>]*)>(.*?)</script>", INDEX, re.S)
    for attrs, body in scripts:
        assert b'type="importmap"' in attrs or (b"src=" in attrs and not body.strip()), attrs


def test_import_map_modules_are_served_immutable(server):
    assert {"preact", "preact/hooks", "htm"} <= set(IMPORT_MAP)
    for name, url in IMPORT_MAP.items():
        r = server.get(url)
        assert r.status_code == 200, (name, url)
        assert r.headers["Content-Type"].startswith("text/javascript"), url
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert len(r.content) > 500
    # The version in the URL is the installed one, or nothing is served.
    pkg = json.load(open(os.path.join(REPO, "node_modules", "preact", "package.json")))
    assert f"/vendor/preact@{pkg['version']}/" in IMPORT_MAP["preact"]
    r = server.get("/vendor/preact@0.0.1/dist/preact.mjs")
    assert r.status_code == 404
    unversioned = server.get("/vendor/preact/dist/preact.mjs")
    assert unversioned.status_code == 200 and "immutable" not in unversioned.headers["Cache-Control"]


def test_every_module_import_resolves(server):
    """Each import in web/js names a module the server serves: a bare one is
    in the import map, a relative one is a file under /js/."""
    seen = 0
    for dirpath, _, files in os.walk(os.path.join(WEB, "js")):
        for f in files:
            if not f.endswith(".js"):
                continue
            path = os.path.join(dirpath, f)
            url_dir = "/" + os.path.relpath(dirpath, WEB).replace(os.sep, "/")
            src = open(path).read()
            for spec in re.findall(r"""(?:^|\s)(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]""", src, re.M):
                seen += 1
                if spec.startswith("."):
                    url = os.path.normpath(os.path.join(url_dir, spec))
                    r = server.get(url)
                    assert r.status_code == 200, (f, spec, url)
                    assert r.headers["Content-Type"].startswith("text/javascript")
                else:
                    assert spec in IMPORT_MAP, (f, spec)
    assert seen >= 10
    assert server.get("/js/app.js").headers["Cache-Control"] == "no-cache"
    assert server.get("/css/app.css").headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/vendor/s3rver/package.json", "/vendor/swagger-ui-dist/index.html",
                                  "/vendor/preact@11.2.0", "/vendor/htm/", "/vendor/"])
def test_vendor_serves_only_its_packages(server, path):
    r = server.get(path)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("target", [
    "/vendor/preact/../../package.json", "/vendor/preact/%2e%2e/%2e%2e/package.json",
    "/vendor/preact@11.2.0/../../../../etc/passwd", "/vendor/htm/..%2f..%2fpackage.json",
    "/vendor/preact@../../package.json", "/vendor/..@11.2.0/package.json",
    "/marketplace/../../../etc/passwd", "/model/..%2f..%2f..%2fetc%2fpasswd",
    "/model/1/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2fpackage.json", "/auth/..\\..\\etc\\passwd",
])
def test_traversal_on_vendor_and_pages(server, target):
    req = (b"GET " + target.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    status, headers, body = parse_raw_response(raw_request(server.port, req))
    assert status in (400, 404) or (status == 200 and body == INDEX), (target, status, body[:200])
    assert b"root:" not in body and b'"hwc3d-web"' not in body and b'"name": "preact"' not in body


@pytest.mark.parametrize("path", ["/", "/marketplace", "/js/app.js", IMPORT_MAP["preact"]])
def test_etag_revalidation(server, path):
    r = server.get(path)
    etag = r.headers["ETag"]
    r2 = server.get(path, headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    assert r2.headers.get("ETag") == etag
    r3 = server.get(path, headers={"If-None-Match": '"other"'})
    assert r3.status_code == 200 and r3.content == r.content


def test_head_on_a_page_route(server):
    r = server.request("HEAD", "/marketplace")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Type"].startswith("text/html")


def test_default_web_dir_is_found_beside_the_binary():
    """No WEB_DIR or VENDOR_DIR, started in a temp directory (the Server's
    cwd): the client, /docs and the vendor modules are still served."""
    s = start_server("sqlite", env={"WEB_DIR": None, "VENDOR_DIR": None}, seed=False, label="web-default-dir")
    try:
        assert not os.path.exists(os.path.join(s.tmp, "web"))
        assert_shell(requests.get(s.url + "/", timeout=10))
        assert_shell(requests.get(s.url + "/marketplace", timeout=10))
        d = requests.get(s.url + "/docs", timeout=10)
        assert d.status_code == 200 and d.headers["Content-Type"].startswith("text/html")
        assert requests.get(s.url + "/vendor/swagger-ui/swagger-ui-bundle.js", timeout=10).status_code == 200
        assert requests.get(s.url + IMPORT_MAP["htm"], timeout=10).status_code == 200
    finally:
        finish_server(s)
