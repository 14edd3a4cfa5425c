"""Categories: the public list and the admin CRUD."""
import re

import pytest

import requests

from conftest import ISO_RE, assert_error, finish_server, start_server, uniq

FIELDS = {"id", "name", "slug", "description", "icon", "sort_order", "is_active", "models_count",
          "created_at", "updated_at"}


def create(server, **body):
    body.setdefault("name", uniq("Cat"))
    r = server.post("/api/admin/categories", json=body, headers=server.admin_headers())
    assert r.status_code == 201, r.text
    return r.json()


def public_all(server, **params):
    params.setdefault("limit", 100)
    items, page = [], 1
    while True:
        r = server.get("/api/categories", params=dict(params, page=page))
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1


def admin_all(server):
    items, page = [], 1
    while True:
        r = server.get("/api/admin/categories", params={"limit": 100, "page": page},
                       headers=server.admin_headers())
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1


def public_ids(server):
    return {c["id"] for c in public_all(server)}


# ---------------------------------------------------------------- public list

def test_public_list_shape(server):
    r = server.get("/api/categories")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}
    assert body["page"] == 1 and body["limit"] == 20
    assert body["total"] >= 12
    assert len(body["items"]) == min(20, body["total"])
    for c in body["items"]:
        assert set(c) == FIELDS, c
        assert isinstance(c["id"], int) and c["id"] > 0
        assert isinstance(c["name"], str) and c["name"]
        assert isinstance(c["slug"], str) and c["slug"]
        assert isinstance(c["description"], str)
        assert c["icon"] is None or isinstance(c["icon"], str)
        assert isinstance(c["sort_order"], int)
        assert c["is_active"] is True
        assert isinstance(c["models_count"], int) and c["models_count"] >= 0
        assert ISO_RE.match(c["created_at"]), c["created_at"]
        assert ISO_RE.match(c["updated_at"]), c["updated_at"]


def test_public_list_has_the_demo_categories(server):
    by_slug = {c["slug"]: c for c in public_all(server)}
    for slug in ("characters", "vehicles", "architecture", "textures-materials", "sci-fi"):
        assert slug in by_slug, slug
    assert by_slug["textures-materials"]["name"] == "Textures & Materials"
    assert by_slug["characters"]["icon"] == "user"


def test_public_list_is_ordered_by_sort_order_then_name(server):
    zz = create(server, name="zz " + uniq("Order"), sort_order=-99999)
    aa = create(server, name="aa " + uniq("Order"), sort_order=-99999)
    late = create(server, name="AA " + uniq("Order"), sort_order=99999)
    items = public_all(server)
    keys = [(c["sort_order"], c["name"]) for c in items]
    assert keys == sorted(keys)
    pos = {c["id"]: i for i, c in enumerate(items)}
    assert pos[aa["id"]] < pos[zz["id"]] < pos[late["id"]]
    assert all(c["sort_order"] <= -99999 for c in items[:pos[zz["id"]] + 1])


def test_public_list_hides_inactive(server):
    c = create(server, is_active=False)
    assert c["is_active"] is False
    assert c["id"] not in public_ids(server)
    assert c["id"] in {x["id"] for x in admin_all(server)}


def test_public_total_counts_only_active(server):
    before = server.get("/api/categories").json()["total"]
    create(server, is_active=False)
    assert server.get("/api/categories").json()["total"] == before
    create(server)
    assert server.get("/api/categories").json()["total"] == before + 1


def test_public_search_substring_case_insensitive(server):
    tag = uniq("Srch").upper()
    a = create(server, name=f"Alpha {tag} One")
    b = create(server, name=f"beta {tag.lower()} two")
    create(server, name=f"Hidden {tag}", is_active=False)
    r = server.get("/api/categories", params={"search": tag.lower()[2:10]})
    assert r.status_code == 200
    got = {c["id"] for c in r.json()["items"]}
    assert got == {a["id"], b["id"]}
    assert r.json()["total"] == 2
    r = server.get("/api/categories", params={"search": "VEHICLES"})
    assert [c["slug"] for c in r.json()["items"]] == ["vehicles"]
    r = server.get("/api/categories", params={"search": uniq("nomatch")})
    assert r.json() == {"items": [], "total": 0, "page": 1, "limit": 20, "pages": 0}


