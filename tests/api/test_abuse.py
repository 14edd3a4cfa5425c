"""Abuse limits and the settings around them (issue 8):

- bad settings: JWT_SECRET_KEY set but empty, CORS_ORIGINS with "*";
- every 503 carries Retry-After;
- failed sign-ins: per account and address prefix (IPv6 by /64) with a
  growing delay, a per-prefix budget across accounts, and a per-account soft
  cap that slows a distributed attack without locking the owner out;
- admin codes: one alive, mailed at most once a minute, 5 wrong codes per
  account per 15 minutes whatever new codes were sent;
- refresh and logout in their own rate-limit class;
- the refresh reuse interval (two tabs), and a database error while claiming
  a token is a 503, not a reuse;
- the Redis circuit breaker;
- who may read /metrics.

Servers here are private; addresses other than 127.0.0.1 come through
X-Forwarded-For with TRUSTED_PROXIES set to the loopback."""
import concurrent.futures
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests

from conftest import (ADMIN_PASSWORD, IS_CI, assert_error, base_env, finish_server, free_port, run_binary,
                      start_server)
from test_mail import (ADMIN_CODE_SUBJECT, ENGINES, accounts_env, assert_tokens, jwt_decode, refresh_cookie,
                       wrong_code)

LOGIN = "/api/auth/login"
PROXIED = {"TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}


def assert_429(r, max_retry=None):
    body = assert_error(r, 429, "RATE_LIMIT_EXCEEDED")
    ra = body.get("retry_after")
    assert isinstance(ra, int) and ra >= 1, body
    if max_retry is not None:
        assert ra <= max_retry, body
    assert r.headers.get("Retry-After") == str(ra), r.headers
    return ra


def new_email(prefix="a"):
    return f"{prefix}_{uuid.uuid4().hex[:10]}@example.com"


# ---------------------------------------------------------------- settings

@pytest.fixture
def tmpdir_():
    d = tempfile.mkdtemp(prefix="hwc3d-abuse-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _run(tmp, args, env):
    e = base_env(dict({"DATA_DIR": os.path.join(tmp, "data"), "JWT_SECRET_KEY": secrets.token_hex(32),
                       "PORT": str(free_port())}, **env))
    return run_binary(args, e, tmp, timeout=30)


def _one_line(p, name):
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert p.returncode == 2, f"exit {p.returncode}:\n{p.stdout}{p.stderr}"
    assert len(lines) == 1 and name in lines[0], p.stderr
    return lines[0]


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_jwt_secret_is_a_bad_setting(tmpdir_, value):
    """Set but empty is a mistake, not a request for a generated key."""
    p = _run(tmpdir_, ["serve"], {"JWT_SECRET_KEY": value})
    line = _one_line(p, "JWT_SECRET_KEY")
    assert "empty" in line
    assert not os.path.exists(os.path.join(tmpdir_, "data", "jwt_secret"))


def test_empty_jwt_secret_in_dotenv_is_a_bad_setting(tmpdir_):
    with open(os.path.join(tmpdir_, ".env"), "w") as f:
        f.write("JWT_SECRET_KEY=\n")
    p = _run(tmpdir_, ["serve"], {"JWT_SECRET_KEY": None})
    _one_line(p, "JWT_SECRET_KEY")
    assert not os.path.exists(os.path.join(tmpdir_, "data", "jwt_secret"))


@pytest.mark.parametrize("value", ["*", "http://localhost:3000, *", " * "])
def test_cors_wildcard_is_a_bad_setting(tmpdir_, value):
    p = _run(tmpdir_, ["migrate"], {"CORS_ORIGINS": value})
    _one_line(p, "CORS_ORIGINS")


@pytest.mark.parametrize("value", ["30", "0/minute", "x/hour"])
def test_bad_session_rate_is_a_bad_setting(tmpdir_, value):
    p = _run(tmpdir_, ["migrate"], {"RATE_LIMIT_SESSION": value})
    _one_line(p, "RATE_LIMIT_SESSION")


def test_refresh_and_logout_have_the_session_class(tmpdir_):
    p = _run(tmpdir_, ["routes"], {})
    assert p.returncode == 0, p.stderr
    classes = {(r["method"], r["path"]): r["rate_limit"] for r in json.loads(p.stdout)}
    assert classes[("POST", "/api/auth/refresh")] == "session"
    assert classes[("POST", "/api/auth/logout")] == "session"
    assert classes[("POST", "/api/auth/login")] == "auth"
    assert classes[("POST", "/api/auth/register")] == "auth"


# ---------------------------------------------------------------- 503

def test_every_503_has_retry_after(server):
    """A provider that is not configured answers 503, like a busy database:
    both carry Retry-After (added for every 503 in one place)."""
    r = server.get("/api/auth/oauth/discord/authorize-url",
                   params={"redirect_uri": "http://localhost:3000/auth/callback"})
    assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert r.headers.get("Retry-After", "").isdigit() and int(r.headers["Retry-After"]) >= 1, r.headers
    r = server.post("/api/auth/oauth/discord",
                    json={"code": "x", "redirect_uri": "http://localhost:3000/auth/callback"})
    assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert int(r.headers["Retry-After"]) >= 1
    # other errors do not get one
    assert "Retry-After" not in server.get("/api/no-such-thing").headers


def test_database_503s_have_retry_after():
    """The 503s of a database that is gone: the handler's (/readyz), the
    dispatcher's (no connection for the thread, or the user lookup failed)
    all carry Retry-After."""
    if not os.environ.get("TEST_PG_URL"):
        if IS_CI:
            pytest.fail("TEST_PG_URL is not set")
        pytest.skip("TEST_PG_URL is not set")
    from conftest import psql
    s = start_server("postgres", admins=(), seed=False, label="pg-gone-503")
    try:
        token = s.token(1, "admin")
        psql(s.pg.base, f"ALTER DATABASE {s.pg.name} WITH ALLOW_CONNECTIONS false")
        psql(s.pg.base, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{s.pg.name}'")
        try:
            for path, headers in (("/readyz", {}), ("/api/categories", {}),
                                  ("/api/admin/categories", {"Authorization": "Bearer " + token})):
                r = s.get(path, headers=headers)
                assert_error(r, 503, "SERVICE_UNAVAILABLE")
                assert r.headers.get("Retry-After", "").isdigit(), (path, r.headers)
        finally:
            psql(s.pg.base, f"ALTER DATABASE {s.pg.name} WITH ALLOW_CONNECTIONS true")
    finally:
        finish_server(s)


# ---------------------------------------------------------------- failed sign-ins

@pytest.fixture(scope="module", params=ENGINES)
def limits(request):
    """Rate limits on; the per-IP auth class is generous so that the
    failure budgets are what answers; X-Forwarded-For is believed."""
    env = dict(PROXIED, RATE_LIMIT_ENABLED="true", RATE_LIMIT_AUTH="100000/minute")
    with accounts_env(request.param, "abuse-limits", env=env, admins=()) as a:
        yield a


def login_from(acc, ip, email, password):
    return acc.post(LOGIN, {"email": email, "password": password}, headers={"X-Forwarded-For": ip})


def test_failures_per_account_and_address_slow_the_attacker_not_the_owner(limits):
    acc = limits
    victim = new_email("victim")
    acc.create_admin(victim, ADMIN_PASSWORD)
    attacker = "203.0.113.10"
    for i in range(5):
        assert_error(login_from(acc, attacker, victim, f"wrong-password-{i}"), 401, "INVALID_CREDENTIALS")
    assert_429(login_from(acc, attacker, victim, "wrong-password-x"), max_retry=60)
    # even the right password waits, from that address
    assert_429(login_from(acc, attacker, victim, ADMIN_PASSWORD), max_retry=60)
    # the owner, elsewhere, is not locked out
    assert_tokens(login_from(acc, "198.51.100.20", victim, ADMIN_PASSWORD))
    # the attacker's address may still try another account (its own budget)
    assert_error(login_from(acc, attacker, new_email("nobody"), "whatever-password"), 401, "INVALID_CREDENTIALS")
    # an unknown address is throttled exactly like a real one
    ghost = new_email("ghost")
    for i in range(5):
        assert_error(login_from(acc, attacker, ghost, "pw"), 401, "INVALID_CREDENTIALS")
    assert_429(login_from(acc, attacker, ghost, "pw"), max_retry=60)


def test_ipv6_failures_are_keyed_by_the_64(limits):
    acc = limits
    victim = new_email("v6")
    acc.create_admin(victim, ADMIN_PASSWORD)
    for i in range(5):
        ip = f"2001:db8:1:2::{i + 1:x}"
        assert_error(login_from(acc, ip, victim, "wrong"), 401, "INVALID_CREDENTIALS")
    # another address in the same /64 shares the budget
    assert_429(login_from(acc, "2001:db8:1:2:ffff:ffff:ffff:fff0", victim, "wrong"), max_retry=60)
    assert_429(login_from(acc, "2001:db8:1:2::77", victim, ADMIN_PASSWORD), max_retry=60)
    # the next /64 does not
    assert_tokens(login_from(acc, "2001:db8:1:3::1", victim, ADMIN_PASSWORD))


def test_success_ends_a_run_of_failures(limits):
    """(The growing delay over 1 minute, 15 minutes and an hour runs on a
    fake clock in tests/unit/test_abuse.c.)"""
    acc = limits
    user = new_email("typo")
    acc.create_admin(user, ADMIN_PASSWORD)
    ip = "192.0.2.44"
    for _ in range(3):
        for _ in range(4):
            assert_error(login_from(acc, ip, user, "typo"), 401, "INVALID_CREDENTIALS")
        assert_tokens(login_from(acc, ip, user, ADMIN_PASSWORD))


def test_per_address_budget_across_accounts(limits):
    """Credential stuffing from one address: 20 failures per 15 minutes
    across accounts, then every sign-in from it waits."""
    acc = limits
    ip = "203.0.113.77"
    for i in range(20):
        assert_error(login_from(acc, ip, new_email("stuff"), "guess"), 401, "INVALID_CREDENTIALS")
    ra = assert_429(login_from(acc, ip, new_email("stuff"), "guess"))
    assert 60 < ra <= 15 * 60
    # another address is not affected
    assert_error(login_from(acc, "203.0.113.78", new_email("stuff"), "guess"), 401, "INVALID_CREDENTIALS")


def test_distributed_attack_hits_a_soft_cap_but_the_owner_gets_in(limits):
    """50 failures for one account from 50 addresses: past this soft cap
    each address gets one failure per 10 minutes for that account, while
    the owner from a fresh address signs in at the first try."""
    acc = limits
    victim = new_email("botnet")
    acc.create_admin(victim, ADMIN_PASSWORD)
    for i in range(50):
        r = login_from(acc, f"10.66.{i // 200}.{i % 200 + 1}", victim, f"guess-{i}")
        assert_error(r, 401, "INVALID_CREDENTIALS")
    # an address that already failed waits now
    ra = assert_429(login_from(acc, "10.66.0.1", victim, "guess-again"))
    assert 60 < ra <= 600
    # a fresh address gets one try: wrong, then it waits
    assert_error(login_from(acc, "10.77.0.1", victim, "guess-new"), 401, "INVALID_CREDENTIALS")
    assert_429(login_from(acc, "10.77.0.1", victim, "guess-new-2"))
    # the owner, from their own address, gets in at once
    assert_tokens(login_from(acc, "198.51.100.200", victim, ADMIN_PASSWORD))
    # other accounts are untouched from the attacking addresses
    assert_error(login_from(acc, "10.66.0.1", new_email("other"), "x"), 401, "INVALID_CREDENTIALS")


def test_admin_login_shares_the_failure_budgets(limits):
    acc = limits
    ae = new_email("adm")
    acc.create_admin(ae, ADMIN_PASSWORD)
    ip = "192.0.2.99"
    for _ in range(5):
        r = acc.post("/api/auth/admin/login", {"email": ae, "password": "nope"}, headers={"X-Forwarded-For": ip})
        assert_error(r, 401, "INVALID_CREDENTIALS")
    r = acc.post("/api/auth/admin/login", {"email": ae, "password": ADMIN_PASSWORD},
                 headers={"X-Forwarded-For": ip})
    assert_429(r, max_retry=60)
    assert_429(login_from(acc, ip, ae, ADMIN_PASSWORD), max_retry=60)


@pytest.mark.parametrize("engine", ENGINES)
def test_anonymous_ipv6_clients_share_their_64s_budget(engine):
    if engine == "postgres" and not os.environ.get("TEST_PG_URL"):
        if IS_CI:
            pytest.fail("TEST_PG_URL is not set")
        pytest.skip("TEST_PG_URL is not set")
    env = dict(PROXIED, RATE_LIMIT_ENABLED="true", RATE_LIMIT_GENERAL="5/minute")
    s = start_server(engine, env=env, admins=(), seed=False, label="ratelimit-v6")
    try:
        for i in range(5):
            r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": f"2001:db8:aa:1::{i + 1}"},
                             timeout=10)
            assert r.status_code == 200, (i, r.text)
        r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": "2001:db8:aa:1:9:9:9:9"},
                         timeout=10)
        assert_429(r, max_retry=60)
        r = requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": "2001:db8:aa:2::1"}, timeout=10)
        assert r.status_code == 200
        # IPv4 clients keep one budget per address
        for ip in ("192.0.2.1", "192.0.2.2"):
            assert requests.get(s.url + "/api/categories", headers={"X-Forwarded-For": ip},
                                timeout=10).status_code == 200
    finally:
        finish_server(s)


# ---------------------------------------------------------------- admin codes

@pytest.fixture(scope="module", params=ENGINES)
def mailacc(request):
    with accounts_env(request.param, "abuse-mail", admins=()) as a:
        yield a


def _admin_login(acc, ae):
    r = acc.post("/api/auth/admin/login", {"email": ae, "password": ADMIN_PASSWORD})
    assert r.status_code == 200 and r.json().get("otp_required") is True, r.text
    return r


def _verify(acc, ae, code):
    return acc.post("/api/auth/admin/verify-otp", {"email": ae, "code": code})


def _age_code(acc, aid, ms=61_000):
    acc.sql(f"UPDATE email_codes SET created_at = created_at - {ms} WHERE user_id = {aid}")


def test_admin_code_is_mailed_at_most_once_a_minute(mailacc):
    acc = mailacc
    ae = new_email("otp1")
    aid = acc.create_admin(ae, ADMIN_PASSWORD)
    first = _admin_login(acc, ae)
    code1 = acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code
    for _ in range(3):
        again = _admin_login(acc, ae)
        assert again.json() == first.json()
    assert acc.outbox_count(ae, "admin_otp") == 1
    assert int(acc.scalar(f"SELECT COUNT(*) FROM email_codes WHERE user_id = {aid}")) == 1
    # a minute later a login mails a new code, and only the new one lives
    _age_code(acc, aid)
    _admin_login(acc, ae)
    code2 = acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code
    assert acc.outbox_count(ae, "admin_otp") == 2
    assert int(acc.scalar(f"SELECT COUNT(*) FROM email_codes WHERE user_id = {aid}")) == 1
    if code1 != code2:
        assert_error(_verify(acc, ae, code1), 401, "INVALID_CREDENTIALS")
    assert_tokens(_verify(acc, ae, code2), role="admin")


def test_parallel_admin_logins_mail_one_code(mailacc):
    acc = mailacc
    ae = new_email("otppar")
    aid = acc.create_admin(ae, ADMIN_PASSWORD)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        rs = list(ex.map(lambda _: acc.post("/api/auth/admin/login", {"email": ae, "password": ADMIN_PASSWORD}),
                         range(4)))
    assert [r.status_code for r in rs] == [200] * 4, [r.text for r in rs]
    assert acc.outbox_count(ae, "admin_otp") == 1
    code = acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code
    assert_tokens(_verify(acc, ae, code), role="admin")
    assert int(acc.scalar(f"SELECT COUNT(*) FROM email_codes WHERE user_id = {aid}")) == 0


def test_five_wrong_admin_codes_per_fifteen_minutes_across_new_codes(mailacc):
    """3 wrong tries on one code, a new code, 2 wrong tries on it: the sixth
    try waits, even with the right code; a new code does not reset that."""
    acc = mailacc
    ae = new_email("otp5")
    aid = acc.create_admin(ae, ADMIN_PASSWORD)
    _admin_login(acc, ae)
    code1 = acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code
    for _ in range(3):
        assert_error(_verify(acc, ae, wrong_code(code1)), 401, "INVALID_CREDENTIALS")
    _age_code(acc, aid)
    _admin_login(acc, ae)
    code2 = acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code
    for _ in range(2):
        assert_error(_verify(acc, ae, wrong_code(code2)), 401, "INVALID_CREDENTIALS")
    ra = assert_429(_verify(acc, ae, code2))
    assert 14 * 60 < ra <= 15 * 60
    # still waiting after yet another code
    _age_code(acc, aid)
    _admin_login(acc, ae)
    code3 = acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code
    assert_429(_verify(acc, ae, code3))
    # parallel tries cannot slip past the count
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        rs = list(ex.map(lambda _: _verify(acc, ae, code3), range(4)))
    for r in rs:
        assert_429(r)
    # once the window has passed, the live code works
    acc.sql(f"UPDATE otp_failures SET window_start = window_start - {15 * 60 * 1000} WHERE user_id = {aid}")
    assert_tokens(_verify(acc, ae, code3), role="admin")
    # and the count starts again from zero after a success
    assert acc.scalar(f"SELECT COUNT(*) FROM otp_failures WHERE user_id = {aid}") == "0"


def test_tries_without_a_live_code_are_not_counted(mailacc):
    """Knowing an admin's address is not enough to spend their tries: with
    no code alive there is nothing to guess, and nothing is counted."""
    acc = mailacc
    ae = new_email("otpnone")
    aid = acc.create_admin(ae, ADMIN_PASSWORD)
    for _ in range(8):
        assert_error(_verify(acc, ae, "123456"), 401, "INVALID_CREDENTIALS")
    assert acc.scalar(f"SELECT COUNT(*) FROM otp_failures WHERE user_id = {aid}") == "0"
    _admin_login(acc, ae)
    assert_tokens(_verify(acc, ae, acc.wait_mail(ae, ADMIN_CODE_SUBJECT).code), role="admin")


def test_admin_code_tries_count_per_account(mailacc):
    acc = mailacc
    a1, a2 = new_email("otpa"), new_email("otpb")
    acc.create_admin(a1, ADMIN_PASSWORD)
    acc.create_admin(a2, ADMIN_PASSWORD)
    _admin_login(acc, a1)
    _admin_login(acc, a2)
    c1 = acc.wait_mail(a1, ADMIN_CODE_SUBJECT).code
    c2 = acc.wait_mail(a2, ADMIN_CODE_SUBJECT).code
    for _ in range(5):
        assert_error(_verify(acc, a1, wrong_code(c1)), 401, "INVALID_CREDENTIALS")
    # the fifth wrong try burnt the code; a new one is mailed at once, but
    # the account's tries are spent
    assert_error(_verify(acc, a1, c1), 401, "INVALID_CREDENTIALS")
    _admin_login(acc, a1)
    assert_429(_verify(acc, a1, acc.wait_mail(a1, ADMIN_CODE_SUBJECT).code))
    assert_tokens(_verify(acc, a2, c2), role="admin")


# ---------------------------------------------------------------- the session class

def test_refresh_and_logout_have_their_own_budget():
    """Login and register spend the auth budget; refresh and logout spend
    RATE_LIMIT_SESSION, so users behind one NAT do not log each other out."""
    for engine in ENGINES:
        if engine == "postgres" and not os.environ.get("TEST_PG_URL"):
            continue
        user = new_email("sess")
        env = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_AUTH": "3/minute", "RATE_LIMIT_SESSION": "4/minute"}
        with accounts_env(engine, "abuse-session", env=env, admins=((user, ADMIN_PASSWORD),)) as acc:
            _, c, _ = assert_tokens(acc.login(user, ADMIN_PASSWORD))
            for _ in range(2):
                assert_error(acc.login(user, "wrong"), 401, "INVALID_CREDENTIALS")
            assert_429(acc.login(user, ADMIN_PASSWORD), max_retry=60)
            assert_429(acc.post("/api/auth/register", {"email": new_email(), "password": "x"}), max_retry=60)
            # the auth class is spent; sessions go on
            for _ in range(3):
                _, c, _ = assert_tokens(acc.refresh(c))
            r = acc.post("/api/auth/logout", cookie=c)
            assert r.status_code == 200, r.text
            assert_429(acc.refresh(c), max_retry=60)
            assert_429(acc.post("/api/auth/logout"), max_retry=60)


# ---------------------------------------------------------------- refresh reuse interval

@pytest.fixture(scope="module", params=ENGINES)
def sess(request):
    with accounts_env(request.param, "abuse-refresh", admins=()) as a:
        yield a


def test_old_token_within_the_interval_returns_the_same_session(sess):
    acc = sess
    u = acc.new_user("grace")
    _, c1, _ = assert_tokens(acc.login(u.email))
    a2, c2, _ = assert_tokens(acc.refresh(c1))
    # the second tab, a moment later, with the old cookie
    a2b, c2b, user = assert_tokens(acc.refresh(c1))
    assert c2b == c2, "the same new session: the successor cookie"
    assert user["id"] == u.id
    assert acc.get("/api/users/me", token=a2b).status_code == 200
    _, attrs = refresh_cookie(acc.refresh(c1))
    assert 0 < int(attrs["max-age"]) <= 7 * 86400
    # the family lives on: no reuse was recorded
    _, c3, _ = assert_tokens(acc.refresh(c2))
    assert c3 not in (c1, c2)
    # an older token follows the family to its live end
    _, c3b, _ = assert_tokens(acc.refresh(c1))
    assert c3b == c3
    assert acc.scalar(f"SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {u.id} AND revoked_at IS NOT NULL") == "0"


def test_reuse_after_the_interval_still_ends_the_family(sess):
    acc = sess
    u = acc.new_user("late")
    _, c1, _ = assert_tokens(acc.login(u.email))
    _, c2, _ = assert_tokens(acc.refresh(c1))
    acc.sql(f"UPDATE refresh_tokens SET replaced_at = replaced_at - 10500 WHERE user_id = {u.id}"
            " AND replaced_at IS NOT NULL")
    assert_error(acc.refresh(c1), 401, "UNAUTHORIZED")
    assert_error(acc.refresh(c2), 401, "UNAUTHORIZED")
    assert "reuse" in acc.s.log()


def test_old_token_after_logout_is_refused(sess):
    acc = sess
    u = acc.new_user("out")
    _, c1, _ = assert_tokens(acc.login(u.email))
    _, c2, _ = assert_tokens(acc.refresh(c1))
    assert acc.post("/api/auth/logout", cookie=c2).status_code == 200
    assert_error(acc.refresh(c1), 401, "UNAUTHORIZED")
    assert_error(acc.refresh(c2), 401, "UNAUTHORIZED")


def test_admin_scope_survives_the_interval(sess):
    acc = sess
    ae = new_email("gadm")
    acc.create_admin(ae, ADMIN_PASSWORD)
    _, c1, _ = acc.admin_session(ae)
    a2, c2, _ = assert_tokens(acc.refresh(c1), role="admin")
    a2b, c2b, _ = assert_tokens(acc.refresh(c1), role="admin")
    assert c2b == c2 and jwt_decode(a2b)[1]["role"] == "admin"


@pytest.mark.parametrize("tabs", [2, 6])
def test_tabs_refreshing_at_once_all_succeed(sess, tabs):
    acc = sess
    u = acc.new_user("tabs")
    _, cookie, _ = assert_tokens(acc.login(u.email))
    for _round in range(3):
        barrier = threading.Barrier(tabs)

        def tab(_):
            barrier.wait(5)
            return acc.refresh(cookie)
        with concurrent.futures.ThreadPoolExecutor(tabs) as ex:
            rs = list(ex.map(tab, range(tabs)))
        cookies = set()
        for r in rs:
            access, c, user = assert_tokens(r)
            assert user["id"] == u.id
            cookies.add(c)
        assert len(cookies) == 1, f"every tab got the same new session: {cookies}"
        cookie = cookies.pop()
    assert acc.scalar(f"SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {u.id} AND revoked_at IS NOT NULL") == "0"
    assert_tokens(acc.refresh(cookie))


def _fail_updates_of(acc, token_id):
    if acc.s.engine == "postgres":
        acc.sql("CREATE OR REPLACE FUNCTION hwc_test_fail() RETURNS trigger AS $$ BEGIN"
                " RAISE EXCEPTION 'injected failure' USING ERRCODE = '40001'; END $$ LANGUAGE plpgsql")
        acc.sql("CREATE TRIGGER hwc_test_fail BEFORE UPDATE ON refresh_tokens FOR EACH ROW"
                f" WHEN (OLD.id = {token_id}) EXECUTE FUNCTION hwc_test_fail()")
    else:
        acc.sql(f"CREATE TRIGGER hwc_test_fail BEFORE UPDATE ON refresh_tokens WHEN OLD.id = {token_id}"
                " BEGIN SELECT RAISE(ABORT, 'injected failure'); END")


def _restore_updates(acc):
    acc.sql("DROP TRIGGER hwc_test_fail ON refresh_tokens" if acc.s.engine == "postgres"
            else "DROP TRIGGER hwc_test_fail")


def test_database_error_while_claiming_is_503_not_reuse(sess):
    acc = sess
    u = acc.new_user("dberr")
    _, c1, _ = assert_tokens(acc.login(u.email))
    tid = acc.scalar(f"SELECT MAX(id) FROM refresh_tokens WHERE user_id = {u.id}")
    _fail_updates_of(acc, tid)
    try:
        r = acc.refresh(c1)
        assert_error(r, 503, "SERVICE_UNAVAILABLE")
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
        assert refresh_cookie(r)[0] is None, "the cookie is left alone"
    finally:
        _restore_updates(acc)
    assert acc.scalar(f"SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {u.id} AND revoked_at IS NOT NULL") == "0"
    _, c2, _ = assert_tokens(acc.refresh(c1))
    assert_tokens(acc.refresh(c2))


# ---------------------------------------------------------------- Redis breaker

class Blackhole:
    """A TCP port that accepts connections into its backlog and never
    answers: a Redis that hangs (the worst case for a client timeout)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def _start_redis(port):
    exe = shutil.which("redis-server")
    d = tempfile.mkdtemp(prefix="hwc3d-redis-")
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return p, d
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise AssertionError("redis-server did not start")


def _redis_key_count(port):
    """How many rate-limit keys Redis holds (KEYS over RESP, no redis-cli)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"*2\r\n$4\r\nKEYS\r\n$10\r\nhwc3d:rl:*\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n", 1)[0]
    assert head.startswith(b"*"), data[:100]
    return int(head[1:])


