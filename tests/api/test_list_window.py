"""The model list's cold path (issue 9, item 1): ids are sorted over the
partial covering indexes of migration 0010, the first LIST_WINDOW_IDS ids
(200 here, 5,000 by default) and the total
of each filter and sort are kept until the next model write
(CACHE_MODEL_IDS), deeper pages are read from the index alone, and the wide
rows are fetched for the page only.

These tests check that the shortcut gives the answer the plain query would:
every page of every sort walks the whole public set once, in order, across
the 200-id window's edge, the same with and without the response cache and
for signed-in callers; and a write is seen at once on every page."""
import math

import pytest

from conftest import Server, finish_server, require_pg, start_seeded_server
from test_models import reject_model

MODELS = 450  # well past the 200-id window in every category


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def big(request):
    if request.param == "postgres":
        require_pg()
    s = start_seeded_server(request.param, ["--scale", "4", "--models", str(MODELS)],
                            label=f"window-{request.param}", env={"LIST_WINDOW_IDS": "200"})
    yield s
    finish_server(s)


def page(server, h=None, **params):
    r = server.get("/api/models", params=params, headers=h or {})
    assert r.status_code == 200, r.text
    return r.json()


def walk(server, limit, h=None, **params):
    """Every page of the list, concatenated; checks the envelope of each."""
    first = page(server, h, limit=limit, **params)
    total = first["total"]
    assert first["pages"] == math.ceil(total / limit)
    items = list(first["items"])
    for n in range(2, first["pages"] + 1):
        b = page(server, h, limit=limit, page=n, **params)
        assert b["total"] == total and b["page"] == n
        assert len(b["items"]) == (limit if n < first["pages"] else total - limit * (n - 1))
        items += b["items"]
    assert len(items) == total
    assert len({m["id"] for m in items}) == total
    return items


def public_count(server, category_slug=None):
    where = "m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL"
    if category_slug:
        where += f" AND m.category_id = (SELECT id FROM categories WHERE slug = '{category_slug}')"
    return int(server.scalar(f"SELECT COUNT(*) FROM models m WHERE {where}"))


# The sort key each sort promises, read from the documents themselves
# (ties: the newer id first, oldest: the older).
SORT_KEYS = {
    "newest": lambda m: (m["created_at"], m["id"]),
    "oldest": lambda m: (m["created_at"], m["id"]),
    "popular": lambda m: (m["likes_count"], m["views_count"], m["id"]),
    "price_low": lambda m: (-m["price"], m["id"]),
    "price_high": lambda m: (m["price"], m["id"]),
    "downloads": lambda m: (m["downloads_count"], m["id"]),
}


def biggest_category(server):
    return server.scalar(
        "SELECT c.slug FROM categories c JOIN models m ON m.category_id = c.id"
        " WHERE m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL"
        " GROUP BY c.slug ORDER BY COUNT(*) DESC, c.slug LIMIT 1")


@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
def test_every_sort_walks_the_whole_set_in_order(big, sort):
    total = public_count(big)
    assert total > 400
    items = walk(big, 30, sort=sort)  # page 7 spans ids 180-209: the window's edge
    assert len(items) == total
    keys = [SORT_KEYS[sort](m) for m in items]
    want = sorted(keys) if sort == "oldest" else sorted(keys, reverse=True)
    assert keys == want
    # the same order whatever the page size: limit 100 leaves the window
    # at page 3, limit 7 at page 29
    assert [m["id"] for m in walk(big, 100, sort=sort)] == [m["id"] for m in items]
    assert [m["id"] for m in walk(big, 7, sort=sort)][:250] == [m["id"] for m in items][:250]


@pytest.mark.parametrize("sort", ["newest", "popular", "price_low"])
def test_a_category_in_each_sort(big, sort):
    slug = biggest_category(big)
    cid = int(big.scalar(f"SELECT id FROM categories WHERE slug = '{slug}'"))
    by_slug = walk(big, 20, sort=sort, category=slug)
    assert len(by_slug) == public_count(big, slug)
    assert all(m["category"]["slug"] == slug for m in by_slug)
    by_id = walk(big, 20, sort=sort, category=cid)
    assert [m["id"] for m in by_id] == [m["id"] for m in by_slug]


