"""Models (issue 5, items 1, 2 and 6): a creator publishes a model from an
upload, edits, unpublishes and deletes it (owner only: IDOR tests), the
moderation status decides who sees it, and everyone else views, likes,
comments on and shares it; the owner reads its analytics.

The helpers at the top are shared with test_marketplace.py and
test_admin_models.py.  Every test makes its own users (a fresh creator per
test), categories and models, so nothing depends on global counts."""
import concurrent.futures
import datetime
import os
import struct
import time
import zlib

import pytest
import requests

from conftest import ISO_RE, assert_error, bearer, uniq

CUBE_OBJ = b"""# a unit cube
o cube
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1
f 1 2 3 4
f 5 8 7 6
f 1 5 6 2
f 2 6 7 3
f 3 7 8 4
f 5 1 4 8
"""

MODEL_FIELDS = {
    "id", "title", "description", "price", "currency", "is_free", "category", "tags", "license", "creator",
    "thumbnail_url", "preview_images", "file_format", "file_size", "poly_count", "vertex_count",
    "has_animations", "has_rigging", "has_textures", "status", "is_published", "is_featured", "likes_count",
    "views_count", "downloads_count", "comments_count", "sales_count", "rating", "created_at", "updated_at",
    "shares_count", "rating_count"}
CREATOR_FIELDS = {"id", "username", "full_name", "avatar_url", "is_verified"}
PUBLIC_USER_FIELDS = {"id", "username", "full_name", "avatar_url", "bio", "user_type", "is_verified", "country",
                      "skills", "followers_count", "following_count", "models_count", "created_at"}


# ---------------------------------------------------------------- helpers (shared)

def png_bytes(w=3, h=2):
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def word():
    """A unique, letters-only word: one token for both FTS5 and tsvector."""
    return "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid_hex(12))


def uuid_hex(n):
    import uuid
    return uuid.uuid4().hex[:n]


class Who:
    """A user of the test: id, bearer headers, username, email."""

    def __init__(self, server, uid, username, email):
        self.id = uid
        self.h = bearer(server.token(uid))
        self.username, self.email = username, email


def make_users(server, n, creator=False, verified=True):
    """n fresh users in one statement (a psql round trip costs ~30 ms)."""
    now = int(time.time() * 1000)
    names = ["u_" + uuid_hex(12) for _ in range(n)]
    kind = "creator" if creator else "buyer"
    ok = "TRUE" if verified else "FALSE"
    values = ", ".join(
        f"('{u}@example.com', '{u}@example.com', '{u}', '{u}', NULL, 'Test {u}', '{kind}', 'user', {ok}, {now}, {now})"
        for u in names)
    rows = server.sql(
        "INSERT INTO users (email, email_normalized, username, username_lower, password_hash, full_name,"
        f" user_type, role, is_email_verified, created_at, updated_at) VALUES {values} RETURNING id, username")
    ids = {name: int(uid) for uid, name in rows}
    return [Who(server, ids[u], u, f"{u}@example.com") for u in names]


def make_buyer(server):
    return make_users(server, 1)[0]


def make_creator(server, verified=True):
    return make_users(server, 1, creator=True, verified=verified)[0]


_SHARED = {}


def shared_creator(server):
    """One creator per server for tests that only look at their own answers."""
    if server.url not in _SHARED:
        _SHARED[server.url] = make_creator(server)
    return _SHARED[server.url]


def upload_model(server, h, data=CUBE_OBJ, name="cube.obj"):
    r = requests.post(server.url + "/api/upload/model", headers=h,
                      files={"file": (name, data, "application/octet-stream")}, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()


def upload_image(server, h):
    r = requests.post(server.url + "/api/upload/image", headers=h,
                      files={"file": ("pic.png", png_bytes(), "application/octet-stream")}, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()["image_url"]


def make_category(server, **body):
    body.setdefault("name", uniq("MCat"))
    r = server.post("/api/admin/categories", json=body, headers=server.admin_headers())
    assert r.status_code == 201, r.text
    return r.json()


_DEFAULT_CATEGORY = {}


def default_category(server):
    """One category per server for models whose category does not matter."""
    if server.url not in _DEFAULT_CATEGORY:
        _DEFAULT_CATEGORY[server.url] = make_category(server)["id"]
    return _DEFAULT_CATEGORY[server.url]


def create_model(server, who, approve=False, upload=None, **fields):
    """Creates a model of `who` (201 asserted); approved when asked."""
    if upload is None:
        upload = upload_model(server, who.h)
    body = {"title": uniq("Model"), "price": 9.99, "category_id": default_category(server),
            "upload_id": upload["upload_id"]}
    body.update(fields)
    r = server.post("/api/models", json=body, headers=who.h)
    assert r.status_code == 201, r.text
    m = r.json()
    if approve:
        approve_model(server, m["id"])
        m["status"] = "approved"
    return m


def approve_model(server, mid):
    r = server.put(f"/api/admin/models/{mid}/approve", headers=server.admin_headers())
    assert r.status_code == 200, r.text
    return r.json()


def reject_model(server, mid, reason="Not good enough yet"):
    r = server.put(f"/api/admin/models/{mid}/reject", json={"reason": reason}, headers=server.admin_headers())
    assert r.status_code == 200, r.text
    return r.json()


def get_model(server, mid, h=None):
    return server.get(f"/api/models/{mid}", headers=h or {})


def list_ids(server, h=None, **params):
    """Ids of GET /api/models with params, in order (one page of 100)."""
    params.setdefault("limit", 100)
    r = server.get("/api/models", params=params, headers=h or {})
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["items"]]


def notif_count(server, uid, kind):
    return int(server.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {uid} AND type = '{kind}'"))


def parallel(fn, args, workers=20):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, args))


def file_path(server, url):
    """Local path of a stored file from its URL (.../files/<key>)."""
    key = url.split("/files/", 1)[1]
    return os.path.join(server.data_dir, "files", key)


# ---------------------------------------------------------------- create

