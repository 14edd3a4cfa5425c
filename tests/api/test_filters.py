"""Section 17's filters (issue 9, item 4): price_range and poly_count_range on
GET /api/models and /api/search (type=models), and the user filters
is_verified, country and skills on /api/search?type=users.

Ranges are "min-max" with either end open (CONTRACT.md "Ranges"); a range
together with its min/max pair is a 422, as a parameter given twice is.
Each test filters on a fresh category or unique names, so other tests'
rows never get in the way."""
import pytest

from conftest import assert_error, uniq
from test_models import create_model, list_ids, make_category, make_creator, word


def priced(server):
    """Four approved models at $0, $5, $15.50 and $100 in a new category;
    their poly counts are 100, 5000, 20000 and 0."""
    c = make_creator(server)
    cat = make_category(server)
    ids = {}
    for price, polys in [(0, 100), (5, 5000), (15.5, 20000), (100, 0)]:
        m = create_model(server, c, category_id=cat["id"], price=price, approve=True)["id"]
        server.sql(f"UPDATE models SET poly_count = {polys} WHERE id = {m}")
        ids[price] = m
    return cat["slug"], ids


def test_price_range_forms(server):
    s, m = priced(server)
    free, five, fifteen, hundred = m[0], m[5], m[15.5], m[100]
    assert list_ids(server, category=s, price_range="5-15.50") == [fifteen, five]
    assert list_ids(server, category=s, price_range="5.01-15.49") == []
    assert list_ids(server, category=s, price_range="10-") == [hundred, fifteen]
    assert list_ids(server, category=s, price_range="-5") == [five, free]
    assert list_ids(server, category=s, price_range="0-0") == [free]
    assert list_ids(server, category=s, price_range="15.5-15.5") == [fifteen]
    assert list_ids(server, category=s, price_range="0-1000000") == [hundred, fifteen, five, free]
    # the same filter as the min/max pair
    assert list_ids(server, category=s, min_price=10) == list_ids(server, category=s, price_range="10-")
    assert list_ids(server, category=s, min_price=5, max_price=15.5) == [fifteen, five]
    # an empty value is no filter, as for every other parameter
    assert list_ids(server, category=s, price_range="") == [hundred, fifteen, five, free]


def test_poly_count_range_forms(server):
    s, m = priced(server)
    free, five, fifteen, hundred = m[0], m[5], m[15.5], m[100]
    assert list_ids(server, category=s, poly_count_range="100-5000") == [five, free]
    assert list_ids(server, category=s, poly_count_range="5001-") == [fifteen]
    assert list_ids(server, category=s, poly_count_range="-100") == [hundred, free]
    assert list_ids(server, category=s, poly_count_range="0-0") == [hundred]
    assert list_ids(server, category=s, poly_count_range="1-99") == []
    # both ranges and another filter together
    assert list_ids(server, category=s, poly_count_range="-10000", price_range="1-") == [hundred, five]
    assert list_ids(server, category=s, poly_count_range="-10000", price_range="1-", is_free="false",
                    sort="price_low") == [five, hundred]


def test_ranges_through_search(server):
    c = make_creator(server)
    w = word()
    cheap = create_model(server, c, title=f"{w} cheap", price=2, approve=True)["id"]
    dear = create_model(server, c, title=f"{w} dear", price=200, approve=True)["id"]
    server.sql(f"UPDATE models SET poly_count = 50 WHERE id = {cheap}")
    server.sql(f"UPDATE models SET poly_count = 5000 WHERE id = {dear}")
    r = server.get("/api/search", params={"q": w, "type": "models", "price_range": "-10"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["items"]] == [cheap]
    r = server.get("/api/search", params={"q": w, "poly_count_range": "1000-"})
    assert [x["id"] for x in r.json()["items"]] == [dear]
    assert_error(server.get("/api/search", params={"q": w, "price_range": "10-5"}), 422, "VALIDATION_ERROR",
                 "price_range")


BAD_COMMON = ["abc", "-", "10", "10-5", "1-2-3", "--5", "5--", "-5-", "+1-2", "1-+2", " 1-2", "1 - 2", "1-2 ",
              "0x1-2", "1e3-", "-1-2", "9" * 30 + "-", "1-" + "9" * 50, "10%00-20", "½-1"]


@pytest.mark.parametrize("bad", BAD_COMMON + ["1.234-2", "1.-2", ".5-1", "5.00-4.99", "1,5-2"])
def test_malformed_price_range_is_422(server, bad):
    r = server.get("/api/models", params={"price_range": bad})
    assert_error(r, 422, "VALIDATION_ERROR", "price_range")


@pytest.mark.parametrize("bad", BAD_COMMON + ["1.5-2", "1-2.0", "9223372036854775808-"])
def test_malformed_poly_count_range_is_422(server, bad):
    assert_error(server.get("/api/models", params={"poly_count_range": bad}), 422, "VALIDATION_ERROR",
                 "poly_count_range")
    assert_error(server.get("/api/search", params={"q": "x", "poly_count_range": bad}), 422, "VALIDATION_ERROR",
                 "poly_count_range")


def test_range_messages_say_what_is_wrong(server):
    r = server.get("/api/models", params={"price_range": "10-5", "poly_count_range": "abc"})
    errs = assert_error(r, 422, "VALIDATION_ERROR", "price_range")["field_errors"]
    assert errs["price_range"] == ["The lower end must not be above the upper end"]
    assert "either end open" in errs["poly_count_range"][0]   # both errors in one answer


def test_range_given_twice_is_422(server):
    r = server.get("/api/models?price_range=1-2&price_range=3-4")
    assert_error(r, 422, "VALIDATION_ERROR", "price_range")


@pytest.mark.parametrize("params,field", [
    ({"price_range": "1-2", "min_price": "1"}, "price_range"),
    ({"price_range": "1-", "max_price": "0"}, "price_range"),
    ({"price_range": "-9", "min_price": "0", "max_price": "9"}, "price_range"),
    ({"poly_count_range": "1-2", "min_poly_count": "1"}, "poly_count_range"),
    ({"poly_count_range": "-2", "max_poly_count": "0"}, "poly_count_range"),
])
def test_range_with_its_min_max_pair_is_422(server, params, field):
    r = server.get("/api/models", params=params)
    errs = assert_error(r, 422, "VALIDATION_ERROR", field)["field_errors"]
    assert "not both" in errs[field][0]
    # the other kind's pair is no conflict
    other = {"price_range": "1-2", "min_poly_count": "1"}
    assert server.get("/api/models", params=other).status_code == 200


def test_filtered_page_is_never_the_cached_unfiltered_one(server):
    s, m = priced(server)
    everything = [m[100], m[15.5], m[5], m[0]]
    # anonymous: served through the response cache
    assert list_ids(server, category=s) == everything
    assert list_ids(server, category=s, price_range="10-") == [m[100], m[15.5]]
    assert list_ids(server, category=s, price_range="-10") == [m[5], m[0]]
    assert list_ids(server, category=s, poly_count_range="10-") == [m[15.5], m[5], m[0]]
    assert list_ids(server, category=s, poly_count_range="-10") == [m[100]]
    assert list_ids(server, category=s) == everything
    # equal filters may share an entry: the pair and the range give one answer
    assert list_ids(server, category=s, min_price="10") == [m[100], m[15.5]]


# ---------------------------------------------------------------- users

def users_found(server, **params):
    params.setdefault("type", "users")
    params.setdefault("limit", 100)
    r = server.get("/api/search", params=params)
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["items"]]


