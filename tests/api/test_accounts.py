"""Accounts: register, email verification, login, refresh rotation, logout,
password resets, the admin login with its mailed code, and the auth rate
limits.

Every server here is private and mails through an aiosmtpd sink
(test_mail.MailSink); codes and links are read from the mails."""
import concurrent.futures
import statistics
import time
import uuid

import pytest

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, assert_error
from test_mail import (ADMIN_CODE_SUBJECT, ENGINES, FRONTEND_URL, PASSWORD, RESET_SUBJECT, VERIFY_SUBJECT,
                       WELCOME_SUBJECT, accounts_env, assert_tokens, jwt_decode, new_identity, refresh_cookie,
                       truthy, wrong_code)

EVIL = "http://evil.example"


@pytest.fixture(scope="module", params=ENGINES)
def acc(request):
    with accounts_env(request.param, "accounts") as a:
        yield a


@pytest.fixture(scope="module")
def verified(acc):
    """A verified user shared by tests that do not change it."""
    return acc.new_user("shared")


def no_new_mail(acc, to, before, kind=None):
    """No outbox row for `to` since `before` (rows are written in the
    request, so this is immediate), and nothing reached the sink."""
    assert acc.outbox_count(to, kind) == before, acc.sql(
        f"SELECT kind, subject FROM mail_outbox WHERE to_addr = '{to}'")
    time.sleep(0.3)
    subject = {"verify_email": VERIFY_SUBJECT, "admin_otp": ADMIN_CODE_SUBJECT,
               "password_reset": RESET_SUBJECT, "admin_password_reset": RESET_SUBJECT}.get(kind, "")
    assert len(acc.sink.mails(to, subject)) <= before


# ---------------------------------------------------------------- register

def test_register_creates_an_unverified_account(acc):
    e, u = new_identity("reg")
    r, _, _ = acc.register("  " + e.upper() + "  ", u.upper(), user_type="creator", full_name="Ada Lovelace")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"user", "message"}, body
    assert isinstance(body["message"], str) and body["message"]
    user = body["user"]
    assert user["email"] == e
    assert user["username"] == u
    assert user["user_type"] == "creator"
    assert user["full_name"] == "Ada Lovelace"
    assert user["is_email_verified"] is False
    assert user["role"] == "user"
    assert user["is_verified"] is False
    assert isinstance(user["id"], int)
    assert not {"password", "password_hash"} & set(user)
    row = acc.sql(f"SELECT email, username, role, is_email_verified, password_hash FROM users WHERE id = {user['id']}")
    assert row[0][:3] == (e, u, "user") and not truthy(row[0][3])
    assert row[0][4].startswith("$argon2"), "the password is stored as an argon2 hash"
    m = acc.wait_mail(e, VERIFY_SUBJECT)
    assert len(m.code) == 6 and m.code in m.html and m.code in m.text


@pytest.mark.parametrize("variant", ["upper", "spaces", "mixed"])
def test_register_duplicate_email_any_case(acc, verified, variant):
    e = {"upper": verified.email.upper(), "spaces": f"  {verified.email}  ",
         "mixed": verified.email.capitalize()}[variant]
    r, _, _ = acc.register(e, new_identity()[1])
    assert_error(r, 409, "EMAIL_ALREADY_EXISTS", "email")
    assert int(acc.scalar(f"SELECT COUNT(*) FROM users WHERE email_normalized = '{verified.email}'")) == 1


def test_register_duplicate_username_case_insensitive(acc, verified):
    r, _, _ = acc.register(new_identity()[0], verified.username.upper())
    assert_error(r, 409, "CONFLICT", "username")


@pytest.mark.parametrize("password", ["a" * 8 + "bcd", "x" * 129, "password1234", "PASSWORD1234",
                                      "é" * 11], ids=["11", "129", "common", "common-upper", "11-multibyte"])
def test_register_refuses_bad_passwords(acc, password):
    e, u = new_identity()
    r, _, _ = acc.register(e, u, password)
    assert_error(r, 422, "VALIDATION_ERROR", "password")
    assert not acc.sql(f"SELECT id FROM users WHERE email_normalized = '{e}'")


