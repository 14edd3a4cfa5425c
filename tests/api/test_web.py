"""The web client as the server delivers it (src/http/static.c, assets.c):
the SPA shell for page routes, its import map with a hashed name for every
module and the CSP hash of that map, the CSP that model-viewer and Stripe.js
need, immutable hashed assets, plain names with no-cache, gzip with Vary and
an ETag per encoding, 304, Range and HEAD, the vendor modules, traversal,
and the default WEB_DIR found beside the binary.  The pages' behaviour in a
browser is tests/e2e's."""
import base64
import gzip
import hashlib
import json
import os
import re

import pytest
import requests

from conftest import REPO, finish_server, parse_raw_response, raw_request, start_server

WEB = os.path.join(REPO, "web")
INDEX_FILE = open(os.path.join(WEB, "index.html"), "rb").read()
# The vendor entries as web/index.html writes them; the served shell adds
# one entry per module under web/js (src/http/assets.c).
FILE_MAP = json.loads(re.search(rb'<script type="importmap">(.*?)</script>', INDEX_FILE, re.S).group(1))["imports"]
IMMUTABLE = "public, max-age=31536000, immutable"


def import_map_text(body):
    return re.search(rb'<script type="importmap">(.*?)</script>', body, re.S).group(1)


def served_shell(server):
    return server.get("/").content


def served_map(server):
    return json.loads(import_map_text(served_shell(server)))["imports"]


def web_modules():
    """Every module under web/js as its URL path."""
    out = []
    for dirpath, _, files in os.walk(os.path.join(WEB, "js")):
        for f in files:
            if f.endswith(".js"):
                out.append("/" + os.path.relpath(os.path.join(dirpath, f), WEB).replace(os.sep, "/"))
    return sorted(out)


def assert_shell(r, status=200, body=None):
    assert r.status_code == status, (r.url, r.status_code, r.text[:200])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert r.headers["Cache-Control"] == "no-cache"
    assert b'<script type="importmap">' in r.content and b'<main id="app"' in r.content
    if body is not None:
        assert r.content == body
    assert r.headers.get("ETag")


@pytest.mark.parametrize("path", ["/", "/marketplace", "/marketplace?search=robot&sort=newest&page=2",
                                  "/auth", "/dashboard/inventory", "/community/anything", "/index.html"])
def test_page_routes_answer_the_shell(server, path):
    assert_shell(server.get(path), body=served_shell(server))


@pytest.mark.parametrize("path", ["/model/999999", "/view/999999", "/u/someone"])
def test_missing_shared_objects_answer_the_shell_with_404(server, path):
    """test_seo.py has the tags of the public ones."""
    assert_shell(server.get(path), status=404, body=served_shell(server))


@pytest.mark.parametrize("path", ["/no-such-page", "/etc/passwd", "/wp-admin/setup"])
def test_other_page_like_paths_are_404_with_the_shell(server, path):
    """A browser still gets the app (it shows "page not found"); crawlers
    and scanners get an honest 404."""
    assert_shell(server.get(path), status=404, body=served_shell(server))


@pytest.mark.parametrize("path", ["/api", "/ws", "/files", "/vendor", "/api/nope", "/api/models/1/nope", "/no/such/file.js", "/files/nope",
                                  "/vendor/nope/x.js", "/docs/nope.html"])
def test_non_pages_stay_json_404(server, path):
    r = server.get(path)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error_code"] == "NOT_FOUND"


def test_csp_allows_exactly_the_import_map(server):
    r = server.get("/")
    digest = base64.b64encode(hashlib.sha256(import_map_text(r.content)).digest()).decode()
    csp = r.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1).split()
    # 'wasm-unsafe-eval': model-viewer's decoders are WebAssembly.
    assert script_src == ["'self'", f"'sha256-{digest}'", "'wasm-unsafe-eval'"], csp
    assert "https:" not in csp and "stripe" not in csp  # no publishable key in the fixture
    # No other inline script that the CSP would block.
    scripts = re.findall(rb"<script([^>]*)>(.*?)</script>", r.content, re.S)
    for attrs, body in scripts:
        assert b'type="importmap"' in attrs or (b"src=" in attrs and not body.strip()), attrs
    # The same policy on every page, tagged or not, and on the client's files.
    for path in ("/marketplace", "/model/999999", "/js/app.js"):
        assert server.get(path).headers["Content-Security-Policy"] == csp


