"""Users: the signed-in user's profile, password change, account deletion,
public profiles, bans, and what one user can see of another.

Private servers that mail through test_mail's SMTP sink."""
import time

import pytest

from conftest import assert_error
from test_mail import (ENGINES, PASSWORD, accounts_env, assert_tokens, new_identity, refresh_cookie, truthy)

PUBLIC_FIELDS = {"id", "username", "full_name", "avatar_url", "bio", "user_type", "is_verified", "country",
                 "skills", "followers_count", "following_count", "models_count", "created_at"}
PRIVATE_FIELDS = {"email", "role", "is_email_verified", "settings"}


@pytest.fixture(scope="module", params=ENGINES)
def acc(request):
    with accounts_env(request.param, "users") as a:
        yield a


@pytest.fixture(scope="module")
def alice(acc):
    """A verified user whose profile tests read but do not change."""
    u = acc.new_user("alice", full_name="Alice Liddell", user_type="creator")
    r = acc.put("/api/users/me", {"bio": "Down the rabbit hole", "country": "GB", "skills": ["blender", "zbrush"],
                                  "settings": {"theme": "dark"}}, token=u.access)
    assert r.status_code == 200, r.text
    return u


@pytest.fixture
def bob(acc):
    """A fresh verified user a test may change."""
    return acc.new_user("bob")


def me(acc, user):
    r = acc.get("/api/users/me", token=user.access)
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- /me

def test_me_shows_private_fields(acc, alice):
    body = me(acc, alice)
    assert PUBLIC_FIELDS | PRIVATE_FIELDS <= set(body), body
    assert body["email"] == alice.email and body["role"] == "user" and body["is_email_verified"] is True
    assert body["settings"] == {"theme": "dark"}
    assert body["skills"] == ["blender", "zbrush"]
    assert not {"password", "password_hash", "tokens_valid_after", "balance_cents"} & set(body)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_me_needs_a_token(acc, headers):
    assert_error(acc.get("/api/users/me", headers=headers), 401, "UNAUTHORIZED")
    assert_error(acc.put("/api/users/me", {"bio": "x"}, headers=headers), 401, "UNAUTHORIZED")


def test_update_profile(acc, bob):
    new_name = bob.username + "_x"
    body = {"full_name": "  Bob Builder ", "bio": "Line one\nLine two", "country": "NZ",
            "skills": ["blender", "substance painter"], "settings": {"theme": "dark", "emails": False, "size": 3},
            "username": new_name.upper(), "user_type": "creator"}
    r = acc.put("/api/users/me", body, token=bob.access)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["full_name"] == "Bob Builder"
    assert got["bio"] == "Line one\nLine two"
    assert got["country"] == "NZ"
    assert got["skills"] == ["blender", "substance painter"]
    assert got["settings"] == {"theme": "dark", "emails": False, "size": 3}
    assert got["username"] == new_name
    assert got["user_type"] == "creator"
    assert me(acc, bob) == got
    pub = acc.get(f"/api/users/by-username/{new_name}")
    assert pub.status_code == 200 and pub.json()["bio"] == "Line one\nLine two"
    assert_error(acc.get(f"/api/users/by-username/{bob.username}"), 404, "NOT_FOUND")
    # a field not sent is kept
    r = acc.put("/api/users/me", {"country": "AU"}, token=bob.access)
    assert r.status_code == 200
    assert r.json()["full_name"] == "Bob Builder" and r.json()["skills"] == ["blender", "substance painter"]
    assert r.json()["country"] == "AU"


def test_null_clears_fields(acc, bob):
    r = acc.put("/api/users/me", {"full_name": "Someone", "bio": "bio", "country": "FR"}, token=bob.access)
    assert r.status_code == 200 and r.json()["full_name"] == "Someone"
    r = acc.put("/api/users/me", {"full_name": None, "bio": None, "country": None}, token=bob.access)
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] is None and r.json()["bio"] is None and r.json()["country"] is None
    assert acc.scalar(f"SELECT COUNT(*) FROM users WHERE id = {bob.id} AND full_name IS NULL") == "1"


def test_null_on_a_field_that_cannot_be_null_is_422(acc, bob):
    """One meaning of null on PUT: clears a nullable field, 422 otherwise."""
    before = me(acc, bob)
    for field in ("user_type", "username", "skills", "settings"):
        r = acc.put("/api/users/me", {field: None}, token=bob.access)
        assert_error(r, 422, "VALIDATION_ERROR", field)
    r = acc.put("/api/users/me", {"full_name": "", "skills": ["  blender "]}, token=bob.access)
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] is None and r.json()["skills"] == ["blender"]
    assert me(acc, bob)["username"] == before["username"]