@pytest.mark.parametrize("engine", ENGINES)
def test_redis_outage_falls_back_at_once_and_recovers(engine):
    if not shutil.which("redis-server"):
        if IS_CI:
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    if engine == "postgres" and not os.environ.get("TEST_PG_URL"):
        if IS_CI:
            pytest.fail("TEST_PG_URL is not set")
        pytest.skip("TEST_PG_URL is not set")
    hole = Blackhole()
    env = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_GENERAL": "50/minute",
           "REDIS_URL": f"redis://127.0.0.1:{hole.port}"}
    s = start_server(engine, env=env, admins=(), seed=False, label="redis-breaker")
    redis = None
    try:
        http = requests.Session()
        t0 = time.monotonic()
        codes = [http.get(s.url + "/api/categories", timeout=10).status_code for _ in range(100)]
        took = time.monotonic() - t0
        assert took < 3, f"100 requests took {took:.1f}s with Redis hanging"
        assert codes.count(200) == 50 and codes.count(429) == 50, codes
        log = s.log()
        assert log.count("unavailable: rate limits are counted in this process only") == 1, log
        # Redis comes back on that port: a probe finds it within a few seconds
        hole.close()
        redis = _start_redis(hole.port)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not _redis_key_count(hole.port):
            http.get(s.url + "/api/categories", timeout=10)
            time.sleep(0.2)
        assert _redis_key_count(hole.port) > 0, "Redis was not used again after it came back"
        assert s.log().count("reachable again") == 1, s.log()
        # and it counts from there: a fresh budget in Redis, then 429
        codes = [http.get(s.url + "/api/categories", timeout=10).status_code for _ in range(60)]
        assert 429 in codes
        http.close()
    finally:
        finish_server(s)
        if redis:
            redis[0].terminate()
            try:
                redis[0].wait(10)
            except subprocess.TimeoutExpired:
                redis[0].kill()
            shutil.rmtree(redis[1], ignore_errors=True)
        else:
            hole.close()