def person(server, prefix, country=None, skills="[]", verified=False):
    uid = server.make_user()
    name = uniq(prefix)
    c = "NULL" if country is None else "'" + country.replace("'", "''") + "'"
    sk = skills.replace("'", "''")
    server.sql(f"UPDATE users SET full_name = '{name}', country = {c}, skills = '{sk}',"
               f" is_verified = {'TRUE' if verified else 'FALSE'} WHERE id = {uid}")
    return uid


def test_user_is_verified_and_country(server):
    tag = uniq("Flt")
    a = person(server, tag, country="PT", verified=True)
    b = person(server, tag, country="Portugal", verified=False)
    c = person(server, tag, country=None, verified=True)
    everyone = sorted([a, b, c])
    assert sorted(users_found(server, q=tag)) == everyone
    assert sorted(users_found(server, q=tag, is_verified="true")) == sorted([a, c])
    assert users_found(server, q=tag, is_verified="false") == [b]
    assert users_found(server, q=tag, is_verified="0") == [b]
    # exact match, any case; never a substring
    assert users_found(server, q=tag, country="pt") == [a]
    assert users_found(server, q=tag, country="PORTUGAL") == [b]
    assert users_found(server, q=tag, country="P") == []
    assert users_found(server, q=tag, country="Portu") == []
    assert users_found(server, q=tag, country="pt", is_verified="false") == []
    for bad in ({"is_verified": "maybe"}, {"country": "x" * 57}, {"country": "a\x01"}):
        assert_error(server.get("/api/search", params={"type": "users", **bad}), 422, "VALIDATION_ERROR",
                     next(iter(bad)))
    assert server.get("/api/search", params={"type": "users", "country": "x" * 56}).status_code == 200


def test_user_skills_match_all_of_them(server):
    tag = uniq("Skl")
    a = person(server, tag, skills='["blender","zbrush"]')
    b = person(server, tag, skills='["Blender","maya"]')
    c = person(server, tag, skills='["blender tools"]')
    assert sorted(users_found(server, q=tag, skills="blender")) == sorted([a, b])
    assert users_found(server, q=tag, skills="blender,zbrush") == [a]
    assert users_found(server, q=tag, skills="BLENDER, Maya") == [b]
    assert users_found(server, q=tag, skills=["blender", "maya"]) == [b]          # repeated parameter
    assert users_found(server, q=tag, skills="blender,houdini") == []
    # a whole skill, never part of one
    assert users_found(server, q=tag, skills="blender tools") == [c]
    assert users_found(server, q=tag, skills="tools") == []
    assert users_found(server, q=tag, skills="blend") == []


def test_user_skills_with_quotes_wildcards_and_accents(server):
    tag = uniq("Sk2")
    a = person(server, tag, skills='["say \\"hi\\"","100%","a_b","C:\\\\tools"]')
    b = person(server, tag, skills='["Ñandú","été"]')
    assert users_found(server, q=tag, skills='say "hi"') == [a]
    assert users_found(server, q=tag, skills="100%") == [a]
    assert users_found(server, q=tag, skills="a_b") == [a]
    assert users_found(server, q=tag, skills="C:\\tools") == [a]
    assert users_found(server, q=tag, skills="%") == []
    assert users_found(server, q=tag, skills="a%b") == []
    assert users_found(server, q=tag, skills="axb") == []
    # a stored skill always finds itself, on both engines
    assert users_found(server, q=tag, skills="Ñandú") == [b]
    assert users_found(server, q=tag, skills="été,Ñandú") == [b]


def test_user_name_with_accents_finds_itself(server):
    tag = uniq("Acc")
    uid = person(server, "Ñ" + tag)
    name = server.scalar(f"SELECT full_name FROM users WHERE id = {uid}")
    assert users_found(server, q=name) == [uid]
