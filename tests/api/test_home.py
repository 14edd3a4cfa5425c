"""The homepage (issue 5, item 4): testimonials and the slider with their
admin CRUD, platform figures, top creators, and the newsletter's double
opt-in.  Every test makes its own rows and looks only at those, or at
differences it causes, so nothing depends on global counts."""
import re

import pytest

from conftest import ISO_RE, assert_error, bearer, uniq
from test_models import approve_model, create_model, make_buyer, make_category, make_creator

TESTIMONIAL_FIELDS = {"id", "user_id", "author_name", "author_title", "avatar_url", "content", "rating",
                      "is_approved", "sort_order", "created_at", "updated_at"}
SLIDE_FIELDS = {"id", "title", "subtitle", "image_url", "link_url", "button_text", "sort_order", "is_active",
                "created_at", "updated_at"}
PUBLIC_USER_FIELDS = {"id", "username", "full_name", "avatar_url", "bio", "user_type", "is_verified", "country",
                      "skills", "followers_count", "following_count", "models_count", "created_at"}
STATS_FIELDS = {"total_models", "total_creators", "total_users", "total_downloads", "total_sales",
                "total_categories"}


def all_items(server, path, headers=None, **params):
    params.setdefault("limit", 100)
    items, page = [], 1
    while True:
        r = server.get(path, params=dict(params, page=page), headers=headers or {})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "total", "page", "limit", "pages"}
        items += body["items"]
        if page >= body["pages"]:
            assert len(items) == body["total"]
            return items
        page += 1


# ---------------------------------------------------------------- testimonials

def new_testimonial(server, **body):
    body.setdefault("author_name", uniq("Ann"))
    body.setdefault("content", "The best place to buy models for my indie game.")
    body.setdefault("rating", 5)
    r = server.post("/api/admin/testimonials", json=body, headers=server.admin_headers())
    assert r.status_code == 201, r.text
    return r.json()


def public_testimonial_ids(server):
    return [t["id"] for t in all_items(server, "/api/testimonials")]


def test_testimonial_create_shape_and_pending_by_default(server):
    t = new_testimonial(server, author_title="Indie developer", avatar_url="https://cdn.example.com/a.png",
                        content="Line one\nline two of a multiline review.", rating=4, sort_order=3)
    assert set(t) == TESTIMONIAL_FIELDS
    assert t["is_approved"] is False and t["rating"] == 4 and t["sort_order"] == 3
    assert t["author_title"] == "Indie developer" and t["user_id"] is None
    assert t["content"] == "Line one\nline two of a multiline review."
    assert ISO_RE.match(t["created_at"]) and ISO_RE.match(t["updated_at"])
    assert t["id"] not in public_testimonial_ids(server)
    admin_ids = [x["id"] for x in all_items(server, "/api/admin/testimonials", server.admin_headers())]
    assert t["id"] in admin_ids
    pending = [x["id"] for x in all_items(server, "/api/admin/testimonials", server.admin_headers(),
                                          is_approved="false")]
    assert t["id"] in pending