# ---------------------------------------------------------------- /metrics

def test_metrics_answers_loopback(server):
    r = server.get("/metrics")
    assert r.status_code == 200 and "hwc3d_http_requests_total" in r.text
    # without TRUSTED_PROXIES a forwarded address is not believed either way
    r = server.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 200


@pytest.mark.parametrize("engine", ENGINES)
def test_metrics_refuses_forwarded_clients_unless_they_bring_the_token(engine):
    if engine == "postgres" and not os.environ.get("TEST_PG_URL"):
        if IS_CI:
            pytest.fail("TEST_PG_URL is not set")
        pytest.skip("TEST_PG_URL is not set")
    token = secrets.token_urlsafe(24)
    s = start_server(engine, env=dict(PROXIED, METRICS_TOKEN=token), admins=(), seed=False, label="metrics")
    try:
        url = s.url + "/metrics"
        # a client behind our proxy is not the proxy: refused
        for xff in ("203.0.113.9", "127.0.0.1, 203.0.113.9", "2001:db8::1"):
            r = requests.get(url, headers={"X-Forwarded-For": xff}, timeout=10)
            body = assert_error(r, 403, "FORBIDDEN")
            assert "hwc3d_" not in r.text, body
        # a wrong or malformed token does not help
        for auth in ("Bearer " + token + "x", "Bearer " + token[:-1], "Basic " + token, "Bearer", token):
            r = requests.get(url, headers={"X-Forwarded-For": "203.0.113.9", "Authorization": auth}, timeout=10)
            assert_error(r, 403, "FORBIDDEN")
        # the token works from anywhere
        r = requests.get(url, headers={"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer " + token},
                         timeout=10)
        assert r.status_code == 200 and "hwc3d_http_requests_total" in r.text
        # the proxy itself (loopback, nothing forwarded) and a local hop still read it
        assert requests.get(url, timeout=10).status_code == 200
        assert requests.get(url, headers={"X-Forwarded-For": "127.0.0.1"}, timeout=10).status_code == 200
        # the refusals are counted like any answer
        assert 'route="/metrics",status="403"' in requests.get(url, timeout=10).text
    finally:
        finish_server(s)
