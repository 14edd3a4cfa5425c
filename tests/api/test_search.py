"""GET /api/search: models through the marketplace list, users by name with
section 17's filters; any text is just a search."""
import pytest

from conftest import assert_error
from test_models import create_model, make_creator, word


def test_search_models_by_word(server):
    c = make_creator(server)
    w = word()
    m = create_model(server, c, title=f"Neon {w} Lantern", approve=True)["id"]
    r = server.get("/api/search", params={"q": w, "type": "models"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["items"]] == [m]
    r = server.get("/api/search", params={"q": w})  # models by default
    assert [x["id"] for x in r.json()["items"]] == [m]


@pytest.mark.parametrize("relevance", [False, True])
def test_words_a_parser_reads_as_numbers_are_found(server, relevance):
    """PostgreSQL's parser reads "7e2ab..." alone as a number and a word but
    inside "Model-7e2ab..." as one word: a title is found by its own words,
    and by the whole title, in both places (a uuid-named title missed 1 in
    15 times)."""
    import uuid
    c = make_creator(server)
    tail = lambda: f"{uuid.uuid4().int % 90 + 10}e{uuid.uuid4().int % 9 + 1}{word()}"
    alone, joined = tail(), tail()
    titles = {f"Crate {alone}": alone, f"Model-{joined}": joined}
    extra = {"sort": "relevance"} if relevance else {}
    for title, w in titles.items():
        m = create_model(server, c, title=title, approve=True)["id"]
        for q in (w, title, w[:6]):
            r = server.get("/api/models", params={"search": q, **extra})
            assert r.status_code == 200, r.text
            assert m in [x["id"] for x in r.json()["items"]], (title, q)


def test_search_users_with_filters(server):
    r = server.get("/api/search", params={"q": "demo_user", "type": "users", "limit": 100})
    assert r.status_code == 200, r.text
    names = {u["username"] for u in r.json()["items"]}
    assert {"demo_user_1", "demo_user_2", "demo_user_3"} <= names
    assert all("email" not in u for u in r.json()["items"])
    r = server.get("/api/search", params={"q": "demo_user", "type": "users", "user_type": "creator", "limit": 100})
    assert "demo_user_3" in {u["username"] for u in r.json()["items"]}
    assert all(u["user_type"] == "creator" for u in r.json()["items"])
    uid = server.make_user()
    server.sql(f"UPDATE users SET country = 'PT', skills = '[\"blender\",\"zbrush\"]', is_verified = TRUE WHERE id = {uid}")
    name = server.scalar(f"SELECT username FROM users WHERE id = {uid}")
    r = server.get("/api/search", params={"q": name, "type": "users", "country": "pt", "skills": "Blender",
                                           "is_verified": "true"})
    assert [u["id"] for u in r.json()["items"]] == [uid]
    r = server.get("/api/search", params={"q": name, "type": "users", "skills": "maya"})
    assert r.json()["items"] == []


@pytest.mark.parametrize("q", ["'; DROP TABLE users; --", "%", "_", "\"quoted\"", "😀", "x" * 200])
def test_hostile_user_search_is_just_a_search(server, q):
    r = server.get("/api/search", params={"q": q, "type": "users"})
    assert r.status_code == 200, r.text
    # wildcards are literal: every hit really contains the text
    for u in r.json()["items"]:
        assert q.lower() in (u["username"] + " " + (u["full_name"] or "")).lower(), u


def test_bad_type_and_params(server):
    assert_error(server.get("/api/search", params={"q": "x", "type": "planets"}), 422, "VALIDATION_ERROR", "type")
    assert_error(server.get("/api/search", params={"q": "x", "type": "users", "user_type": "admin"}), 422,
                 "VALIDATION_ERROR", "user_type")
    assert_error(server.get("/api/search", params={"q": "x" * 201, "type": "users"}), 422, "VALIDATION_ERROR", "q")


@pytest.mark.parametrize("q", ["a" * 1024, "é" * 1023, "é" * 1024, "x " + "😀" * 700, "1e5 2e-3 0x1f 3.5e+2",
                               "Ωmega-7e2ab 'quote' \\back\\ :*A & | !", "a:*b & c"],
                         ids=["ascii-1024", "2046-bytes", "2048-bytes", "2800-bytes", "numbers", "syntax", "operators"])
def test_a_search_of_any_words_is_a_search(server, q):
    """Words PostgreSQL would refuse in a tsquery (over 2,047 bytes; the
    text is at most 1,024 characters and 4,096 bytes), that
    its parser reads as numbers, or tsquery syntax in the text: a search
    like any other (a 500 once for a 4,000-byte word)."""
    for sort in ("newest", "relevance"):
        r = server.get("/api/models", params={"search": q, "sort": sort})
        assert r.status_code == 200, r.text
        assert isinstance(r.json()["items"], list)
