"""What shared links and search engines read (src/http/seo.c): the real
title, description, canonical and Open Graph / Twitter tags in the shell of
a public model or profile, none (and 404) for a private or missing one,
HTML escaping, robots.txt, and the sitemaps (an index of id-range pages,
well-formed XML, public objects only)."""
import gzip
import html
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import uniq
from test_models import create_model, make_creator, reject_model, upload_image

FRONTEND = "http://localhost:3000"  # FRONTEND_URL's default: the site's own address
PUBLIC = "http://127.0.0.1"          # PUBLIC_URL is set by the fixture; only its start is checked
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def head_of(text):
    return text.split("</head>", 1)[0]


def metas(text):
    """{property-or-name: content} of the <meta> tags in the head."""
    out = {}
    for attr, name, content in re.findall(r'<meta (property|name)="([^"]+)" content="([^"]*)">', head_of(text)):
        out[name] = html.unescape(content)
    return out


def canonical(text):
    m = re.search(r'<link rel="canonical" href="([^"]*)">', head_of(text))
    return html.unescape(m.group(1)) if m else None


def title(text):
    return html.unescape(re.search(r"<title>(.*?)</title>", text, re.S).group(1))


@pytest.fixture(scope="module")
def creator(server):
    return make_creator(server)


@pytest.fixture(scope="module")
def public_model(server, creator):
    thumb = upload_image(server, creator.h)
    return create_model(server, creator, approve=True, title=uniq("Shared Robot"),
                        description="A   friendly\nrobot,  rigged.", thumbnail_url=thumb)


def test_public_model_has_its_tags(server, public_model):
    mid = public_model["id"]
    for path in (f"/model/{mid}", f"/view/{mid}"):
        r = server.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.headers["Cache-Control"] == "no-cache" and r.headers.get("ETag")
        m = metas(r.text)
        assert title(r.text).startswith(public_model["title"] + " by @")
        assert m["description"] == "A friendly robot, rigged."
        assert m["og:title"] == public_model["title"]
        assert m["og:description"] == m["description"]
        assert m["og:type"] == "website"
        # /view/{id} is the sharing page of the model: one canonical URL.
        assert canonical(r.text) == f"{FRONTEND}/model/{mid}"
        assert m["og:url"] == canonical(r.text)
        assert m["og:image"].startswith("http") and m["og:image"].endswith(public_model["thumbnail_url"].split("/")[-1])
        assert m["twitter:card"] == "summary_large_image"
        assert m["twitter:title"] == public_model["title"] and m["twitter:image"] == m["og:image"]
        # One title, one description: the generic ones are replaced.
        assert r.text.count("<title>") == 1 and r.text.count('name="description"') == 1
        # The rest of the shell is the same app.
        assert '<script type="importmap">' in r.text and '<main id="app"' in r.text
    # Revalidation and gzip work for the tagged shell too.
    r = server.get(f"/model/{mid}")
    assert server.get(f"/model/{mid}", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    z = server.get(f"/model/{mid}", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert z.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(z.raw.read()) == r.content


def generic_shell(server):
    return server.get("/").content


def assert_generic_404(server, path):
    r = server.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.content == generic_shell(server)
    assert "og:title" not in r.text and 'rel="canonical"' not in r.text


def test_pending_rejected_unpublished_deleted_and_missing_models_get_no_tags(server, creator):
    pending = create_model(server, creator, title=uniq("Secret pending"))
    rejected = create_model(server, creator, title=uniq("Secret rejected"))
    reject_model(server, rejected["id"])
    unpublished = create_model(server, creator, approve=True, title=uniq("Secret unpublished"))
    assert server.post(f"/api/models/{unpublished['id']}/toggle-publish", headers=creator.h).status_code == 200
    deleted = create_model(server, creator, approve=True, title=uniq("Secret deleted"))
    assert server.delete(f"/api/models/{deleted['id']}", headers=creator.h).status_code in (200, 204)
    for m in (pending, rejected, unpublished, deleted):
        for path in (f"/model/{m['id']}", f"/view/{m['id']}"):
            assert_generic_404(server, path)
            assert m["title"] not in server.get(path).text
    for path in ("/model/99999999", "/view/99999999", "/model/0", "/model/abc", "/model/1e3"):
        assert_generic_404(server, path)


def test_titles_are_escaped(server, creator):
    nasty = "Q\"<script>alert('x')</script> & <b>bold</b>"
    m = create_model(server, creator, approve=True, title=nasty, description="Desc \"<>&' end")
    r = server.get(f"/model/{m['id']}")
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "<b>bold" not in r.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in r.text
    assert metas(r.text)["og:title"] == nasty
    assert metas(r.text)["description"] == "Desc \"<>&' end"
    # Every tag in the head is still well formed: attribute values hold no raw quote.
    for tag in re.findall(r"<meta [^>]*>", head_of(r.text)):
        assert re.fullmatch(r'<meta (property|name)="[^"<>]*" content="[^"<>]*">|<meta [a-z]+="[^"]*"( [a-z-]+="[^"]*")*>', tag), tag


def test_long_description_is_cut_on_a_character(server, creator):
    m = create_model(server, creator, approve=True, description="é" * 400)
    d = metas(server.get(f"/model/{m['id']}").text)["description"]
    assert d.endswith("…") and set(d[:-1]) == {"é"} and len(d.encode()) <= 200


def test_public_profile_has_its_tags(server, creator):
    me = server.get("/api/users/me", headers=creator.h).json()
    name = me["username"]
    for path in (f"/u/{name}", f"/u/{name.upper()}"):
        r = server.get(path)
        assert r.status_code == 200, path
        m = metas(r.text)
        assert m["og:type"] == "profile"
        assert canonical(r.text) == f"{FRONTEND}/u/{name}" == m["og:url"]
        assert f"@{name}" in title(r.text)
        assert m["profile:username"] == name


def test_banned_deleted_and_missing_users_get_no_tags(server):
    banned = server.make_user()
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {banned}")
    gone = server.make_user()
    server.sql(f"UPDATE users SET deleted_at = 1 WHERE id = {gone}")
    for uid in (banned, gone):
        name = server.scalar(f"SELECT username FROM users WHERE id = {uid}")
        assert_generic_404(server, f"/u/{name}")
    assert_generic_404(server, "/u/" + "nobody_" + uniq("x").lower())
    assert_generic_404(server, "/u/" + "x" * 200)


def test_robots_txt(server):
    r = server.get("/robots.txt")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert "User-agent: *" in lines and "Allow: /" in lines
    for p in ("/api/", "/auth", "/cart", "/checkout", "/dashboard", "/upload", "/admin"):
        assert f"Disallow: {p}" in lines
    assert f"Sitemap: {FRONTEND}/sitemap.xml" in lines
    assert not any(l.startswith("Disallow: /model") or l == "Disallow: /" for l in lines)


def sitemap(server, path):
    r = server.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])
    assert r.headers["Content-Type"].startswith("application/xml")
    return ET.fromstring(r.content)