def test_create_returns_the_full_pending_document(server):
    c = make_creator(server)
    up = upload_model(server, c.h)
    img1, img2 = upload_image(server, c.h), upload_image(server, c.h)
    cat = make_category(server)
    title = uniq("Oak chair")
    r = server.post("/api/models", headers=c.h, json={
        "title": title, "description": "A sturdy chair.\nTwo lines.", "price": 19.99,
        "category_id": cat["id"], "tags": ["Chair", "chair", "WOOD", "wood", "low-poly"], "license": "cc-by",
        "upload_id": up["upload_id"], "thumbnail_url": img1, "preview_images": [img1, img2]})
    assert r.status_code == 201, r.text
    m = r.json()
    assert MODEL_FIELDS <= set(m), MODEL_FIELDS - set(m)
    assert set(m["creator"]) >= CREATOR_FIELDS
    assert m["title"] == title and m["description"] == "A sturdy chair.\nTwo lines."
    assert m["price"] == 19.99 and m["currency"] == "USD" and m["is_free"] is False
    assert m["category"] == {"id": cat["id"], "name": cat["name"], "slug": cat["slug"]}
    assert m["tags"] == ["chair", "wood", "low-poly"]
    assert m["license"] == "cc-by"
    assert m["creator"]["id"] == c.id and m["creator"]["username"] == c.username
    assert m["thumbnail_url"] == img1 and m["preview_images"] == [img1, img2]
    # copied from the upload's analysis
    assert m["file_format"] == up["file_format"] == "OBJ"
    assert m["file_size"] == up["file_size"] == len(CUBE_OBJ)
    assert m["poly_count"] == up["poly_count"] == 12
    assert m["vertex_count"] == up["vertex_count"]
    assert m["has_animations"] is False and m["has_rigging"] is False
    assert m["status"] == "pending" and m["is_published"] is True and m["is_featured"] is False
    for k in ("likes_count", "views_count", "downloads_count", "comments_count", "sales_count", "shares_count",
              "rating_count"):
        assert m[k] == 0, k
    assert m["rating"] == 0
    assert m["rejection_reason"] is None
    assert ISO_RE.match(m["created_at"]) and ISO_RE.match(m["updated_at"])
    # the owner reads back the same document
    g = get_model(server, m["id"], c.h)
    assert g.status_code == 200, g.text
    got = g.json()
    assert {k: got[k] for k in MODEL_FIELDS} == {k: m[k] for k in MODEL_FIELDS}


def test_price_zero_and_is_free(server):
    c = make_creator(server)
    m = create_model(server, c, price=0)
    assert m["is_free"] is True and m["price"] == 0
    assert m["license"] == "standard"
    m = create_model(server, c, price=5, is_free=True)
    assert m["is_free"] is True and m["price"] == 0
    body = {"title": uniq("Free"), "is_free": True, "category_id": default_category(server),
            "upload_id": upload_model(server, c.h)["upload_id"]}
    body.pop("price", None)
    r = server.post("/api/models", json=body, headers=c.h)
    assert r.status_code == 201, r.text
    assert r.json()["is_free"] is True and r.json()["price"] == 0
    m = create_model(server, c, price="12.50")
    assert m["price"] == 12.5 and m["is_free"] is False
    m = create_model(server, c, price=10000)
    assert m["price"] == 10000


def test_price_is_required_unless_free(server):
    c = make_creator(server)
    up = upload_model(server, c.h)
    r = server.post("/api/models", headers=c.h, json={"title": uniq("NoPrice"), "category_id": default_category(server),
                                                      "upload_id": up["upload_id"]})
    assert_error(r, 422, "VALIDATION_ERROR", "price")


def test_buyer_anonymous_and_unverified_cannot_create(server):
    buyer = make_buyer(server)
    up = upload_model(server, buyer.h)
    body = {"title": uniq("Nope"), "price": 5, "category_id": default_category(server), "upload_id": up["upload_id"]}
    assert_error(server.post("/api/models", json=body, headers=buyer.h), 403, "FORBIDDEN")
    assert_error(server.post("/api/models", json=body), 401, "UNAUTHORIZED")
    # the demo buyer too (every third demo user is a creator)
    assert_error(server.post("/api/models", json=body, headers=server.user_headers(1)), 403, "FORBIDDEN")
    unverified = make_creator(server, verified=False)
    assert_error(server.post("/api/models", json=body, headers=unverified.h), 403, "EMAIL_NOT_VERIFIED")
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE creator_id IN ({buyer.id}, {unverified.id})") == "0"


def test_demo_creator_can_create(server):
    h = server.user_headers(3)
    up = upload_model(server, h)
    r = server.post("/api/models", headers=h, json={"title": uniq("Demo"), "price": 1, "upload_id": up["upload_id"],
                                                    "category_id": default_category(server)})
    assert r.status_code == 201, r.text
    assert r.json()["creator"]["username"] == "demo_user_3"


def test_empty_body_reports_every_missing_field(server):
    c = make_creator(server)
    r = server.post("/api/models", json={}, headers=c.h)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    for f in ("title", "category_id", "upload_id"):
        assert f in body["field_errors"], body


def test_missing_price_is_reported_with_the_other_errors(server):
    """All field errors at once: a form missing its price and its title
    shows both."""
    c = make_creator(server)
    up = upload_model(server, c.h)
    r = server.post("/api/models", json={"upload_id": up["upload_id"], "category_id": default_category(server)},
                    headers=c.h)
    body = assert_error(r, 422, "VALIDATION_ERROR", "title")
    assert "price" in body["field_errors"], body


def test_all_field_errors_at_once(server):
    c, other = make_users(server, 2, creator=True)
    foreign_up = upload_model(server, other.h)
    r = server.post("/api/models", headers=c.h, json={
        "title": "ab", "description": "x" * 5001, "price": 1.234, "category_id": 999999999,
        "tags": ["t"] * 21, "license": "gpl", "upload_id": foreign_up["upload_id"],
        "thumbnail_url": "http://evil.example/x.png", "preview_images": ["javascript:alert(1)"]})
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert set(body["field_errors"]) >= {"title", "description", "price", "category_id", "tags", "license",
                                         "upload_id", "thumbnail_url", "preview_images"}, body


@pytest.mark.parametrize("field,value", [
    ("title", "ab"), ("title", "x" * 121), ("title", "   "), ("title", 123), ("title", None),
    ("description", "x" * 5001), ("description", 5),
    ("price", -1), ("price", 10000.01), ("price", 1.234), ("price", "abc"), ("price", True), ("price", "1e3"),
    ("is_free", "yes"),
    ("category_id", 0), ("category_id", "abc"), ("category_id", 999999999),
    ("tags", "a,b"), ("tags", ["t%d" % i for i in range(21)]), ("tags", [""]), ("tags", ["x" * 31]),
    ("tags", [1]), ("tags", ["a,b"]),
    ("license", "gpl"), ("license", ""),
    ("upload_id", "abc"), ("upload_id", 999999999), ("upload_id", -1),
    ("preview_images", "not-a-list"),
])
def test_invalid_fields_are_422(server, field, value):
    c = shared_creator(server)
    body = {"title": uniq("Bad"), "price": 5, "category_id": default_category(server), "upload_id": 999999999}
    body[field] = value
    r = server.post("/api/models", json=body, headers=c.h)
    assert_error(r, 422, "VALIDATION_ERROR", field)