def test_csp_lets_model_viewer_work(server):
    csp = server.get("/").headers["Content-Security-Policy"]
    d = dict((p.split()[0], p.split()[1:]) for p in (x.strip() for x in csp.split(";")) if p)
    assert {"blob:", "data:"} <= set(d["connect-src"]) and {"blob:", "data:"} <= set(d["img-src"])
    assert "blob:" in d["worker-src"]
    # The <style> of model-viewer's shadow root, by its hash in the installed file.
    js = open(os.path.join(REPO, "node_modules", "@google", "model-viewer", "dist", "model-viewer.min.js"), "rb").read()
    styles = [m for m in re.findall(rb"<style>(.*?)</style>", js, re.S) if b"${" not in m]
    assert styles
    for body in styles:
        h = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert f"'sha256-{h}'" in d["style-src"]


def test_csp_allows_stripe_when_a_publishable_key_is_set():
    s = start_server("sqlite", env={"STRIPE_PUBLISHABLE_KEY": "pk_test_123abc"}, seed=False, label="web-stripe")
    try:
        csp = requests.get(s.url + "/", timeout=10).headers["Content-Security-Policy"]
        d = dict((p.split()[0], p.split()[1:]) for p in (x.strip() for x in csp.split(";")) if p)
        assert "https://js.stripe.com" in d["script-src"]
        assert d["frame-src"] == ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"]
        assert "https://api.stripe.com" in d["connect-src"]
        assert d["default-src"] == ["'self'"]
        assert not any("paypal" in src for v in d.values() for src in v)
    finally:
        finish_server(s)


def test_csp_allows_paypal_only_when_it_is_configured(server):
    csp = server.get("/").headers["Content-Security-Policy"]
    assert "paypal" not in csp and "stripe" not in csp and "frame-src" not in csp
    s = start_server("sqlite", env={"PAYPAL_CLIENT_ID": "client-x", "PAYPAL_CLIENT_SECRET": "secret-y"}, seed=False,
                     label="web-paypal")
    try:
        csp = requests.get(s.url + "/", timeout=10).headers["Content-Security-Policy"]
        d = dict((p.split()[0], p.split()[1:]) for p in (x.strip() for x in csp.split(";")) if p)
        assert "https://www.paypal.com" in d["script-src"]
        assert d["frame-src"] == ["https://www.paypal.com", "https://www.sandbox.paypal.com"]
        assert "https://www.paypal.com" in d["connect-src"]
        assert "stripe" not in csp
    finally:
        finish_server(s)


def test_import_map_maps_every_module_to_its_hashed_name(server):
    shell = served_shell(server)
    imports = json.loads(import_map_text(shell))["imports"]
    modules = web_modules()
    assert len(modules) >= 10
    for path in modules:
        hashed = imports.get(path)
        assert hashed, path
        base, ext = os.path.splitext(path)
        assert re.fullmatch(re.escape(base) + r"\.[0-9a-f]{10}" + re.escape(ext), hashed), hashed
        r = server.get(hashed)
        assert r.status_code == 200, hashed
        assert r.content == open(os.path.join(WEB, path[1:]), "rb").read()
        assert r.headers["Cache-Control"] == IMMUTABLE
        assert r.headers["Content-Type"].startswith("text/javascript")
        assert r.headers.get("ETag")
    # Vendor entries are kept as index.html has them.
    for name, url in FILE_MAP.items():
        assert imports[name] == url
    # The entry script, the stylesheet and the icon are hashed names too.
    assert re.search(rb'<script type="module" src="/js/app\.[0-9a-f]{10}\.js"></script>', shell)
    css = re.search(rb'<link rel="stylesheet" href="(/css/app\.[0-9a-f]{10}\.css)">', shell).group(1).decode()
    r = server.get(css)
    assert r.status_code == 200 and r.headers["Cache-Control"] == IMMUTABLE
    assert r.headers["Content-Type"].startswith("text/css")
    assert r.content == open(os.path.join(WEB, "css", "app.css"), "rb").read()
    assert re.search(rb'href="/favicon\.[0-9a-f]{10}\.svg"', shell)


def test_plain_names_revalidate_and_stale_hashes_are_404(server):
    r = server.get("/js/app.js")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    assert r.content == open(os.path.join(WEB, "js", "app.js"), "rb").read()
    hashed = served_map(server)["/js/app.js"]
    stale = re.sub(r"\.[0-9a-f]{10}\.js$", ".0123456789.js", hashed)
    assert stale != hashed
    r = server.get(stale)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")
    assert server.get("/js/app.zzzzzzzzzz.js").status_code == 404