def test_sitemap_index_and_pages(server, public_model, creator):
    hidden = create_model(server, creator, title=uniq("Hidden"))  # pending
    banned = server.make_user()
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {banned}")
    idx = sitemap(server, "/sitemap.xml")
    assert idx.tag == SM + "sitemapindex"
    locs = [e.text for e in idx.iter(SM + "loc")]
    max_model = int(server.scalar("SELECT MAX(id) FROM models"))
    max_user = int(server.scalar("SELECT MAX(id) FROM users"))
    models_pages = [l for l in locs if "/sitemap/models-" in l]
    users_pages = [l for l in locs if "/sitemap/users-" in l]
    assert len(models_pages) == (max_model + 49999) // 50000
    assert len(users_pages) == (max_user + 49999) // 50000
    assert models_pages[0] == f"{FRONTEND}/sitemap/models-1.xml"

    page = sitemap(server, "/sitemap/models-1.xml")
    assert page.tag == SM + "urlset"
    urls = {u.find(SM + "loc").text: u.find(SM + "lastmod").text for u in page.iter(SM + "url")}
    public = {int(r[0]) for r in server.sql(
        "SELECT id FROM models WHERE status = 'approved' AND is_published = TRUE AND deleted_at IS NULL")}
    assert set(urls) == {f"{FRONTEND}/model/{i}" for i in public}
    assert f"{FRONTEND}/model/{public_model['id']}" in urls
    assert f"{FRONTEND}/model/{hidden['id']}" not in urls
    for lastmod in urls.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lastmod)

    users = sitemap(server, "/sitemap/users-1.xml")
    ulocs = {u.find(SM + "loc").text for u in users.iter(SM + "url")}
    visible = {r[0] for r in server.sql("SELECT username FROM users WHERE deleted_at IS NULL AND is_banned = FALSE")}
    assert ulocs == {f"{FRONTEND}/u/{n}" for n in visible}
    bname = server.scalar(f"SELECT username FROM users WHERE id = {banned}")
    assert f"{FRONTEND}/u/{bname}" not in ulocs

    # gzip for the big pages, and the same document.
    z = server.get("/sitemap/models-1.xml", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert z.headers.get("Content-Encoding") == "gzip"
    assert ET.fromstring(gzip.decompress(z.raw.read())).tag == SM + "urlset"


@pytest.mark.parametrize("path", ["/sitemap/models-0.xml", "/sitemap/models-999999.xml", "/sitemap/models-01.xml",
                                  "/sitemap/models-1.xml.gz", "/sitemap/models-x.xml", "/sitemap/comments-1.xml",
                                  "/sitemap/models-1", "/sitemap/", "/sitemap/models--1.xml",
                                  "/sitemap/models-99999999999999999999.xml"])
def test_sitemap_bad_pages_are_404(server, path):
    r = server.get(path)
    assert r.status_code == 404, path