def test_register_password_length_bounds_are_inclusive(acc):
    """12 and 128 characters are fine (12 two-byte characters count as 12)."""
    for pw in ("x1" * 6, "y" * 128, "é" * 12):
        r, e, _ = acc.register(password=pw)
        assert r.status_code == 201, (pw, r.text)
        code = acc.verification_code(e)
        assert_tokens(acc.verify(e, code))
        assert_tokens(acc.login(e, pw))


@pytest.mark.parametrize("username", ["ab", "has space", "a" * 31, "dash-name", "ümlaut"])
@pytest.mark.parametrize("user_type", [None, "admin"], ids=["no-type", "admin-type"])
def test_register_lists_every_bad_field(acc, username, user_type):
    body = {"email": "not-an-email", "password": "short", "username": username}
    if user_type is not None:
        body["user_type"] = user_type
    r = acc.post("/api/auth/register", body)
    err = assert_error(r, 422, "VALIDATION_ERROR")
    assert set(err["field_errors"]) == {"email", "password", "username", "user_type"}, err


@pytest.mark.parametrize("email_addr", ["plain", "a@b", "a@@b.com", "two words@example.com", "@example.com",
                                        "x@example..com", "a" * 250 + "@example.com", "a<b>@example.com",
                                        "line@exa\r\nmple.com"])
def test_register_bad_email(acc, email_addr):
    r, _, _ = acc.register(email_addr, new_identity()[1])
    assert_error(r, 422, "VALIDATION_ERROR", "email")


def test_register_ignores_mass_assignment(acc):
    e, u = new_identity("mass")
    r, _, _ = acc.register(e, u, role="admin", is_email_verified=True, is_verified=True, balance=1000,
                           balance_cents=100000, is_banned=True, followers_count=99, id=1)
    assert r.status_code == 201, r.text
    user = r.json()["user"]
    assert user["role"] == "user" and user["is_email_verified"] is False and user["is_verified"] is False
    assert user["followers_count"] == 0 and user["id"] != 1
    row = acc.sql("SELECT role, is_email_verified, is_verified, balance_cents, is_banned, followers_count"
                  f" FROM users WHERE id = {user['id']}")[0]
    assert row[0] == "user" and not truthy(row[1]) and not truthy(row[2])
    assert row[3] == "0" and not truthy(row[4]) and row[5] == "0"
    assert_error(acc.login(e), 403, "EMAIL_NOT_VERIFIED")


def _parallel(n, fn):
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return list(ex.map(fn, range(n)))


def test_register_race_on_a_username(acc):
    """Parallel sign-ups for one username (the checks run before the slow
    password hash, so most of them lose the race at the INSERT): one 201,
    every other answer the taken-username 409 with field_errors.username."""
    _, name = new_identity("race")
    rs = _parallel(6, lambda i: acc.register(f"race{i}_{name}@example.com", name)[0])
    assert sorted(r.status_code for r in rs) == [201] + [409] * 5, [r.text for r in rs]
    for r in rs:
        if r.status_code == 409:
            assert_error(r, 409, "CONFLICT", "username")
    assert acc.scalar(f"SELECT COUNT(*) FROM users WHERE username_lower = '{name}'") == "1"


def test_register_race_on_an_email(acc):
    e, name = new_identity("race")
    rs = _parallel(6, lambda i: acc.register(e, f"{name}_{i}")[0])
    assert sorted(r.status_code for r in rs) == [201] + [409] * 5, [r.text for r in rs]
    for r in rs:
        if r.status_code == 409:
            assert_error(r, 409, "EMAIL_ALREADY_EXISTS", "email")
    assert acc.scalar(f"SELECT COUNT(*) FROM users WHERE email_normalized = '{e}'") == "1"


def test_password_is_not_trimmed(acc):
    pw = "  spaces around the passphrase  "
    r, e, _ = acc.register(password=pw)
    assert r.status_code == 201, r.text
    assert_tokens(acc.verify(e, acc.verification_code(e)))
    assert_error(acc.login(e, pw.strip()), 401, "INVALID_CREDENTIALS")
    assert_tokens(acc.login(e, pw))


# ---------------------------------------------------------------- login

def test_login_before_verification(acc):
    p = acc.new_pending_user()
    assert_error(acc.login(p.email), 403, "EMAIL_NOT_VERIFIED")
    # without the password nobody learns the account is unverified
    assert_error(acc.login(p.email, PASSWORD + "x"), 401, "INVALID_CREDENTIALS")


