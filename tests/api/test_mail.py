"""Mail: codes and links read from a real SMTP sink, the outbox worker's
retries, and the .eml fallback when SMTP_HOST is unset.

The machinery at the top (MailSink, Accounts, accounts_env, the cookie and
JWT helpers) is shared by test_accounts.py and test_users.py: every server
there is a private one that sends its mail over SMTP to an in-process
aiosmtpd sink."""
import base64
import contextlib
import email
import email.policy
import glob
import json
import os
import re
import threading
import time
import types
import uuid

import pytest
import requests
from aiosmtpd.controller import Controller

from conftest import (ADMIN_EMAIL, ADMIN_PASSWORD, assert_error, finish_server, free_port, require_pg,
                      run_binary, start_server)

ENGINES = ["sqlite", "postgres"]
FRONTEND_URL = "http://localhost:3000"
PASSWORD = "Plenty-long-passphrase-42"
SMTP_FROM = "HWC3D <no-reply@test.local>"
CODE_RE = re.compile(r"^(\d{6})$", re.M)
VERIFY_SUBJECT = "verification code"
ADMIN_CODE_SUBJECT = "admin sign-in code"
RESET_SUBJECT = "Reset your HWC3D password"
WELCOME_SUBJECT = "Welcome"
_NO = object()


# ---------------------------------------------------------------- the sink