def test_gzip_vary_and_etags(server):
    hashed = served_map(server)["/js/app.js"]
    for path in ("/", "/marketplace", hashed, "/js/app.js", FILE_MAP["preact"],
                 "/vendor/model-viewer@" + json.load(open(os.path.join(REPO, "node_modules", "@google", "model-viewer",
                                                                         "package.json")))["version"]
                 + "/dist/model-viewer.min.js"):
        plain = server.get(path, headers={"Accept-Encoding": "identity"})
        z = server.get(path, headers={"Accept-Encoding": "gzip, deflate"}, stream=True)
        raw = z.raw.read()
        assert z.status_code == 200, path
        assert z.headers.get("Content-Encoding") == "gzip", path
        assert "Accept-Encoding" in z.headers.get("Vary", ""), (path, z.headers.get("Vary"))
        assert "Accept-Encoding" in plain.headers.get("Vary", ""), path
        assert "Content-Encoding" not in plain.headers
        assert gzip.decompress(raw) == plain.content, path
        assert len(raw) < len(plain.content), path
        assert int(z.headers["Content-Length"]) == len(raw)
        # Each encoding has its own ETag; either revalidates.
        assert z.headers["ETag"] != plain.headers["ETag"]
        for tag in (z.headers["ETag"], plain.headers["ETag"]):
            r = server.get(path, headers={"If-None-Match": tag, "Accept-Encoding": "gzip"})
            assert r.status_code == 304 and r.content == b"", path
        # q=0 refuses gzip.
        assert "Content-Encoding" not in server.get(path, headers={"Accept-Encoding": "gzip;q=0"}).headers
        # HEAD: the same headers, no body.
        h = server.request("HEAD", path, headers={"Accept-Encoding": "gzip"})
        assert h.status_code == 200 and h.content == b""
        assert h.headers["Content-Length"] == z.headers["Content-Length"]
        assert h.headers.get("Content-Encoding") == "gzip"


@pytest.mark.parametrize("which", ["asset", "vendor"])
def test_range_gets_identity_bytes(server, which):
    path = served_map(server)["/js/app.js"] if which == "asset" else FILE_MAP["preact"]
    full = server.get(path, headers={"Accept-Encoding": "identity"}).content
    r = server.get(path, headers={"Range": "bytes=10-29", "Accept-Encoding": "gzip"}, stream=True)
    assert r.status_code == 206
    assert "Content-Encoding" not in r.headers
    assert r.headers["Content-Range"] == f"bytes 10-29/{len(full)}"
    assert r.raw.read() == full[10:30]
    r = server.get(path, headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == full[-5:]
    r = server.get(path, headers={"Range": f"bytes={len(full)}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(full)}"


def test_import_map_modules_are_served_immutable(server):
    assert {"preact", "preact/hooks", "htm"} <= set(FILE_MAP)
    for name, url in FILE_MAP.items():
        r = server.get(url)
        assert r.status_code == 200, (name, url)
        assert r.headers["Content-Type"].startswith("text/javascript"), url
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert len(r.content) > 500
    # The version in the URL is the installed one, or nothing is served.
    pkg = json.load(open(os.path.join(REPO, "node_modules", "preact", "package.json")))
    assert f"/vendor/preact@{pkg['version']}/" in FILE_MAP["preact"]
    r = server.get("/vendor/preact@0.0.1/dist/preact.mjs")
    assert r.status_code == 404
    unversioned = server.get("/vendor/preact/dist/preact.mjs")
    assert unversioned.status_code == 200 and "immutable" not in unversioned.headers["Cache-Control"]


def test_every_module_import_resolves(server):
    """Each import in web/js names a module the server serves: a bare one is
    in the import map, a relative one is a file under /js/."""
    imports = served_map(server)
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
                    assert spec in imports, (f, spec)
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
    assert status in (400, 404) or (status == 200 and b'<script type="importmap">' in body), (target, status, body[:200])
    assert b"root:" not in body and b'"hwc3d-web"' not in body and b'"name": "preact"' not in body


@pytest.mark.parametrize("path", ["/", "/marketplace", "/js/app.js", FILE_MAP["preact"], "/docs"])
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
        assert requests.get(s.url + FILE_MAP["htm"], timeout=10).status_code == 200
    finally:
        finish_server(s)


def test_stylesheets_have_balanced_blocks():
    """Every { of each stylesheet is closed where it should be: a lost } (a merge
    gone wrong) silently nests every later rule inside an @media block."""
    for root, _dirs, files in os.walk(os.path.join(WEB, "css")):
        for name in files:
            text = re.sub(r"/\*.*?\*/", "", open(os.path.join(root, name), encoding="utf-8").read(), flags=re.S)
            depth = 0
            for n, line in enumerate(text.split("\n"), 1):
                depth += line.count("{") - line.count("}")
                assert depth >= 0, f"{name}:{n}: a closing brace without its opening one"
                if line.startswith("@media") or (line and not line[0].isspace() and "{" in line):
                    assert depth <= 1 or line.startswith(("  ", "\t")), f"{name}:{n}: a rule inside an unclosed block"
            assert depth == 0, f"{name}: {depth} block(s) never closed"