def test_public_search_treats_like_wildcards_literally(server):
    """'%' and '_' are characters to find, not SQL wildcards."""
    for term in ("%", "_", "%%", "a_c"):
        r = server.get("/api/categories", params={"search": term})
        assert r.status_code == 200
        names = [c["name"] for c in r.json()["items"]]
        assert all(term.lower() in n.lower() for n in names), (term, names)


def test_public_search_empty_means_all(server):
    assert server.get("/api/categories", params={"search": ""}).json()["total"] == \
        server.get("/api/categories").json()["total"]


def test_public_search_too_long_is_422(server):
    r = server.get("/api/categories", params={"search": "x" * 101})
    assert_error(r, 422, "VALIDATION_ERROR", "search")


def test_public_search_with_quote_and_sql(server):
    c = create(server, name="O'Brien " + uniq("Q"))
    r = server.get("/api/categories", params={"search": "o'brien"})
    assert r.status_code == 200
    assert c["id"] in {x["id"] for x in r.json()["items"]}
    r = server.get("/api/categories", params={"search": "' OR 1=1 --"})
    assert r.status_code == 200 and r.json()["total"] == 0


def test_public_list_needs_no_token_but_accepts_one(server):
    assert server.get("/api/categories").status_code == 200
    assert server.get("/api/categories", headers=server.user_headers(1)).status_code == 200


# ---------------------------------------------------------------- cache invalidation

def test_public_list_sees_creation_at_once(server):
    server.get("/api/categories", params={"limit": 100})  # warm the cache
    before = server.get("/api/categories").json()["total"]
    c = create(server)
    assert server.get("/api/categories").json()["total"] == before + 1
    assert c["id"] in public_ids(server)


def test_public_list_sees_rename_at_once(server, category):
    cid = category["id"]
    server.get("/api/categories", params={"limit": 100})
    new = uniq("Renamed")
    r = server.put(f"/api/admin/categories/{cid}", json={"name": new}, headers=server.admin_headers())
    assert r.status_code == 200
    names = {c["id"]: c["name"] for c in public_all(server)}
    assert names[cid] == new
    r = server.get("/api/categories", params={"search": new})
    assert [c["id"] for c in r.json()["items"]] == [cid]


def test_public_list_sees_deactivation_and_reactivation(server, category):
    cid = category["id"]
    assert cid in public_ids(server)
    r = server.put(f"/api/admin/categories/{cid}", json={"is_active": False}, headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert cid not in public_ids(server)
    r = server.put(f"/api/admin/categories/{cid}", json={"is_active": True}, headers=server.admin_headers())
    assert r.status_code == 200
    assert cid in public_ids(server)


def test_public_list_sees_deletion_at_once(server):
    c = create(server)
    assert c["id"] in public_ids(server)
    r = server.delete(f"/api/admin/categories/{c['id']}", headers=server.admin_headers())
    assert r.status_code == 200
    assert c["id"] not in public_ids(server)


def test_public_search_cache_sees_changes(server, category):
    tag = uniq("Cache")
    r = server.get("/api/categories", params={"search": tag})
    assert r.json()["total"] == 0
    server.put(f"/api/admin/categories/{category['id']}", json={"name": f"X {tag}"},
               headers=server.admin_headers())
    r = server.get("/api/categories", params={"search": tag})
    assert [c["id"] for c in r.json()["items"]] == [category["id"]]


# ---------------------------------------------------------------- admin list/get

def test_admin_list_includes_inactive(server):
    c = create(server, is_active=False)
    r = server.get("/api/admin/categories", params={"limit": 100}, headers=server.admin_headers())
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"items", "total", "page", "limit", "pages"}
    public_total = server.get("/api/categories").json()["total"]
    assert body["total"] > public_total
    assert c["id"] in {x["id"] for x in admin_all(server)}
    for item in body["items"]:
        assert set(item) == FIELDS


def test_admin_list_search(server):
    tag = uniq("AdmS")
    c = create(server, name=f"{tag} hidden", is_active=False)
    r = server.get("/api/admin/categories", params={"search": tag.lower()}, headers=server.admin_headers())
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["items"]] == [c["id"]]


def test_admin_get(server, category):
    r = server.get(f"/api/admin/categories/{category['id']}", headers=server.admin_headers())
    assert r.status_code == 200
    assert r.json() == category