def test_tags_are_lowercased_beyond_ascii(server):
    m = create_model(server, shared_creator(server), tags=["Été", "été", "ÄPFEL", "Straße"])
    assert m["tags"] == ["été", "äpfel", "straße"]


def test_limits_that_are_allowed(server):
    c = make_creator(server)
    tags = [("t%02d" % i) + "x" * 27 for i in range(20)]
    m = create_model(server, c, title="x" * 120, description="d" * 5000, tags=tags, license="cc-by-sa", price=0.01)
    assert len(m["title"]) == 120 and len(m["description"]) == 5000 and m["tags"] == tags
    assert m["license"] == "cc-by-sa" and m["price"] == 0.01
    m = create_model(server, c, title="abc", license="editorial", tags=[])
    assert m["title"] == "abc" and m["tags"] == [] and m["license"] == "editorial"


def test_inactive_category_is_refused(server):
    c = make_creator(server)
    cat = make_category(server)
    r = server.put(f"/api/admin/categories/{cat['id']}", json={"is_active": False}, headers=server.admin_headers())
    assert r.status_code == 200, r.text
    up = upload_model(server, c.h)
    r = server.post("/api/models", headers=c.h, json={"title": uniq("Inactive"), "price": 3, "category_id": cat["id"],
                                                      "upload_id": up["upload_id"]})
    assert_error(r, 422, "VALIDATION_ERROR", "category_id")


def test_upload_must_be_own_unused_model_upload(server):
    c, other = make_users(server, 2, creator=True)
    base = {"title": uniq("Up"), "price": 5, "category_id": default_category(server)}
    # someone else's upload
    foreign = upload_model(server, other.h)
    r = server.post("/api/models", headers=c.h, json=dict(base, upload_id=foreign["upload_id"]))
    assert_error(r, 422, "VALIDATION_ERROR", "upload_id")
    # an image upload is not a model
    img_id = requests.post(server.url + "/api/upload/image", headers=c.h,
                           files={"file": ("p.png", png_bytes())}, timeout=30).json()["upload_id"]
    r = server.post("/api/models", headers=c.h, json=dict(base, upload_id=img_id))
    assert_error(r, 422, "VALIDATION_ERROR", "upload_id")
    # a used one
    up = upload_model(server, c.h)
    create_model(server, c, upload=up)
    r = server.post("/api/models", headers=c.h, json=dict(base, upload_id=up["upload_id"]))
    assert_error(r, 422, "VALIDATION_ERROR", "upload_id")
    # also when it is used by a model of someone else (the other user's upload, used by them)
    create_model(server, other, upload=foreign)
    r = server.post("/api/models", headers=c.h, json=dict(base, upload_id=foreign["upload_id"]))
    assert_error(r, 422, "VALIDATION_ERROR", "upload_id")
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE creator_id = {c.id}") == "1"


def test_one_upload_makes_one_model_even_in_parallel(server):
    """Two models on one file would share it: deleting one would delete the
    other's file.  Simultaneous creates from one upload make one model."""
    c = make_creator(server)
    for _ in range(3):  # a race: a few rounds make a lost one show reliably
        up = upload_model(server, c.h)
        body = {"title": uniq("Race"), "price": 5, "category_id": default_category(server),
                "upload_id": up["upload_id"]}
        res = parallel(lambda _: requests.post(server.url + "/api/models", json=body, headers=c.h, timeout=30),
                       range(16))
        codes = sorted(r.status_code for r in res)
        assert codes == [201] + [422] * 15, codes
        for r in res:
            if r.status_code == 422:
                assert_error(r, 422, "VALIDATION_ERROR", "upload_id")
        assert server.scalar(f"SELECT COUNT(*) FROM models WHERE upload_id = {up['upload_id']}") == "1"


def test_images_must_be_own_image_uploads(server):
    c, other = make_users(server, 2, creator=True)
    mine = upload_image(server, c.h)
    theirs = upload_image(server, other.h)
    model_up = upload_model(server, c.h)
    cdn = mine.split("/files/")[0]
    bad_urls = [
        "http://evil.example/files/images/x.png",
        theirs,
        model_up["file_url"],
        mine.replace("/files/images/", "/files/images/../images/"),
        mine + "?x=1",
        cdn + "/files/images/",
        "javascript:alert(1)",
    ]
    base = {"title": uniq("Img"), "price": 5, "category_id": default_category(server),
            "upload_id": upload_model(server, c.h)["upload_id"]}
    for url in bad_urls:
        r = server.post("/api/models", headers=c.h, json=dict(base, thumbnail_url=url))
        assert_error(r, 422, "VALIDATION_ERROR", "thumbnail_url")
        r = server.post("/api/models", headers=c.h, json=dict(base, preview_images=[mine, url]))
        assert_error(r, 422, "VALIDATION_ERROR", "preview_images")
    r = server.post("/api/models", headers=c.h, json=dict(base, preview_images=[mine] * 11))
    assert_error(r, 422, "VALIDATION_ERROR", "preview_images")
    r = server.post("/api/models", headers=c.h, json=dict(base, thumbnail_url=mine, preview_images=[mine]))
    assert r.status_code == 201, r.text


def test_mass_assignment_on_create_has_no_effect(server):
    c, other = make_users(server, 2, creator=True)
    m = create_model(server, c, status="approved", is_featured=True, is_published=False, likes_count=999,
                     views_count=999, downloads_count=5, sales_count=5, comments_count=5, shares_count=5,
                     rating=5, rating_count=3, creator_id=other.id, poly_count=1, file_size=1,
                     has_rigging=True, rejection_reason="x", id=1, currency="EUR")
    assert m["status"] == "pending" and m["is_featured"] is False and m["is_published"] is True
    for k in ("likes_count", "views_count", "downloads_count", "sales_count", "comments_count", "shares_count",
              "rating_count"):
        assert m[k] == 0, k
    assert m["rating"] == 0 and m["creator"]["id"] == c.id
    assert m["poly_count"] == 12 and m["file_size"] == len(CUBE_OBJ) and m["has_rigging"] is False
    assert m["rejection_reason"] is None and m["currency"] == "USD" and m["id"] != 1
    row = server.sql(f"SELECT status, creator_id, likes_count FROM models WHERE id = {m['id']}")[0]
    assert row == ("pending", str(c.id), "0")
    # not public: the mass-assigned "approved" did nothing
    assert get_model(server, m["id"]).status_code == 404


