"""OAuth sign-in (Google, GitHub, Discord) against a fake provider.

A ThreadingHTTPServer on 127.0.0.1 plays the three providers: token
endpoints and profile APIs, programmed per test through codes (each code
maps to a profile, an error, garbage or a delay).  The module starts its own
servers, one per engine, with every provider's endpoints pointed at it, and a
small SQLite server where Discord is not configured and Google/GitHub point
at a closed port."""
import json
import secrets
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import conftest
from conftest import assert_error, finish_server, free_port, require_pg, start_server

FRONTEND = "http://localhost:3000"
REDIRECT = FRONTEND + "/auth/callback"
PUBLIC = "http://localhost:8000"
CLIENT = {p: (f"{p}-client-id", f"{p}-client-secret-{secrets.token_hex(4)}")
          for p in ("google", "github", "discord")}
PASSWORD = "Quiet-Orchard-Lantern-4417"


# ---------------------------------------------------------------- fake provider

class FakeProvider:
    """Token endpoints at /<provider>/token; profiles at /google/userinfo,
    /github/api/user(/emails), /discord/api/users/@me.

    A code is programmed with add(); the token exchanged for it serves that
    code's profile.  Unknown codes are refused the way each provider does
    (GitHub: 200 with "error"; the others: 400 invalid_grant)."""

    def __init__(self):
        self.codes = {}
        self.tokens = {}
        self.forms = {}         # code -> the token request's form
        self.token_headers = {}  # code -> the token request's headers
        self.api_headers = []   # (path, headers) of profile calls
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                fake.token(self)

            def do_GET(self):
                fake.api(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, provider, profile=None, **spec):
        code = "code-" + uuid.uuid4().hex
        self.codes[code] = dict(provider=provider, profile=profile, **spec)
        return code

    @staticmethod
    def send(h, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def token(self, h):
        provider = h.path.split("/")[1]
        n = int(h.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in urllib.parse.parse_qs(h.rfile.read(n).decode(), keep_blank_values=True).items()}
        code = form.get("code")
        self.forms[code] = form
        self.token_headers[code] = dict(h.headers)
        entry = self.codes.get(code)
        if entry and entry.get("token_delay"):
            self.release.wait(entry["token_delay"])
        cid, secret = CLIENT.get(provider, (None, None))
        if form.get("client_id") != cid or form.get("client_secret") != secret:
            return self.send(h, 401, {"error": "invalid_client"})
        if not entry or entry["provider"] != provider or form.get("grant_type") != "authorization_code":
            if provider == "github":
                return self.send(h, 200, {"error": "bad_verification_code"})
            return self.send(h, 400, {"error": "invalid_grant"})
        if "token_answer" in entry:
            status, body = entry["token_answer"]
            return self.send(h, status, body)
        tok = secrets.token_urlsafe(24)
        self.tokens[tok] = entry
        self.send(h, 200, {"access_token": tok, "token_type": "bearer", "expires_in": 3600})

    def api(self, h):
        auth = h.headers.get("Authorization", "")
        entry = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        path = urllib.parse.urlsplit(h.path).path
        self.api_headers.append((path, dict(h.headers)))
        if not entry:
            return self.send(h, 401, {"message": "Bad credentials"})
        if "api_answer" in entry:
            status, body = entry["api_answer"]
            return self.send(h, status, body)
        routes = {"google": {"/google/userinfo": "profile"},
                  "github": {"/github/api/user": "profile", "/github/api/user/emails": "emails"},
                  "discord": {"/discord/api/users/@me": "profile"}}[entry["provider"]]
        if path not in routes:
            return self.send(h, 404, {"message": "Not Found"})
        self.send(h, 200, entry.get(routes[path]) if routes[path] in entry else [])


@pytest.fixture(scope="module")
def fake():
    f = FakeProvider()
    yield f
    f.close()


def provider_env(base):
    # CORS_ORIGINS is left at its default (FRONTEND_URL and PUBLIC_URL):
    # setting it makes config.c leak its split copy (LeakSanitizer).
    env = {"FRONTEND_URL": FRONTEND, "PUBLIC_URL": PUBLIC}
    for p, (cid, secret) in CLIENT.items():
        env[f"{p.upper()}_CLIENT_ID"] = cid
        env[f"{p.upper()}_CLIENT_SECRET"] = secret
        env[f"{p.upper()}_TOKEN_URL"] = f"{base}/{p}/token"
    env["GOOGLE_USERINFO_URL"] = f"{base}/google/userinfo"
    env["GITHUB_API_URL"] = f"{base}/github/api"
    env["DISCORD_API_URL"] = f"{base}/discord/api"
    env["GITHUB_AUTHORIZE_URL"] = f"{base}/github/authorize"
    return env


def _count_route_hits(srv):
    """Our routes answer 2xx only on these private servers: let the suite's
    route-coverage check see them."""
    scrape = getattr(conftest, "_scrape_routes_hit", None)
    if scrape and srv.proc.poll() is None:
        scrape(srv)


@pytest.fixture(scope="module", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def srv(request, fake):
    if request.param == "postgres":
        require_pg()
    s = start_server(request.param, env=provider_env(fake.url), admins=(), seed=False,
                     label=f"oauth-{request.param}")
    yield s
    if request.param == "sqlite":
        _count_route_hits(s)
    finish_server(s)


@pytest.fixture(scope="module")
def broken():
    """Discord unconfigured; Google's token endpoint and GitHub's API on a
    closed port (GitHub's token endpoint on a fake that answers)."""
    closed = f"http://127.0.0.1:{free_port()}"
    f = FakeProvider()
    env = provider_env(f.url)
    env.update({"DISCORD_CLIENT_ID": None, "DISCORD_CLIENT_SECRET": None,
                "GOOGLE_TOKEN_URL": closed + "/token", "GITHUB_API_URL": closed})
    s = start_server("sqlite", env=env, admins=(), seed=False, label="oauth-broken")
    s.fake = f
    yield s
    finish_server(s)
    f.close()


# ---------------------------------------------------------------- helpers

def tag():
    return uuid.uuid4().hex[:10]


def google(t, email=None, verified=True, **kw):
    p = {"sub": f"g{t}", "email": email or f"{t}@gmail.example", "email_verified": verified,
         "name": f"Gia {t}", "picture": f"https://lh3.googleusercontent.example/{t}.png"}
    p.update(kw)
    return p


def github(t, **kw):
    p = {"id": int(t, 16) % 10**12 + 1, "login": f"Octo-{t}", "name": f"Octo {t}",
         "avatar_url": f"https://avatars.githubusercontent.example/u/{t}"}
    p.update(kw)
    return p


def gh_emails(t, email=None):
    return [{"email": f"old-{t}@users.example", "primary": False, "verified": True},
            {"email": email or f"{t}@octo.example", "primary": True, "verified": True}]


def discord(t, **kw):
    p = {"id": str(int(t, 16)), "username": f"disc_{t}", "global_name": f"Disc {t}",
         "email": f"{t}@disc.example", "verified": True, "avatar": f"a_{t}"}
    p.update(kw)
    return p


def sign_in(s, provider, code, **body):
    b = {"code": code, "redirect_uri": REDIRECT}
    b.update(body)
    return s.post(f"/api/auth/oauth/{provider}", json=b)


def assert_session(r):
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    cookie = r.headers.get("Set-Cookie", "")
    assert cookie.startswith("refresh_token=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert len(cookie.split(";")[0]) > len("refresh_token=") + 20
    return body["user"]


def oauth_rows(s, user_id):
    return s.sql(f"SELECT provider, provider_user_id, email FROM oauth_accounts WHERE user_id = {user_id}"
                 " ORDER BY provider")


def no_password(s, user_id):
    return s.scalar(f"SELECT COUNT(*) FROM users WHERE id = {user_id} AND password_hash IS NULL") == "1"


def register(s, email, verified):
    r = s.post("/api/auth/register", json={"email": email, "password": PASSWORD,
                                           "username": "r_" + tag(), "user_type": "buyer"})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    if verified:
        s.sql(f"UPDATE users SET is_email_verified = TRUE WHERE id = {uid}")
    return uid


def login(s, email, password=PASSWORD):
    return s.post("/api/auth/login", json={"email": email, "password": password})


# ---------------------------------------------------------------- new users

def test_google_creates_a_user(srv, fake):
    t = tag()
    code = fake.add("google", google(t, email=f"Gia.{t}@GMAIL.example", name=f"Zoë Ann-Marie {t}"))
    user = assert_session(sign_in(srv, "google", code))
    assert user["email"] == f"gia.{t}@gmail.example"
    assert user["is_email_verified"] is True
    assert user["full_name"] == f"Zoë Ann-Marie {t}"
    assert user["avatar_url"] == f"https://lh3.googleusercontent.example/{t}.png"
    assert user["user_type"] == "buyer" and user["role"] == "user"
    # no login at Google: from the name, one "_" per character not in [a-z0-9_]
    assert user["username"] == f"zo__ann_marie_{t}"
    assert oauth_rows(srv, user["id"]) == [("google", f"g{t}", f"gia.{t}@gmail.example")]
    assert no_password(srv, user["id"])
    form = fake.forms[code]
    assert form["grant_type"] == "authorization_code" and form["redirect_uri"] == REDIRECT
    assert form["client_id"] == CLIENT["google"][0] and form["client_secret"] == CLIENT["google"][1]
    assert "code_verifier" not in form
    assert fake.token_headers[code].get("Accept") == "application/json"
    assert fake.token_headers[code].get("Content-Type") == "application/x-www-form-urlencoded"
    # the access token works
    me = srv.get("/api/users/me", headers={"Authorization": "Bearer " + srv.post(
        "/api/auth/oauth/google", json={"code": fake.add("google", google(t)), "redirect_uri": REDIRECT}
    ).json()["access_token"]})
    assert me.status_code == 200 and me.json()["id"] == user["id"]


def test_google_email_verified_as_string(srv, fake):
    t = tag()
    user = assert_session(sign_in(srv, "google", fake.add("google", google(t, verified="true"))))
    assert user["email"] == f"{t}@gmail.example"


def test_github_creates_a_creator_with_primary_verified_email(srv, fake):
    t = tag()
    emails = [{"email": f"unverified-{t}@octo.example", "primary": False, "verified": False},
              {"email": f"other-{t}@octo.example", "primary": False, "verified": True},
              {"email": f"Main-{t}@Octo.example", "primary": True, "verified": True}]
    code = fake.add("github", github(t), emails=emails)
    user = assert_session(sign_in(srv, "github", code, user_type="creator"))
    assert user["email"] == f"main-{t}@octo.example"
    assert user["username"] == f"octo_{t}"
    assert user["full_name"] == f"Octo {t}"
    assert user["user_type"] == "creator"
    assert user["avatar_url"] == f"https://avatars.githubusercontent.example/u/{t}"
    assert oauth_rows(srv, user["id"]) == [("github", str(github(t)["id"]), f"main-{t}@octo.example")]
    calls = [(p, h) for p, h in fake.api_headers if p.startswith("/github/")]
    assert {p for p, _ in calls} >= {"/github/api/user", "/github/api/user/emails"}
    for _, h in calls:
        assert h.get("User-Agent") and h.get("Accept") == "application/vnd.github+json"


def test_github_verified_email_when_the_primary_is_not(srv, fake):
    t = tag()
    emails = [{"email": f"primary-{t}@octo.example", "primary": True, "verified": False},
              {"email": f"second-{t}@octo.example", "primary": False, "verified": True}]
    user = assert_session(sign_in(srv, "github", fake.add("github", github(t), emails=emails)))
    assert user["email"] == f"second-{t}@octo.example"


def test_github_without_verified_email_is_422(srv, fake):
    t = tag()
    emails = [{"email": f"{t}@octo.example", "primary": True, "verified": False}]
    body = assert_error(sign_in(srv, "github", fake.add("github", github(t), emails=emails)),
                        422, "VALIDATION_ERROR", "email")
    assert body["field_errors"]["email"] == ["Your GitHub account has no verified email address"]
    assert not srv.sql(f"SELECT id FROM oauth_accounts WHERE provider_user_id = '{github(t)['id']}'")


def test_google_unverified_email_is_422(srv, fake):
    t = tag()
    assert_error(sign_in(srv, "google", fake.add("google", google(t, verified=False))), 422,
                 "VALIDATION_ERROR", "email")
    assert not srv.sql(f"SELECT id FROM users WHERE email_normalized = '{t}@gmail.example'")


def test_discord_creates_a_user(srv, fake):
    t = tag()
    p = discord(t)
    user = assert_session(sign_in(srv, "discord", fake.add("discord", p)))
    assert user["email"] == f"{t}@disc.example"
    assert user["username"] == f"disc_{t}"
    assert user["full_name"] == f"Disc {t}"
    assert user["avatar_url"] == f"https://cdn.discordapp.com/avatars/{p['id']}/a_{t}.png"
    assert oauth_rows(srv, user["id"]) == [("discord", p["id"], f"{t}@disc.example")]


def test_discord_unverified_and_no_avatar(srv, fake):
    t = tag()
    assert_error(sign_in(srv, "discord", fake.add("discord", discord(t, verified=False))), 422,
                 "VALIDATION_ERROR", "email")
    user = assert_session(sign_in(srv, "discord", fake.add("discord", discord(t, avatar=None, global_name=None))))
    assert user["avatar_url"] is None and user["full_name"] == f"disc_{t}"


def test_same_provider_account_signs_in_as_the_same_user(srv, fake):
    t = tag()
    first = assert_session(sign_in(srv, "github", fake.add("github", github(t), emails=gh_emails(t))))
    # the address at GitHub changed: the link, not the address, decides
    again = assert_session(sign_in(srv, "github", fake.add("github", github(t, login="renamed"),
                                                           emails=gh_emails(t, f"new-{t}@octo.example"))))
    assert again["id"] == first["id"] and again["username"] == first["username"]
    assert srv.scalar(f"SELECT COUNT(*) FROM oauth_accounts WHERE user_id = {first['id']}") == "1"
    assert srv.scalar(f"SELECT COUNT(*) FROM users WHERE email_normalized = 'new-{t}@octo.example'") == "0"


def test_two_providers_one_user(srv, fake):
    t = tag()
    email = f"{t}@both.example"
    a = assert_session(sign_in(srv, "google", fake.add("google", google(t, email=email))))
    b = assert_session(sign_in(srv, "discord", fake.add("discord", discord(t, email=email))))
    assert a["id"] == b["id"]
    assert [r[0] for r in oauth_rows(srv, a["id"])] == ["discord", "google"]


# ---------------------------------------------------------------- linking

def test_links_to_a_verified_account_and_keeps_its_password(srv, fake):
    t = tag()
    email = f"{t}@linked.example"
    uid = register(srv, email, verified=True)
    assert login(srv, email).status_code == 200
    user = assert_session(sign_in(srv, "google", fake.add("google", google(t, email=email.upper()))))
    assert user["id"] == uid
    assert oauth_rows(srv, uid) == [("google", f"g{t}", email)]
    assert srv.scalar(f"SELECT COUNT(*) FROM users WHERE email_normalized = '{email}'") == "1"
    assert login(srv, email).status_code == 200


def test_links_to_an_unverified_account_and_removes_its_password(srv, fake):
    """Someone registered the victim's address with their own password
    (pre-hijacking): the verified owner signing in takes it over."""
    t = tag()
    email = f"{t}@victim.example"
    uid = register(srv, email, verified=False)
    assert_error(login(srv, email), 403, "EMAIL_NOT_VERIFIED")
    user = assert_session(sign_in(srv, "github", fake.add("github", github(t), emails=gh_emails(t, email))))
    assert user["id"] == uid and user["is_email_verified"] is True
    assert no_password(srv, uid)
    assert int(srv.scalar(f"SELECT tokens_valid_after FROM users WHERE id = {uid}")) > 0
    assert_error(login(srv, email), 401, "INVALID_CREDENTIALS")
    # the session just issued survives the revocation that came before it
    r = srv.get("/api/users/me", headers={"Authorization": "Bearer " + user_token(srv, fake, t, email)})
    assert r.status_code == 200 and r.json()["id"] == uid


def user_token(s, fake, t, email):
    r = sign_in(s, "github", fake.add("github", github(t), emails=gh_emails(t, email)))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_banned_user_is_403(srv, fake):
    t = tag()
    user = assert_session(sign_in(srv, "google", fake.add("google", google(t))))
    srv.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {user['id']}")
    body = assert_error(sign_in(srv, "google", fake.add("google", google(t))), 403, "FORBIDDEN")
    assert body["detail"] == "This account is banned"
    # nor can another provider link to the banned account by email
    assert_error(sign_in(srv, "discord", fake.add("discord", discord(t, email=f"{t}@gmail.example"))),
                 403, "FORBIDDEN")
    assert [r[0] for r in oauth_rows(srv, user["id"])] == ["google"]


def test_username_collision_gets_a_suffix(srv, fake):
    t = tag()
    a = assert_session(sign_in(srv, "github", fake.add("github", github(t, id=1000 + int(t[:6], 16), login=f"Taken.{t}"),
                                                       emails=gh_emails("a" + t))))
    b = assert_session(sign_in(srv, "github", fake.add("github", github(t, id=2000000000 + int(t[:6], 16),
                                                                        login=f"taken-{t}"),
                                                       emails=gh_emails("b" + t))))
    c = assert_session(sign_in(srv, "discord", fake.add("discord", discord("c" + t[1:], username=f"TAKEN_{t}"))))
    assert a["username"] == f"taken_{t}"
    assert b["username"] == f"taken_{t}_1"
    assert c["username"] == f"taken_{t}_2"
    assert len({a["id"], b["id"], c["id"]}) == 3


def test_username_limits(srv, fake):
    t = tag()
    long = assert_session(sign_in(srv, "discord", fake.add("discord", discord(t, username="x" * 28 + t))))
    assert long["username"] == "x" * 28 + t[:2]
    again = assert_session(sign_in(srv, "discord", fake.add("discord", discord(tag(), username="x" * 28 + t))))
    assert again["username"] == "x" * 28 + "_1"
    short = assert_session(sign_in(srv, "discord", fake.add("discord", discord(tag(), username="Q"))))
    assert short["username"].startswith("q__") and 3 <= len(short["username"]) <= 30


# ---------------------------------------------------------------- PKCE and state

def test_pkce_code_verifier_is_passed_through(srv, fake):
    t = tag()
    verifier = secrets.token_urlsafe(48)[:64] + "-._~"
    code = fake.add("discord", discord(t))
    assert_session(sign_in(srv, "discord", code, code_verifier=verifier))
    assert fake.forms[code]["code_verifier"] == verifier


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "!", "a" * 43 + " b"])
def test_bad_code_verifier_is_422(srv, fake, verifier):
    assert_error(sign_in(srv, "google", "whatever", code_verifier=verifier), 422, "VALIDATION_ERROR",
                 "code_verifier")


def test_authorize_url_and_single_use_state(srv, fake):
    r = srv.get("/api/auth/oauth/google/authorize-url", params={"redirect_uri": REDIRECT})
    assert r.status_code == 200, r.text
    body = r.json()
    url = urllib.parse.urlsplit(body["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://accounts.google.com/o/oauth2/v2/auth"
    q = urllib.parse.parse_qs(url.query)
    assert q == {"client_id": [CLIENT["google"][0]], "redirect_uri": [REDIRECT], "response_type": ["code"],
                 "scope": ["openid email profile"], "state": [body["state"]]}
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fauth%2Fcallback" in url.query
    assert "scope=openid%20email%20profile" in url.query
    assert len(body["state"]) >= 43

    t = tag()
    assert_session(sign_in(srv, "google", fake.add("google", google(t)), state=body["state"]))
    assert_error(sign_in(srv, "google", fake.add("google", google(t)), state=body["state"]), 422,
                 "VALIDATION_ERROR", "state")


def test_authorize_url_override_and_scopes(srv):
    r = srv.get("/api/auth/oauth/github/authorize-url", params={"redirect_uri": PUBLIC + "/cb?x=1"})
    assert r.status_code == 200, r.text
    url = urllib.parse.urlsplit(r.json()["url"])
    assert url.path == "/github/authorize" and url.netloc.startswith("127.0.0.1:")
    q = urllib.parse.parse_qs(url.query)
    assert q["scope"] == ["read:user user:email"] and q["redirect_uri"] == [PUBLIC + "/cb?x=1"]
    r = srv.get("/api/auth/oauth/discord/authorize-url", params={"redirect_uri": FRONTEND})
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith("https://discord.com/oauth2/authorize?")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(r.json()["url"]).query)["scope"] == ["identify email"]


def test_state_must_match_provider_page_and_time(srv, fake):
    def state(provider="google", redirect=REDIRECT):
        r = srv.get(f"/api/auth/oauth/{provider}/authorize-url", params={"redirect_uri": redirect})
        assert r.status_code == 200, r.text
        return r.json()["state"]

    t = tag()
    for s, provider in [(state("github"), "google"), ("never-issued-" + t, "google"),
                        (state(redirect=FRONTEND + "/elsewhere"), "google")]:
        code = fake.add(provider, google(t))
        assert_error(sign_in(srv, provider, code, state=s), 422, "VALIDATION_ERROR", "state")
        assert code not in fake.forms  # refused before the provider was called
    expired = state()
    srv.sql("UPDATE oauth_states SET expires_at = 1")
    assert_error(sign_in(srv, "google", fake.add("google", google(t)), state=expired), 422,
                 "VALIDATION_ERROR", "state")
    # a later authorize-url sweeps expired states
    state()
    assert srv.scalar("SELECT COUNT(*) FROM oauth_states WHERE expires_at = 1") == "0"


# ---------------------------------------------------------------- refusals

def test_unknown_provider_is_404(srv):
    assert_error(sign_in(srv, "facebook", "abc"), 404, "NOT_FOUND")
    assert_error(srv.get("/api/auth/oauth/facebook/authorize-url", params={"redirect_uri": REDIRECT}),
                 404, "NOT_FOUND")
    assert_error(sign_in(srv, "Google", "abc"), 404, "NOT_FOUND")


@pytest.mark.parametrize("uri", [
    "https://evil.example/cb", FRONTEND + ".evil.example/cb", FRONTEND + "@evil.example",
    FRONTEND + "0/cb", "http://localhost:30000/cb", "https://localhost:3000/cb", FRONTEND + "/cb#frag",
    FRONTEND + "/a b", "//evil.example", "javascript:alert(1)", FRONTEND[:-1], ""])
def test_redirect_uri_off_the_allow_list_is_422(srv, fake, uri):
    code = fake.add("google", google(tag()))
    assert_error(sign_in(srv, "google", code, redirect_uri=uri), 422, "VALIDATION_ERROR", "redirect_uri")
    assert code not in fake.forms
    assert_error(srv.get("/api/auth/oauth/google/authorize-url", params={"redirect_uri": uri}), 422,
                 "VALIDATION_ERROR", "redirect_uri")


def test_required_fields(srv):
    body = assert_error(srv.post("/api/auth/oauth/google", json={}), 422, "VALIDATION_ERROR")
    assert set(body["field_errors"]) == {"code", "redirect_uri"}
    assert_error(srv.get("/api/auth/oauth/google/authorize-url"), 422, "VALIDATION_ERROR", "redirect_uri")
    assert_error(sign_in(srv, "google", "x" * 2049), 422, "VALIDATION_ERROR", "code")
    assert_error(sign_in(srv, "google", "abc", user_type="admin"), 422, "VALIDATION_ERROR", "user_type")


def test_bad_code_is_401(srv, fake):
    for provider in ("google", "github", "discord"):
        body = assert_error(sign_in(srv, provider, "no-such-code"), 401, "INVALID_CREDENTIALS")
        label = {"google": "Google", "github": "GitHub", "discord": "Discord"}[provider]
        assert body["detail"] == f"The sign-in code was rejected by {label}"
    # 200 without an access token is a refusal too
    code = fake.add("google", google(tag()), token_answer=(200, {"token_type": "bearer"}))
    assert_error(sign_in(srv, "google", code), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("answer", [
    (200, b"<html>not json</html>"), (200, b'{"access_token": "a", "access_token": "b"}'),
    (500, {"error": "server_error"}), (200, {"access_token": "bad token\r\nX-Injected: 1"}),
    (200, b"[1, 2]")])
def test_garbage_from_the_token_endpoint_is_502(srv, fake, answer):
    code = fake.add("github", github(tag()), token_answer=answer)
    body = assert_error(sign_in(srv, "github", code), 502, "BAD_GATEWAY")
    assert body["detail"] == "Could not reach GitHub"


@pytest.mark.parametrize("answer", [(200, b"{nope"), (500, {"message": "oops"}), (200, {"login": "no-id"}),
                                    (200, b"x" * (1024 * 1024 + 10))])
def test_garbage_from_the_profile_api_is_502(srv, fake, answer):
    code = fake.add("discord", discord(tag()), api_answer=answer)
    assert_error(sign_in(srv, "discord", code), 502, "BAD_GATEWAY")


def test_provider_hanging_is_502_within_the_timeout(srv, fake):
    if srv.engine != "sqlite":
        pytest.skip("engine-independent and slow (10 s): run once")
    code = fake.add("google", google(tag()), token_delay=30)
    t0 = time.monotonic()
    r = sign_in(srv, "google", code)
    elapsed = time.monotonic() - t0
    assert_error(r, 502, "BAD_GATEWAY")
    assert 9 <= elapsed <= 13, elapsed


def test_hanging_providers_do_not_block_other_requests(srv, fake):
    """Provider round trips run on the worker pool, not on the poll
    threads: more hanging sign-ins than the server has poll threads
    (HWC_THREADS, 4) leave every other request answered at once."""
    if srv.engine != "sqlite":
        pytest.skip("engine-independent: run once")
    codes = [fake.add("google", google(tag()), token_delay=30) for _ in range(6)]
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(sign_in(srv, "google", c).status_code))
               for c in codes]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        worst = 0.0
        for _ in range(8):
            t0 = time.monotonic()
            r = requests.get(srv.url + "/healthz", timeout=5)
            worst = max(worst, time.monotonic() - t0)
            assert r.status_code == 200
        assert worst < 0.5, worst
    finally:
        fake.release.set()
        for t in threads:
            t.join(20)
        fake.release.clear()
    assert len(results) == 6


def test_provider_down_is_502(broken):
    body = assert_error(sign_in(broken, "google", "some-code"), 502, "BAD_GATEWAY")
    assert body["detail"] == "Could not reach Google"
    # the token endpoint answers, the API does not
    t = tag()
    code = broken.fake.add("github", github(t), emails=gh_emails(t))
    assert_error(sign_in(broken, "github", code), 502, "BAD_GATEWAY")
    assert code in broken.fake.forms


def test_unconfigured_provider_is_503(broken):
    body = assert_error(sign_in(broken, "discord", "some-code"), 503, "SERVICE_UNAVAILABLE")
    assert body["detail"] == "Sign-in with Discord is not configured"
    assert_error(broken.get("/api/auth/oauth/discord/authorize-url", params={"redirect_uri": REDIRECT}),
                 503, "SERVICE_UNAVAILABLE")
    assert_error(sign_in(broken, "nope", "some-code"), 404, "NOT_FOUND")


def test_secrets_stay_out_of_the_log(srv, fake):
    t = tag()
    code = fake.add("google", google(t))
    assert_session(sign_in(srv, "google", code))
    bad = fake.add("google", google(t), token_answer=(400, {"error": "invalid_grant"}))
    assert_error(sign_in(srv, "google", bad), 401, "INVALID_CREDENTIALS")
    time.sleep(0.2)
    log = srv.log()
    for secret in (code, bad, CLIENT["google"][1]) + tuple(fake.tokens):
        assert secret not in log


def test_new_accounts_refused_while_registration_is_closed(srv, fake):
    """Admin settings (registration_open): a first OAuth sign-in is a sign-up
    and is refused while registration is closed; existing accounts sign in.
    The setting is written in the database as another instance would, and
    is seen within the settings cache's TTL (2 s)."""
    t = tag()
    existing = assert_session(sign_in(srv, "google", fake.add("google", google(t))))
    srv.sql("INSERT INTO platform_settings (key, value, updated_at) VALUES ('registration_open', 'false', 0)")
    try:
        time.sleep(2.3)
        new = tag()
        assert_error(sign_in(srv, "google", fake.add("google", google(new))), 403, "FORBIDDEN")
        assert srv.scalar(f"SELECT COUNT(*) FROM users WHERE email_normalized = '{new}@gmail.example'") == "0"
        assert assert_session(sign_in(srv, "google", fake.add("google", google(t))))["id"] == existing["id"]
    finally:
        srv.sql("DELETE FROM platform_settings WHERE key = 'registration_open'")
        time.sleep(2.3)
    assert_session(sign_in(srv, "google", fake.add("google", google(tag()))))
