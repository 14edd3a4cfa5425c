"""The marketplace (issue 5, items 2, 3 and 6): GET /api/models with its
filters, sorts and full-text search (hostile text is just a search), the
anonymous page cache that a write must invalidate at once, featured and
related models.

Each test puts its models in a fresh category (or gives them a unique
word) and filters on it, so other tests' models never get in the way."""
import importlib.util
import os
import urllib.parse

import pytest
import requests

from conftest import REPO, assert_error, uniq
from test_models import (CUBE_OBJ, MODEL_FIELDS, approve_model, create_model, get_model, list_ids, make_buyer,
                         make_category, make_creator, make_users, reject_model, upload_model, word)

TET_OBJ = b"""# a tetrahedron: 4 triangles
v 0 0 0
v 1 0 0
v 0 1 0
v 0 0 1
f 1 3 2
f 1 2 4
f 1 4 3
f 2 3 4
"""


def _rigged_glb():
    spec = importlib.util.spec_from_file_location("make_models", os.path.join(REPO, "tests", "media", "make_models.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.rigged_glb()


RIGGED_GLB = _rigged_glb()


def page(server, h=None, **params):
    r = server.get("/api/models", params=params, headers=h or {})
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- listing

def test_only_approved_published_models_are_listed(server):
    c = make_creator(server)
    cat = make_category(server)
    approved = create_model(server, c, category_id=cat["id"], approve=True)
    create_model(server, c, category_id=cat["id"])  # pending
    rejected = create_model(server, c, category_id=cat["id"])
    reject_model(server, rejected["id"])
    unpublished = create_model(server, c, category_id=cat["id"], approve=True)
    server.post(f"/api/models/{unpublished['id']}/toggle-publish", headers=c.h)
    sold = create_model(server, c, category_id=cat["id"], approve=True)
    server.sql(f"UPDATE models SET sales_count = 1 WHERE id = {sold['id']}")
    assert server.delete(f"/api/models/{sold['id']}", headers=c.h).status_code == 200
    for h in ({}, c.h, server.admin_headers()):
        body = page(server, h, category=cat["slug"])
        assert set(body) == {"items", "total", "page", "limit", "pages"}
        assert [m["id"] for m in body["items"]] == [approved["id"]], h
        assert body["total"] == 1 and body["pages"] == 1 and body["page"] == 1 and body["limit"] == 20
    item = page(server, category=cat["slug"])["items"][0]
    assert MODEL_FIELDS <= set(item)
    assert "rejection_reason" not in item and "is_liked" not in item
    assert item["status"] == "approved" and item["creator"]["id"] == c.id
    # by id as well as by slug
    assert list_ids(server, category=str(cat["id"])) == [approved["id"]]
    assert list_ids(server, category=uniq("no-such-category")) == []


def test_pagination_and_limits(server):
    c = make_creator(server)
    cat = make_category(server)
    ids = [create_model(server, c, category_id=cat["id"], approve=True)["id"] for _ in range(3)]
    body = page(server, category=cat["slug"], limit=2)
    assert body["total"] == 3 and body["pages"] == 2 and [m["id"] for m in body["items"]] == ids[::-1][:2]
    body = page(server, category=cat["slug"], limit=2, page=2)
    assert [m["id"] for m in body["items"]] == [ids[0]]
    assert page(server, category=cat["slug"], limit=2, page=3)["items"] == []
    assert page(server, limit=1000)["limit"] == 100
    for bad in ({"page": 0}, {"page": "x"}, {"limit": 0}, {"limit": "x"}):
        assert_error(server.get("/api/models", params=bad), 422, "VALIDATION_ERROR", next(iter(bad)))


def test_price_and_free_filters(server):
    c = make_creator(server)
    cat = make_category(server)
    free = create_model(server, c, category_id=cat["id"], price=0, approve=True)["id"]
    five = create_model(server, c, category_id=cat["id"], price=5, approve=True)["id"]
    fifteen = create_model(server, c, category_id=cat["id"], price=15.5, approve=True)["id"]
    hundred = create_model(server, c, category_id=cat["id"], price=100, approve=True)["id"]
    s = cat["slug"]
    assert list_ids(server, category=s, min_price=10) == [hundred, fifteen]
    assert list_ids(server, category=s, max_price=5) == [five, free]
    assert list_ids(server, category=s, min_price=5, max_price="15.50") == [fifteen, five]
    assert list_ids(server, category=s, min_price="15.51") == [hundred]
    assert list_ids(server, category=s, max_price="4.99", min_price="0.01") == []
    assert list_ids(server, category=s, is_free="true") == [free]
    assert list_ids(server, category=s, is_free="false") == [hundred, fifteen, five]
    for name, bad in [("min_price", "abc"), ("max_price", "-1"), ("min_price", "1.234"), ("max_price", "1e3"),
                      ("is_free", "maybe")]:
        assert_error(server.get("/api/models", params={name: bad}), 422, "VALIDATION_ERROR", name)


def test_creator_filter_lists_one_creators_public_models(server):
    a, b = make_creator(server), make_creator(server)
    a1 = create_model(server, a, approve=True)["id"]
    a2 = create_model(server, a, approve=True)["id"]
    create_model(server, a)  # pending: not public
    create_model(server, b, approve=True)
    a_id = a.id
    assert list_ids(server, creator_id=a_id) == [a2, a1]
    assert list_ids(server, creator_id=a_id, sort="oldest") == [a1, a2]
    assert list_ids(server, creator_id=10**12) == []
    for bad in ("0", "x", "-3"):
        assert_error(server.get("/api/models", params={"creator_id": bad}), 422, "VALIDATION_ERROR", "creator_id")


def test_sorts(server):
    c = make_creator(server)
    cat = make_category(server)
    a = create_model(server, c, category_id=cat["id"], price=20, approve=True)["id"]
    b = create_model(server, c, category_id=cat["id"], price=5, approve=True)["id"]
    d = create_model(server, c, category_id=cat["id"], price=50, approve=True)["id"]
    fans = make_users(server, 3)
    for f in fans[:2]:
        server.post(f"/api/models/{b}/like", headers=f.h)
    server.post(f"/api/models/{d}/like", headers=fans[2].h)
    s = cat["slug"]
    assert list_ids(server, category=s) == [d, b, a]
    assert list_ids(server, category=s, sort="newest") == [d, b, a]
    assert list_ids(server, category=s, sort="oldest") == [a, b, d]
    assert list_ids(server, category=s, sort="price_low") == [b, a, d]
    assert list_ids(server, category=s, sort="price_high") == [d, a, b]
    assert list_ids(server, category=s, sort="popular") == [b, d, a]
    # counters that later issues maintain (downloads, ratings), set here directly;
    # a signed-in caller is never served from the anonymous cache
    server.sql(f"UPDATE models SET downloads_count = 7 WHERE id = {a}")
    server.sql(f"UPDATE models SET rating_sum = 9, rating_count = 2 WHERE id = {d}")
    server.sql(f"UPDATE models SET rating_sum = 5, rating_count = 1 WHERE id = {a}")
    h = fans[0].h
    assert list_ids(server, h, category=s, sort="downloads")[0] == a
    assert list_ids(server, h, category=s, sort="rating") == [a, d, b]
    for bad in ("bogus", "NEWEST", "price"):
        assert_error(server.get("/api/models", params={"sort": bad}), 422, "VALIDATION_ERROR", "sort")


def test_tags_filter_matches_any_tag(server):
    c = make_creator(server)
    t1, t2, t3, t4 = (word() for _ in range(4))
    m1 = create_model(server, c, tags=[t1, t2], approve=True)["id"]
    m2 = create_model(server, c, tags=[t2, t3], approve=True)["id"]
    m3 = create_model(server, c, tags=[t4], approve=True)["id"]
    create_model(server, c, tags=[t1])  # pending
    assert list_ids(server, tags=t1) == [m1]
    assert list_ids(server, tags=f"{t1},{t3}") == [m2, m1]
    assert list_ids(server, tags=t2) == [m2, m1]
    assert list_ids(server, tags=t4.upper()) == [m3]
    assert list_ids(server, tags=f"{t1}, {word()}") == [m1]
    assert list_ids(server, tags=f",{t1},,") == [m1]
    assert list_ids(server, tags=word()) == []
    # tags follow an edit
    assert server.put(f"/api/models/{m3}", json={"tags": [t1]}, headers=c.h).status_code == 200
    assert list_ids(server, tags=t4) == []
    assert list_ids(server, tags=t1) == [m3, m1]


def test_tags_filter_ignores_spaces_around_commas(server):
    c = make_creator(server)
    t1, t2 = word(), word()
    m1 = create_model(server, c, tags=[t1], approve=True)["id"]
    m2 = create_model(server, c, tags=[t2], approve=True)["id"]
    assert list_ids(server, tags=f"{t1} , {t2}") == [m2, m1]
    assert list_ids(server, tags=f" {t1} ") == [m1]


def test_geometry_filters(server):
    c = make_creator(server)
    cat = make_category(server)
    cube_up = upload_model(server, c.h, CUBE_OBJ, "cube.obj")
    tet_up = upload_model(server, c.h, TET_OBJ, "tet.obj")
    rig_up = upload_model(server, c.h, RIGGED_GLB, "rigged.glb")
    assert tet_up["poly_count"] == 4 and cube_up["poly_count"] == 12
    cube = create_model(server, c, category_id=cat["id"], upload=cube_up, approve=True)["id"]
    tet = create_model(server, c, category_id=cat["id"], upload=tet_up, approve=True)["id"]
    rig = create_model(server, c, category_id=cat["id"], upload=rig_up, approve=True)
    assert rig["has_rigging"] is True and rig["has_animations"] is True and rig["file_format"] == "GLB"
    rig = rig["id"]
    s = cat["slug"]
    assert list_ids(server, category=s, max_poly_count=4) == [tet]
    assert list_ids(server, category=s, min_poly_count=5, sort="oldest") == [cube, rig]
    assert list_ids(server, category=s, min_poly_count=4, max_poly_count=4) == [tet]
    assert list_ids(server, category=s, min_poly_count=13) == []
    assert list_ids(server, category=s, has_rigging="true") == [rig]
    assert list_ids(server, category=s, has_animations="true") == [rig]
    assert list_ids(server, category=s, has_rigging="false") == [tet, cube]
    assert list_ids(server, category=s, has_animations="false", max_poly_count=100) == [tet, cube]
    for name, bad in [("min_poly_count", "-1"), ("max_poly_count", "abc"), ("has_rigging", "maybe"),
                      ("has_animations", "2")]:
        assert_error(server.get("/api/models", params={name: bad}), 422, "VALIDATION_ERROR", name)


# ---------------------------------------------------------------- search

def test_search_over_title_description_and_tags(server):
    c = make_creator(server)
    w_title, w_desc, w_tag, w_pending = word(), word(), word(), word()
    t = create_model(server, c, title=f"Robot {w_title} model", approve=True)["id"]
    d = create_model(server, c, description=f"A long text about a {w_desc} thing.", approve=True)["id"]
    g = create_model(server, c, tags=["robot", w_tag], approve=True)["id"]
    create_model(server, c, title=f"Hidden {w_pending}")
    assert list_ids(server, search=w_title) == [t]
    assert list_ids(server, search=w_desc) == [d]
    assert list_ids(server, search=w_tag) == [g]
    assert list_ids(server, q=w_title) == [t]  # q is the same as search
    assert list_ids(server, search=w_title.upper()) == [t]
    assert list_ids(server, search=w_pending) == []
    assert list_ids(server, c.h, search=w_pending) == []  # not even for its owner: the list is public
    assert list_ids(server, search=word()) == []
    # every word must match
    assert list_ids(server, search=f"{w_title} {w_desc}") == []
    assert list_ids(server, search=f"robot {w_title}") == [t]
    body = page(server, search=w_desc)
    assert body["total"] == 1 and body["pages"] == 1


def test_search_is_the_same_words_and_prefixes_on_both_engines(server):
    """Any text is just words (openapi: search): on SQLite and PostgreSQL
    alike every word must match, each as a prefix, and what would be an
    operator elsewhere (quotes, -, or) is only a word or nothing."""
    c = make_creator(server)
    w, v = word(), word()
    both = create_model(server, c, title=f"{w} {v} statue", approve=True)["id"]
    one = create_model(server, c, title=f"{w} vase", approve=True)["id"]
    assert sorted(list_ids(server, search=w[:-3])) == sorted([both, one])  # a prefix
    assert list_ids(server, search=f"{v[:-2]} {w}") == [both]
    assert list_ids(server, search=f"{w} -{v}") == [both]  # "-" is not a NOT
    assert list_ids(server, search=f'"{v} {w}"') == [both]  # quotes are not a phrase
    assert list_ids(server, search=f"{w} or {word()}") == []  # "or" is a word, not an OR
    assert sorted(list_ids(server, search=f"{w.upper()} {w} {w}")) == sorted([both, one])  # one word, once
    r = server.get("/api/models", params={"search": "&|!():*' \\"})  # no word: nothing, never an error
    assert r.status_code == 200 and r.json()["total"] == 0


def test_search_is_ranked_by_relevance(server):
    c = make_creator(server)
    w = word()
    filler = "plain words about nothing in particular " * 3
    # the description-only match is created first and the title match last,
    # so newest-first would put the title match first... and oldest-first the
    # other way round: relevance is checked both ways
    in_desc = create_model(server, c, title=uniq("Crate"), description=f"{filler} {w}", approve=True)["id"]
    in_title = create_model(server, c, title=f"{w} statue", description=filler, approve=True)["id"]
    in_desc2 = create_model(server, c, title=uniq("Barrel"), description=f"{w} {filler}", approve=True)["id"]
    ids = list_ids(server, search=w)
    assert ids[0] == in_title and set(ids) == {in_title, in_desc, in_desc2}, ids
    assert list_ids(server, search=w, sort="relevance")[0] == in_title
    assert list_ids(server, search=w, sort="oldest") == [in_desc, in_title, in_desc2]
    assert list_ids(server, search=w, sort="newest") == [in_desc2, in_title, in_desc]


def test_search_relevance_tiers(server):
    """Relevance (openapi: sort): every word in the title first, then every
    word in the title or the tags, then anywhere; newest first in each tier.
    The same order with another filter, which SQLite reads another way (a
    join instead of the full-text index alone)."""
    c = make_creator(server)
    w1, w2 = word(), word()
    cat = make_category(server)["id"]
    made = {}
    for name, fields in [
        ("title_old", {"title": f"{w1} {w2} statue"}),
        ("desc", {"description": f"Something with {w1} and {w2} inside."}),
        ("tags", {"tags": [w1, w2]}),
        ("split", {"title": f"{w1} bust", "tags": [w2]}),
        ("mixed", {"title": f"{w1} vase", "description": f"a {w2}"}),
        ("title_new", {"title": f"{w2} and {w1}"}),
    ]:
        made[name] = create_model(server, c, approve=True, category_id=cat, **fields)["id"]
    want = [made[k] for k in ("title_new", "title_old", "split", "tags", "mixed", "desc")]
    assert list_ids(server, search=f"{w1} {w2}") == want
    assert list_ids(server, search=f"{w2} {w1}", sort="relevance") == want
    assert list_ids(server, search=f"{w1} {w2}", category=cat) == want
    assert list_ids(server, search=f"{w1} {w2}", min_price=1) == want
    body = page(server, search=f"{w1} {w2}", limit=2, page=2)
    assert [m["id"] for m in body["items"]] == want[2:4] and body["total"] == 6 and body["pages"] == 3
    # one word: the split and mixed models have it in the title now
    assert list_ids(server, search=w1) == [made[k] for k in ("title_new", "mixed", "split", "title_old", "tags", "desc")]


def test_search_follows_what_is_public(server):
    """Search reads an index of public models only: it must follow every
    change of visibility and text."""
    c = make_creator(server)
    w, w2 = word(), word()
    m = create_model(server, c, title=f"{w} lantern")["id"]
    assert list_ids(server, search=w) == []            # pending
    approve_model(server, m)
    assert list_ids(server, search=w) == [m]
    r = server.post(f"/api/models/{m}/toggle-publish", headers=c.h)
    assert r.status_code == 200 and r.json()["is_published"] is False, r.text
    assert list_ids(server, search=w) == []            # unpublished
    # edited while hidden: the index must not keep the old text
    assert server.put(f"/api/models/{m}", json={"title": f"{w2} lantern"}, headers=c.h).status_code == 200
    r = server.post(f"/api/models/{m}/toggle-publish", headers=c.h)
    assert r.status_code == 200 and r.json()["is_published"] is True, r.text
    if get_model(server, m).status_code != 200:        # an edit may send it back to review
        approve_model(server, m)
    assert list_ids(server, search=w) == []
    assert list_ids(server, search=w2) == [m]
    assert page(server, search=w2)["total"] == 1
    reject_model(server, m, "Not this time")
    assert list_ids(server, search=w2) == [] and page(server, search=w2)["total"] == 0
    approve_model(server, m)
    assert list_ids(server, search=w2) == [m]
    assert server.delete(f"/api/models/{m}", headers=c.h).status_code in (200, 204)
    assert list_ids(server, search=w2) == []


def test_search_with_filters(server):
    c = make_creator(server)
    w = word()
    cheap = create_model(server, c, title=f"{w} cheap", price=2, approve=True)["id"]
    dear = create_model(server, c, title=f"{w} dear", price=200, approve=True)["id"]
    free = create_model(server, c, title=f"{w} free", price=0, approve=True)["id"]
    assert list_ids(server, search=w, sort="price_low") == [free, cheap, dear]
    assert list_ids(server, search=w, min_price=1) in ([cheap, dear], [dear, cheap])
    assert list_ids(server, search=w, is_free="true") == [free]
    assert list_ids(server, search=w, max_price=100, sort="price_high") == [cheap, free]


def test_search_finds_the_word_inside_hostile_text(server):
    c = make_creator(server)
    w = word()
    m = create_model(server, c, title=f"The {w} lamp", approve=True)["id"]
    for text in (f'"{w}"', f"{w}*", f"{w}'", f"({w})", f"{w};", f"'{w}' --", f"{w}%", f"{w}_",
                 f"{w}\\", f"{w} 🚀", f"<{w}>", f"{w}/"):
        r = server.get("/api/models", params={"search": text})
        assert r.status_code == 200, (text, r.text)
        assert [x["id"] for x in r.json()["items"]] == [m], text


HOSTILE = [
    "'", '"', "''", '"unterminated', "'; DROP TABLE models; --", "1' OR '1'='1", "1 OR 1=1",
    "NEAR(", "NEAR(a b", "a NEAR/2 b", "*", "-", "--", "-x", "a AND", "OR", "NOT", "AND OR NOT", "^a", "a:b",
    "title:x", "{title}: x", "(", ")", "()", "(((", "a | b", "a & b", "!a", "a <-> b", ":*", "\\", "\\\\",
    "%", "_", "%%", "😀", "🚀🔥💯", "日本語", "ä ö ü", "\u200b", "a" * 500, " ", "+", "@@", "$1", "?",
    "x" * 60 + " " + "y" * 60, "' UNION SELECT password_hash FROM users --",
]


@pytest.mark.parametrize("i", range(0, len(HOSTILE), 8))
def test_hostile_search_is_just_a_search(server, i):
    for text in HOSTILE[i:i + 8]:
        for key in ("search", "q"):
            for h in ({}, server.user_headers(1)):
                r = server.get("/api/models", params={key: text, "limit": 5}, headers=h)
                assert r.status_code == 200, (text, r.status_code, r.text[:300])
                body = r.json()
                assert set(body) == {"items", "total", "page", "limit", "pages"}
    r = server.get("/api/models", params={"search": "'; DROP TABLE models; --", "sort": "price_low",
                                          "tags": "'; DROP TABLE model_tags; --", "category": "' OR 1=1 --"})
    assert r.status_code == 200 and r.json()["items"] == []
    assert int(server.scalar("SELECT COUNT(*) FROM models")) > 0


def test_long_search_text(server):
    c = make_creator(server)
    w = word()
    m = create_model(server, c, title=f"{w} bench", approve=True)["id"]
    # a kilobyte of ordinary prose (about 170 words) around the word
    prose = ("the quick brown fox jumps over the lazy dog " * 23)[:1000 - len(w) - 1]
    text = f"{w} {prose}"
    assert len(text) == 1000
    r = server.get("/api/models", params={"search": text})
    assert r.status_code == 200, r.text
    r = server.get("/api/models", params={"search": "é" * 1000})
    assert r.status_code == 200, r.text
    assert list_ids(server, search=w) == [m]


def test_search_of_a_full_kilobyte(server):
    """1 kB (1024 bytes) of text is a search like any other."""
    r = server.get("/api/models", params={"search": "lorem ipsum " * 85 + "dolo"})
    assert r.status_code == 200, r.text
    r = server.get("/api/models", params={"q": "a" * 1024})
    assert r.status_code == 200, r.text


def test_search_with_nul_and_encoded_junk(server):
    c = make_creator(server)
    w = word()
    m = create_model(server, c, title=f"{w} vase", approve=True)["id"]
    for raw in ("abc%00def", f"{w}%00", "%00", "%25%00%27", "%FF%FE", "%C0%AF", "a%0Ab", "%E2%80%AE"):
        r = requests.get(server.url + "/api/models?search=" + raw, timeout=10)
        assert r.status_code in (200, 422), (raw, r.status_code, r.text[:300])
        if r.status_code == 422:
            assert_error(r, 422, "VALIDATION_ERROR", "search")
    # %00 is never decoded into a NUL that would cut the text short: it
    # stays a literal and so is just one more (unmatched) word
    r = requests.get(server.url + f"/api/models?search={w}%00", timeout=10)
    assert r.status_code == 200, r.text
    r = requests.get(server.url + f"/api/models?search={w}", timeout=10)
    assert [x["id"] for x in r.json()["items"]] == [m]
    r = requests.get(server.url + "/api/models?search=abc%00def", timeout=10)
    assert r.status_code == 200, r.text
    assert server.get("/healthz").status_code == 200


# ---------------------------------------------------------------- is_liked and the cache

def test_is_liked_appears_with_a_token(server):
    c = make_creator(server)
    cat = make_category(server)
    liked = create_model(server, c, category_id=cat["id"], approve=True)["id"]
    other = create_model(server, c, category_id=cat["id"], approve=True)["id"]
    fan, stranger = make_users(server, 2)
    server.post(f"/api/models/{liked}/like", headers=fan.h)
    items = page(server, fan.h, category=cat["slug"])["items"]
    assert {m["id"]: m["is_liked"] for m in items} == {liked: True, other: False}
    items = page(server, stranger.h, category=cat["slug"])["items"]
    assert {m["id"]: m["is_liked"] for m in items} == {liked: False, other: False}
    items = page(server, category=cat["slug"])["items"]
    assert all("is_liked" not in m for m in items)
    assert get_model(server, liked, fan.h).json()["is_liked"] is True


def test_anonymous_pages_see_writes_at_once(server):
    c = make_creator(server)
    cat = make_category(server)
    s = cat["slug"]
    first = create_model(server, c, category_id=cat["id"], approve=True)
    assert list_ids(server, category=s) == [first["id"]]
    assert list_ids(server, category=s) == [first["id"]]  # now from the cache
    # a new approval
    second = create_model(server, c, category_id=cat["id"])
    assert list_ids(server, category=s) == [first["id"]]
    approve_model(server, second["id"])
    assert list_ids(server, category=s) == [second["id"], first["id"]]
    # an edit
    new_title = uniq("Renamed")
    assert server.put(f"/api/models/{first['id']}", json={"title": new_title, "price": 1}, headers=c.h).status_code == 200
    items = page(server, category=s)["items"]
    assert {m["id"]: m["title"] for m in items}[first["id"]] == new_title
    assert list_ids(server, category=s, sort="price_low")[0] == first["id"]
    # a like, a comment
    fan = make_buyer(server)
    server.post(f"/api/models/{first['id']}/like", headers=fan.h)
    server.post(f"/api/models/{first['id']}/comments", json={"body": "great"}, headers=fan.h)
    doc = {m["id"]: m for m in page(server, category=s)["items"]}[first["id"]]
    assert doc["likes_count"] == 1 and doc["comments_count"] == 1
    assert list_ids(server, category=s, sort="popular")[0] == first["id"]
    server.delete(f"/api/models/{first['id']}/like", headers=fan.h)
    assert {m["id"]: m for m in page(server, category=s)["items"]}[first["id"]]["likes_count"] == 0
    # unpublish, reject, delete
    server.post(f"/api/models/{second['id']}/toggle-publish", headers=c.h)
    assert list_ids(server, category=s) == [first["id"]]
    server.post(f"/api/models/{second['id']}/toggle-publish", headers=c.h)
    assert list_ids(server, category=s) == [second["id"], first["id"]]
    reject_model(server, second["id"])
    assert list_ids(server, category=s) == [first["id"]]
    assert server.delete(f"/api/admin/models/{first['id']}", headers=server.admin_headers()).status_code == 200
    assert list_ids(server, category=s) == []
    assert page(server, category=s)["total"] == 0


def test_anonymous_search_sees_writes_at_once(server):
    c = make_creator(server)
    w, w2 = word(), word()
    m = create_model(server, c, title=f"{w} teapot", approve=True)["id"]
    assert list_ids(server, search=w) == [m]
    assert server.put(f"/api/models/{m}", json={"title": f"{w2} teapot"}, headers=c.h).status_code == 200
    assert list_ids(server, search=w) == []
    assert list_ids(server, search=w2) == [m]
    assert list_ids(server, search=w2) == [m]


def test_cached_pages_of_different_filters_never_mix(server):
    """Two different anonymous queries must never share a cached page: here
    search "A|B" (both words) and search "A" with tags "B|" (a tag B) would
    give the same text if the cache key were the fields joined by "|"."""
    c = make_creator(server)
    a, b = word(), word()
    m = create_model(server, c, title=f"{a} {b}", tags=["plain"], approve=True)["id"]
    assert list_ids(server, search=f"{a}|{b}") == [m]
    assert list_ids(server, search=a, tags=f"{b}|") == []  # no model has the tag b
    assert list_ids(server, search=a, tags="plain") == [m]
    # the same the other way round, on a fresh pair
    a, b = word(), word()
    m = create_model(server, c, title=f"{a} {b}", tags=["plain"], approve=True)["id"]
    assert list_ids(server, search=a, tags=f"{b}|") == []
    assert list_ids(server, search=f"{a}|{b}") == [m]


# ---------------------------------------------------------------- featured

def test_featured(server):
    c = make_creator(server)
    admin = server.admin_headers()
    m = create_model(server, c, approve=True)["id"]
    plain = create_model(server, c, approve=True)["id"]

    def featured(h=None):
        r = server.get("/api/models/featured", params={"limit": 100}, headers=h or {})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "total", "page", "limit", "pages"}
        assert all(x["is_featured"] and x["status"] == "approved" and x["is_published"] for x in body["items"])
        return [x["id"] for x in body["items"]]

    assert m not in featured()
    r = server.put(f"/api/admin/models/{m}/feature", json={"is_featured": True}, headers=admin)
    assert r.status_code == 200 and r.json()["is_featured"] is True, r.text
    assert m in featured() and m in featured(c.h) and plain not in featured()
    # an unpublished featured model is not shown
    server.post(f"/api/models/{m}/toggle-publish", headers=c.h)
    assert m not in featured()
    server.post(f"/api/models/{m}/toggle-publish", headers=c.h)
    assert m in featured()
    r = server.put(f"/api/admin/models/{m}/feature", json={"is_featured": False}, headers=admin)
    assert r.status_code == 200 and r.json()["is_featured"] is False
    assert m not in featured()


# ---------------------------------------------------------------- related

def test_related_same_category_or_shared_tag(server):
    c = make_creator(server)
    x, y = make_category(server), make_category(server)
    t, t_other = word(), word()
    a = create_model(server, c, category_id=x["id"], tags=[t], approve=True)["id"]
    same_cat = create_model(server, c, category_id=x["id"], tags=[t_other], approve=True)["id"]
    same_tag = create_model(server, c, category_id=y["id"], tags=[t], approve=True)["id"]
    create_model(server, c, category_id=y["id"], tags=[t_other], approve=True)  # neither
    create_model(server, c, category_id=x["id"], tags=[t])  # pending: never shown
    fan = make_buyer(server)
    server.post(f"/api/models/{same_tag}/like", headers=fan.h)
    for h in ({}, fan.h):
        r = server.get(f"/api/models/{a}/related", headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        ids = [m["id"] for m in body["items"]]
        assert sorted(ids) == sorted([same_cat, same_tag]) and body["total"] == 2, ids
        assert a not in ids
    # most liked first
    assert [m["id"] for m in server.get(f"/api/models/{a}/related").json()["items"]] == [same_tag, same_cat]
    # the model itself is never related to itself, even alone in its category with no tags
    z = make_category(server)
    alone = create_model(server, c, category_id=z["id"], approve=True)["id"]
    r = server.get(f"/api/models/{alone}/related")
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 0
    # a pending model's related list is the owner's only
    pending = create_model(server, c, category_id=x["id"])["id"]
    assert_error(server.get(f"/api/models/{pending}/related"), 404, "NOT_FOUND")
    r = server.get(f"/api/models/{pending}/related", headers=c.h)
    assert r.status_code == 200 and a in [m["id"] for m in r.json()["items"]]