# ---------------------------------------------------------------- categories

def test_category_models_count_and_delete_conflict(server):
    c = make_creator(server)
    admin = server.admin_headers()
    cat = make_category(server)
    assert cat["models_count"] == 0
    m = create_model(server, c, category_id=cat["id"])
    r = server.get(f"/api/admin/categories/{cat['id']}", headers=admin)
    assert r.json()["models_count"] == 0  # pending: not public, not counted (issue 9)
    approve_model(server, m["id"])
    r = server.get(f"/api/admin/categories/{cat['id']}", headers=admin)
    assert r.json()["models_count"] == 1
    assert_error(server.delete(f"/api/admin/categories/{cat['id']}", headers=admin), 409, "CONFLICT")
    assert server.get(f"/api/admin/categories/{cat['id']}", headers=admin).status_code == 200
    assert get_model(server, m["id"], c.h).json()["category"]["id"] == cat["id"]
    # gone with its only model
    assert server.delete(f"/api/models/{m['id']}", headers=c.h).status_code == 200
    assert server.get(f"/api/admin/categories/{cat['id']}", headers=admin).json()["models_count"] == 0
    assert server.delete(f"/api/admin/categories/{cat['id']}", headers=admin).status_code == 200


def test_category_change_moves_models_count(server):
    c = make_creator(server)
    admin = server.admin_headers()
    a, b = make_category(server), make_category(server)
    m = create_model(server, c, approve=True, category_id=a["id"])
    r = server.put(f"/api/models/{m['id']}", json={"category_id": b["id"]}, headers=c.h)
    assert r.status_code == 200, r.text
    assert r.json()["category"]["id"] == b["id"]
    counts = {x["id"]: server.get(f"/api/admin/categories/{x['id']}", headers=admin).json()["models_count"]
              for x in (a, b)}
    assert counts == {a["id"]: 0, b["id"]: 1}, counts
    # the old category is free to go
    assert server.delete(f"/api/admin/categories/{a['id']}", headers=admin).status_code == 200


# ---------------------------------------------------------------- visibility

def hidden_model(server, state):
    c = make_creator(server)
    m = create_model(server, c)
    if state == "rejected":
        reject_model(server, m["id"], "Textures missing")
    elif state == "unpublished":
        approve_model(server, m["id"])
        r = server.post(f"/api/models/{m['id']}/toggle-publish", headers=c.h)
        assert r.status_code == 200 and r.json()["is_published"] is False, r.text
    return c, m