def test_only_approved_testimonials_are_public(server):
    a = new_testimonial(server)
    b = new_testimonial(server, is_approved=True)
    ids = public_testimonial_ids(server)
    assert b["id"] in ids and a["id"] not in ids
    r = server.put(f"/api/admin/testimonials/{a['id']}/approve", headers=server.admin_headers())
    assert r.status_code == 200, r.text
    assert r.json()["is_approved"] is True
    assert a["id"] in public_testimonial_ids(server)
    # and withdrawn again
    r = server.put(f"/api/admin/testimonials/{a['id']}/approve", json={"is_approved": False},
                   headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["is_approved"] is False
    assert a["id"] not in public_testimonial_ids(server)
    for t in all_items(server, "/api/testimonials"):
        assert t["is_approved"] is True


def test_public_testimonials_order_sort_order_then_newest(server):
    first = new_testimonial(server, is_approved=True, sort_order=-90001)
    older = new_testimonial(server, is_approved=True, sort_order=-90000)
    newer = new_testimonial(server, is_approved=True, sort_order=-90000)
    ids = public_testimonial_ids(server)
    assert ids.index(first["id"]) < ids.index(newer["id"]) < ids.index(older["id"])
    r = server.get("/api/testimonials", params={"limit": 1})
    assert r.status_code == 200 and r.json()["limit"] == 1 and len(r.json()["items"]) == 1


def test_testimonial_update_and_delete(server):
    t = new_testimonial(server, author_title="Title", is_approved=True)
    r = server.put(f"/api/admin/testimonials/{t['id']}", json={"rating": 3, "author_title": None,
                                                               "content": "Changed my mind a little bit."},
                   headers=server.admin_headers())
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["rating"] == 3 and u["author_title"] is None and u["content"] == "Changed my mind a little bit."
    assert u["author_name"] == t["author_name"] and u["is_approved"] is True
    public = {x["id"]: x for x in all_items(server, "/api/testimonials")}
    assert public[t["id"]]["rating"] == 3  # the public cache was invalidated
    r = server.delete(f"/api/admin/testimonials/{t['id']}", headers=server.admin_headers())
    assert r.status_code == 200 and r.json() == {"message": "Testimonial deleted", "id": t["id"]}
    assert t["id"] not in public_testimonial_ids(server)
    for method in ("put", "delete"):
        r = getattr(server, method)(f"/api/admin/testimonials/{t['id']}", json={"rating": 2},
                                    headers=server.admin_headers())
        assert_error(r, 404, "NOT_FOUND")
    r = server.put(f"/api/admin/testimonials/{t['id']}/approve", headers=server.admin_headers())
    assert_error(r, 404, "NOT_FOUND")


def test_testimonial_validation(server):
    h = server.admin_headers()
    r = server.post("/api/admin/testimonials", json={}, headers=h)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert {"author_name", "content", "rating"} <= set(body["field_errors"])
    bad = {"author_name": "x" * 101, "content": "too short", "rating": 6, "avatar_url": "javascript:alert(1)",
           "sort_order": "first"}
    r = server.post("/api/admin/testimonials", json=bad, headers=h)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert set(body["field_errors"]) == set(bad)
    for rating in (0, 6, 4.5, "5"):
        r = server.post("/api/admin/testimonials",
                        json={"author_name": "A", "content": "Long enough content.", "rating": rating}, headers=h)
        assert_error(r, 422, "VALIDATION_ERROR", "rating")
    r = server.post("/api/admin/testimonials",
                    json={"author_name": "A", "content": "x" * 2001, "rating": 5}, headers=h)
    assert_error(r, 422, "VALIDATION_ERROR", "content")
    r = server.post("/api/admin/testimonials", json={"author_name": "A", "content": "Long enough content.",
                                                     "rating": 5, "avatar_url": "https://x.example/" + "a" * 500},
                    headers=h)
    assert_error(r, 422, "VALIDATION_ERROR", "avatar_url")
    r = server.post("/api/admin/testimonials", json={"author_name": "A", "content": "Long enough content.",
                                                     "rating": 5, "user_id": 10 ** 12}, headers=h)
    assert_error(r, 422, "VALIDATION_ERROR", "user_id")
    t = new_testimonial(server)
    r = server.put(f"/api/admin/testimonials/{t['id']}", json={"content": "short"}, headers=h)
    assert_error(r, 422, "VALIDATION_ERROR", "content")


def test_testimonial_of_a_user(server):
    who = make_buyer(server)
    t = new_testimonial(server, user_id=who.id)
    assert t["user_id"] == who.id


# ---------------------------------------------------------------- slider

def new_slide(server, **body):
    body.setdefault("title", uniq("Slide"))
    body.setdefault("image_url", server.url + "/files/images/slide.png")
    r = server.post("/api/admin/slider", json=body, headers=server.admin_headers())
    assert r.status_code == 201, r.text
    return r.json()


def test_slider_crud(server):
    s = new_slide(server, subtitle="Fresh models every week", link_url="/marketplace?sort=newest",
                  button_text="Browse", sort_order=-50000)
    assert set(s) == SLIDE_FIELDS
    assert s["is_active"] is True and s["link_url"] == "/marketplace?sort=newest" and s["button_text"] == "Browse"
    hidden = new_slide(server, is_active=False, link_url="https://partner.example.com/promo")
    public = [x["id"] for x in all_items(server, "/api/slider")]
    assert s["id"] in public and hidden["id"] not in public
    admin_ids = [x["id"] for x in all_items(server, "/api/admin/slider", server.admin_headers())]
    assert s["id"] in admin_ids and hidden["id"] in admin_ids

    r = server.put(f"/api/admin/slider/{hidden['id']}", json={"is_active": True, "sort_order": -50001,
                                                              "link_url": None},
                   headers=server.admin_headers())
    assert r.status_code == 200, r.text
    assert r.json()["link_url"] is None and r.json()["is_active"] is True
    public = [x["id"] for x in all_items(server, "/api/slider")]
    assert public.index(hidden["id"]) < public.index(s["id"])

    r = server.delete(f"/api/admin/slider/{s['id']}", headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["id"] == s["id"]
    assert s["id"] not in [x["id"] for x in all_items(server, "/api/slider")]
    assert_error(server.delete(f"/api/admin/slider/{s['id']}", headers=server.admin_headers()), 404, "NOT_FOUND")
    assert_error(server.put(f"/api/admin/slider/{s['id']}", json={"title": "x"}, headers=server.admin_headers()),
                 404, "NOT_FOUND")


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,hi",
                                  "//evil.example.com/x", "/\\evil.example.com", "vbscript:x", "ftp://x.example",
                                  "https://", "models/1", " /path with space"])
