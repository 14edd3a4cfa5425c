"""Issue 15 item 4, the hostile sweep: SSRF and open redirects through every
URL a caller can give.

The server fetches only URLs of its own configuration (OAuth provider
endpoints, AI_TAGS_URL, S3, the mail relay); no request field is ever
fetched.  The URLs a caller gives are:
  - models: thumbnail_url and preview_images (create and update): only the
    URL of an image the caller uploaded here;
  - OAuth redirect_uri (authorize-url and sign-in): only a page of this site
    (FRONTEND_URL, PUBLIC_URL, CORS_ORIGINS);
  - admin content: slider image_url and link_url, testimonial avatar_url,
    course thumbnail_url, lesson video_url: http(s) (or a local path), shown
    to browsers, never fetched by the server;
  - free text that may hold a URL (messages, posts, comments, tickets).
Every hostile URL (loopback, 169.254.169.254, private ranges, IPv6
loopback, file://, gopher://, a redirector to loopback) is refused or never
fetched: a canary listening on loopback, behind every such URL, must see no
connection.  No route answers a redirect off-site for a next/redirect/
return_to/url parameter.
"""
import http.server
import json
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import BINARY, base_env, uniq
from test_models import create_model, make_users, upload_image, upload_model


class Canary:
    """Loopback HTTP servers that count every connection: one answers 200,
    the other redirects to the first."""

    def __init__(self):
        hits = self.hits = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{canary_port}/landed")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(b"\x89PNG\r\n\x1a\n")

            do_POST = do_HEAD = do_GET

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        canary_port = self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def canary():
    c = Canary()
    # the canary counts (or "never fetched" would prove nothing)
    assert requests.get(f"http://127.0.0.1:{c.port}/redirect", timeout=5).status_code == 200
    assert c.hits == ["/redirect", "/landed"], c.hits
    c.hits.clear()
    yield c
    c.close()


def hostile_urls(c):
    p = c.port
    return [
        f"http://127.0.0.1:{p}/x.png",
        f"http://localhost:{p}/x.png",
        f"http://[::1]:{p}/x.png",
        f"http://127.1:{p}/x.png",
        f"http://2130706433:{p}/x.png",
        f"http://0.0.0.0:{p}/x.png",
        f"http://127.0.0.1:{p}/redirect.png",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/x.png",
        "http://192.168.1.1/x.png",
        "http://172.16.0.1/x.png",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        f"gopher://127.0.0.1:{p}/_GET%20/",
        f"dict://127.0.0.1:{p}/info",
        f"ftp://127.0.0.1:{p}/x",
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        f"//127.0.0.1:{p}/x.png",
        # this site's own prefix, but not one of the caller's uploads
        "http://localhost:8000/files/images/../models/x.obj",
        f"http://localhost:8000@127.0.0.1:{p}/files/images/x.png",
    ]


SCHEMES_NEVER = ("file:", "gopher:", "dict:", "ftp:", "javascript:", "data:")


@pytest.fixture(scope="module")
def who(server):
    a, = make_users(server, 1, creator=True)
    return a


def test_model_image_urls_must_be_own_uploads(server, who, canary):
    up = upload_model(server, who.h)
    mine = upload_image(server, who.h)
    base = {"title": uniq("Ssrf"), "price": 2, "category_id": None, "upload_id": up["upload_id"]}
    from test_models import default_category
    base["category_id"] = default_category(server)
    m = create_model(server, who, thumbnail_url=mine)
    # every foreign URL fails the same "own upload" check: a sample of each kind
    for url in hostile_urls(canary)[::3] + ["http://localhost:8000/files/images/../models/x.obj"]:
        for field, value in (("thumbnail_url", url), ("preview_images", [url])):
            r = server.post("/api/models", json=dict(base, **{field: value}), headers=who.h)
            assert r.status_code == 422, f"create {field}={url}: {r.status_code} {r.text[:200]}"
            r = server.put(f"/api/models/{m['id']}", json={field: value}, headers=who.h)
            assert r.status_code == 422, f"update {field}={url}: {r.status_code} {r.text[:200]}"
    got = server.get(f"/api/models/{m['id']}", headers=who.h).json()
    assert got["thumbnail_url"] == mine
    # another user's image is not "own" either
    other, = make_users(server, 1, creator=True)
    theirs = upload_image(server, other.h)
    r = server.put(f"/api/models/{m['id']}", json={"thumbnail_url": theirs}, headers=who.h)
    assert r.status_code == 422, r.text