def test_username_taken_is_409(acc, alice, bob):
    r = acc.put("/api/users/me", {"username": alice.username.upper()}, token=bob.access)
    assert_error(r, 409, "CONFLICT", "username")
    assert me(acc, bob)["username"] == bob.username
    # keeping one's own name is not a conflict
    r = acc.put("/api/users/me", {"username": bob.username}, token=bob.access)
    assert r.status_code == 200, r.text


def test_update_ignores_mass_assignment(acc, alice, bob):
    before = me(acc, bob)
    r = acc.put("/api/users/me", {"role": "admin", "is_verified": True, "is_email_verified": False,
                                  "email": "someone-else@example.com", "balance": 1000, "balance_cents": 100000,
                                  "followers_count": 500, "is_banned": True, "id": alice.id,
                                  "tokens_valid_after": 0, "password_hash": "x", "bio": "still me"},
                token=bob.access)
    assert r.status_code == 200, r.text
    after = me(acc, bob)
    assert after["bio"] == "still me"
    for k in ("id", "email", "role", "is_verified", "is_email_verified", "followers_count"):
        assert after[k] == before[k], k
    row = acc.sql("SELECT role, is_verified, is_email_verified, email, balance_cents, followers_count, is_banned,"
                  f" password_hash FROM users WHERE id = {bob.id}")[0]
    assert row[0] == "user" and not truthy(row[1]) and truthy(row[2]) and row[3] == bob.email
    assert row[4] == "0" and row[5] == "0" and not truthy(row[6]) and row[7].startswith("$argon2")
    assert me(acc, alice)["bio"] == "Down the rabbit hole", "another user's row was touched"
    assert_tokens(acc.login(bob.email))


