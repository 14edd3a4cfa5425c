"""Issue 8: query parameters are bounded (bytes, characters, list items,
repeats) and an over-limit value answers 422 naming the parameter; never a
crash.  The two crashes that started it: a long skills list (an assert in
the filter builder) and a long search word (a NULL buffer in fts_query)."""
import urllib.parse

import pytest
import requests

from conftest import assert_error
from test_models import create_model, list_ids, make_creator, word


def alive(server):
    assert server.proc.poll() is None, "the server died:\n" + server.log_tail()
    assert server.get("/healthz").status_code == 200


def raw_get(server, target):
    """GET with the target sent exactly as written (no re-encoding)."""
    return requests.get(server.url + target, timeout=15)


# ---------------------------------------------------------------- lists

@pytest.mark.parametrize("n", [31, 47, 48, 100, 500])
def test_long_skills_list_is_422_not_a_crash(server, n):
    r = raw_get(server, "/api/search?type=users&skills=" + ",".join(["a"] * n))
    assert_error(r, 422, "VALIDATION_ERROR", "skills")
    alive(server)


def test_skills_list_at_its_limits_with_every_other_filter(server):
    # 30 skills and every other user filter: the most parameters the query
    # builder can be given, still a plain answer
    skills = ",".join(f"s{i}" for i in range(30))
    r = server.get("/api/search", params={"type": "users", "q": "demo", "user_type": "creator", "country": "pt",
                                           "is_verified": "true", "skills": skills, "page": 1, "limit": 5})
    assert r.status_code == 200, r.text
    assert_error(server.get("/api/search", params={"type": "users", "skills": "x" * 41}), 422,
                 "VALIDATION_ERROR", "skills")
    # 40 characters of 4-byte UTF-8 is a skill like any other
    assert server.get("/api/search", params={"type": "users", "skills": "😀" * 40}).status_code == 200
    alive(server)


def test_tags_list_is_bounded(server):
    r = server.get("/api/models", params={"tags": ",".join(f"t{i}" for i in range(21))})
    assert_error(r, 422, "VALIDATION_ERROR", "tags")
    r = raw_get(server, "/api/models?tags=" + ",".join(["a"] * 2000))
    assert_error(r, 422, "VALIDATION_ERROR", "tags")
    assert_error(server.get("/api/models", params={"tags": "x" * 31}), 422, "VALIDATION_ERROR", "tags")
    # 20 tags and every other model filter and a search: still a plain answer
    r = server.get("/api/models", params={"tags": ",".join(f"t{i}" for i in range(20)), "search": "x y z",
                                          "category": "some-slug", "min_price": 1, "max_price": 2,
                                          "min_poly_count": 1, "max_poly_count": 2, "is_free": "false",
                                          "has_animations": "true", "has_rigging": "false"})
    assert r.status_code == 200, r.text
    # repeats count as items too: 21 occurrences of one tag
    r = raw_get(server, "/api/models?" + "&".join(["tags=a"] * 21))
    assert_error(r, 422, "VALIDATION_ERROR", "tags")
    alive(server)


def test_repeated_tags_are_one_list(server):
    c = make_creator(server)
    t1, t2, t3 = word(), word(), word()
    m1 = create_model(server, c, tags=[t1], approve=True)["id"]
    m2 = create_model(server, c, tags=[t2], approve=True)["id"]
    create_model(server, c, tags=[t3], approve=True)
    r = raw_get(server, f"/api/models?tags={t1}&tags={t2}&limit=100")
    assert r.status_code == 200, r.text
    assert [m["id"] for m in r.json()["items"]] == [m2, m1]
    assert list_ids(server, tags=f"{t1},{t2}") == [m2, m1]


# ---------------------------------------------------------------- search text

def emoji_target(path, name, n):
    return f"{path}?{name}=" + urllib.parse.quote("😀" * n)


@pytest.mark.parametrize("target", [
    emoji_target("/api/models", "search", 1100),
    emoji_target("/api/models", "q", 1100),
    emoji_target("/api/search", "q", 1100),
    emoji_target("/api/search", "q", 1300),  # 15.6 KB: past 16 KB the target itself is 414
])
def test_long_emoji_word_is_422_not_a_crash(server, target):
    r = raw_get(server, target)
    field = "search" if "search=" in target else "q"
    body = assert_error(r, 422, "VALIDATION_ERROR", field)
    assert "4096 bytes" in body["field_errors"][field][0]
    alive(server)


def test_search_within_the_byte_limit_is_a_search(server):
    c = make_creator(server)
    w = word()
    m = create_model(server, c, title=f"{w} lamp", approve=True)["id"]
    # one word of 1,000 emoji: 4,000 bytes
    r = raw_get(server, emoji_target("/api/models", "search", 1000))
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []
    # the word first, then 15 words of 63 emoji: 1,023 characters, 4,047 bytes
    text = w + " " + " ".join(["😀" * 63] * 15)
    assert len(text.encode()) <= 4096
    r = server.get("/api/models", params={"search": text})
    assert r.status_code == 200, r.text
    # emoji are no word characters to FTS5 or tsvector: at most the model
    assert [x["id"] for x in r.json()["items"]] in ([], [m])
    assert list_ids(server, search=w) == [m]
    alive(server)


def test_search_is_bounded_in_words(server):
    # 1 KB of ordinary prose is a search (test_marketplace), a flood of
    # one-letter words is not
    assert server.get("/api/models", params={"search": " ".join(["a"] * 256)}).status_code == 200
    body = assert_error(server.get("/api/models", params={"search": " ".join(["a"] * 257)}), 422,
                        "VALIDATION_ERROR", "search")
    assert "256 words" in body["field_errors"]["search"][0]
    assert_error(server.get("/api/search", params={"q": "a," * 300}), 422, "VALIDATION_ERROR", "q")
    assert_error(server.get("/api/models", params={"search": "x" * 1025}), 422, "VALIDATION_ERROR", "search")


# ---------------------------------------------------------------- every parameter

@pytest.mark.parametrize("target,field", [
    ("/api/models?page=1&page=2", "page"),
    ("/api/models?limit=5&limit=5", "limit"),
    ("/api/models?search=a&search=b", "search"),
    ("/api/models?sort=newest&sort=oldest", "sort"),
    ("/api/models?is_free=true&is_free=false", "is_free"),
    ("/api/search?type=users&type=models", "type"),
    ("/api/search?type=users&q=a&q=b", "q"),
    ("/api/categories?search=a&search=b", "search"),
    ("/api/leaderboard?period=week&period=month", "period"),
])
def test_a_scalar_given_twice_is_422(server, target, field):
    assert_error(raw_get(server, target), 422, "VALIDATION_ERROR", field)


@pytest.mark.parametrize("target,field", [
    ("/api/models?page=" + "0" * 40 + "1", "page"),
    ("/api/models?limit=" + "9" * 5000, "limit"),
    ("/api/models?is_free=" + "t" * 5000, "is_free"),
    ("/api/models?category=" + "%F0%9F%98%80" * 61, "category"),
    ("/api/categories?search=" + "x" * 5000, "search"),
    ("/api/models?sort=" + "x" * 8000, "sort"),
    ("/api/leaderboard?metric=" + "%F0%9F%98%80" * 1300, "metric"),
])
def test_long_values_are_422(server, target, field):
    assert_error(raw_get(server, target), 422, "VALIDATION_ERROR", field)
    alive(server)