def test_profile_has_no_fetched_url(server, who, canary):
    """The avatar comes from an upload; a URL in the profile is not taken."""
    url = f"http://127.0.0.1:{canary.port}/avatar.png"
    r = server.put("/api/users/me", json={"avatar_url": url}, headers=who.h)
    assert r.status_code in (200, 422), r.text
    assert server.get("/api/users/me", headers=who.h).json().get("avatar_url") != url


ADMIN_URL_FIELDS = [
    ("/api/admin/slider", {"title": "Slide"}, "image_url"),
    ("/api/admin/slider", {"title": "Slide", "image_url": "https://cdn.example.com/s.png"}, "link_url"),
    ("/api/admin/testimonials", {"author_name": "Ada", "content": "Ten characters at least", "rating": 5},
     "avatar_url"),
    ("/api/admin/courses", {"title": "Course " + uniq(), "description": "Learn"}, "thumbnail_url"),
]


def test_admin_urls_refuse_other_schemes_and_are_never_fetched(server, canary):
    adm = server.admin_headers()
    made = []
    for path, body, field in ADMIN_URL_FIELDS:
        for url in hostile_urls(canary):
            r = server.post(path, json=dict(body, **{field: url}), headers=adm)
            if url.startswith(SCHEMES_NEVER) or url.startswith("//"):
                assert r.status_code == 422, f"{path} {field}={url}: {r.status_code} {r.text[:200]}"
            else:
                assert r.status_code in (201, 422), f"{path} {field}={url}: {r.status_code} {r.text[:200]}"
                if r.status_code == 201:
                    made.append((path, r.json()["id"]))
    course = [i for p, i in made if p == "/api/admin/courses"][0]
    for url in hostile_urls(canary):
        r = server.post(f"/api/admin/courses/{course}/lessons",
                        json={"title": "L", "content": "c", "duration_minutes": 1, "video_url": url}, headers=adm)
        if url.startswith(SCHEMES_NEVER) or url.startswith("//"):
            assert r.status_code == 422, f"lesson video_url={url}: {r.status_code} {r.text[:200]}"
        else:
            assert r.status_code in (201, 422), f"lesson video_url={url}: {r.status_code} {r.text[:200]}"
    # everything that shows them: lists, the home page, SEO pages
    for path in ("/api/slider", "/api/testimonials", "/api/admin/slider", "/api/courses", f"/api/courses/{course}",
                 "/", "/courses", f"/courses/{course}"):
        server.get(path, headers=adm)
    time.sleep(0.5)
    assert canary.hits == [], f"the server fetched a caller's URL: {canary.hits}"
    for path, i in made:
        server.delete(f"{path}/{i}", headers=adm)


def test_urls_in_free_text_are_never_fetched(server, canary):
    a, b = make_users(server, 2)
    url = f"http://127.0.0.1:{canary.port}/text.png"
    text = f"look at {url} and http://169.254.169.254/latest/meta-data/"
    assert server.post("/api/messages", json={"recipient_id": b.id, "content": text}, headers=a.h).status_code == 201
    r = server.post("/api/support/tickets", json={"subject": "A link " + uniq(), "message": text}, headers=a.h)
    assert r.status_code == 201, r.text
    r = server.post("/api/communities", json={"name": uniq("Comm"), "description": text}, headers=a.h)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = server.post(f"/api/communities/{cid}/posts", json={"content": text}, headers=a.h)
    assert r.status_code == 201, r.text
    server.get(f"/api/communities/{cid}/posts", headers=a.h)
    time.sleep(0.5)
    assert canary.hits == [], f"the server fetched a URL from free text: {canary.hits}"


# ---------------------------------------------------------------- OAuth redirect_uri

GOOD_REDIRECTS = ["http://localhost:3000/auth/callback", "http://localhost:8000/auth/callback",
                  "http://localhost:3000"]


def bad_redirects(c):
    # a page of this site (PUBLIC_URL) is a fine redirect target
    return [u for u in hostile_urls(c) if not u.startswith("http://localhost:8000/")] + [
        "https://evil.example/cb",
        "http://localhost:3000.evil.example/cb",
        "http://localhost:3000@evil.example/cb",
        "http://localhost:3000\\@evil.example/cb",
        "http://localhost:3000/cb#@evil.example",
        "http://localhost:3000/cb\r\nLocation: https://evil.example",
        "http://localhost:30000/cb",
        "http://localhost:3000%2F%2Fevil.example",
        "//evil.example/cb",
        "/\\evil.example",
        "https:evil.example",
        "http://localhost:3000/ü",
    ]