def test_signed_in_callers_get_the_same_pages(big):
    h = big.admin_headers()
    anon = walk(big, 100, sort="popular")  # 100 ids and the caller: 101 parameters
    signed = walk(big, 100, h, sort="popular")
    assert [m["id"] for m in signed] == [m["id"] for m in anon]
    assert all("is_liked" in m for m in signed)


def test_a_filter_past_the_window(big):
    """A price filter keeps its own window, total and order."""
    items = walk(big, 40, sort="price_high", min_price=10)
    assert items and all(m["price"] >= 10 for m in items)
    prices = [m["price"] for m in items]
    assert prices == sorted(prices, reverse=True)
    n = int(big.scalar("SELECT COUNT(*) FROM models WHERE status = 'approved' AND is_published = TRUE"
                       " AND deleted_at IS NULL AND price_cents >= 1000"))
    assert len(items) == n


def test_search_past_the_window(big):
    """A search's ids and total come from one ranked query: every page of a
    common word still covers every match once."""
    word = None
    for w in ["model", "low", "poly", "asset", "pack", "set", "kit"]:
        b = page(big, search=w, limit=1)
        if b["total"] > 200:
            word = w
            break
    if word is None:  # the most common title word of the seed
        rows = big.sql("SELECT title FROM models")
        counts = {}
        for (t,) in rows:
            for w in set(t.lower().split()):
                if w.isalpha() and len(w) > 2:
                    counts[w] = counts.get(w, 0) + 1
        word = max(counts, key=counts.get)
    items = walk(big, 45, search=word)
    assert len(items) == page(big, search=word, limit=1)["total"] > 0
    text = lambda m: (m["title"] + " " + m["description"] + " " + " ".join(m["tags"])).lower()
    assert all(word in text(m) for m in items)


def test_deep_pages_and_past_the_end(big):
    total = public_count(big)
    last = math.ceil(total / 20)
    b = page(big, page=last, limit=20, sort="newest")
    assert len(b["items"]) == total - 20 * (last - 1) and b["total"] == total
    b = page(big, page=last + 1, limit=20, sort="newest")
    assert b["items"] == [] and b["total"] == total
    b = page(big, page=10 ** 9, limit=100)
    assert b["items"] == [] and b["total"] == total


def test_a_write_is_seen_on_every_page_at_once(big):
    """Rejecting a model takes it out of the window, the deep pages and the
    total at once, for anonymous and signed-in callers alike."""
    before = walk(big, 100, sort="newest")
    h = big.admin_headers()
    assert [m["id"] for m in walk(big, 100, h, sort="newest")] == [m["id"] for m in before]
    gone = [before[5]["id"], before[250]["id"]]  # one in the window, one past it
    for mid in gone:
        reject_model(big, mid)
    after = walk(big, 100, sort="newest")
    assert [m["id"] for m in after] == [m["id"] for m in before if m["id"] not in gone]
    assert [m["id"] for m in walk(big, 100, h, sort="newest")] == [m["id"] for m in after]
    assert page(big, limit=1)["total"] == len(before) - 2


def test_response_cache_off_gives_the_same_pages(big):
    other = Server(big.engine, seed=False, label=f"window-nocache-{big.engine}",
                   env={"DATA_DIR": big.data_dir, "RESPONSE_CACHE": "off", "LIST_WINDOW_IDS": "200",
                        "DATABASE_URL": big.env.get("DATABASE_URL")},
                   admins=())
    other.secret = big.secret
    other.env["JWT_SECRET_KEY"] = big.secret
    try:
        other.start()
    except BaseException:
        other.kill()
        raise
    try:
        for sort in ["newest", "price_low"]:
            a = [m["id"] for m in walk(big, 50, sort=sort)]
            b = [m["id"] for m in walk(other, 50, sort=sort)]
            assert a == b
    finally:
        other.stop()
        if other.pg:  # the fresh database Server made for it, unused
            other.pg.drop()


def test_word_order_and_case_do_not_change_a_search(big):
    """The search "castle dragon" is the same query as "Dragon  CASTLE
    dragon" (one cached result serves both): same total, same pages."""
    rows = big.sql("SELECT title FROM models LIMIT 50")
    words = [w for (t,) in rows for w in t.lower().split() if w.isalpha() and len(w) > 3]
    a, b = words[0], next(w for w in words if w != words[0])
    one = walk(big, 20, search=f"{a} {b}")
    assert one
    two = walk(big, 20, search=f"{b.upper()}  {a.capitalize()} {b}")
    assert [m["id"] for m in two] == [m["id"] for m in one]