def test_admin_get_missing_is_404(server):
    r = server.get("/api/admin/categories/999999999", headers=server.admin_headers())
    assert_error(r, 404, "NOT_FOUND")


@pytest.mark.parametrize("bad", ["abc", "1%27", "0", "-1", "1.5", "99999999999999999999999", "1e3", "%20"])
def test_non_integer_id_is_422(server, bad):
    for method in ("GET", "PUT", "DELETE"):
        kw = {"json": {"name": "x"}} if method == "PUT" else {}
        r = server.request(method, f"/api/admin/categories/{bad}", headers=server.admin_headers(), **kw)
        body = assert_error(r, 422, "VALIDATION_ERROR", "id")
        assert set(body["field_errors"]) == {"id"}


# ---------------------------------------------------------------- create

def test_create_minimal(server):
    name = uniq("Mini")
    r = server.post("/api/admin/categories", json={"name": name}, headers=server.admin_headers())
    assert r.status_code == 201
    c = r.json()
    assert set(c) == FIELDS
    assert c["name"] == name
    assert c["slug"] == name.lower()
    assert c["description"] == ""
    assert c["icon"] is None
    assert c["sort_order"] == 0
    assert c["is_active"] is True
    assert c["models_count"] == 0
    assert ISO_RE.match(c["created_at"]) and c["created_at"] == c["updated_at"]
    got = server.get(f"/api/admin/categories/{c['id']}", headers=server.admin_headers()).json()
    assert got == c


def test_create_full(server):
    name = uniq("Full")
    body = {"name": name, "slug": uniq("full-slug").lower(), "description": "Line one\nline two",
            "icon": "star", "sort_order": 42, "is_active": False}
    c = create(server, **body)
    for k, v in body.items():
        assert c[k] == v, k


@pytest.mark.parametrize("name,slug", [
    ("3D Characters & Props {u}", "3d-characters-props-{u}"),
    ("  Spaced   Out {u}  ", "spaced-out-{u}"),
])
def test_slug_derived_from_name(server, name, slug):
    u = uniq("s").split("-")[1]
    c = create(server, name=name.format(u=u))
    assert c["slug"] == slug.format(u=u)
    assert c["name"] == name.format(u=u).strip()


def test_slug_from_non_ascii_name_is_valid(server):
    u = uniq("s").split("-")[1]
    c = create(server, name=f"Ünïcode Ça {u}")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c["slug"]), c["slug"]
    assert c["slug"].endswith(u)


def test_slug_from_symbol_only_name(server):
    c = create(server, name="### &&&&& !!!")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c["slug"]), c["slug"]


def test_name_is_trimmed(server):
    name = uniq("Trim")
    c = create(server, name=f"   {name}  ")
    assert c["name"] == name


def test_name_50_chars_ok_51_not(server):
    base = uniq("L")
    ok = (base + "x" * 50)[:50]
    c = create(server, name=ok)
    assert c["name"] == ok
    r = server.post("/api/admin/categories", json={"name": (base + "y" * 51)[:51]},
                    headers=server.admin_headers())
    assert_error(r, 422, "VALIDATION_ERROR", "name")


def test_name_counts_characters_not_bytes(server):
    name = ("é" * 30 + uniq("U"))[:50]
    c = create(server, name=name)
    assert c["name"] == name


def test_duplicate_name_case_insensitive_is_409(server):
    name = uniq("Dup")
    create(server, name=name)
    for variant in (name, name.upper(), name.lower(), f"  {name}  "):
        r = server.post("/api/admin/categories", json={"name": variant}, headers=server.admin_headers())
        assert_error(r, 409, "CONFLICT")


def test_duplicate_slug_is_409(server):
    slug = uniq("slug").lower()
    create(server, slug=slug)
    r = server.post("/api/admin/categories", json={"name": uniq("Other"), "slug": slug},
                    headers=server.admin_headers())
    assert_error(r, 409, "CONFLICT")


def test_derived_slug_clash_is_409(server):
    name = uniq("Clash")
    create(server, name=uniq("First"), slug=name.lower())
    r = server.post("/api/admin/categories", json={"name": name}, headers=server.admin_headers())
    assert_error(r, 409, "CONFLICT")


def test_conflict_leaves_no_row(server):
    name = uniq("NoRow")
    create(server, name=name)
    before = len(admin_all(server))
    server.post("/api/admin/categories", json={"name": name.upper()}, headers=server.admin_headers())
    assert len(admin_all(server)) == before