class Mail:
    """One message as the sink received it."""

    def __init__(self, raw, rcpt, mail_from=None):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.raw = raw
        self.mail_from = mail_from
        self.msg = msg
        self.rcpt = [a.lower() for a in rcpt]
        self.to = str(msg["To"] or "")
        self.sender = str(msg["From"] or "")
        self.subject = str(msg["Subject"] or "")
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        self.text = plain.get_content().replace("\r\n", "\n") if plain is not None else None
        self.html = html.get_content() if html is not None else None
        self.taken = False

    @property
    def code(self):
        """The six digits alone on a line of the text part."""
        assert self.text is not None, f"mail {self.subject!r} has no text part"
        codes = CODE_RE.findall(self.text)
        assert len(codes) == 1, f"expected one 6-digit code alone on a line, got {codes} in {self.text!r}"
        return codes[0]

    def link_token(self, path):
        """The token of the FRONTEND_URL + path link in the text part."""
        assert self.text is not None
        m = re.search("^" + re.escape(FRONTEND_URL + path) + r"\?token=([A-Za-z0-9_\-]+)$", self.text, re.M)
        assert m, f"no {FRONTEND_URL}{path}?token=... line in {self.text!r}"
        return m.group(1)

    def __repr__(self):
        return f"<Mail to={self.rcpt} subject={self.subject!r}>"


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        try:
            self.sink._add(envelope.content, envelope.rcpt_tos, envelope.mail_from)
        except Exception as e:  # keep it: a test then fails on it instead of waiting
            self.sink.errors.append(f"{type(e).__name__}: {e} in {envelope.content[:2000]!r}")
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on 127.0.0.1 that keeps every message."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.messages = []
        self.errors = []
        self.cond = threading.Condition()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def _add(self, raw, rcpt, mail_from=None):
        m = Mail(raw, rcpt, mail_from)
        with self.cond:
            self.messages.append(m)
            self.cond.notify_all()

    @staticmethod
    def _match(m, to, subject_contains):
        return to.lower() in m.rcpt and subject_contains.lower() in m.subject.lower()

    def wait_mail(self, to, subject_contains, timeout=10):
        """The oldest message to `to` whose subject contains subject_contains
        that no earlier wait_mail returned; fails after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.messages:
                    if not m.taken and self._match(m, to, subject_contains):
                        m.taken = True
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [m for m in self.messages if to.lower() in m.rcpt]
                    raise AssertionError(f"no new mail to {to} with {subject_contains!r} within {timeout}s "
                                         f"(mails to that address: {seen}; sink errors: {self.errors})")
                self.cond.wait(min(left, 0.2))

    def mails(self, to, subject_contains=""):
        with self.cond:
            return [m for m in self.messages if self._match(m, to, subject_contains)]


# ---------------------------------------------------------------- helpers

def set_cookies(r):
    try:
        return list(r.raw.headers.getlist("Set-Cookie"))
    except AttributeError:
        v = r.headers.get("Set-Cookie")
        return [v] if v else []


def refresh_cookie(r):
    """(value, {attribute: value-or-True}) of the refresh_token Set-Cookie,
    or (None, None)."""
    for c in set_cookies(r):
        parts = [p.strip() for p in c.split(";")]
        name, _, value = parts[0].partition("=")
        if name.strip() == "refresh_token":
            attrs = {}
            for p in parts[1:]:
                k, eq, v = p.partition("=")
                attrs[k.strip().lower()] = v.strip() if eq else True
            return value, attrs
    return None, None


def jwt_decode(token):
    """(header, payload) of a JWT, unverified."""
    parts = token.split(".")
    assert len(parts) == 3, token

    def dec(x):
        return json.loads(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    return dec(parts[0]), dec(parts[1])


def truthy(v):
    """A boolean column as either engine prints it."""
    return str(v).lower() in ("1", "t", "true")


def wrong_code(code):
    return f"{(int(code) + 1) % 1000000:06d}"


def new_identity(prefix="u"):
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    return f"{name}@example.com", name


def assert_tokens(r, role="user"):
    """A 200 sign-in answer: the body and the refresh cookie; returns
    (access_token, refresh_token, user)."""
    assert r.status_code == 200, f"expected 200 tokens, got {r.status_code}: {r.text[:500]}"
    body = r.json()
    assert set(body) >= {"access_token", "token_type", "expires_in", "user"}, body
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert "refresh_token" not in body, "the refresh token belongs in the cookie only"
    hdr, claims = jwt_decode(body["access_token"])
    assert hdr["alg"] == "HS256", hdr
    assert claims["role"] == role, claims
    value, attrs = refresh_cookie(r)
    assert value, f"no refresh_token cookie in {set_cookies(r)}"
    assert attrs.get("httponly") is True, attrs
    assert str(attrs.get("samesite", "")).lower() == "strict", attrs
    assert attrs.get("path") == "/api/auth", attrs
    assert int(attrs.get("max-age", "0")) > 0, attrs
    return body["access_token"], value, body["user"]


# ---------------------------------------------------------------- the client

class Accounts:
    """A private server with its mail sink, and the account steps tests
    repeat.  HTTP goes out without a cookie jar: cookies are sent only when
    a test passes one."""

    def __init__(self, server, sink):
        self.s = server
        self.sink = sink
        self.url = server.url

    # -- HTTP

    def call(self, method, path, json=_NO, *, token=None, cookie=None, origin=None, headers=None,
             data=None, timeout=30):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if cookie is not None:
            h["Cookie"] = f"refresh_token={cookie}"
        if origin is not None:
            h["Origin"] = origin
        kw = {"headers": h, "timeout": timeout}
        if json is not _NO:
            kw["json"] = json
        if data is not None:
            kw["data"] = data
        return requests.request(method, self.url + path, **kw)

    def post(self, path, json=_NO, **kw):
        return self.call("POST", path, json, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def put(self, path, json=_NO, **kw):
        return self.call("PUT", path, json, **kw)

    def delete(self, path, json=_NO, **kw):
        return self.call("DELETE", path, json, **kw)

    # -- mail and database

    def wait_mail(self, to, subject_contains, timeout=10):
        try:
            return self.sink.wait_mail(to, subject_contains, timeout)
        except AssertionError as e:
            rows = self.sql("SELECT id, kind, status, attempts, last_error, next_attempt_at, locked_until"
                            f" FROM mail_outbox WHERE to_addr = '{to.lower()}'")
            raise AssertionError(f"{e}\noutbox rows: {rows}\nnow {int(time.time() * 1000)}\n"
                                 f"server log:\n{self.s.log_tail(20)}") from None

    def sql(self, q):
        return self.s.sql(q)

    def scalar(self, q):
        return self.s.scalar(q)

    def outbox_count(self, to, kind=None):
        q = f"SELECT COUNT(*) FROM mail_outbox WHERE to_addr = '{to}'"
        if kind:
            q += f" AND kind = '{kind}'"
        return int(self.scalar(q))

    def uid(self, email_addr):
        return int(self.scalar(f"SELECT id FROM users WHERE email_normalized = '{email_addr.strip().lower()}'"))

    # -- account steps

    def register(self, email_addr=None, username=None, password=PASSWORD, user_type="buyer", **extra):
        """POST /api/auth/register; returns (response, email, username)."""
        if email_addr is None or username is None:
            e, u = new_identity()
            email_addr = email_addr or e
            username = username or u
        body = {"email": email_addr, "password": password, "username": username, "user_type": user_type}
        body.update(extra)
        return self.post("/api/auth/register", body), email_addr, username

    def verification_code(self, email_addr):
        return self.wait_mail(email_addr.strip().lower(), VERIFY_SUBJECT).code

    def verify(self, email_addr, code):
        return self.post("/api/auth/verify-email", {"email": email_addr, "code": code})

    def login(self, email_addr, password=PASSWORD, **kw):
        return self.post("/api/auth/login", {"email": email_addr, "password": password}, **kw)

    def refresh(self, cookie, **kw):
        return self.post("/api/auth/refresh", cookie=cookie, **kw)

    def new_user(self, prefix="u", password=PASSWORD, **extra):
        """A registered and verified user, signed in by verify-email."""
        e, u = new_identity(prefix)
        r, _, _ = self.register(e, u, password, **extra)
        assert r.status_code == 201, r.text
        access, refresh, user = assert_tokens(self.verify(e, self.verification_code(e)))
        return types.SimpleNamespace(email=e, username=u, password=password, id=user["id"],
                                     access=access, refresh=refresh, user=user)

    def new_pending_user(self, prefix="p", password=PASSWORD, **extra):
        """A registered, unverified user and its mailed code."""
        e, u = new_identity(prefix)
        r, _, _ = self.register(e, u, password, **extra)
        assert r.status_code == 201, r.text
        return types.SimpleNamespace(email=e, username=u, password=password, id=r.json()["user"]["id"],
                                     code=self.verification_code(e), user=r.json()["user"])

    def admin_session(self, email_addr=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        r = self.post("/api/auth/admin/login", {"email": email_addr, "password": password})
        assert r.status_code == 200, r.text
        code = self.wait_mail(email_addr, ADMIN_CODE_SUBJECT).code
        return assert_tokens(self.post("/api/auth/admin/verify-otp", {"email": email_addr, "code": code}),
                             role="admin")

    def create_admin(self, email_addr, password):
        p = run_binary(["create-admin", "--email", email_addr, "--password", password], self.s.env, self.s.tmp)
        assert p.returncode == 0, p.stdout + p.stderr
        return self.uid(email_addr)


def smtp_env(port, extra=None):
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_TLS": "none", "SMTP_FROM": SMTP_FROM,
           "RATE_LIMIT_ENABLED": "false"}
    env.update(extra or {})
    return env


@contextlib.contextmanager
def accounts_env(engine, label, env=None, admins=((ADMIN_EMAIL, ADMIN_PASSWORD),)):
    """A started private server that mails through a fresh sink."""
    if engine == "postgres":
        require_pg()
    sink = MailSink().start()
    try:
        s = start_server(engine, env=smtp_env(sink.port, env), admins=admins, seed=False,
                         label=f"{label}-{engine}")
        try:
            yield Accounts(s, sink)
        finally:
            finish_server(s)
    finally:
        sink.stop()


# ---------------------------------------------------------------- tests

@pytest.fixture(scope="module", params=ENGINES)
def acc(request):
    with accounts_env(request.param, "mail") as a:
        yield a


def test_verification_mail_over_smtp(acc):
    """The code mail: envelope, headers, a text and an HTML part, the code
    alone on a line, the name HTML-escaped; the outbox row ends 'sent'."""
    e, u = new_identity("mail")
    r, _, _ = acc.register("  " + e.upper() + " ", u, full_name="<b>Ann & Co</b>")
    assert r.status_code == 201, r.text
    m = acc.wait_mail(e, VERIFY_SUBJECT)
    assert m.rcpt == [e]
    assert m.mail_from == "no-reply@test.local"
    assert e in m.to
    assert m.sender == SMTP_FROM
    assert m.msg.get_content_type() == "multipart/alternative"
    assert m.text is not None and m.html is not None
    code = m.code
    assert code in m.html
    assert "<b>Ann" not in m.html and "&lt;b&gt;Ann &amp; Co&lt;/b&gt;" in m.html
    assert "Hi <b>Ann & Co</b>," in m.text
    assert m.msg["Message-ID"] and m.msg["Date"]
    rows = acc.sql(f"SELECT status, attempts, last_error, kind FROM mail_outbox WHERE to_addr = '{e}'")
    deadline = time.time() + 5
    while rows and rows[0][0] != "sent" and time.time() < deadline:
        time.sleep(0.05)
        rows = acc.sql(f"SELECT status, attempts, last_error, kind FROM mail_outbox WHERE to_addr = '{e}'")
    assert rows == [("sent", "1", "", "verify_email")], rows
    # the code in the mail is the one the server accepts
    assert_tokens(acc.verify(e, code))


def test_password_reset_mail_has_the_full_link(acc):
    user = acc.new_user("resetmail")
    r = acc.post("/api/auth/forgot-password", {"email": user.email})
    assert r.status_code == 200
    m = acc.wait_mail(user.email, RESET_SUBJECT)
    token = m.link_token("/auth/reset-password")
    assert len(token) >= 32
    assert f'href="{FRONTEND_URL}/auth/reset-password?token={token}"' in m.html


def test_mail_goes_out_promptly(acc):
    """Queuing a mail wakes the worker: no code waits for its 2-second
    poll (as it does when a wake-up is lost while the worker is busy)."""
    slow = []
    for _ in range(12):
        e, u = new_identity("prompt")
        r, _, _ = acc.register(e, u)
        assert r.status_code == 201, r.text
        t = time.monotonic()
        acc.wait_mail(e, VERIFY_SUBJECT)
        dt = time.monotonic() - t
        if dt > 1.0:
            slow.append(round(dt, 2))
    assert not slow, f"{len(slow)} of 12 verification mails reached SMTP only after {slow} s"


@pytest.mark.parametrize("engine", ENGINES)
def test_smtp_failure_is_retried_with_backoff(engine):
    """SMTP down: the request still succeeds, the outbox row stays 'queued'
    with attempts >= 1, last_error and a later next_attempt_at; once the
    SMTP server is up and the row is due, the mail goes out."""
    if engine == "postgres":
        require_pg()
    port = free_port()  # nothing listens here yet
    s = start_server(engine, env=smtp_env(port), admins=(), seed=False, label=f"mail-retry-{engine}")
    sink = None
    try:
        acc = Accounts(s, None)
        e, u = new_identity("retry")
        r, _, _ = acc.register(e, u)
        assert r.status_code == 201, r.text
        deadline = time.time() + 15
        row = None
        while time.time() < deadline:
            rows = s.sql("SELECT status, attempts, last_error, next_attempt_at FROM mail_outbox"
                         f" WHERE to_addr = '{e}'")
            assert len(rows) == 1, rows
            row = rows[0]
            if int(row[1]) >= 1 and row[0] == "queued":
                break
            time.sleep(0.1)
        status, attempts, last_error, next_at = row
        assert status == "queued" and int(attempts) >= 1, row
        assert last_error, row
        assert str(port) in last_error or "127.0.0.1" in last_error, row
        assert int(next_at) > int(time.time() * 1000) + 20000, f"no backoff: {row}"
        # bring the SMTP server up and make the row due: it is delivered
        sink = MailSink(port).start()
        acc.sink = sink
        s.sql(f"UPDATE mail_outbox SET next_attempt_at = 0 WHERE to_addr = '{e}'")
        code = acc.wait_mail(e, VERIFY_SUBJECT, timeout=15).code
        deadline = time.time() + 5
        while time.time() < deadline:
            row = s.sql(f"SELECT status, attempts, last_error FROM mail_outbox WHERE to_addr = '{e}'")[0]
            if row[0] == "sent":
                break
            time.sleep(0.05)
        assert row[0] == "sent" and int(row[1]) == int(attempts) + 1 and row[2] == "", row
        assert_tokens(acc.verify(e, code))
    finally:
        try:
            finish_server(s)
        finally:
            if sink:
                sink.stop()


_EML_CACHE = {}


def _eml_files(server):
    return sorted(glob.glob(os.path.join(server.data_dir, "mail", "*.eml")))


def _wait_eml(server, to, subject_contains, seen=(), timeout=10):
    """The first .eml to `to` with the subject that is not in seen."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in _eml_files(server):
            if path in seen:
                continue
            m = _EML_CACHE.get(path)
            if m is None:
                with open(path, "rb") as f:
                    m = _EML_CACHE[path] = Mail(f.read(), [])
            if to.lower() in m.to.lower() and subject_contains.lower() in m.subject.lower():
                return path, m
        time.sleep(0.05)
    raise AssertionError(f"no .eml to {to} with {subject_contains!r} in {server.data_dir}/mail")