def test_wrong_password_and_unknown_email_answer_the_same(acc, verified):
    wrong = acc.login(verified.email, PASSWORD + "-wrong")
    unknown = acc.login(new_identity()[0], PASSWORD)
    b1 = assert_error(wrong, 401, "INVALID_CREDENTIALS")
    b2 = assert_error(unknown, 401, "INVALID_CREDENTIALS")
    strip = ("request_id",)
    assert {k: v for k, v in b1.items() if k not in strip} == {k: v for k, v in b2.items() if k not in strip}
    assert "field_errors" not in b1
    assert refresh_cookie(wrong)[0] in (None, "") and refresh_cookie(unknown)[0] in (None, "")


def test_login_takes_as_long_for_unknown_emails(acc, verified):
    """argon2 runs on both paths: medians within a factor of 3."""
    def timed(email_addr):
        t = time.perf_counter()
        r = acc.login(email_addr, "Wrong-password-123")
        dt = time.perf_counter() - t
        assert r.status_code == 401, r.text
        return dt
    timed(verified.email)  # warm up the connection path
    wrong, unknown = [], []
    for _ in range(5):
        wrong.append(timed(verified.email))
        unknown.append(timed(new_identity()[0]))
    w, u = statistics.median(wrong), statistics.median(unknown)
    assert w / 3 <= u <= w * 3, f"wrong password {w:.3f}s vs unknown email {u:.3f}s"


def test_login_validation(acc):
    err = assert_error(acc.post("/api/auth/login", {}), 422, "VALIDATION_ERROR")
    assert {"email", "password"} <= set(err["field_errors"])


# ---------------------------------------------------------------- verify-email

def test_wrong_code_is_422(acc):
    p = acc.new_pending_user()
    bodies = []
    for code in (wrong_code(p.code), "abcdef", "12345", "1234567"):
        bodies.append(assert_error(acc.verify(p.email, code), 422, "VALIDATION_ERROR", "code"))
    assert_tokens(acc.verify(p.email, p.code))
    # an unknown address answers exactly like a wrong code
    unknown = assert_error(acc.verify(new_identity()[0], "123456"), 422, "VALIDATION_ERROR", "code")
    assert unknown == bodies[0]


def test_five_wrong_tries_burn_the_code(acc):
    p = acc.new_pending_user()
    for _ in range(5):
        assert_error(acc.verify(p.email, wrong_code(p.code)), 422, "VALIDATION_ERROR", "code")
    assert_error(acc.verify(p.email, p.code), 422, "VALIDATION_ERROR", "code")
    assert not truthy(acc.scalar(f"SELECT is_email_verified FROM users WHERE id = {p.id}"))
    # a fresh code gets the account out
    assert acc.post("/api/auth/resend-verification", {"email": p.email}).status_code == 200
    assert_tokens(acc.verify(p.email, acc.verification_code(p.email)))


def test_right_code_signs_in(acc):
    p = acc.new_pending_user(full_name="Grace Hopper")
    r = acc.verify(p.email.upper(), p.code)
    access, cookie, user = assert_tokens(r)
    _, attrs = refresh_cookie(r)
    assert 7 * 86400 - 60 <= int(attrs["max-age"]) <= 7 * 86400, attrs
    assert "secure" not in attrs, "Secure is only for https deployments"
    assert user["id"] == p.id and user["is_email_verified"] is True and user["email"] == p.email
    me = acc.get("/api/users/me", token=access)
    assert me.status_code == 200 and me.json()["is_email_verified"] is True
    m = acc.wait_mail(p.email, WELCOME_SUBJECT)
    assert "Grace Hopper" in m.text
    # the code is spent, and a verified account has nothing to verify
    assert_error(acc.verify(p.email, p.code), 422, "VALIDATION_ERROR", "code")
    assert_tokens(acc.refresh(cookie))


def test_parallel_wrong_codes_cannot_share_a_try(acc):
    """Ten wrong guesses at once still burn the code after five."""
    p = acc.new_pending_user()
    rs = _parallel(10, lambda i: acc.verify(p.email, wrong_code(p.code)))
    for r in rs:
        assert_error(r, 422, "VALIDATION_ERROR", "code")
    assert_error(acc.verify(p.email, p.code), 422, "VALIDATION_ERROR", "code")