@pytest.mark.parametrize("provider", ["google", "github", "discord"])
def test_oauth_redirect_uri_is_this_site_only(server, canary, provider):
    for uri in bad_redirects(canary):
        r = server.get(f"/api/auth/oauth/{provider}/authorize-url", params={"redirect_uri": uri})
        assert r.status_code == 422, f"authorize-url {uri!r}: {r.status_code} {r.text[:200]}"
        r = server.post(f"/api/auth/oauth/{provider}", json={"code": "c", "redirect_uri": uri})
        assert r.status_code == 422, f"sign-in {uri!r}: {r.status_code} {r.text[:200]}"
        assert "redirect_uri" in r.json().get("field_errors", {}), r.text
    for uri in GOOD_REDIRECTS:
        # not configured on this server (503), but the URI passed
        r = server.get(f"/api/auth/oauth/{provider}/authorize-url", params={"redirect_uri": uri})
        assert r.status_code in (200, 503), f"{uri}: {r.status_code} {r.text[:200]}"


# ---------------------------------------------------------------- open redirects

def route_table():
    d = tempfile.gettempdir()
    p = subprocess.run([BINARY, "routes"], capture_output=True, text=True, env=base_env({"DATA_DIR": d}), cwd=d,
                       timeout=30)
    return json.loads(p.stdout)


REDIRECT_PARAMS = {k: "https://evil.example/next" for k in
                   ("next", "redirect", "redirect_to", "redirect_url", "return_to", "returnTo", "return_url",
                    "url", "continue", "dest", "destination", "goto")}


def test_no_route_redirects_off_site(server, who):
    paths = ["/", "/login", "/register", "/auth/callback", "/logout", "/models", "/api/newsletter/confirm"]
    for r in route_table():
        if r["method"] != "GET" or r["access"] == "admin":
            continue
        path = r["path"]
        for seg in path.split("/"):
            if seg.startswith("{"):
                path = path.replace(seg, "1" if ":int" in seg else "x", 1)
        paths.append(path)
    for path in paths:
        for h in (who.h,):
            got = requests.get(server.url + path, params=REDIRECT_PARAMS, headers=h, allow_redirects=False,
                               timeout=15)
            loc = got.headers.get("Location", "")
            assert not (300 <= got.status_code < 400 and loc and not loc.startswith("/")
                        and not loc.startswith(server.url)), f"GET {path} redirects off-site to {loc!r}"
            assert "evil.example" not in loc, f"GET {path}: Location {loc!r}"


# ---------------------------------------------------------------- URLs inside model files

def hostile_obj(c):
    """A cube whose material library and textures point at the server's own
    files, a canary on loopback and the metadata address."""
    from test_models import CUBE_OBJ
    refs = (f"mtllib /etc/passwd\nmtllib ../../../../../../etc/passwd\n"
            f"mtllib http://127.0.0.1:{c.port}/m.mtl\nmtllib file:///etc/hostname\nusemtl root\n").encode()
    return refs + CUBE_OBJ


def test_references_inside_a_model_are_never_followed(server, who, canary):
    """glTF uris are refused at upload (test_upload_models.py); an OBJ's
    mtllib lines are only named: the conversion child reads the one file it
    was given, so no server file ends in the GLB a visitor can fetch."""
    from test_convert_specs import wait_converted
    r = requests.post(server.url + "/api/upload/model", headers=who.h, timeout=60,
                      files={"file": ("refs.obj", hostile_obj(canary), "application/octet-stream")})
    if r.status_code == 422:
        return  # refused outright: nothing was read
    assert r.status_code == 201, r.text
    m = create_model(server, who, upload=r.json())
    doc = wait_converted(server, m["id"], who.h)
    if doc["conversion_status"] == "done":
        glb = server.get(f"/api/models/{m['id']}/viewer-file", headers=who.h)
        assert glb.status_code == 200, glb.text
        with open("/etc/passwd", "rb") as f:
            first = f.readline().strip()
        assert first not in glb.content and b"root:" not in glb.content
    time.sleep(0.3)
    assert canary.hits == [], f"the analysis or conversion fetched {canary.hits}"
