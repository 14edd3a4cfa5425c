"""Black-box API tests for hwc3d: shared machinery.

Every test talks to a real `build/test/hwc3d serve` (ASan + UBSan build) on a
temporary database.  The `server` fixture is session-scoped and parametrized
over the two engines (SQLite, PostgreSQL); tests that need their own settings
(rate limits, shutdown, configuration) start private servers with `Server`.

PostgreSQL comes from TEST_PG_URL (scripts/run-tests.sh sets it; by hand:
`D=$(mktemp -d); export TEST_PG_URL=$(scripts/pg-test.sh start $D)`).  When it
is unset the postgres variants are skipped, or fail when CI=true.

At the end of a full run the suite checks that every route of
`hwc3d routes` answered a 2xx at least once on the SQLite server (from its
/metrics), so a route without a test fails the run.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The sanitizer build; make bench points HWC3D_TEST_BINARY at the release
# build to measure test_pool's latency scenario without ASan's cost.
BINARY = os.environ.get("HWC3D_TEST_BINARY") or os.path.join(REPO, "build", "test", "hwc3d")
WEB_DIR = os.path.join(REPO, "web")
VENDOR_DIR = os.path.join(REPO, "node_modules")

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct-horse-battery-staple"
DEMO_SCALE = 3

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
# db_sqlite.c logs this for a write that a stale read snapshot can refuse.
OPEN_READ_MARKER = "a write while a read is open on the connection"
IS_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

# (method, route) pairs that answered 2xx on a SQLite `server`, collected when
# each instance stops; checked in pytest_sessionfinish.
_ROUTES_HIT = set()
_ROUTE_CHECK = {"enabled": False, "engine_seen": False}


# ---------------------------------------------------------------- helpers

# The webhook secret of every test server (signing helper: fakes/payments.py).
STRIPE_WEBHOOK_SECRET = "whsec_test_suite_0123456789abcdef"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def uniq(prefix="t"):
    """A short unique name (fits the 50-character category name)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def sanitizer_problems(text):
    """Sanitizer reports of this process: the runtime prints them as raw
    text.  Our own JSON log lines are skipped: they may quote the stderr of
    a sandboxed analysis child that a hostile file drove out of memory."""
    raw = "\n".join(line for line in text.splitlines() if not line.startswith('{"ts":'))
    return [m for m in SANITIZER_MARKERS if m in raw]