def test_create_ignores_unknown_fields(server):
    name = uniq("Extra")
    r = server.post("/api/admin/categories", headers=server.admin_headers(),
                    json={"name": name, "models_count": 999, "id": 5, "created_at": "1999-01-01T00:00:00Z",
                          "whatever": {"nested": [1, 2]}})
    assert r.status_code == 201
    c = r.json()
    assert c["models_count"] == 0
    assert c["id"] != 5  # id 5 is a demo category: the sent id is ignored
    assert not c["created_at"].startswith("1999")


@pytest.mark.parametrize("body,fields", [
    ({"name": ""}, {"name"}),
    ({"name": "   "}, {"name"}),
    ({"name": None}, {"name"}),
    ({"name": 5}, {"name"}),
    ({"name": ["a"]}, {"name"}),
    ({"name": True}, {"name"}),
    ({"name": "ok", "slug": "Has Caps"}, {"slug"}),
    ({"name": "ok", "slug": "-lead"}, {"slug"}),
    ({"name": "ok", "slug": "trail-"}, {"slug"}),
    ({"name": "ok", "slug": "dou--ble"}, {"slug"}),
    ({"name": "ok", "slug": "under_score"}, {"slug"}),
    ({"name": "ok", "slug": ""}, {"slug"}),
    ({"name": "ok", "slug": "a" * 61}, {"slug"}),
    ({"name": "ok", "slug": 12}, {"slug"}),
    ({"name": "ok", "description": "d" * 501}, {"description"}),
    ({"name": "ok", "description": 3}, {"description"}),
    ({"name": "ok", "icon": "i" * 101}, {"icon"}),
    ({"name": "ok", "icon": 7}, {"icon"}),
    ({"name": "ok", "sort_order": 100001}, {"sort_order"}),
    ({"name": "ok", "sort_order": -100001}, {"sort_order"}),
    ({"name": "ok", "sort_order": 1.5}, {"sort_order"}),
    ({"name": "ok", "sort_order": "3"}, {"sort_order"}),
    ({"name": "ok", "sort_order": 2 ** 62}, {"sort_order"}),
    ({"name": "ok", "sort_order": None}, {"sort_order"}),
    ({"name": "ok", "is_active": "yes"}, {"is_active"}),
    ({"name": "ok", "is_active": 1}, {"is_active"}),
    ({"name": "ok", "is_active": None}, {"is_active"}),
    ({"name": "", "slug": "BAD", "description": "d" * 501, "icon": 1, "sort_order": "x", "is_active": 0},
     {"name", "slug", "description", "icon", "sort_order", "is_active"}),
    ({"slug": "ok-slug"}, {"name"}),
], ids=lambda v: "-".join(f"{k}={str(x)[:10]}" for k, x in v.items()) if isinstance(v, dict) else "bad:" + ",".join(sorted(v)))
def test_create_validation(server, body, fields):
    # a unique name, so that a wrongly accepted body cannot clash with another case
    body = {k: (uniq("V") if k == "name" and v == "ok" else v) for k, v in body.items()}
    before = server.scalar("SELECT COUNT(*) FROM categories")
    r = server.post("/api/admin/categories", json=body, headers=server.admin_headers())
    err = assert_error(r, 422, "VALIDATION_ERROR")
    assert set(err["field_errors"]) == fields, err
    for f in fields:
        assert all(isinstance(m, str) and m for m in err["field_errors"][f])
    assert server.scalar("SELECT COUNT(*) FROM categories") == before


def test_huge_integer_is_rejected(server):
    """A number past int64 is a client error (400 or 422), never a 500."""
    data = '{"name": "%s", "sort_order": 123456789012345678901234567890}' % uniq("Big")
    r = server.post("/api/admin/categories", data=data, headers=dict(server.admin_headers(),
                    **{"Content-Type": "application/json"}))
    assert r.status_code in (400, 422), r.text
    assert r.json()["error_code"] == "VALIDATION_ERROR"


def test_required_name_message(server):
    r = server.post("/api/admin/categories", json={}, headers=server.admin_headers())
    err = assert_error(r, 422, "VALIDATION_ERROR", "name")
    assert err["field_errors"]["name"] == ["This field is required"]