def test_without_smtp_host_mail_lands_as_eml(server):
    """The shared server has no SMTP_HOST: each mail is an .eml file in
    DATA_DIR/mail with the code alone on a line, and that code works."""
    e, u = new_identity("eml")
    acc = Accounts(server, None)
    r, _, _ = acc.register(e, u)
    assert r.status_code == 201, r.text
    path, m = _wait_eml(server, e, VERIFY_SUBJECT)
    assert path.endswith(".eml") and os.path.dirname(path) == os.path.join(server.data_dir, "mail")
    assert not [p for p in os.listdir(os.path.dirname(path)) if p.endswith(".tmp")]
    assert m.text and m.html
    assert m.code in m.html
    assert m.sender  # a From header, whatever SMTP_FROM defaults to
    assert_tokens(acc.verify(e, m.code))
    row = server.sql(f"SELECT status FROM mail_outbox WHERE to_addr = '{e}' AND kind = 'verify_email'")
    assert row == [("sent",)], row


def test_every_account_route_on_the_shared_server(server):
    """Walks every auth and users route to a 2xx on the shared server (codes
    and links from its .eml files), so the suite's route-coverage check
    sees them."""
    acc = Accounts(server, None)
    e, u = new_identity("walk")
    r, _, _ = acc.register(e, u)
    assert r.status_code == 201, r.text
    p1, m = _wait_eml(server, e, VERIFY_SUBJECT)
    # resend replaces the code
    assert acc.post("/api/auth/resend-verification", {"email": e}).status_code == 200
    p2, m2 = _wait_eml(server, e, VERIFY_SUBJECT, seen=(p1,))
    assert_error(acc.verify(e, m.code) if m.code != m2.code else acc.verify(e, wrong_code(m2.code)),
                 422, "VALIDATION_ERROR", "code")
    access, cookie, user = assert_tokens(acc.verify(e, m2.code))
    access, cookie, _ = assert_tokens(acc.login(e))
    access, cookie, _ = assert_tokens(acc.refresh(cookie))
    assert acc.get("/api/users/me", token=access).json()["email"] == e
    r = acc.put("/api/users/me", {"bio": "walks routes"}, token=access)
    assert r.status_code == 200 and r.json()["bio"] == "walks routes", r.text
    assert acc.get(f"/api/users/{user['id']}").status_code == 200
    assert acc.get(f"/api/users/by-username/{u.upper()}").json()["id"] == user["id"]
    new_pw = PASSWORD + "-2"
    access, cookie, _ = assert_tokens(acc.put("/api/users/me/password",
                                              {"current_password": PASSWORD, "new_password": new_pw},
                                              token=access))
    assert acc.post("/api/auth/logout", cookie=cookie).status_code == 200
    assert acc.post("/api/auth/forgot-password", {"email": e}).status_code == 200
    _, m = _wait_eml(server, e, RESET_SUBJECT)
    token = m.link_token("/auth/reset-password")
    assert acc.post("/api/auth/reset-password", {"token": token, "new_password": PASSWORD}).status_code == 200
    access, cookie, _ = assert_tokens(acc.login(e, PASSWORD))
    assert acc.delete("/api/users/me/account", {"password": PASSWORD}, token=access).status_code == 200
    assert acc.get(f"/api/users/{user['id']}").status_code == 404
    # the admin routes, with an admin made by the CLI while the server runs
    # (not the shared admin@example.com, whose password other tests use)
    ae = f"walk_admin_{uuid.uuid4().hex[:8]}@example.com"
    acc.create_admin(ae, ADMIN_PASSWORD)
    r = acc.post("/api/auth/admin/login", {"email": ae, "password": ADMIN_PASSWORD})
    assert r.status_code == 200 and r.json().get("otp_required") is True, r.text
    _, m = _wait_eml(server, ae, ADMIN_CODE_SUBJECT)
    a_access, _, a_user = assert_tokens(acc.post("/api/auth/admin/verify-otp", {"email": ae, "code": m.code}),
                                        role="admin")
    assert a_user["role"] == "admin"
    assert acc.get("/api/admin/categories", token=a_access).status_code == 200
    assert acc.post("/api/auth/admin/forgot-password", {"email": ae}).status_code == 200
    _, m = _wait_eml(server, ae, RESET_SUBJECT)
    token = m.link_token("/admin/reset-password")
    r = acc.post("/api/auth/admin/reset-password", {"token": token, "new_password": ADMIN_PASSWORD + "-new"})
    assert r.status_code == 200, r.text
    r = acc.post("/api/auth/admin/login", {"email": ae, "password": ADMIN_PASSWORD + "-new"})
    assert r.status_code == 200, r.text