def base_env(extra=None):
    """The environment for any hwc3d process: only what we choose."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "ASAN_OPTIONS": os.environ.get(
            "ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1"),
        "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        "LOG_LEVEL": "info",
    }
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
    return env


def run_binary(args, env, cwd, timeout=60, check_sanitizers=True):
    """Runs build/test/hwc3d; returns CompletedProcess.  Never crashes
    silently: a signal death or a sanitizer report fails the test."""
    p = subprocess.run([BINARY] + list(args), env=env, cwd=cwd, capture_output=True,
                       text=True, timeout=timeout)
    out = p.stdout + p.stderr
    assert p.returncode >= 0, f"hwc3d {' '.join(args)} died by signal {-p.returncode}:\n{out}"
    if check_sanitizers:
        probs = sanitizer_problems(out)
        assert not probs, f"hwc3d {' '.join(args)}: sanitizer reported {probs}:\n{out}"
    return p


def pg_url():
    url = os.environ.get("TEST_PG_URL", "").strip()
    return url or None


def require_pg():
    """Skips (or fails under CI) when no PostgreSQL cluster is configured."""
    url = pg_url()
    if not url:
        msg = ("TEST_PG_URL is not set: no PostgreSQL to test against "
               "(run scripts/run-tests.sh, or export TEST_PG_URL=$(scripts/pg-test.sh start DIR))")
        if IS_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return url


def psql(url, query, timeout=30):
    p = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t",
                        "-F", "\x1f", "-c", query],
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"psql failed ({p.returncode}) for {query!r}: {p.stderr.strip()}")
    rows = []
    for line in p.stdout.splitlines():
        if line == "":
            continue
        rows.append(tuple(line.split("\x1f")))
    return rows


def pg_url_with_db(url, dbname):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


class PgDatabase:
    """A fresh database in the TEST_PG_URL cluster, dropped by drop()."""

    def __init__(self):
        base = require_pg()
        self.base = base
        self.name = "hwc_" + uuid.uuid4().hex[:16]
        psql(base, f"CREATE DATABASE {self.name}")
        self.url = pg_url_with_db(base, self.name)

    def drop(self):
        try:
            psql(self.base, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        except Exception:
            pass


def sql_sqlite(path, query, params=()):
    con = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        cur = con.execute(query, params)
        rows = cur.fetchall()
        return [tuple("" if v is None else str(v) for v in r) for r in rows]
    finally:
        con.close()


# ---------------------------------------------------------------- JWTs

def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_MISSING = object()


def mint_token(secret, sub, role="user", exp_delta=900, alg="HS256", *, key=None,
               iat=None, ims=None, header=None, claims=None, signature=None, drop=()):
    """Builds a JWT by hand.

    sub is sent as a string; iat/exp in seconds, ims in milliseconds.
    exp_delta=None leaves exp out; alg "none" gives an unsigned token;
    key signs with another secret; signature overrides the signature part
    ("" for an empty one); drop lists claims to leave out; claims adds or
    replaces claims."""
    now_ms = int(time.time() * 1000)
    body = {"sub": str(sub), "role": role,
            "iat": (now_ms // 1000) if iat is None else iat,
            "ims": now_ms if ims is None else ims}
    if exp_delta is not None:
        body["exp"] = now_ms // 1000 + int(exp_delta)
    if claims:
        body.update(claims)
    for c in drop:
        body.pop(c, None)
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    signing_input = b64url(json.dumps(hdr, separators=(",", ":"))) + "." + \
        b64url(json.dumps(body, separators=(",", ":")))
    if signature is not None:
        sig = signature
    elif alg == "none":
        sig = ""
    else:
        k = (key if key is not None else secret)
        if isinstance(k, str):
            k = k.encode()
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        sig = b64url(hmac.new(k, signing_input.encode(), digest).digest())
    return signing_input + "." + sig


def bearer(token):
    return {"Authorization": "Bearer " + token}


# ---------------------------------------------------------------- server

class ServerError(AssertionError):
    pass


class Server:
    """One `hwc3d serve` process on a temp DATA_DIR (and, for postgres, a
    fresh database).  env overrides the defaults (None removes a key)."""

    def __init__(self, engine="sqlite", env=None, admins=((ADMIN_EMAIL, ADMIN_PASSWORD),),
                 seed=True, label="server"):
        self.engine = engine
        self.label = label
        self.tmp = tempfile.mkdtemp(prefix=f"hwc3d-{label}-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.port = free_port()
        self.secret = secrets.token_hex(32)
        self.log_path = os.path.join(self.tmp, "server.log")
        self.proc = None
        self.pg = None
        self.stopped = False
        self.returncode = None
        extra = {
            "HOST": "127.0.0.1",
            "PORT": self.port,
            "DATA_DIR": self.data_dir,
            "JWT_SECRET_KEY": self.secret,
            "WEB_DIR": WEB_DIR,
            "VENDOR_DIR": VENDOR_DIR,
            "RATE_LIMIT_ENABLED": "false",
            # No automatic thumbnail renders racing the documents tests
            # compare; test_render.py starts its own server with them on.
            "RENDER_THUMBNAILS": "off",
            # Stripe's signed webhooks are answered (test_payments_providers.py)
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        }
        if engine == "postgres":
            self.pg = PgDatabase()
            extra["DATABASE_URL"] = self.pg.url
        elif engine != "sqlite":
            raise ValueError(engine)
        extra.update(env or {})
        if extra.get("PORT") is not None:
            self.port = int(extra["PORT"])
        if extra.get("DATA_DIR") is not None:
            self.data_dir = str(extra["DATA_DIR"])
        self.env = base_env(extra)
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self._admins = list(admins)
        self._seed = seed
        self._ids = {}

    # -- lifecycle

    def prepare(self):
        for email, password in self._admins:
            p = run_binary(["create-admin", "--email", email, "--password", password],
                           self.env, self.tmp)
            assert p.returncode == 0, f"create-admin {email} failed:\n{p.stdout}{p.stderr}"
        if self._seed:
            p = run_binary(["seed-demo", "--scale", str(DEMO_SCALE), "--no-models"], self.env, self.tmp)
            assert p.returncode == 0, f"seed-demo failed:\n{p.stdout}{p.stderr}"
        return self

    def start(self, timeout=15):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BINARY, "serve"], env=self.env, cwd=self.tmp,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.label}: hwc3d exited with {self.proc.returncode} "
                                  f"before answering:\n{self.log_tail()}")
            try:
                r = requests.get(self.url + "/healthz", timeout=1)
                if r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise ServerError(f"{self.label}: /healthz did not answer within {timeout}s:\n{self.log_tail()}")

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=60):
        return "\n".join(self.log().splitlines()[-n:])

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=20):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError(f"{self.label}: did not exit within {timeout}s of SIGTERM:\n{self.log_tail()}")
        self.stopped = True
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stopped = True

    def stop(self, timeout=20):
        """SIGTERM, then the checks every server must pass: exit code 0 and
        no sanitizer report.  Raises ServerError otherwise."""
        if self.proc is None:
            return
        if not self.stopped:
            if self.proc.poll() is None:
                self.signal(signal.SIGTERM)
            self.wait(timeout)
        self.http.close()
        self.logf.close()
        problems = []
        if self.returncode != 0:
            problems.append(f"exit code {self.returncode} (expected 0)")
        log = self.log()
        found = sanitizer_problems(log)
        if found:
            problems.append(f"sanitizer reports: {found}")
        if OPEN_READ_MARKER in log:
            problems.append("a write while a read was open on one SQLite connection (see the log)")
        if problems:
            raise ServerError(f"{self.label} ({self.engine}) stopped badly: {'; '.join(problems)}\n"
                              f"log {self.log_path}:\n{self.log_tail(120)}")

    def cleanup(self, keep=False):
        if self.pg:
            self.pg.drop()
        if not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- database

    def sql(self, query):
        """Runs SQL on this server's database; rows as tuples of strings
        (NULL is '')."""
        if self.engine == "postgres":
            return psql(self.pg.url, query)
        return sql_sqlite(os.path.join(self.data_dir, "hwc3d.db"), query)

    def scalar(self, query):
        rows = self.sql(query)
        return rows[0][0] if rows else None

    def user_id(self, email):
        if email not in self._ids:
            v = self.scalar(f"SELECT id FROM users WHERE email_normalized = '{email}'")
            assert v, f"no user {email}"
            self._ids[email] = int(v)
        return self._ids[email]

    def make_user(self, role="user", **cols):
        """Inserts a fresh verified user straight into the database; returns its id."""
        name = "u_" + uuid.uuid4().hex[:12]
        now = int(time.time() * 1000)
        v = self.scalar(
            "INSERT INTO users (email, email_normalized, username, username_lower, password_hash,"
            " full_name, user_type, role, is_email_verified, created_at, updated_at)"
            f" VALUES ('{name}@example.com', '{name}@example.com', '{name}', '{name}', NULL,"
            f" 'Test', 'buyer', '{role}', TRUE, {now}, {now}) RETURNING id")
        return int(v)

    # -- tokens and HTTP

    def token(self, user_id, role="user", **kw):
        return mint_token(self.secret, user_id, role, **kw)

    def admin_headers(self, email=ADMIN_EMAIL):
        return bearer(self.token(self.user_id(email), "admin"))

    def user_headers(self, n=1):
        return bearer(self.token(self.user_id(f"demo{n}@example.com"), "user"))

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 15)
        return self.http.request(method, self.url + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def metrics(self):
        return requests.get(self.url + "/metrics", timeout=10).text


def admin_headers(server, email=ADMIN_EMAIL):
    return server.admin_headers(email)


def user_headers(server, n=1):
    return server.user_headers(n)


def start_server(engine="sqlite", **kw):
    """A started private server; the caller stops it with finish_server()."""
    s = Server(engine, **kw)
    try:
        s.prepare().start()
    except BaseException:
        s.kill()
        s.cleanup(keep=True)
        raise
    return s


def start_seeded_server(engine, seed_args, seed_timeout=300, **kw):
    """A started private server whose database `seed-demo seed_args` filled
    (the caller stops it with finish_server())."""
    s = Server(engine, seed=False, **kw)
    try:
        s.prepare()
        p = run_binary(["seed-demo", *seed_args], s.env, s.tmp, timeout=seed_timeout)
        assert p.returncode == 0, p.stdout + p.stderr
        s.start()
    except BaseException:
        s.kill()
        s.cleanup(keep=True)
        raise
    return s


def finish_server(s):
    """Stops s with the exit-code and sanitizer checks, then cleans up (the
    temp directory is kept when the checks fail, for its log)."""
    try:
        s.stop()
    except BaseException:
        s.cleanup(keep=True)
        raise
    s.cleanup()


# ---------------------------------------------------------------- raw HTTP

def raw_request(port, data, timeout=10, read=True):
    """Sends raw bytes, returns everything the server answers until it
    closes (or the timeout).  b'' when the connection was reset."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        if not read:
            return b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out