def test_boundary_values_accepted(server):
    c = create(server, sort_order=100000, slug=("a" * 48 + uniq("").replace("-", ""))[:60],
               description="d" * 500, icon="i" * 100)
    assert c["sort_order"] == 100000 and len(c["slug"]) == 60
    c = create(server, sort_order=-100000)
    assert c["sort_order"] == -100000


def test_create_with_null_optionals(server):
    c = create(server, description=None, icon=None)
    assert c["description"] == "" and c["icon"] is None


def test_html_and_sql_are_stored_verbatim(server):
    name = "<script>alert(1)</script> " + uniq("X")
    c = create(server, name=name, description="'); DROP TABLE categories; --")
    assert c["name"] == name
    got = server.get(f"/api/admin/categories/{c['id']}", headers=server.admin_headers()).json()
    assert got["description"] == "'); DROP TABLE categories; --"
    assert server.get("/api/categories").status_code == 200


# ---------------------------------------------------------------- update

def test_update_partial_changes_only_sent_fields(server):
    c = create(server, description="keep me", icon="keep", sort_order=7, is_active=True)
    r = server.put(f"/api/admin/categories/{c['id']}", json={"sort_order": 8}, headers=server.admin_headers())
    assert r.status_code == 200
    u = r.json()
    assert u["sort_order"] == 8
    for k in ("name", "slug", "description", "icon", "is_active", "created_at", "id"):
        assert u[k] == c[k], k
    assert u["updated_at"] >= c["updated_at"]


def test_update_each_field(server, category):
    cid = category["id"]
    h = server.admin_headers()
    changes = {"name": uniq("New"), "slug": uniq("new-slug").lower(), "description": "new desc",
               "icon": "new-icon", "sort_order": -5, "is_active": False}
    for k, v in changes.items():
        r = server.put(f"/api/admin/categories/{cid}", json={k: v}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()[k] == v
    final = server.get(f"/api/admin/categories/{cid}", headers=h).json()
    for k, v in changes.items():
        assert final[k] == v


def test_update_rename_keeps_slug(server, category):
    r = server.put(f"/api/admin/categories/{category['id']}", json={"name": uniq("Renamed")},
                   headers=server.admin_headers())
    assert r.json()["slug"] == category["slug"]


def test_update_null_icon_clears_it(server):
    c = create(server, icon="star")
    r = server.put(f"/api/admin/categories/{c['id']}", json={"icon": None}, headers=server.admin_headers())
    assert r.status_code == 200
    assert r.json()["icon"] is None
    assert server.get(f"/api/admin/categories/{c['id']}", headers=server.admin_headers()).json()["icon"] is None


def test_update_sort_order_zero_and_is_active_false(server):
    """Falsy values are real changes, not 'absent'."""
    c = create(server, sort_order=9, is_active=True)
    r = server.put(f"/api/admin/categories/{c['id']}", json={"sort_order": 0, "is_active": False},
                   headers=server.admin_headers())
    assert r.json()["sort_order"] == 0 and r.json()["is_active"] is False


def test_update_empty_body_changes_nothing(server, category):
    r = server.put(f"/api/admin/categories/{category['id']}", json={}, headers=server.admin_headers())
    assert r.status_code == 200
    u = r.json()
    for k in FIELDS - {"updated_at"}:
        assert u[k] == category[k], k


def test_update_same_name_as_itself_is_fine(server, category):
    r = server.put(f"/api/admin/categories/{category['id']}", json={"name": category["name"]},
                   headers=server.admin_headers())
    assert r.status_code == 200


def test_update_missing_is_404(server):
    r = server.put("/api/admin/categories/999999998", json={"name": uniq("Ghost")}, headers=server.admin_headers())
    assert_error(r, 404, "NOT_FOUND")


def test_update_clash_is_409(server):
    a = create(server)
    b = create(server)
    h = server.admin_headers()
    r = server.put(f"/api/admin/categories/{b['id']}", json={"name": a["name"].upper()}, headers=h)
    assert_error(r, 409, "CONFLICT")
    r = server.put(f"/api/admin/categories/{b['id']}", json={"slug": a["slug"]}, headers=h)
    assert_error(r, 409, "CONFLICT")
    assert server.get(f"/api/admin/categories/{b['id']}", headers=h).json() == b


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"), ({"name": None}, "name"), ({"slug": "NOPE"}, "slug"),
    ({"sort_order": "1"}, "sort_order"), ({"is_active": "false"}, "is_active"),
    ({"is_active": None}, "is_active"), ({"sort_order": None}, "sort_order"),
    ({"description": "x" * 501}, "description"),
], ids=lambda v: "-".join(f"{k}={str(x)[:10]}" for k, x in v.items()) if isinstance(v, dict) else str(v))
def test_update_validation(server, category, body, field):
    r = server.put(f"/api/admin/categories/{category['id']}", json=body, headers=server.admin_headers())
    err = assert_error(r, 422, "VALIDATION_ERROR", field)
    assert set(err["field_errors"]) == {field}
    got = server.get(f"/api/admin/categories/{category['id']}", headers=server.admin_headers()).json()
    assert got == category