def test_slider_refuses_unsafe_links(server, link):
    r = server.post("/api/admin/slider", json={"title": "T", "image_url": "https://cdn.example.com/i.png",
                                               "link_url": link}, headers=server.admin_headers())
    assert_error(r, 422, "VALIDATION_ERROR", "link_url")


def test_slider_validation(server):
    h = server.admin_headers()
    r = server.post("/api/admin/slider", json={}, headers=h)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert {"title", "image_url"} <= set(body["field_errors"])
    for url in ("javascript:alert(1)", "/files/x.png", "ftp://cdn.example.com/x.png",
                "https://cdn.example.com/" + "a" * 500):
        r = server.post("/api/admin/slider", json={"title": "T", "image_url": url}, headers=h)
        assert_error(r, 422, "VALIDATION_ERROR", "image_url")
    s = new_slide(server)
    r = server.put(f"/api/admin/slider/{s['id']}", json={"link_url": "javascript:void(0)"}, headers=h)
    assert_error(r, 422, "VALIDATION_ERROR", "link_url")


# ---------------------------------------------------------------- admin only

ADMIN_ROUTES = [("get", "/api/admin/testimonials"), ("post", "/api/admin/testimonials"),
                ("put", "/api/admin/testimonials/1"), ("delete", "/api/admin/testimonials/1"),
                ("put", "/api/admin/testimonials/1/approve"), ("get", "/api/admin/slider"),
                ("post", "/api/admin/slider"), ("put", "/api/admin/slider/1"), ("delete", "/api/admin/slider/1")]


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_admin_routes_need_an_admin(server, method, path):
    kw = {"json": {}} if method in ("post", "put") else {}
    assert_error(getattr(server, method)(path, **kw), 401, "UNAUTHORIZED")
    user = make_buyer(server)
    assert_error(getattr(server, method)(path, headers=user.h, **kw), 403, "FORBIDDEN")


# ---------------------------------------------------------------- platform stats

def stats(server):
    r = server.get("/api/stats/platform")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == STATS_FIELDS
    assert all(isinstance(v, int) and v >= 0 for v in body.values())
    return body


def test_stats_shape_and_totals(server):
    s = stats(server)
    assert s["total_users"] >= s["total_creators"]
    assert s["total_categories"] >= 1


def test_stats_move_when_a_model_is_approved(server):
    creator = make_creator(server)
    before = stats(server)
    assert before["total_creators"] >= 1
    m = create_model(server, creator)
    assert stats(server)["total_models"] == before["total_models"]  # pending is not counted
    approve_model(server, m["id"])
    after = stats(server)
    assert after["total_models"] == before["total_models"] + 1
    make_category(server)
    assert stats(server)["total_categories"] == after["total_categories"] + 1


# ---------------------------------------------------------------- top creators

def test_top_creators_order_and_shape(server):
    a, b, c = make_creator(server), make_creator(server), make_creator(server)
    ma, mb, mc = create_model(server, a), create_model(server, b), create_model(server, c)
    create_model(server, a)  # pending: counts for nothing
    # a: 5 x sales, b: 3 x downloads, c: likes; set while pending, approval makes them public
    server.sql(f"UPDATE models SET sales_count = 100000000, likes_count = 7 WHERE id = {ma['id']}")
    server.sql(f"UPDATE models SET downloads_count = 150000000 WHERE id = {mb['id']}")
    server.sql(f"UPDATE models SET likes_count = 470000000 WHERE id = {mc['id']}")
    for m in (ma, mb, mc):
        approve_model(server, m["id"])
    r = server.get("/api/creators/top", params={"limit": 100})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}
    items = body["items"]
    ids = [u["id"] for u in items]
    assert ids.index(a.id) < ids.index(c.id) < ids.index(b.id)
    scores = [u["score"] for u in items]
    assert scores == sorted(scores, reverse=True)
    ua = items[ids.index(a.id)]
    assert set(ua) == PUBLIC_USER_FIELDS | {"models_count_public", "total_likes", "total_downloads",
                                            "total_sales", "score"}
    assert ua["models_count_public"] == 1 and ua["total_sales"] == 100000000 and ua["total_likes"] == 7
    assert ua["score"] == 7 + 5 * 100000000
    assert items[ids.index(b.id)]["score"] == 3 * 150000000
    assert "email" not in ua
    for u in items:
        assert u["user_type"] == "creator"
    # a creator without public models is not ranked
    lonely = make_creator(server)
    assert lonely.id not in [u["id"] for u in all_items(server, "/api/creators/top")]
    assert_error(server.get("/api/creators/top", params={"limit": 0}), 422, "VALIDATION_ERROR", "limit")
    r = server.get("/api/creators/top", params={"limit": 1000})
    assert r.status_code == 200 and r.json()["limit"] == 100