def parse_raw_response(data):
    """(status, headers dict lower-cased, body bytes) of the first response."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0]) if lines and lines[0] else None
    if not m:
        return None, {}, body
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return int(m.group(1)), headers, body


def assert_error(r, status, code, field=None):
    """r is a requests response with the error body of the contract."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:500]}"
    body = r.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert body.get("error_code") == code, body
    if field is not None:
        fe = body.get("field_errors")
        assert isinstance(fe, dict) and field in fe, body
        assert isinstance(fe[field], list) and fe[field] and all(isinstance(m, str) for m in fe[field]), body
    return body


# ---------------------------------------------------------------- fixtures

def _scrape_routes_hit(srv):
    """Records which routes answered 2xx on srv (from /metrics)."""
    pat = re.compile(r'^hwc3d_http_requests_total\{method="([A-Z]+)",route="([^"]*)",status="(\d+)"\} (\d+)$')
    for attempt in range(3):
        text = srv.metrics()
        for line in text.splitlines():
            m = pat.match(line)
            if m and m.group(3).startswith("2") and int(m.group(4)) > 0:
                _ROUTES_HIT.add((m.group(1), m.group(2)))
        time.sleep(0.2)  # a request's metric is recorded after its response


@pytest.fixture(scope="session", params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def server(request):
    if request.param == "postgres":
        require_pg()
    s = Server(request.param, label=f"main-{request.param}")
    try:
        s.prepare().start()
    except BaseException:
        s.kill()
        s.cleanup(keep=True)
        raise
    yield s
    if request.param == "sqlite" and s.proc.poll() is None:
        _ROUTE_CHECK["engine_seen"] = True
        _scrape_routes_hit(s)
    finish_server(s)


@pytest.fixture
def admin(server):
    return server.admin_headers()


@pytest.fixture
def category(server):
    """A fresh active category, deleted afterwards (if still there)."""
    name = uniq("Cat")
    r = server.post("/api/admin/categories", json={"name": name, "description": "fixture"},
                    headers=server.admin_headers())
    assert r.status_code == 201, r.text
    c = r.json()
    yield c
    server.delete(f"/api/admin/categories/{c['id']}", headers=server.admin_headers())


# ---------------------------------------------------------------- hooks

def pytest_configure(config):
    if not os.path.exists(BINARY):
        raise pytest.UsageError(f"{BINARY} is missing: run `make test-build` first")
    # The route-coverage check only makes sense when the whole suite runs.
    here = os.path.dirname(os.path.abspath(__file__))
    args = [os.path.abspath(a) for a in config.args]
    full = all(a.rstrip("/") in (here, REPO) for a in args) if args else True
    if (config.getoption("keyword") or config.getoption("markexpr") or config.getoption("deselect", None)
            or config.getoption("ignore", None) or config.getoption("ignore_glob", None)):
        full = False
    if config.getoption("exitfirst", False):
        full = False
    _ROUTE_CHECK["enabled"] = full


def pytest_sessionfinish(session, exitstatus):
    if not _ROUTE_CHECK["enabled"]:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    problems = []
    if not _ROUTE_CHECK["engine_seen"]:
        problems.append("the SQLite server never ran, so route coverage could not be checked")
    else:
        p = subprocess.run([BINARY, "routes"], capture_output=True, text=True,
                           env=base_env({"DATA_DIR": tempfile.gettempdir()}), cwd=tempfile.gettempdir())
        if p.returncode != 0:
            problems.append(f"`hwc3d routes` failed ({p.returncode}): {p.stderr}")
        else:
            routes = json.loads(p.stdout)
            missing = [f"{r['method']} {r['path']}" for r in routes
                       if (r["method"], r["path"]) not in _ROUTES_HIT]
            if missing:
                problems.append("routes never answered 2xx in the API suite (add tests): "
                                + ", ".join(missing))
    if problems:
        if reporter:
            reporter.write("\n")
            for p in problems:
                reporter.write_line("ROUTE COVERAGE FAILURE: " + p, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