def test_update_ignores_unknown_fields(server, category):
    r = server.put(f"/api/admin/categories/{category['id']}",
                   json={"models_count": 999, "id": 1, "slug_extra": "x"}, headers=server.admin_headers())
    assert r.status_code == 200
    assert r.json()["models_count"] == 0 and r.json()["id"] == category["id"]


# ---------------------------------------------------------------- delete

def test_delete_then_404(server):
    c = create(server)
    h = server.admin_headers()
    r = server.delete(f"/api/admin/categories/{c['id']}", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == c["id"] and isinstance(body["message"], str) and body["message"]
    assert_error(server.get(f"/api/admin/categories/{c['id']}", headers=h), 404, "NOT_FOUND")
    assert_error(server.delete(f"/api/admin/categories/{c['id']}", headers=h), 404, "NOT_FOUND")
    assert_error(server.put(f"/api/admin/categories/{c['id']}", json={"name": uniq("Z")}, headers=h),
                 404, "NOT_FOUND")


def test_delete_frees_name_and_slug(server):
    c = create(server)
    server.delete(f"/api/admin/categories/{c['id']}", headers=server.admin_headers())
    again = create(server, name=c["name"], slug=c["slug"])
    assert again["id"] != c["id"]


def test_delete_with_body_is_accepted(server):
    c = create(server)
    r = server.delete(f"/api/admin/categories/{c['id']}", headers=server.admin_headers(), json={"x": 1})
    assert r.status_code == 200


@pytest.mark.parametrize("cache", ["on", "off"])
def test_response_cache_can_be_switched_off(cache):
    """RESPONSE_CACHE=off computes every anonymous read (how the uncached
    path is measured): a change made behind the server's back (no
    invalidation) shows at once; with the cache on it shows only after the
    entry's TTL."""
    s = start_server("sqlite", seed=False, label=f"cache-{cache}", env={"RESPONSE_CACHE": cache})
    try:
        r = s.post("/api/admin/categories", json={"name": "Before", "description": "x"},
                   headers=s.admin_headers())
        assert r.status_code == 201, r.text
        first = requests.get(s.url + "/api/categories", timeout=10).json()
        assert "Before" in [c["name"] for c in first["items"]]
        s.sql("UPDATE categories SET name = 'After' WHERE name = 'Before'")
        second = [c["name"] for c in requests.get(s.url + "/api/categories", timeout=10).json()["items"]]
        if cache == "off":
            assert "After" in second and "Before" not in second, second
        else:
            assert "Before" in second, second
    finally:
        finish_server(s)


def test_update_null_means_clear_everywhere(server):
    """One meaning of null on PUT (docs/openapi.yaml, "Partial updates"):
    absent keeps, null clears a nullable field (description to "", which is
    never null), "" in a nullable text field is null; null on a field that
    is not nullable is 422 and changes nothing."""
    h = server.admin_headers()
    c = create(server, description="Words", icon="star")
    r = server.put(f"/api/admin/categories/{c['id']}", json={"description": None}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "" and r.json()["icon"] == "star"
    r = server.put(f"/api/admin/categories/{c['id']}", json={"icon": ""}, headers=h)
    assert r.status_code == 200 and r.json()["icon"] is None
    for field in ("name", "slug", "sort_order", "is_active"):
        r = server.put(f"/api/admin/categories/{c['id']}", json={field: None}, headers=h)
        err = assert_error(r, 422, "VALIDATION_ERROR", field)
        assert err["field_errors"][field] == ["Must not be null"]
    got = server.get(f"/api/admin/categories/{c['id']}", headers=h).json()
    assert got["name"] == c["name"] and got["slug"] == c["slug"] and got["is_active"] is True
