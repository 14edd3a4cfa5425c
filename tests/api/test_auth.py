"""Access tokens on protected routes: who gets 401, who gets 403.

Tokens are minted by hand (conftest.mint_token) with the server's secret, so
every malformed variant can be tried without a login endpoint."""
import time

import pytest

from conftest import assert_error, bearer, mint_token, uniq

ADMIN_ROUTES = [
    ("GET", "/api/admin/categories", None),
    ("POST", "/api/admin/categories", {"name": "never-created"}),
    ("GET", "/api/admin/categories/1", None),
    ("PUT", "/api/admin/categories/1", {"name": "never-renamed"}),
    ("DELETE", "/api/admin/categories/1", None),
]


def call(server, method, path, body, headers):
    kw = {"headers": headers}
    if body is not None:
        kw["json"] = body
    return server.request(method, path, **kw)


def assert_untouched(server):
    """No admin write slipped through: category 1 is still the demo one."""
    row = server.sql("SELECT name FROM categories WHERE id = 1")
    assert row and row[0][0] != "never-renamed"
    assert not server.sql("SELECT id FROM categories WHERE name = 'never-created'")


@pytest.mark.parametrize("method,path,body", ADMIN_ROUTES)
def test_no_token_is_401(server, method, path, body):
    r = call(server, method, path, body, {})
    assert_error(r, 401, "UNAUTHORIZED")
    assert_untouched(server)


@pytest.mark.parametrize("method,path,body", ADMIN_ROUTES)
def test_non_admin_user_is_403(server, method, path, body):
    r = call(server, method, path, body, server.user_headers(1))
    assert_error(r, 403, "FORBIDDEN")
    assert_untouched(server)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_demo_user_is_refused(server, n):
    assert_error(server.get("/api/admin/categories", headers=server.user_headers(n)), 403, "FORBIDDEN")


def test_admin_token_works(server):
    r = server.get("/api/admin/categories", headers=server.admin_headers())
    assert r.status_code == 200


def test_role_claim_does_not_make_an_admin(server):
    uid = server.user_id("demo2@example.com")
    r = server.get("/api/admin/categories", headers=bearer(server.token(uid, "admin")))
    assert_error(r, 403, "FORBIDDEN")
    r = server.post("/api/admin/categories", json={"name": uniq("Sneaky")},
                    headers=bearer(server.token(uid, "admin")))
    assert_error(r, 403, "FORBIDDEN")


def test_admin_needs_database_role_and_admin_token(server):
    """Admin rights need both the role in the database and a token whose role
    claim is "admin" (issued by the admin login with its second factor): an
    admin holding a normal user token acts as a user, and a demoted admin's
    admin token stops working at once."""
    uid = server.make_user(role="admin")
    assert server.get("/api/admin/categories", headers=bearer(server.token(uid, "admin"))).status_code == 200
    assert_error(server.get("/api/admin/categories", headers=bearer(server.token(uid, "user"))),
                 403, "FORBIDDEN")
    server.sql(f"UPDATE users SET role = 'user' WHERE id = {uid}")
    assert_error(server.get("/api/admin/categories", headers=bearer(server.token(uid, "admin"))),
                 403, "FORBIDDEN")


def _bad_tokens(server):
    admin_id = server.user_id("admin@example.com")
    s = server.secret
    good = mint_token(s, admin_id, "admin")
    h, p, sig = good.split(".")
    return {
        "alg_none": mint_token(s, admin_id, "admin", alg="none"),
        "alg_none_with_sig": mint_token(s, admin_id, "admin", header={"alg": "none", "typ": "JWT"},
                                        signature=sig),
        "alg_NONE_upper": mint_token(s, admin_id, "admin", header={"alg": "NONE", "typ": "JWT"}, signature=""),
        "hs512_right_key": mint_token(s, admin_id, "admin", alg="HS512"),
        "hs384_right_key": mint_token(s, admin_id, "admin", alg="HS384"),
        "missing_exp": mint_token(s, admin_id, "admin", exp_delta=None),
        "expired": mint_token(s, admin_id, "admin", exp_delta=-5),
        "exp_zero": mint_token(s, admin_id, "admin", claims={"exp": 0}),
        "exp_string": mint_token(s, admin_id, "admin", claims={"exp": str(int(time.time()) + 900)}),
        "empty_signature": mint_token(s, admin_id, "admin", signature=""),
        "wrong_key": mint_token(s, admin_id, "admin", key="another-secret-" + "x" * 40),
        "key_prefix": mint_token(s, admin_id, "admin", key=s[:32]),
        "tampered_payload": h + "." + mint_token(s, admin_id + 1000, "admin").split(".")[1] + "." + sig,
        "truncated_signature": good[:-3],
        "two_parts": h + "." + p,
        "four_parts": good + ".x",
        "garbage": "not-a-jwt",
        "garbage_dots": "...",
        "non_base64": "!!!.@@@.###",
        "sub_missing": mint_token(s, admin_id, "admin", drop=("sub",)),
        "sub_integer": mint_token(s, admin_id, "admin", claims={"sub": admin_id}),
        "sub_not_numeric": mint_token(s, "admin", "admin"),
        "sub_zero": mint_token(s, 0, "admin"),
        "sub_negative": mint_token(s, -admin_id, "admin"),
        "sub_trailing_junk": mint_token(s, f"{admin_id}abc", "admin"),
        "sub_overflow": mint_token(s, "9" * 30, "admin"),
        "nonexistent_user": mint_token(s, 987654321, "admin"),
        "huge_token": mint_token(s, admin_id, "admin", claims={"pad": "x" * 4000}),
    }