def test_expired_code_is_refused(acc):
    p = acc.new_pending_user()
    acc.sql(f"UPDATE email_codes SET expires_at = {int(time.time() * 1000) - 1000} WHERE user_id = {p.id}")
    assert_error(acc.verify(p.email, p.code), 422, "VALIDATION_ERROR", "code")


def test_code_lives_ten_minutes(acc):
    p = acc.new_pending_user()
    exp, created = acc.sql(f"SELECT expires_at, created_at FROM email_codes WHERE user_id = {p.id}"
                           " AND purpose = 'verify_email'")[0]
    assert int(exp) - int(created) == 10 * 60 * 1000


def test_resend_replaces_the_code(acc):
    p = acc.new_pending_user()
    r = acc.post("/api/auth/resend-verification", {"email": p.email})
    assert r.status_code == 200, r.text
    new = acc.verification_code(p.email)
    if new == p.code:  # one chance in a million: ask again
        acc.post("/api/auth/resend-verification", {"email": p.email})
        new = acc.verification_code(p.email)
    assert_error(acc.verify(p.email, p.code), 422, "VALIDATION_ERROR", "code")
    assert_tokens(acc.verify(p.email, new))


def test_resend_answers_the_same_for_everyone(acc, verified):
    p = acc.new_pending_user()
    unknown = new_identity()[0]
    before_verified = acc.outbox_count(verified.email, "verify_email")
    answers = [acc.post("/api/auth/resend-verification", {"email": x}) for x in (p.email, unknown, verified.email)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    acc.verification_code(p.email)  # the unverified account got a new code
    no_new_mail(acc, unknown, 0)
    no_new_mail(acc, verified.email, before_verified, "verify_email")


def test_resend_validation(acc):
    assert_error(acc.post("/api/auth/resend-verification", {"email": "nope"}), 422, "VALIDATION_ERROR", "email")


# ---------------------------------------------------------------- tokens

def test_login_after_verification_gives_a_jwt(acc, verified):
    r = acc.login("  " + verified.email.upper())
    access, cookie, user = assert_tokens(r)
    assert user["id"] == verified.id and user["email"] == verified.email
    hdr, claims = jwt_decode(access)
    assert hdr["alg"] == "HS256"
    assert {"sub", "role", "iat", "exp"} <= set(claims), claims
    assert str(claims["sub"]) == str(verified.id)
    assert claims["role"] == "user"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60
    me = acc.get("/api/users/me", token=access)
    assert me.status_code == 200 and me.json()["id"] == verified.id
    assert acc.get("/api/users/me").status_code == 401


def test_refresh_rotates_the_cookie(acc, verified):
    _, c1, _ = assert_tokens(acc.login(verified.email))
    access, c2, user = assert_tokens(acc.refresh(c1))
    assert c2 != c1
    assert user["id"] == verified.id
    assert acc.get("/api/users/me", token=access).status_code == 200
    _, c3, _ = assert_tokens(acc.refresh(c2))
    assert c3 not in (c1, c2)
    # a rotated family keeps its original end: Max-Age does not grow
    r = acc.refresh(c3)
    _, attrs = refresh_cookie(r)
    assert int(attrs["max-age"]) <= 7 * 86400


def test_refresh_reuse_revokes_the_family(acc, verified):
    _, c1, _ = assert_tokens(acc.login(verified.email))
    _, other, _ = assert_tokens(acc.login(verified.email))  # a second session
    _, c2, _ = assert_tokens(acc.refresh(c1))
    # replayed after the 10 s reuse interval (tests/api/test_abuse.py covers
    # a replay within it)
    acc.sql("UPDATE refresh_tokens SET replaced_at = replaced_at - 11000"
            f" WHERE user_id = {verified.id} AND replaced_at IS NOT NULL")
    r = acc.refresh(c1)
    assert_error(r, 401, "UNAUTHORIZED")
    value, attrs = refresh_cookie(r)
    assert value == "" and attrs.get("max-age") == "0", "a refused refresh clears the cookie"
    assert_error(acc.refresh(c2), 401, "UNAUTHORIZED")  # the thief's copy dies too
    _, other2, _ = assert_tokens(acc.refresh(other))  # the other session lives on
    assert_tokens(acc.refresh(other2))


def test_refresh_family_ends_after_seven_days(acc, verified):
    _, c1, _ = assert_tokens(acc.login(verified.email))
    _, c2, _ = assert_tokens(acc.refresh(c1))
    fam = acc.sql("SELECT family, family_expires_at, created_at FROM refresh_tokens"
                  f" WHERE user_id = {verified.id} ORDER BY id DESC LIMIT 1")[0]
    assert 0 <= int(fam[1]) - int(fam[2]) <= 7 * 86400 * 1000
    acc.sql(f"UPDATE refresh_tokens SET family_expires_at = {int(time.time() * 1000) - 1000}"
            f" WHERE family = '{fam[0]}'")
    assert_error(acc.refresh(c2), 401, "UNAUTHORIZED")


def test_refresh_expired_token_is_refused(acc, verified):
    _, c1, _ = assert_tokens(acc.login(verified.email))
    acc.sql(f"UPDATE refresh_tokens SET expires_at = {int(time.time() * 1000) - 1000}"
            f" WHERE user_id = {verified.id} AND replaced_at IS NULL AND revoked_at IS NULL")
    assert_error(acc.refresh(c1), 401, "UNAUTHORIZED")


def test_refresh_origin_check(acc, verified):
    _, c1, _ = assert_tokens(acc.login(verified.email))
    assert_error(acc.refresh(c1, origin=EVIL), 403, "FORBIDDEN")
    # refused before the token was touched: it still works from the front end
    r = acc.refresh(c1, origin=FRONTEND_URL)
    assert_tokens(r)
    assert r.headers.get("Access-Control-Allow-Origin") == FRONTEND_URL
    assert r.headers.get("Access-Control-Allow-Credentials") == "true"
    # this server as the browser addressed it is same-origin, whatever PUBLIC_URL
    # says (a page opened at 127.0.0.1 instead of localhost); a look-alike is not
    c2 = refresh_cookie(r)[0]
    host = acc.url.split("://", 1)[1]
    assert_error(acc.refresh(c2, origin="http://" + host + ".evil.example"), 403, "FORBIDDEN")
    assert_error(acc.refresh(c2, origin="http://evil.example/" + host), 403, "FORBIDDEN")
    assert_error(acc.refresh(c2, origin="ftp://" + host), 403, "FORBIDDEN")
    r = acc.refresh(c2, origin="http://" + host)
    assert_tokens(r)
    assert r.headers.get("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("cookie", [None, "", "garbage", "x" * 200])
def test_refresh_without_a_valid_cookie(acc, cookie):
    assert_error(acc.refresh(cookie), 401, "UNAUTHORIZED")


def test_logout(acc, verified):
    _, c1, _ = assert_tokens(acc.login(verified.email))
    assert_error(acc.post("/api/auth/logout", cookie=c1, origin=EVIL), 403, "FORBIDDEN")
    r = acc.post("/api/auth/logout", cookie=c1, origin=FRONTEND_URL)
    assert r.status_code == 200, r.text
    value, attrs = refresh_cookie(r)
    assert value == "" and attrs.get("max-age") == "0" and attrs.get("path") == "/api/auth", (value, attrs)
    assert_error(acc.refresh(c1), 401, "UNAUTHORIZED")
    # without a cookie logout still answers 200 and clears it
    r = acc.post("/api/auth/logout")
    assert r.status_code == 200 and refresh_cookie(r)[1].get("max-age") == "0"


def test_logout_ends_the_rotated_family(acc, verified):
    _, c1, _ = assert_tokens(acc.login(verified.email))
    _, c2, _ = assert_tokens(acc.refresh(c1))
    assert acc.post("/api/auth/logout", cookie=c2).status_code == 200
    assert_error(acc.refresh(c2), 401, "UNAUTHORIZED")
    rows = acc.sql("SELECT COUNT(*) FROM refresh_tokens WHERE revoked_at IS NULL AND family ="
                   f" (SELECT family FROM refresh_tokens WHERE id = (SELECT MAX(id) FROM refresh_tokens"
                   f" WHERE user_id = {verified.id}))")
    assert rows == [("0",)]


# ---------------------------------------------------------------- password reset

def test_forgot_password_answers_the_same(acc, verified):
    unknown = new_identity()[0]
    r1 = acc.post("/api/auth/forgot-password", {"email": unknown})
    r2 = acc.post("/api/auth/forgot-password", {"email": verified.email.upper()})
    assert r1.status_code == r2.status_code == 200
    assert r1.json() == r2.json()
    m = acc.wait_mail(verified.email, RESET_SUBJECT)
    token = m.link_token("/auth/reset-password")
    assert token in m.html
    no_new_mail(acc, unknown, 0)
    row = acc.sql(f"SELECT expires_at - created_at, for_admin FROM password_resets WHERE user_id = {verified.id}"
                  " ORDER BY id DESC LIMIT 1")[0]
    assert int(row[0]) == 30 * 60 * 1000 and not truthy(row[1])


def _reset_link(acc, user, admin=False):
    prefix = "/api/auth/admin" if admin else "/api/auth"
    assert acc.post(prefix + "/forgot-password", {"email": user.email}).status_code == 200
    m = acc.wait_mail(user.email, RESET_SUBJECT)
    return m.link_token("/admin/reset-password" if admin else "/auth/reset-password")


def test_reset_password_ends_every_session(acc):
    user = acc.new_user("reset")
    a2, c2, _ = assert_tokens(acc.login(user.email))
    token = _reset_link(acc, user)
    new_pw = "A-brand-new-passphrase-7"
    r = acc.post("/api/auth/reset-password", {"token": token, "new_password": new_pw})
    assert r.status_code == 200, r.text
    assert_error(acc.login(user.email), 401, "INVALID_CREDENTIALS")
    assert_error(acc.refresh(user.refresh), 401, "UNAUTHORIZED")
    assert_error(acc.refresh(c2), 401, "UNAUTHORIZED")
    assert_error(acc.get("/api/users/me", token=user.access), 401, "UNAUTHORIZED")
    assert_error(acc.get("/api/users/me", token=a2), 401, "UNAUTHORIZED")
    access, _, _ = assert_tokens(acc.login(user.email, new_pw))
    assert acc.get("/api/users/me", token=access).status_code == 200
    # single use
    r = acc.post("/api/auth/reset-password", {"token": token, "new_password": "Yet-another-passphrase-8"})
    assert_error(r, 422, "VALIDATION_ERROR", "token")
    assert_tokens(acc.login(user.email, new_pw))


def test_reset_token_expires(acc, verified):
    token = _reset_link(acc, verified)
    acc.sql(f"UPDATE password_resets SET expires_at = {int(time.time() * 1000) - 1000}"
            f" WHERE user_id = {verified.id}")
    r = acc.post("/api/auth/reset-password", {"token": token, "new_password": "Never-applied-passphrase"})
    assert_error(r, 422, "VALIDATION_ERROR", "token")
    assert_tokens(acc.login(verified.email))


def test_reset_needs_a_strong_password_and_keeps_the_token(acc):
    user = acc.new_user("weakreset")
    token = _reset_link(acc, user)
    for weak in ("short", "password1234", "z" * 129):
        r = acc.post("/api/auth/reset-password", {"token": token, "new_password": weak})
        assert_error(r, 422, "VALIDATION_ERROR", "new_password")
    assert acc.post("/api/auth/reset-password", {"token": token, "new_password": "Strong-enough-passphrase"}
                    ).status_code == 200


def test_user_reset_token_is_refused_by_the_admin_endpoint(acc):
    user = acc.new_user("crossreset")
    token = _reset_link(acc, user)
    r = acc.post("/api/auth/admin/reset-password", {"token": token, "new_password": "Admin-side-passphrase"})
    assert_error(r, 422, "VALIDATION_ERROR", "token")
    assert_tokens(acc.login(user.email))  # nothing changed
    assert acc.post("/api/auth/reset-password", {"token": token, "new_password": "User-side-passphrase"}
                    ).status_code == 200


@pytest.mark.parametrize("token", ["", "nope", "A" * 43])
def test_reset_with_a_bogus_token(acc, token):
    r = acc.post("/api/auth/reset-password", {"token": token, "new_password": "Valid-new-passphrase"})
    assert_error(r, 422, "VALIDATION_ERROR", "token")


# ---------------------------------------------------------------- admin

def test_admin_login_mails_a_code_and_gives_an_admin_token(acc):
    r = acc.post("/api/auth/admin/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json().get("otp_required") is True
    assert "access_token" not in r.json() and refresh_cookie(r)[0] is None
    m = acc.wait_mail(ADMIN_EMAIL, ADMIN_CODE_SUBJECT)
    assert m.code in m.html
    r = acc.post("/api/auth/admin/verify-otp", {"email": ADMIN_EMAIL.upper(), "code": m.code})
    access, cookie, user = assert_tokens(r, role="admin")
    assert user["role"] == "admin"
    assert jwt_decode(access)[1]["role"] == "admin"
    assert acc.get("/api/admin/categories", token=access).status_code == 200
    # the refreshed token keeps the admin role
    access2, _, _ = assert_tokens(acc.refresh(cookie), role="admin")
    assert acc.get("/api/admin/categories", token=access2).status_code == 200
    # the code worked once
    r = acc.post("/api/auth/admin/verify-otp", {"email": ADMIN_EMAIL, "code": m.code})
    assert_error(r, 401, "INVALID_CREDENTIALS")


def test_admin_login_refuses_non_admins_like_wrong_passwords(acc, verified):
    before = acc.outbox_count(verified.email, "admin_otp")
    bodies = []
    for email_addr, pw in ((verified.email, PASSWORD), (ADMIN_EMAIL, ADMIN_PASSWORD + "x"),
                           (new_identity()[0], PASSWORD)):
        r = acc.post("/api/auth/admin/login", {"email": email_addr, "password": pw})
        b = assert_error(r, 401, "INVALID_CREDENTIALS")
        bodies.append({k: v for k, v in b.items() if k != "request_id"})
    assert bodies[0] == bodies[1] == bodies[2]
    no_new_mail(acc, verified.email, before, "admin_otp")
    # a normal user can not use the second step either
    r = acc.post("/api/auth/admin/verify-otp", {"email": verified.email, "code": "123456"})
    assert_error(r, 401, "INVALID_CREDENTIALS")


def test_admin_wrong_code_five_times_burns_it(acc):
    """(A fresh admin: after this, its tries are spent for 15 minutes, see
    test_abuse.py.)"""
    ae = f"burn_{uuid.uuid4().hex[:10]}@example.com"
    acc.create_admin(ae, ADMIN_PASSWORD)
    assert acc.post("/api/auth/admin/login", {"email": ae, "password": ADMIN_PASSWORD}).status_code == 200
    code = acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code
    for _ in range(5):
        r = acc.post("/api/auth/admin/verify-otp", {"email": ae, "code": wrong_code(code)})
        assert_error(r, 401, "INVALID_CREDENTIALS")
    r = acc.post("/api/auth/admin/verify-otp", {"email": ae, "code": code})
    assert_error(r, 401, "INVALID_CREDENTIALS")


def test_admin_through_the_user_login_is_a_user(acc):
    access, _, user = assert_tokens(acc.login(ADMIN_EMAIL, ADMIN_PASSWORD))
    assert jwt_decode(access)[1]["role"] == "user"
    assert_error(acc.get("/api/admin/categories", token=access), 403, "FORBIDDEN")
    assert acc.get("/api/users/me", token=access).status_code == 200


def test_admin_password_reset(acc):
    ae = f"admin_{uuid.uuid4().hex[:10]}@example.com"
    aid = acc.create_admin(ae, ADMIN_PASSWORD)  # through the CLI while the server runs
    admin = type("A", (), {"email": ae})
    a_access, a_cookie, _ = acc.admin_session(ae)
    token = _reset_link(acc, admin, admin=True)
    # an admin link does not work on the user endpoint
    r = acc.post("/api/auth/reset-password", {"token": token, "new_password": "Not-this-way-passphrase"})
    assert_error(r, 422, "VALIDATION_ERROR", "token")
    new_pw = "Admin-new-passphrase-99"
    r = acc.post("/api/auth/admin/reset-password", {"token": token, "new_password": new_pw})
    assert r.status_code == 200, r.text
    assert_error(acc.get("/api/admin/categories", token=a_access), 401, "UNAUTHORIZED")
    assert_error(acc.refresh(a_cookie), 401, "UNAUTHORIZED")
    assert_error(acc.post("/api/auth/admin/login", {"email": ae, "password": ADMIN_PASSWORD}),
                 401, "INVALID_CREDENTIALS")
    access, _, user = acc.admin_session(ae, new_pw)
    assert user["id"] == aid
    assert acc.get("/api/admin/categories", token=access).status_code == 200
    r = acc.post("/api/auth/admin/reset-password", {"token": token, "new_password": "Second-use-passphrase"})
    assert_error(r, 422, "VALIDATION_ERROR", "token")


def test_demoted_admin_refreshes_into_a_user_session(acc):
    ae = f"demoted_{uuid.uuid4().hex[:10]}@example.com"
    aid = acc.create_admin(ae, ADMIN_PASSWORD)
    _, cookie, _ = acc.admin_session(ae)
    acc.sql(f"UPDATE users SET role = 'user' WHERE id = {aid}")
    access, _, user = assert_tokens(acc.refresh(cookie), role="user")
    assert user["role"] == "user"
    assert_error(acc.get("/api/admin/categories", token=access), 403, "FORBIDDEN")


def test_admin_forgot_password_for_a_non_admin_sends_nothing(acc, verified):
    before = acc.outbox_count(verified.email)
    unknown = new_identity()[0]
    r1 = acc.post("/api/auth/admin/forgot-password", {"email": verified.email})
    r2 = acc.post("/api/auth/admin/forgot-password", {"email": unknown})
    assert r1.status_code == r2.status_code == 200 and r1.json() == r2.json()
    no_new_mail(acc, verified.email, before)
    assert not acc.sql(f"SELECT id FROM password_resets WHERE user_id = {verified.id} AND for_admin = TRUE")


# ---------------------------------------------------------------- rate limits

@pytest.fixture(scope="module", params=ENGINES)
def limited(request):
    """Default auth limit (5/minute per IP): only the login test uses it."""
    with accounts_env(request.param, "accounts-limited", env={"RATE_LIMIT_ENABLED": "true"}, admins=()) as a:
        yield a


@pytest.fixture(scope="module", params=ENGINES)
def throttled(request):
    """Rate limits on, with a per-IP auth budget large enough to leave the
    per-account throttle alone in the way."""
    env = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_AUTH": "100/minute"}
    with accounts_env(request.param, "accounts-throttled", env=env, admins=()) as a:
        yield a


def test_sixth_login_in_a_minute_is_429(limited):
    for i in range(5):
        r = limited.login(new_identity()[0])
        assert r.status_code == 401, (i, r.text)
    r = limited.login(new_identity()[0])
    body = assert_error(r, 429, "RATE_LIMIT_EXCEEDED")
    assert isinstance(body.get("retry_after"), int) and 1 <= body["retry_after"] <= 60, body
    assert r.headers.get("Retry-After") == str(body["retry_after"])
    # the whole auth class shares the budget; other classes do not
    assert_error(limited.post("/api/auth/forgot-password", {"email": new_identity()[0]}), 429,
                 "RATE_LIMIT_EXCEEDED")
    assert_error(limited.get("/api/users/999999"), 404, "NOT_FOUND")


def test_fourth_resend_in_fifteen_minutes_sends_nothing(throttled):
    """3 resends per address per 15 minutes; the 4th still answers 200 but
    mails nothing.  Another address keeps its own budget."""
    p = throttled.new_pending_user("throttle")
    answers, code = [], None
    for i in range(4):
        answers.append(throttled.post("/api/auth/resend-verification", {"email": p.email}))
        if i < 3:
            code = throttled.verification_code(p.email)
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[3].json() == answers[0].json()
    assert throttled.outbox_count(p.email, "verify_email") == 4
    time.sleep(0.5)
    assert len(throttled.sink.mails(p.email, VERIFY_SUBJECT)) == 4
    # another address has a budget of its own
    other = throttled.new_pending_user("throttle2")
    assert throttled.post("/api/auth/resend-verification", {"email": other.email}).status_code == 200
    throttled.verification_code(other.email)
    # the 4th resend issued no code: the last mailed one still works
    assert_tokens(throttled.verify(p.email, code))


def test_fourth_reset_mail_in_fifteen_minutes_sends_nothing(throttled):
    user = throttled.new_user("resetthrottle")
    for i in range(4):
        assert throttled.post("/api/auth/forgot-password", {"email": user.email}).status_code == 200
    assert throttled.outbox_count(user.email, "password_reset") == 3