@pytest.mark.parametrize("state", ["pending", "rejected", "unpublished"])
def test_hidden_models_are_404_for_others(server, state):
    c, m = hidden_model(server, state)
    mid = m["id"]
    other = make_buyer(server)
    for h in ({}, other.h):
        for method, path in [("GET", ""), ("GET", "/public"), ("GET", "/creator"), ("GET", "/comments"),
                             ("GET", "/related"), ("POST", "/view"), ("POST", "/share")]:
            assert_error(server.request(method, f"/api/models/{mid}{path}", headers=h), 404, "NOT_FOUND")
    for method, path in [("POST", "/like"), ("DELETE", "/like"), ("GET", "/analytics")]:
        assert_error(server.request(method, f"/api/models/{mid}{path}", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/models/{mid}/comments", json={"body": "hi"}, headers=other.h), 404, "NOT_FOUND")
    # nothing was counted or written by those attempts
    row = server.sql(f"SELECT views_count, likes_count, comments_count, shares_count FROM models WHERE id = {mid}")[0]
    assert row == ("0", "0", "0", "0")
    # its owner and admins see it; /public is only for public models
    for h in (c.h, server.admin_headers()):
        g = get_model(server, mid, h)
        assert g.status_code == 200, g.text
        assert g.json()["status"] == ("pending" if state == "pending" else "rejected" if state == "rejected"
                                      else "approved")
        cr = server.get(f"/api/models/{mid}/creator", headers=h)
        assert cr.status_code == 200 and cr.json()["id"] == c.id
        assert_error(server.get(f"/api/models/{mid}/public", headers=h), 404, "NOT_FOUND")
    if state == "rejected":
        assert get_model(server, mid, c.h).json()["rejection_reason"] == "Textures missing"


def test_public_model_pages(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True, description="public")
    mid = m["id"]
    g = get_model(server, mid)
    assert g.status_code == 200, g.text
    doc = g.json()
    assert MODEL_FIELDS <= set(doc)
    assert "rejection_reason" not in doc and "is_liked" not in doc
    assert "rejection_reason" not in get_model(server, mid, make_buyer(server).h).json()
    assert get_model(server, mid, make_buyer(server).h).json()["is_liked"] is False
    p = server.get(f"/api/models/{mid}/public")
    assert p.status_code == 200 and p.json()["id"] == mid and p.json()["status"] == "approved"
    assert "rejection_reason" not in p.json()
    cr = server.get(f"/api/models/{mid}/creator")
    assert cr.status_code == 200, cr.text
    prof = cr.json()
    assert prof["id"] == c.id and prof["username"] == c.username and prof["user_type"] == "creator"
    assert PUBLIC_USER_FIELDS <= set(prof)
    for secret in ("email", "password_hash", "role", "settings"):
        assert secret not in prof
    assert c.email not in cr.text


def test_missing_and_deleted_models_are_404(server):
    for path in ("", "/public", "/creator", "/comments", "/related"):
        assert_error(server.get(f"/api/models/999999999{path}"), 404, "NOT_FOUND")
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    # a sold model that its owner deletes is hidden from everyone, its owner and admins included
    server.sql(f"UPDATE models SET sales_count = 1 WHERE id = {m['id']}")
    assert server.delete(f"/api/models/{m['id']}", headers=c.h).status_code == 200
    for h in ({}, c.h, server.admin_headers()):
        assert_error(get_model(server, m["id"], h), 404, "NOT_FOUND")
        assert_error(server.get(f"/api/models/{m['id']}/public", headers=h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/models/{m['id']}/like", headers=make_buyer(server).h), 404, "NOT_FOUND")


# ---------------------------------------------------------------- update

def test_partial_update_by_owner(server):
    c = make_creator(server)
    img = upload_image(server, c.h)
    m = create_model(server, c, description="first", tags=["one"], license="extended", price=7)
    r = server.put(f"/api/models/{m['id']}", json={"title": "  New title  "}, headers=c.h)
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["title"] == "New title"
    for k in ("description", "price", "is_free", "tags", "license", "category", "status", "poly_count"):
        assert u[k] == m[k], k
    r = server.put(f"/api/models/{m['id']}", headers=c.h, json={
        "description": "second", "price": 12.34, "tags": ["Two", "THREE", "two"], "license": "cc0",
        "thumbnail_url": img, "preview_images": [img]})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["description"] == "second" and u["price"] == 12.34 and u["is_free"] is False
    assert u["tags"] == ["two", "three"] and u["license"] == "cc0"
    assert u["thumbnail_url"] == img and u["preview_images"] == [img] and u["title"] == "New title"
    assert get_model(server, m["id"], c.h).json()["tags"] == ["two", "three"]
    tags = sorted(r[0] for r in server.sql(f"SELECT tag FROM model_tags WHERE model_id = {m['id']}"))
    assert tags == ["three", "two"]
    # free, then priced again
    u = server.put(f"/api/models/{m['id']}", json={"is_free": True}, headers=c.h).json()
    assert u["is_free"] is True and u["price"] == 0
    u = server.put(f"/api/models/{m['id']}", json={"price": 3}, headers=c.h).json()
    assert u["is_free"] is False and u["price"] == 3
    u = server.put(f"/api/models/{m['id']}", json={"price": 0}, headers=c.h).json()
    assert u["is_free"] is True and u["price"] == 0
    # thumbnail cleared with null
    u = server.put(f"/api/models/{m['id']}", json={"thumbnail_url": None}, headers=c.h).json()
    assert u["thumbnail_url"] is None and u["preview_images"] == [img]


def test_update_null_description_clears_it(server):
    """null clears a nullable field; description is never null, so "" it is."""
    c = shared_creator(server)
    m = create_model(server, c, description="Long words")
    u = server.put(f"/api/models/{m['id']}", json={"description": None}, headers=c.h)
    assert u.status_code == 200, u.text
    assert u.json()["description"] == "" and u.json()["title"] == m["title"]


def test_update_cannot_make_a_paid_model_cost_nothing(server):
    """is_free false with no price must not leave a non-free model at 0."""
    c = make_creator(server)
    m = create_model(server, c, price=0)
    r = server.put(f"/api/models/{m['id']}", json={"is_free": False}, headers=c.h)
    if r.status_code == 200:
        u = r.json()
        assert u["is_free"] is True or u["price"] > 0, u
    else:
        assert_error(r, 422, "VALIDATION_ERROR", "price")


@pytest.mark.parametrize("body,field", [
    ({"title": "ab"}, "title"), ({"title": None}, "title"), ({"title": "x" * 121}, "title"),
    ({"description": "x" * 5001}, "description"),
    ({"price": -1}, "price"), ({"price": 10000.01}, "price"), ({"price": 1.001}, "price"),
    ({"category_id": 999999999}, "category_id"), ({"tags": ["x" * 31]}, "tags"),
    ({"tags": ["t%d" % i for i in range(21)]}, "tags"), ({"license": "mine"}, "license"),
    ({"thumbnail_url": "http://evil.example/a.png"}, "thumbnail_url"),
    ({"preview_images": ["http://evil.example/a.png"]}, "preview_images"),
    # null on a field that is not nullable is 422 (docs/openapi.yaml, "Partial updates")
    ({"price": None}, "price"), ({"is_free": None}, "is_free"), ({"license": None}, "license"),
    ({"category_id": None}, "category_id"), ({"tags": None}, "tags"), ({"tags": ["  "]}, "tags"),
    ({"tags": ["a,b"]}, "tags"),
])
def test_update_validates_like_create(server, body, field):
    c = shared_creator(server)
    m = create_model(server, c)
    assert_error(server.put(f"/api/models/{m['id']}", json=body, headers=c.h), 422, "VALIDATION_ERROR", field)
    after = get_model(server, m["id"], c.h).json()
    assert {k: after[k] for k in MODEL_FIELDS} == {k: m[k] for k in MODEL_FIELDS}


def test_update_does_not_accept_foreign_images(server):
    c, other = make_users(server, 2, creator=True)
    theirs = upload_image(server, other.h)
    m = create_model(server, c)
    r = server.put(f"/api/models/{m['id']}", json={"thumbnail_url": theirs}, headers=c.h)
    assert_error(r, 422, "VALIDATION_ERROR", "thumbnail_url")
    assert get_model(server, m["id"], c.h).json()["thumbnail_url"] is None


def test_mass_assignment_on_update_has_no_effect(server):
    c, other = make_users(server, 2, creator=True)
    m = create_model(server, c)
    other_up = upload_model(server, other.h)
    r = server.put(f"/api/models/{m['id']}", headers=c.h, json={
        "title": "Still pending", "status": "approved", "is_featured": True, "likes_count": 500, "views_count": 500,
        "downloads_count": 9, "sales_count": 9, "comments_count": 9, "rating": 5, "creator_id": other.id,
        "upload_id": other_up["upload_id"], "poly_count": 1, "rejection_reason": "none", "deleted_at": 1})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["title"] == "Still pending"
    assert u["status"] == "pending" and u["is_featured"] is False and u["creator"]["id"] == c.id
    for k in ("likes_count", "views_count", "downloads_count", "sales_count", "comments_count"):
        assert u[k] == 0, k
    assert u["poly_count"] == 12 and u["rejection_reason"] is None
    row = server.sql(f"SELECT status, is_featured, creator_id, upload_id, deleted_at FROM models WHERE id = {m['id']}")[0]
    assert row[0] == "pending" and row[1] in ("0", "f", "false") and row[2] == str(c.id)
    assert row[3] != str(other_up["upload_id"]) and row[4] == ""
    assert get_model(server, m["id"]).status_code == 404


def test_idor_another_user_cannot_touch_a_model(server):
    c, other = make_users(server, 2, creator=True)
    m = create_model(server, c, approve=True, title=uniq("Mine"))
    mid = m["id"]
    # visible to everyone, but only its owner may change it
    assert get_model(server, mid, other.h).status_code == 200
    assert_error(server.put(f"/api/models/{mid}", json={"title": "Stolen"}, headers=other.h), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/models/{mid}/toggle-publish", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/models/{mid}/analytics", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/models/{mid}", headers=other.h), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/models/{mid}", headers=server.user_headers(1)), 404, "NOT_FOUND")
    after = get_model(server, mid).json()
    assert after["title"] == m["title"] and after["is_published"] is True
    # no token at all
    assert_error(server.put(f"/api/models/{mid}", json={"title": "Stolen"}), 401, "UNAUTHORIZED")
    assert_error(server.delete(f"/api/models/{mid}"), 401, "UNAUTHORIZED")
    assert_error(server.post(f"/api/models/{mid}/toggle-publish"), 401, "UNAUTHORIZED")
    assert server.scalar(f"SELECT title FROM models WHERE id = {mid}") == m["title"]


def test_idor_on_a_pending_model_looks_missing(server):
    c, other = make_users(server, 2, creator=True)
    m = create_model(server, c)
    for method in ("PUT", "DELETE"):
        r = server.request(method, f"/api/models/{m['id']}", json={"title": "Stolen"}, headers=other.h)
        assert_error(r, 404, "NOT_FOUND")
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE id = {m['id']}") == "1"


# ---------------------------------------------------------------- delete

def test_delete_unsold_removes_row_upload_and_file(server):
    c = make_creator(server)
    up = upload_model(server, c.h)
    path = file_path(server, up["file_url"])
    assert os.path.exists(path)
    m = create_model(server, c, upload=up, tags=["gone"])
    mid = m["id"]
    approve_model(server, mid)
    fan = make_buyer(server)
    assert server.post(f"/api/models/{mid}/like", headers=fan.h).status_code == 200
    assert server.post(f"/api/models/{mid}/comments", json={"body": "nice"}, headers=fan.h).status_code == 201
    assert server.post(f"/api/models/{mid}/view", headers=fan.h).status_code == 200
    before = int(server.scalar(f"SELECT models_count FROM users WHERE id = {c.id}"))
    r = server.delete(f"/api/models/{mid}", headers=c.h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == mid and isinstance(body["message"], str) and body["message"]
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE id = {mid}") == "0"
    assert server.scalar(f"SELECT COUNT(*) FROM uploads WHERE id = {up['upload_id']}") == "0"
    assert not os.path.exists(path)
    assert server.scalar(f"SELECT COUNT(*) FROM model_likes WHERE model_id = {mid}") == "0"
    assert server.scalar(f"SELECT COUNT(*) FROM model_comments WHERE model_id = {mid}") == "0"
    assert int(server.scalar(f"SELECT models_count FROM users WHERE id = {c.id}")) == before - 1
    assert_error(get_model(server, mid, c.h), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/models/{mid}", headers=c.h), 404, "NOT_FOUND")


def test_delete_sold_model_hides_it_and_keeps_the_file(server):
    c = make_creator(server)
    up = upload_model(server, c.h)
    cat = make_category(server)
    m = create_model(server, c, upload=up, approve=True, category_id=cat["id"])
    assert list_ids(server, category=cat["slug"]) == [m["id"]]
    server.sql(f"UPDATE models SET sales_count = 2 WHERE id = {m['id']}")
    r = server.delete(f"/api/models/{m['id']}", headers=c.h)
    assert r.status_code == 200 and r.json()["id"] == m["id"], r.text
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE id = {m['id']} AND deleted_at IS NOT NULL") == "1"
    assert os.path.exists(file_path(server, up["file_url"]))
    assert server.scalar(f"SELECT COUNT(*) FROM uploads WHERE id = {up['upload_id']}") == "1"
    assert list_ids(server, category=cat["slug"]) == []
    assert list_ids(server, c.h, category=cat["slug"]) == []
    mine = server.get("/api/users/me/models", headers=c.h).json()
    assert m["id"] not in [x["id"] for x in mine["items"]]


# ---------------------------------------------------------------- publish

def test_toggle_publish(server):
    c = make_creator(server)
    cat = make_category(server)
    m = create_model(server, c, category_id=cat["id"], approve=True)
    mid = m["id"]
    assert list_ids(server, category=cat["slug"]) == [mid]
    r = server.post(f"/api/models/{mid}/toggle-publish", headers=c.h)
    assert r.status_code == 200, r.text
    assert r.json()["is_published"] is False and r.json()["status"] == "approved"
    assert list_ids(server, category=cat["slug"]) == []
    assert list_ids(server, make_buyer(server).h, category=cat["slug"]) == []
    assert_error(get_model(server, mid), 404, "NOT_FOUND")
    assert get_model(server, mid, c.h).json()["is_published"] is False
    r = server.post(f"/api/models/{mid}/toggle-publish", headers=c.h)
    assert r.status_code == 200 and r.json()["is_published"] is True
    assert list_ids(server, category=cat["slug"]) == [mid]
    assert get_model(server, mid).status_code == 200


# ---------------------------------------------------------------- my models

def test_my_models_all_statuses_and_filter(server):
    c, other = make_users(server, 2, creator=True)
    pending = create_model(server, c)
    approved = create_model(server, c, approve=True)
    rejected = create_model(server, c)
    reject_model(server, rejected["id"], "Broken normals")
    unpublished = create_model(server, c, approve=True)
    server.post(f"/api/models/{unpublished['id']}/toggle-publish", headers=c.h)
    create_model(server, other)
    r = server.get("/api/users/me/models", headers=c.h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}
    assert body["total"] == 4 and body["page"] == 1 and body["limit"] == 20 and body["pages"] == 1
    ids = [m["id"] for m in body["items"]]
    assert ids == [unpublished["id"], rejected["id"], approved["id"], pending["id"]]  # newest first
    by_id = {m["id"]: m for m in body["items"]}
    assert by_id[rejected["id"]]["rejection_reason"] == "Broken normals"
    assert by_id[unpublished["id"]]["is_published"] is False
    for status, want in [("pending", [pending["id"]]), ("approved", [unpublished["id"], approved["id"]]),
                         ("rejected", [rejected["id"]])]:
        r = server.get("/api/users/me/models", params={"status": status}, headers=c.h)
        assert r.status_code == 200, r.text
        assert [m["id"] for m in r.json()["items"]] == want, status
        assert r.json()["total"] == len(want)
    p2 = server.get("/api/users/me/models", params={"limit": 3, "page": 2}, headers=c.h).json()
    assert p2["total"] == 4 and p2["pages"] == 2 and [m["id"] for m in p2["items"]] == [pending["id"]]
    assert_error(server.get("/api/users/me/models", params={"status": "bogus"}, headers=c.h),
                 422, "VALIDATION_ERROR", "status")
    assert_error(server.get("/api/users/me/models"), 401, "UNAUTHORIZED")
    empty = server.get("/api/users/me/models", headers=make_buyer(server).h).json()
    assert empty["items"] == [] and empty["total"] == 0


# ---------------------------------------------------------------- views

def test_view_counted_once_per_viewer_per_hour(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    url = f"/api/models/{m['id']}/view"
    a, b = make_users(server, 2)
    r = server.post(url, headers=a.h)
    assert r.status_code == 200, r.text
    assert r.json() == {"counted": True, "views_count": 1}
    assert server.post(url, headers=a.h).json() == {"counted": False, "views_count": 1}
    assert server.post(url, headers=b.h).json() == {"counted": True, "views_count": 2}
    # anonymous viewers are told apart by their address
    assert server.post(url).json() == {"counted": True, "views_count": 3}
    assert server.post(url).json() == {"counted": False, "views_count": 3}
    assert get_model(server, m["id"], a.h).json()["views_count"] == 3
    # a forged X-Forwarded-For (no trusted proxy is configured) is not a new viewer
    for i in range(3):
        r = server.post(url, headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
        assert r.json() == {"counted": False, "views_count": 3}, r.text


def test_views_are_exact_under_concurrency(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    url = server.url + f"/api/models/{m['id']}/view"
    same = make_buyer(server)
    res = parallel(lambda _: requests.post(url, headers=same.h, timeout=30), range(10))
    assert all(r.status_code == 200 for r in res), [r.text for r in res if r.status_code != 200]
    assert sum(r.json()["counted"] for r in res) == 1
    users = make_users(server, 12)
    res = parallel(lambda u: requests.post(url, headers=u.h, timeout=30), users)
    assert all(r.status_code == 200 and r.json()["counted"] for r in res), [r.text for r in res]
    assert server.scalar(f"SELECT views_count FROM models WHERE id = {m['id']}") == "13"


# ---------------------------------------------------------------- likes

def test_like_and_unlike_are_idempotent(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    fan = make_buyer(server)
    url = f"/api/models/{m['id']}/like"
    assert_error(server.post(url), 401, "UNAUTHORIZED")
    r = server.post(url, headers=fan.h)
    assert r.status_code == 200, r.text
    assert r.json() == {"is_liked": True, "likes_count": 1}
    assert server.post(url, headers=fan.h).json() == {"is_liked": True, "likes_count": 1}
    g = get_model(server, m["id"], fan.h).json()
    assert g["likes_count"] == 1 and g["is_liked"] is True
    assert get_model(server, m["id"], c.h).json()["is_liked"] is False
    assert server.delete(url, headers=fan.h).json() == {"is_liked": False, "likes_count": 0}
    assert server.delete(url, headers=fan.h).json() == {"is_liked": False, "likes_count": 0}
    # unliking what another user liked does not touch their like
    other = make_buyer(server)
    server.post(url, headers=other.h)
    assert server.delete(url, headers=fan.h).json() == {"is_liked": False, "likes_count": 1}
    assert get_model(server, m["id"], other.h).json()["is_liked"] is True


def test_like_notifies_the_creator_but_not_for_self_likes(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    fan = make_buyer(server)
    assert server.post(f"/api/models/{m['id']}/like", headers=c.h).json()["likes_count"] == 1
    assert notif_count(server, c.id, "model_liked") == 0
    server.post(f"/api/models/{m['id']}/like", headers=fan.h)
    server.post(f"/api/models/{m['id']}/like", headers=fan.h)  # a repeat says nothing new
    assert notif_count(server, c.id, "model_liked") == 1
    msg = server.scalar(f"SELECT message FROM notifications WHERE user_id = {c.id} AND type = 'model_liked'")
    assert fan.username in msg


def test_likes_are_exact_under_concurrency(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    url = server.url + f"/api/models/{m['id']}/like"
    fans = make_users(server, 20)
    res = parallel(lambda u: requests.post(url, headers=u.h, timeout=30), fans)
    assert all(r.status_code == 200 for r in res), [r.text for r in res if r.status_code != 200]
    assert sorted(r.json()["likes_count"] for r in res)[-1] == 20
    assert get_model(server, m["id"]).json()["likes_count"] == 20
    assert server.scalar(f"SELECT COUNT(*) FROM model_likes WHERE model_id = {m['id']}") == "20"
    assert notif_count(server, c.id, "model_liked") == 20
    # one user, ten times at once
    one = make_buyer(server)
    res = parallel(lambda _: requests.post(url, headers=one.h, timeout=30), range(10))
    assert all(r.status_code == 200 and r.json()["is_liked"] for r in res), [r.text for r in res]
    assert server.scalar(f"SELECT likes_count FROM models WHERE id = {m['id']}") == "21"
    res = parallel(lambda _: requests.delete(url, headers=one.h, timeout=30), range(10))
    assert all(r.status_code == 200 for r in res), [r.text for r in res]
    # everyone unlikes at once
    res = parallel(lambda u: requests.delete(url, headers=u.h, timeout=30), fans)
    assert all(r.status_code == 200 for r in res)
    assert server.scalar(f"SELECT likes_count FROM models WHERE id = {m['id']}") == "0"
    assert server.scalar(f"SELECT COUNT(*) FROM model_likes WHERE model_id = {m['id']}") == "0"


# ---------------------------------------------------------------- comments

def test_comments_add_list_and_count(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    url = f"/api/models/{m['id']}/comments"
    a, b = make_users(server, 2)
    html = '<script>alert("x")</script> <b>bold</b> & \'quotes\''
    r = server.post(url, json={"body": html}, headers=a.h)
    assert r.status_code == 201, r.text
    first = r.json()
    assert set(first) >= {"id", "model_id", "body", "created_at", "user"}
    assert first["body"] == html and first["model_id"] == m["id"] and ISO_RE.match(first["created_at"])
    assert first["user"]["id"] == a.id and first["user"]["username"] == a.username
    assert "email" not in first["user"]
    ids = [first["id"]]
    for i in range(4):
        r = server.post(url, json={"body": f"comment {i}\nsecond line"}, headers=b.h)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    assert get_model(server, m["id"]).json()["comments_count"] == 5
    page = server.get(url, params={"limit": 2})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 5 and body["pages"] == 3 and body["limit"] == 2
    assert [x["id"] for x in body["items"]] == ids[::-1][:2]  # newest first
    everything = server.get(url, params={"limit": 100}).json()["items"]
    assert [x["id"] for x in everything] == ids[::-1]
    assert everything[-1]["body"] == html
    assert everything[0]["body"] == "comment 3\nsecond line"
    last = server.get(url, params={"limit": 2, "page": 3}).json()
    assert [x["id"] for x in last["items"]] == [ids[0]]


def test_comments_count_is_exact_under_concurrency(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    url = server.url + f"/api/models/{m['id']}/comments"
    users = make_users(server, 12)
    res = parallel(lambda u: requests.post(url, json={"body": f"from {u.username}"}, headers=u.h, timeout=30), users)
    assert all(r.status_code == 201 for r in res), [r.text for r in res if r.status_code != 201]
    assert get_model(server, m["id"]).json()["comments_count"] == 12
    body = server.get(f"/api/models/{m['id']}/comments", params={"limit": 100}).json()
    assert body["total"] == 12 and len(body["items"]) == 12
    res = parallel(lambda r: requests.delete(f"{url}/{r.json()['id']}", headers=c.h, timeout=30), res)
    assert all(r.status_code == 200 for r in res)
    assert get_model(server, m["id"]).json()["comments_count"] == 0


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {"body": "x" * 2001}, {}, {"body": 5},
                                  {"body": None}])
def test_comment_validation(server, body):
    c = shared_creator(server)
    m = create_model(server, c, approve=True)
    r = server.post(f"/api/models/{m['id']}/comments", json=body, headers=c.h)
    assert_error(r, 422, "VALIDATION_ERROR", "body")
    assert get_model(server, m["id"]).json()["comments_count"] == 0


def test_comment_needs_a_verified_user(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    url = f"/api/models/{m['id']}/comments"
    assert_error(server.post(url, json={"body": "hi"}), 401, "UNAUTHORIZED")
    unverified = make_users(server, 1, verified=False)[0]
    assert_error(server.post(url, json={"body": "hi"}, headers=unverified.h),
                 403, "EMAIL_NOT_VERIFIED")
    r = server.post(url, json={"body": "x" * 2000}, headers=make_buyer(server).h)
    assert r.status_code == 201 and len(r.json()["body"]) == 2000


def test_comment_delete_permissions(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    m2 = create_model(server, c, approve=True)
    url = f"/api/models/{m['id']}/comments"
    author, stranger = make_users(server, 2)
    ids = [server.post(url, json={"body": f"c{i}"}, headers=author.h).json()["id"] for i in range(3)]
    # a stranger may not
    assert_error(server.delete(f"{url}/{ids[0]}", headers=stranger.h), 403, "FORBIDDEN")
    assert_error(server.delete(f"{url}/{ids[0]}"), 401, "UNAUTHORIZED")
    # the comment must belong to the model of the path
    assert_error(server.delete(f"/api/models/{m2['id']}/comments/{ids[0]}", headers=author.h), 404, "NOT_FOUND")
    assert_error(server.delete(f"{url}/999999999", headers=author.h), 404, "NOT_FOUND")
    assert get_model(server, m["id"]).json()["comments_count"] == 3
    # its author, the model's owner and an admin may
    for cid, h in zip(ids, (author.h, c.h, server.admin_headers())):
        r = server.delete(f"{url}/{cid}", headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == cid and r.json()["message"]
    assert get_model(server, m["id"]).json()["comments_count"] == 0
    assert server.get(url).json()["items"] == []
    assert_error(server.delete(f"{url}/{ids[0]}", headers=author.h), 404, "NOT_FOUND")


# ---------------------------------------------------------------- share

def test_share(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    r = server.post(f"/api/models/{m['id']}/share")
    assert r.status_code == 200, r.text
    assert r.json() == {"share_url": f"http://localhost:3000/view/{m['id']}", "shares_count": 1}
    r = server.post(f"/api/models/{m['id']}/share", headers=make_buyer(server).h)
    assert r.json()["shares_count"] == 2
    assert get_model(server, m["id"]).json()["shares_count"] == 2
    assert_error(server.post("/api/models/999999999/share"), 404, "NOT_FOUND")


# ---------------------------------------------------------------- analytics

def test_analytics_for_owner_and_admin(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    mid = m["id"]
    fans = make_users(server, 3)
    for f in fans:
        server.post(f"/api/models/{mid}/view", headers=f.h)
    for f in fans[:2]:
        server.post(f"/api/models/{mid}/like", headers=f.h)
    server.post(f"/api/models/{mid}/comments", json={"body": "hello"}, headers=fans[0].h)
    server.post(f"/api/models/{mid}/share")
    r = server.get(f"/api/models/{mid}/analytics", headers=c.h)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["model_id"] == mid and a["days"] == 30
    assert a["totals"] == {"views": 3, "likes": 2, "sales": 0, "downloads": 0, "comments": 1, "shares": 1}
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    assert len(a["by_day"]) >= 1
    day = a["by_day"][-1]
    yesterday = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    assert day["date"] in (today, yesterday), day  # (the test may straddle midnight UTC)
    assert set(day) == {"date", "views", "likes", "sales", "downloads"}
    assert sum(d["views"] for d in a["by_day"]) == 3 and sum(d["likes"] for d in a["by_day"]) == 2
    for d in a["by_day"]:
        datetime.datetime.strptime(d["date"], "%Y-%m-%d")
    r = server.get(f"/api/models/{mid}/analytics", params={"days": 7}, headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["days"] == 7
    assert server.get(f"/api/models/{mid}/analytics", params={"days": 365}, headers=c.h).status_code == 200
    assert server.get(f"/api/models/{mid}/analytics", params={"days": 1}, headers=c.h).json()["days"] == 1
    for bad in ("0", "366", "abc", "-1"):
        assert_error(server.get(f"/api/models/{mid}/analytics", params={"days": bad}, headers=c.h),
                     422, "VALIDATION_ERROR", "days")
    assert_error(server.get(f"/api/models/{mid}/analytics", headers=fans[0].h), 404, "NOT_FOUND")
    assert_error(server.get(f"/api/models/{mid}/analytics"), 401, "UNAUTHORIZED")


def test_analytics_of_a_pending_model_for_its_owner(server):
    c = make_creator(server)
    m = create_model(server, c)
    r = server.get(f"/api/models/{m['id']}/analytics", headers=c.h)
    assert r.status_code == 200, r.text
    assert r.json()["by_day"] == [] and r.json()["totals"]["views"] == 0