# ---------------------------------------------------------------- newsletter

def outbox(server, addr):
    """(kind, body_text with newlines as spaces): psql prints one line per row."""
    return server.sql("SELECT kind, REPLACE(body_text, '\n', ' ') FROM mail_outbox WHERE to_addr = '%s' ORDER BY id"
                      % addr)


def test_newsletter_double_opt_in(server):
    local = uniq("news").replace("-", ".")
    addr = f"{local}@example.com"
    r = server.post("/api/newsletter/subscribe", json={"email": f"  {local.upper()}@Example.COM "})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) == {"message"}
    row = server.sql(f"SELECT confirmed_at, token_hash FROM newsletter_subscribers WHERE email_normalized = '{addr}'")
    assert len(row) == 1 and row[0][0] == "" and len(row[0][1]) == 64
    mails = outbox(server, addr)
    assert len(mails) == 1 and mails[0][0] == "newsletter_confirm"
    m = re.search(r"(https?://\S+/api/newsletter/confirm\?token=([A-Za-z0-9_-]{43}))", mails[0][1])
    assert m, mails[0][1]
    token = m.group(2)
    assert token not in row[0][1]  # only its hash is stored

    # a duplicate gets the same answer and no second mail
    r = server.post("/api/newsletter/subscribe", json={"email": addr})
    assert r.status_code == 200 and r.json() == answer
    assert len(outbox(server, addr)) == 1

    r = server.get("/api/newsletter/confirm", params={"token": token})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"message"}
    assert server.scalar(f"SELECT confirmed_at FROM newsletter_subscribers WHERE email_normalized = '{addr}'")
    # single use
    assert_error(server.get("/api/newsletter/confirm", params={"token": token}), 422, "VALIDATION_ERROR", "token")
    # confirmed: subscribing again changes nothing and says the same
    r = server.post("/api/newsletter/subscribe", json={"email": addr})
    assert r.status_code == 200 and r.json() == answer
    assert len(outbox(server, addr)) == 1
    assert server.scalar(f"SELECT confirmed_at FROM newsletter_subscribers WHERE email_normalized = '{addr}'")


def test_newsletter_unknown_and_known_addresses_answer_alike(server):
    known = uniq("known") + "@example.com"
    server.post("/api/newsletter/subscribe", json={"email": known})
    a = server.post("/api/newsletter/subscribe", json={"email": known})
    b = server.post("/api/newsletter/subscribe", json={"email": uniq("fresh") + "@example.com"})
    assert a.status_code == b.status_code == 200 and a.json() == b.json()


@pytest.mark.parametrize("body", [{}, {"email": ""}, {"email": "not-an-email"}, {"email": 42},
                                  {"email": "a@b"}, {"email": "x" * 300 + "@example.com"}])
def test_newsletter_refuses_bad_addresses(server, body):
    assert_error(server.post("/api/newsletter/subscribe", json=body), 422, "VALIDATION_ERROR", "email")


@pytest.mark.parametrize("params", [{}, {"token": ""}, {"token": "nope"}, {"token": "A" * 43}])
def test_newsletter_confirm_refuses_bad_tokens(server, params):
    assert_error(server.get("/api/newsletter/confirm", params=params), 422, "VALIDATION_ERROR", "token")


def test_testimonial_and_slide_null_means_clear_or_422(server):
    """The same null rule as every PUT: nullable fields clear, the others
    answer 422 and change nothing."""
    h = server.admin_headers()
    t = new_testimonial(server, author_title="CTO", avatar_url="https://cdn.example.com/a.png", user_id=None)
    r = server.put(f"/api/admin/testimonials/{t['id']}", json={"avatar_url": None, "author_title": ""}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["avatar_url"] is None and r.json()["author_title"] is None and r.json()["rating"] == t["rating"]
    for field in ("author_name", "content", "rating", "sort_order", "is_approved"):
        r = server.put(f"/api/admin/testimonials/{t['id']}", json={field: None}, headers=h)
        assert_error(r, 422, "VALIDATION_ERROR", field)
    s = new_slide(server, subtitle="Sub", button_text="Go", link_url="/x")
    r = server.put(f"/api/admin/slider/{s['id']}", json={"subtitle": None, "button_text": None}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["subtitle"] is None and r.json()["button_text"] is None and r.json()["link_url"] == "/x"
    for field in ("title", "image_url", "sort_order", "is_active"):
        r = server.put(f"/api/admin/slider/{s['id']}", json={field: None}, headers=h)
        assert_error(r, 422, "VALIDATION_ERROR", field)
    got = [x for x in all_items(server, "/api/admin/slider", h) if x["id"] == s["id"]][0]
    assert got["title"] == s["title"] and got["image_url"] == s["image_url"]