BAD_TOKEN_NAMES = ["alg_none", "alg_none_with_sig", "alg_NONE_upper", "hs512_right_key", "hs384_right_key",
                   "missing_exp", "expired", "exp_zero", "exp_string", "empty_signature", "wrong_key",
                   "key_prefix", "tampered_payload", "truncated_signature", "two_parts", "four_parts",
                   "garbage", "garbage_dots", "non_base64", "sub_missing", "sub_integer", "sub_not_numeric",
                   "sub_zero", "sub_negative", "sub_trailing_junk", "sub_overflow", "nonexistent_user",
                   "huge_token"]


@pytest.mark.parametrize("kind", BAD_TOKEN_NAMES)
def test_bad_token_is_401(server, kind):
    tok = _bad_tokens(server)[kind]
    r = server.get("/api/admin/categories", headers=bearer(tok))
    assert_error(r, 401, "UNAUTHORIZED")
    r = server.post("/api/admin/categories", json={"name": "never-created"}, headers=bearer(tok))
    assert_error(r, 401, "UNAUTHORIZED")
    assert_untouched(server)


@pytest.mark.parametrize("value", ["Basic YWRtaW46YWRtaW4=", "Token abc", "Bearer", "Bearer ", "bearer",
                                   "Bearerxyz", "Digest username=admin"])
def test_bad_authorization_header_is_401(server, value):
    r = server.get("/api/admin/categories", headers={"Authorization": value})
    assert_error(r, 401, "UNAUTHORIZED")


def test_basic_with_a_valid_token_is_401(server):
    tok = server.token(server.user_id("admin@example.com"), "admin")
    r = server.get("/api/admin/categories", headers={"Authorization": "Basic " + tok})
    assert_error(r, 401, "UNAUTHORIZED")


def test_bearer_scheme_is_case_insensitive(server):
    tok = server.token(server.user_id("admin@example.com"), "admin")
    r = server.get("/api/admin/categories", headers={"Authorization": "bearer " + tok})
    assert r.status_code == 200


def test_deleted_user_is_401(server):
    uid = server.make_user(role="admin")
    h = bearer(server.token(uid, "admin"))
    assert server.get("/api/admin/categories", headers=h).status_code == 200
    server.sql(f"UPDATE users SET deleted_at = {int(time.time() * 1000)} WHERE id = {uid}")
    assert_error(server.get("/api/admin/categories", headers=h), 401, "UNAUTHORIZED")
    assert_error(server.get("/api/admin/categories", headers=bearer(server.token(uid, "admin"))),
                 401, "UNAUTHORIZED")


def test_banned_user_is_403(server):
    uid = server.make_user(role="admin")
    h = bearer(server.token(uid, "admin"))
    assert server.get("/api/admin/categories", headers=h).status_code == 200
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {uid}")
    r = server.get("/api/admin/categories", headers=h)
    body = assert_error(r, 403, "FORBIDDEN")
    assert "banned" in body["detail"].lower()
    r = server.post("/api/admin/categories", json={"name": "never-created"}, headers=h)
    assert_error(r, 403, "FORBIDDEN")
    assert_untouched(server)
    server.sql(f"UPDATE users SET is_banned = FALSE WHERE id = {uid}")
    assert server.get("/api/admin/categories", headers=h).status_code == 200


def test_banned_non_admin_is_403_banned(server):
    uid = server.make_user()
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {uid}")
    body = assert_error(server.get("/api/admin/categories", headers=bearer(server.token(uid))), 403, "FORBIDDEN")
    assert "banned" in body["detail"].lower()


def test_tokens_valid_after_revokes_older_tokens(server):
    uid = server.make_user(role="admin")
    now_ms = int(time.time() * 1000)
    old = bearer(server.token(uid, "admin", ims=now_ms - 60000, iat=(now_ms - 60000) // 1000))
    assert server.get("/api/admin/categories", headers=old).status_code == 200
    server.sql(f"UPDATE users SET tokens_valid_after = {now_ms - 1000} WHERE id = {uid}")
    assert_error(server.get("/api/admin/categories", headers=old), 401, "UNAUTHORIZED")
    # a token issued after the cut-off works
    fresh = bearer(server.token(uid, "admin"))
    assert server.get("/api/admin/categories", headers=fresh).status_code == 200


def test_tokens_valid_after_is_compared_in_milliseconds(server):
    """Two tokens in the same second: the one from before the cut-off (by
    its ims) is refused, the one after is accepted."""
    uid = server.make_user(role="admin")
    cut = int(time.time() * 1000)
    server.sql(f"UPDATE users SET tokens_valid_after = {cut} WHERE id = {uid}")
    before = bearer(server.token(uid, "admin", ims=cut - 1, iat=cut // 1000))
    after = bearer(server.token(uid, "admin", ims=cut + 1, iat=cut // 1000))
    assert_error(server.get("/api/admin/categories", headers=before), 401, "UNAUTHORIZED")
    assert server.get("/api/admin/categories", headers=after).status_code == 200


def test_public_route_ignores_no_token(server):
    assert server.get("/api/categories").status_code == 200


def test_token_for_a_user_created_later_with_a_reused_id_is_rejected(server):
    """A token's user must exist: deleting the row makes the token useless."""
    uid = server.make_user(role="admin")
    h = bearer(server.token(uid, "admin"))
    assert server.get("/api/admin/categories", headers=h).status_code == 200
    server.sql(f"DELETE FROM users WHERE id = {uid}")
    assert_error(server.get("/api/admin/categories", headers=h), 401, "UNAUTHORIZED")


def test_401_does_not_leak_reason(server):
    """Every bad token gets the same answer, so a client cannot probe."""
    toks = _bad_tokens(server)
    details = {server.get("/api/admin/categories", headers=bearer(toks[k])).json()["detail"]
               for k in ("expired", "wrong_key", "nonexistent_user", "alg_none")}
    assert len(details) == 1