@pytest.mark.parametrize("field,value", [
    ("skills", "blender"),
    ("skills", {"a": 1}),
    ("skills", [f"s{i}" for i in range(31)]),
    ("skills", ["x" * 41]),
    ("skills", [""]),
    ("skills", [1, 2]),
    ("skills", ["two\nlines"]),
    ("settings", "dark"),
    ("settings", ["dark"]),
    ("settings", {"nested": {"a": 1}}),
    ("settings", {"list": [1]}),
    ("settings", {f"k{i}": i for i in range(51)}),
    ("settings", {"big": "x" * 9000}),
    ("settings", {"k" * 65: 1}),
    ("bio", "b" * 1001),
    ("bio", "bell\x07"),
    ("full_name", "f" * 101),
    ("full_name", "tab\tname"),
    ("full_name", "new\nline"),
    ("full_name", 42),
    ("country", "c" * 57),
    ("username", "ab"),
    ("username", "has space"),
    ("username", "u" * 31),
    ("user_type", "admin"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None)
def test_invalid_profile_values_are_422(acc, alice, field, value):
    before = me(acc, alice)
    r = acc.put("/api/users/me", {field: value}, token=alice.access)
    assert_error(r, 422, "VALIDATION_ERROR", field)
    assert me(acc, alice) == before


def test_limits_are_inclusive(acc, bob):
    body = {"skills": [f"{i:02d}" + "s" * 38 for i in range(30)], "bio": "b" * 1000, "full_name": "f" * 100,
            "country": "c" * 56, "settings": {f"k{i}": i for i in range(50)}}
    r = acc.put("/api/users/me", body, token=bob.access)
    assert r.status_code == 200, r.text
    assert len(r.json()["skills"]) == 30 and len(r.json()["settings"]) == 50


def test_update_body_must_be_an_object(acc, bob):
    before = me(acc, bob)
    for body in ([{"bio": "x"}], "bio", 42):
        r = acc.put("/api/users/me", body, token=bob.access)
        assert_error(r, 422, "VALIDATION_ERROR", "body")
    r = acc.call("PUT", "/api/users/me", token=bob.access, data=b'{"bio": ', headers={"Content-Type": "application/json"})
    assert_error(r, 400, "VALIDATION_ERROR")
    # an empty body (as {}) changes nothing
    r = acc.call("PUT", "/api/users/me", token=bob.access, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json() == before, r.text
    assert me(acc, bob) == before


# ---------------------------------------------------------------- password

def test_change_password(acc, bob):
    _, other_cookie, _ = assert_tokens(acc.login(bob.email))  # a second session
    new_pw = "Changed-passphrase-2024"
    r = acc.put("/api/users/me/password", {"current_password": "wrong-password-123", "new_password": new_pw},
                token=bob.access)
    assert_error(r, 422, "VALIDATION_ERROR", "current_password")
    r = acc.put("/api/users/me/password", {"new_password": new_pw}, token=bob.access)
    assert_error(r, 422, "VALIDATION_ERROR", "current_password")
    r = acc.put("/api/users/me/password", {"current_password": PASSWORD, "new_password": "password1234"},
                token=bob.access)
    assert_error(r, 422, "VALIDATION_ERROR", "new_password")
    assert_tokens(acc.login(bob.email))  # nothing changed yet
    r = acc.put("/api/users/me/password", {"current_password": PASSWORD, "new_password": new_pw}, token=bob.access)
    access, cookie, user = assert_tokens(r)
    assert user["id"] == bob.id
    assert_error(acc.get("/api/users/me", token=bob.access), 401, "UNAUTHORIZED")
    assert_error(acc.refresh(bob.refresh), 401, "UNAUTHORIZED")
    assert_error(acc.refresh(other_cookie), 401, "UNAUTHORIZED")
    assert acc.get("/api/users/me", token=access).status_code == 200
    access2, _, _ = assert_tokens(acc.refresh(cookie))
    assert acc.get("/api/users/me", token=access2).status_code == 200
    assert_error(acc.login(bob.email, PASSWORD), 401, "INVALID_CREDENTIALS")
    assert_tokens(acc.login(bob.email, new_pw))


def test_change_password_needs_a_token(acc):
    assert_error(acc.put("/api/users/me/password", {"current_password": PASSWORD, "new_password": PASSWORD + "1"}),
                 401, "UNAUTHORIZED")


# ---------------------------------------------------------------- delete

def test_delete_account(acc, bob):
    for body in ({"password": "wrong-password-123"}, {}, {"password": ""}):
        assert_error(acc.delete("/api/users/me/account", body, token=bob.access), 422, "VALIDATION_ERROR",
                     "password")
    assert me(acc, bob)["email"] == bob.email
    r = acc.delete("/api/users/me/account", {"password": PASSWORD}, token=bob.access)
    assert r.status_code == 200, r.text
    value, attrs = refresh_cookie(r)
    assert value == "" and attrs.get("max-age") == "0"
    assert_error(acc.login(bob.email), 401, "INVALID_CREDENTIALS")
    assert_error(acc.get("/api/users/me", token=bob.access), 401, "UNAUTHORIZED")
    assert_error(acc.refresh(bob.refresh), 401, "UNAUTHORIZED")
    assert_error(acc.get(f"/api/users/{bob.id}"), 404, "NOT_FOUND")
    assert_error(acc.get(f"/api/users/by-username/{bob.username}"), 404, "NOT_FOUND")
    row = acc.sql("SELECT email, email_normalized, full_name, password_hash, bio, username, deleted_at"
                  f" FROM users WHERE id = {bob.id}")
    assert len(row) == 1, "the row stays"
    email_col, norm, full_name, pw_hash, bio, username, deleted_at = row[0]
    assert email_col == norm == f"deleted-{bob.id}@deleted.invalid"
    assert full_name == "" and pw_hash == "" and bio == "" and deleted_at != ""
    assert username == f"deleted-{bob.id}"
    assert acc.scalar(f"SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {bob.id} AND revoked_at IS NULL") == "0"
    # the address and the name are free again
    r, _, _ = acc.register(bob.email, bob.username)
    assert r.status_code == 201, r.text
    assert r.json()["user"]["id"] != bob.id


def test_nobody_can_block_an_account_deletion(acc, bob):
    """The tombstone names ("deleted_<id>", "deleted-<id>@deleted.invalid")
    can not be taken in advance by someone else to make a deletion fail."""
    squatter = acc.new_user("squat")
    r = acc.put("/api/users/me", {"username": f"deleted_{bob.id}"}, token=squatter.access)
    assert r.status_code in (200, 409, 422), r.text
    r, _, _ = acc.register(f"deleted-{bob.id}@deleted.invalid", new_identity()[1])
    assert r.status_code in (201, 409, 422), r.text
    r = acc.delete("/api/users/me/account", {"password": PASSWORD}, token=bob.access)
    assert r.status_code == 200, r.text
    assert_error(acc.login(bob.email), 401, "INVALID_CREDENTIALS")
    assert_error(acc.get(f"/api/users/{bob.id}"), 404, "NOT_FOUND")
    assert acc.scalar(f"SELECT COUNT(*) FROM users WHERE id = {bob.id} AND deleted_at IS NOT NULL"
                      " AND password_hash IS NULL") == "1"


def test_account_without_a_password(acc, bob):
    """An account made through OAuth has no password: it sets the first
    one without current_password, and deletes itself without one."""
    acc.sql(f"UPDATE users SET password_hash = NULL WHERE id = {bob.id}")
    assert_error(acc.login(bob.email), 401, "INVALID_CREDENTIALS")
    new_pw = "First-ever-passphrase-1"
    access, _, _ = assert_tokens(acc.put("/api/users/me/password", {"new_password": new_pw}, token=bob.access))
    assert_tokens(acc.login(bob.email, new_pw))
    # now that there is one, it is needed
    r = acc.put("/api/users/me/password", {"new_password": new_pw + "2"}, token=access)
    assert_error(r, 422, "VALIDATION_ERROR", "current_password")


def test_delete_needs_a_token(acc):
    assert_error(acc.delete("/api/users/me/account", {"password": PASSWORD}), 401, "UNAUTHORIZED")


# ---------------------------------------------------------------- public profiles

def test_public_profile_has_no_private_fields(acc, alice):
    r = acc.get(f"/api/users/{alice.id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == PUBLIC_FIELDS, set(body) ^ PUBLIC_FIELDS
    assert body["username"] == alice.username and body["full_name"] == "Alice Liddell"
    assert body["user_type"] == "creator" and body["skills"] == ["blender", "zbrush"]
    assert alice.email not in r.text


@pytest.mark.parametrize("transform", [str.upper, str.lower, str.title])
def test_profile_by_username_is_case_insensitive(acc, alice, transform):
    r = acc.get(f"/api/users/by-username/{transform(alice.username)}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == alice.id and set(r.json()) == PUBLIC_FIELDS


@pytest.mark.parametrize("path", ["/api/users/99999999", "/api/users/by-username/no_such_user_here",
                                  "/api/users/by-username/" + "x" * 100, "/api/users/by-username/%00"])
def test_unknown_profiles_are_404(acc, path):
    assert_error(acc.get(path), 404, "NOT_FOUND")


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "99999999999999999999999"])
def test_non_integer_user_id_is_422(acc, bad):
    body = assert_error(acc.get(f"/api/users/{bad}"), 422, "VALIDATION_ERROR", "id")
    assert set(body["field_errors"]) == {"id"}


def test_no_way_to_read_or_write_another_users_private_fields(acc, alice, bob):
    # another user's profile, with a token, is still the public one (plus
    # the caller's own state: is_following)
    r = acc.get(f"/api/users/{alice.id}", token=bob.access)
    assert r.status_code == 200 and set(r.json()) == PUBLIC_FIELDS | {"is_following"}
    r = acc.get(f"/api/users/by-username/{alice.username}", token=bob.access)
    assert r.status_code == 200 and set(r.json()) == PUBLIC_FIELDS | {"is_following"}
    # /me is always the caller, whatever the body or query says
    assert acc.get(f"/api/users/me?id={alice.id}", token=bob.access).json()["id"] == bob.id
    # no write route for someone else's profile
    for method in ("PUT", "DELETE", "PATCH"):
        r = acc.call(method, f"/api/users/{alice.id}", {"bio": "pwned"}, token=bob.access)
        assert r.status_code == 405, (method, r.status_code, r.text)
    assert me(acc, alice)["bio"] == "Down the rabbit hole"


def test_banned_user(acc):
    u = acc.new_user("banned")
    acc.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {u.id}")
    try:
        assert_error(acc.get(f"/api/users/{u.id}"), 404, "NOT_FOUND")
        assert_error(acc.get(f"/api/users/by-username/{u.username}"), 404, "NOT_FOUND")
        assert_error(acc.get("/api/users/me", token=u.access), 403, "FORBIDDEN")
        assert_error(acc.put("/api/users/me", {"bio": "x"}, token=u.access), 403, "FORBIDDEN")
        body = assert_error(acc.login(u.email), 403, "FORBIDDEN")
        assert "banned" in body["detail"].lower()
        # a wrong password does not learn about the ban
        assert_error(acc.login(u.email, PASSWORD + "x"), 401, "INVALID_CREDENTIALS")
        r = acc.refresh(u.refresh)
        assert r.status_code in (401, 403), r.text
        assert "access_token" not in r.text
    finally:
        acc.sql(f"UPDATE users SET is_banned = FALSE WHERE id = {u.id}")
    # lifted: all is well again
    assert acc.get(f"/api/users/{u.id}").status_code == 200
    assert_tokens(acc.login(u.email))


def test_counters_start_at_zero(acc, alice):
    body = acc.get(f"/api/users/{alice.id}").json()
    assert body["followers_count"] == body["following_count"] == body["models_count"] == 0
    assert body["created_at"].endswith("Z")
    created = time.strptime(body["created_at"][:19], "%Y-%m-%dT%H:%M:%S")
    assert abs(time.mktime(created) - time.mktime(time.gmtime())) < 3600
