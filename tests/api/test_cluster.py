"""Scale-out (issue 15): two `hwc3d serve` instances sharing PostgreSQL,
Redis and a local S3 stand-in, behind nginx configured as
docs/deployment.md ships it (the sample is read from that file).  What one
instance does, the other must see: a session and its refresh, a rate limit,
an upload and its file, a WebSocket event, a job, a checkout; and the proxy
must spread requests over both and carry WebSockets.

`make test-cluster` runs this file alone; `make test` runs it with the rest.
"""
import glob
import email
import email.policy
import email.utils
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

from conftest import (ADMIN_EMAIL, IS_CI, REPO, Server, finish_server, free_port, require_pg, run_binary)
from test_abuse import _start_redis
from test_commerce import add, checkout
from test_models import CUBE_OBJ, approve_model, create_model, make_buyer, make_creator
from test_storage_s3 import BUCKET, port_open, s3_env, s3rver  # noqa: F401 (s3rver: a fixture)
from wsclient import WS

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
SKEW_S = 6  # instance c's clock is this far behind a's and b's
DEPLOYMENT = os.path.join(REPO, "docs", "deployment.md")
PASSWORD = "cluster-Password-123"
CODE_RE = re.compile(r"\b(\d{6})\b")


def need(ok, what):
    if not ok:
        if IS_CI:
            pytest.fail(f"{what} is not installed (scripts/install-deps.sh test)")
        pytest.skip(f"{what} is not installed")


def nginx_sample():
    """The nginx configuration of docs/deployment.md, exactly as shipped."""
    with open(DEPLOYMENT) as f:
        text = f.read()
    block = text.split("<!-- nginx-sample: begin -->", 1)[1].split("<!-- nginx-sample: end -->", 1)[0]
    return block.split("```nginx\n", 1)[1].split("```", 1)[0]


def nginx_conf(tmp, listen, a, b):
    """The sample on our ports, with the paths a process of the test may
    write (pid, logs, temp files) in tmp; nothing else changes."""
    conf = nginx_sample()
    for old, new in (("127.0.0.1:8001", f"127.0.0.1:{a}"), ("127.0.0.1:8002", f"127.0.0.1:{b}"),
                     ("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{listen};")):
        assert conf.count(old) == 1, f"docs/deployment.md's sample has no single {old!r}"
        conf = conf.replace(old, new)
    paths = "".join(f"    {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                          "uwsgi", "scgi"))
    paths += f"    access_log {tmp}/access.log;\n"
    conf = conf.replace("http {\n", "http {\n" + paths, 1)
    head = f"daemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
    if os.geteuid() == 0:
        head += "user root;\n"  # the workers write the temp paths in tmp
    return head + conf


class Proxy:
    def __init__(self, a, b):
        self.tmp = tempfile.mkdtemp(prefix="hwc3d-nginx-")
        self.port = free_port()
        with open(os.path.join(self.tmp, "nginx.conf"), "w") as f:
            f.write(nginx_conf(self.tmp, self.port, a, b))
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([NGINX, "-p", self.tmp, "-c", os.path.join(self.tmp, "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not port_open(self.port):
            if self.proc.poll() is not None or time.time() > deadline:
                self.proc.kill()
                raise AssertionError(f"nginx did not start: {self.proc.stderr.read().decode(errors='replace')}")
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Cluster:
    """Instances a and b (test Server objects on one database) behind the
    proxy, redis, and c: a third instance on the same database whose clock
    is SKEW_S seconds behind (libfaketime), outside the proxy."""

    def __init__(self, a, b, c, proxy, redis_port):
        self.a, self.b, self.c, self.proxy, self.redis_port = a, b, c, proxy, redis_port
        self.both = (a, b)


def joined(a, env, label, extra=None):
    """Another instance of a's database and secret."""
    s = Server("sqlite", env=dict(env, DATABASE_URL=a.pg.url, JWT_SECRET_KEY=a.secret, **(extra or {})),
               admins=(), seed=False, label=label)
    s.secret = a.secret      # tokens minted by the tests are good on every instance
    s.sql = a.sql            # one database: psql through a's URL
    s.scalar = a.scalar
    return s


@pytest.fixture(scope="module")
def cluster(s3rver):  # noqa: F811 (the fixture imported above)
    require_pg()
    need(os.path.exists(NGINX), "nginx")
    need(shutil.which("redis-server"), "redis-server")
    need(os.path.exists(FAKETIME), "libfaketime (package faketime)")
    redis_port = free_port()
    redis, redis_dir = _start_redis(redis_port)
    env = dict(s3_env(s3rver["port"]))
    env.update({
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_AUTH": "5/minute",
        "RATE_LIMIT_GENERAL": "100000/minute",
        "RATE_LIMIT_UPLOAD": "1000/hour",
        # the tests name their client with X-Forwarded-For (one limit each)
        "TRUSTED_PROXIES": "127.0.0.1/32",
    })
    a = Server("postgres", env=env, label="cluster-a")
    started = [a]
    proxy = None
    try:
        a.prepare()
        b = joined(a, env, "cluster-b")
        started.append(b)
        c = joined(a, env, "cluster-c", {
            "LD_PRELOAD": FAKETIME, "FAKETIME": f"-{SKEW_S}", "DONT_FAKE_MONOTONIC": "1",
            # libfaketime is preloaded before the sanitizer runtime
            "ASAN_OPTIONS": "verify_asan_link_order=0:detect_leaks=1:abort_on_error=0:halt_on_error=1"})
        started.append(c)
        for s in started:
            s.start()
        proxy = Proxy(a.port, b.port)
        yield Cluster(a, b, c, proxy, redis_port)
    finally:
        if proxy:
            proxy.stop()
        for s in started:
            try:
                finish_server(s)
            except Exception:
                if s is started[-1]:
                    raise
        redis.kill()
        redis.wait()
        shutil.rmtree(redis_dir, ignore_errors=True)


def xff(n):
    """A client of its own for the rate limiter (TRUSTED_PROXIES is loopback)."""
    return {"X-Forwarded-For": f"10.{n // 250}.{n % 250}.7"}


_CLIENT = [100]


def client():
    _CLIENT[0] += 1
    return xff(_CLIENT[0])


def mailed_code(servers, to, timeout=20):
    """The code mailed to `to`, from whichever instance's mail folder the
    shared outbox delivered it to."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for s in servers:
            for path in sorted(glob.glob(os.path.join(s.data_dir, "mail", "*.eml")), reverse=True):
                with open(path, "rb") as f:
                    msg = email.message_from_bytes(f.read(), policy=email.policy.default)
                if to.lower() not in str(msg["To"] or "").lower():
                    continue
                body = msg.get_body(("plain",))
                codes = CODE_RE.findall(body.get_content()) if body is not None else []
                if codes:
                    return codes[0]
        time.sleep(0.1)
    raise AssertionError(f"no code mailed to {to} within {timeout}s")


def refresh_cookie(r):
    m = re.search(r"refresh_token=([^;]+)", r.headers.get("Set-Cookie", ""))
    return m.group(1) if m else None


# ---------------------------------------------------------------- state shared by the instances

def test_session_made_on_one_instance_works_and_refreshes_on_the_other(cluster):
    a, b = cluster.a, cluster.b
    h = client()
    name = "cl_" + os.urandom(6).hex()
    mail = f"{name}@example.com"
    r = requests.post(a.url + "/api/auth/register", headers=h, timeout=30,
                      json={"email": mail, "username": name, "password": PASSWORD, "user_type": "buyer"})
    assert r.status_code == 201, r.text
    r = requests.post(b.url + "/api/auth/verify-email", headers=h, timeout=30,
                      json={"email": mail, "code": mailed_code(cluster.both, mail)})
    assert r.status_code == 200, r.text
    access, cookie = r.json()["access_token"], refresh_cookie(r)
    assert cookie
    me = requests.get(a.url + "/api/users/me", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert me.status_code == 200 and me.json()["username"] == name, me.text
    # the refresh token of b's sign-in rotates on a...
    r = requests.post(a.url + "/api/auth/refresh", headers=dict(h, Cookie=f"refresh_token={cookie}"), timeout=10)
    assert r.status_code == 200, r.text
    cookie2 = refresh_cookie(r)
    assert cookie2 and cookie2 != cookie
    me = requests.get(b.url + "/api/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"},
                      timeout=10)
    assert me.status_code == 200 and me.json()["username"] == name, me.text
    # ...and the old one, replayed on b within the grace interval (a second
    # tab), gets the very successor a issued: b sees a's rotation
    r = requests.post(b.url + "/api/auth/refresh", headers=dict(h, Cookie=f"refresh_token={cookie}"), timeout=10)
    assert r.status_code == 200 and refresh_cookie(r) == cookie2, (r.status_code, r.text)
    # a password sign-in through a, used on b
    r = requests.post(a.url + "/api/auth/login", headers=h, json={"email": mail, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    me = requests.get(b.url + "/api/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"},
                      timeout=10)
    assert me.status_code == 200, me.text


def test_rate_limit_is_one_budget_across_instances(cluster):
    """RATE_LIMIT_AUTH is 5/minute: five attempts spread over both
    instances spend it, and the sixth is refused by either."""
    h = client()
    body = {"email": "nobody-" + os.urandom(4).hex() + "@example.com", "password": "wrong-password-1"}
    codes = [requests.post(s.url + "/api/auth/login", headers=h, json=body, timeout=30).status_code
             for s in (cluster.a, cluster.b, cluster.a, cluster.b, cluster.a)]
    assert codes == [401] * 5, codes
    for s in cluster.both:
        r = requests.post(s.url + "/api/auth/login", headers=h, json=body, timeout=30)
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) > 0
    # another client is not affected
    r = requests.post(cluster.b.url + "/api/auth/login", headers=client(), json=body, timeout=30)
    assert r.status_code == 401, r.text


def test_upload_on_one_instance_is_served_by_the_other(cluster, s3rver):  # noqa: F811
    a, b = cluster.a, cluster.b
    creator = make_creator(a)
    r = requests.post(a.url + "/api/upload/model", headers=creator.h, timeout=60,
                      files={"file": ("cube.obj", CUBE_OBJ, "application/octet-stream")})
    assert r.status_code == 201, r.text
    up = r.json()
    # the upload is b's to use, and its file is b's to serve
    m = create_model(b, creator, upload={"upload_id": up["upload_id"]})
    approve_model(a, m["id"])
    buyer = make_buyer(b)
    assert add(b, buyer, m["id"]).status_code in (200, 201)
    r = checkout(a, buyer)
    assert r.status_code in (200, 201), r.text
    r = requests.get(b.url + f"/api/models/{m['id']}/download", headers=buyer.h, timeout=30)
    assert r.status_code == 200, r.text
    link = urllib.parse.urlsplit(r.json()["download_url"])
    # the signed link is good on a (it redirects to the bucket)
    r = requests.get(f"{a.url}{link.path}?{link.query}", timeout=30)
    assert r.status_code == 200 and r.content == CUBE_OBJ, (r.status_code, r.content[:200])
    # and it is in the bucket, not in either instance's DATA_DIR
    assert not glob.glob(os.path.join(a.data_dir, "files", "models", "*"))
    assert not glob.glob(os.path.join(b.data_dir, "files", "models", "*"))
    assert glob.glob(os.path.join(s3rver["data"], BUCKET, "models", "*"))


def test_checkout_on_one_instance_is_seen_by_the_other(cluster):
    a, b = cluster.a, cluster.b
    creator, buyer = make_creator(a), make_buyer(a)
    m = create_model(a, creator, price=12.5, approve=True)
    assert add(a, buyer, m["id"]).status_code in (200, 201)
    cart = requests.get(b.url + "/api/cart", headers=buyer.h, timeout=10).json()
    assert [i["model"]["id"] if "model" in i else i.get("model_id") for i in cart["items"]] == [m["id"]], cart
    r = checkout(b, buyer, key="cl-" + os.urandom(6).hex())
    assert r.status_code in (200, 201), r.text
    got = requests.get(a.url + "/api/users/me/purchases", headers=buyer.h, timeout=10)
    assert got.status_code == 200 and any(p.get("model_id") == m["id"] or (p.get("model") or {}).get("id") == m["id"]
            for p in got.json()["items"]), got.text
    # the same Idempotency-Key replayed on the other instance buys nothing twice
    n = a.scalar(f"SELECT COUNT(*) FROM orders WHERE buyer_id = {buyer.id}")
    assert int(n) == 1


def test_websocket_event_crosses_instances(cluster):
    """The creator listens on b; a like made through a reaches them (the
    Redis bus), and a ticket issued by a opens a socket on b."""
    a, b = cluster.a, cluster.b
    creator, fan = make_creator(a), make_buyer(a)
    m = create_model(a, creator, approve=True)
    t = requests.post(a.url + "/api/ws/ticket", headers=creator.h, timeout=10)
    assert t.status_code == 201, t.text
    ws = WS(b.port, f"/ws/notifications?ticket={t.json()['ticket']}")
    try:
        ws.send_json({"type": "ping"})
        ws.recv_type("pong")
        t0 = time.time()
        assert requests.post(a.url + f"/api/models/{m['id']}/like", headers=fan.h, timeout=10).status_code == 200
        ev = ws.recv_type("model_liked", timeout=5)
        assert ev["data"]["action_url"] == f"/model/{m['id']}"
        assert time.time() - t0 < 2
    finally:
        ws.close()


def test_job_queued_anywhere_runs_once_and_is_seen_everywhere(cluster):
    a, b = cluster.a, cluster.b
    owner = make_buyer(a)
    ids = []
    for i in range(6):
        p = run_binary(["job-enqueue", "echo", json.dumps({"n": i, "sleep_ms": 50}), "--owner", str(owner.id)],
                       a.env, a.tmp)
        assert p.returncode == 0, p.stdout + p.stderr
        ids.append(json.loads(p.stdout)["id"])
    deadline = time.time() + 30
    done = {}
    while time.time() < deadline and len(done) < len(ids):
        for i, jid in enumerate(ids):
            s = cluster.both[i % 2]
            r = requests.get(s.url + f"/api/jobs/{jid}", headers=owner.h, timeout=10)
            assert r.status_code == 200, r.text
            if r.json()["status"] == "done":
                done[jid] = r.json()
        time.sleep(0.1)
    assert len(done) == len(ids), done
    for i, jid in enumerate(ids):
        assert done[jid]["result"]["echo"]["n"] == i and done[jid]["result"]["attempt"] == 1, done[jid]
    # each ran once, on either instance
    assert int(a.scalar(f"SELECT COUNT(*) FROM jobs WHERE id IN ({', '.join(map(str, ids))}) AND attempts = 1")) == 6
    ran = [s for s in cluster.both for jid in ids
           if re.search(rf"job {jid} \(echo\) attempt 1/\d+ started", s.log())]
    assert len(ran) == len(ids), "each job must start exactly once across the instances"


# ---------------------------------------------------------------- through the proxy

def test_proxy_spreads_requests_over_both_instances(cluster):
    px = cluster.proxy.url
    marks = []
    for i in range(12):
        mark = f"spread-{os.urandom(6).hex()}"
        r = requests.get(px + f"/api/categories?page=1&limit={5 + i % 3}", headers={"X-Request-Id": mark}, timeout=10)
        assert r.status_code == 200, r.text
        marks.append(r.headers.get("X-Request-Id"))
    served = [sum(1 for mk in marks if mk and mk in s.log()) for s in cluster.both]
    # nginx's own $request_id replaces the client's: each request's id is in
    # exactly one instance's access log, and both instances served some
    assert sum(served) == len(marks), served
    assert all(n > 0 for n in served), served


def test_sign_in_and_websocket_through_the_proxy(cluster):
    px = cluster.proxy
    creator = make_creator(cluster.a)
    m = create_model(cluster.a, creator, approve=True)
    r = requests.get(px.url + "/api/users/me", headers=creator.h, timeout=10)
    assert r.status_code == 200, r.text
    t = requests.post(px.url + "/api/ws/ticket", headers=creator.h, timeout=10)
    assert t.status_code == 201, t.text
    ws = WS(px.port, f"/ws/notifications?ticket={t.json()['ticket']}")
    try:
        ws.send_json({"type": "ping"})
        ws.recv_type("pong")
        for _ in range(4):  # whichever instance each like lands on
            fan = make_buyer(cluster.a)
            r = requests.post(px.url + f"/api/models/{m['id']}/like", headers=fan.h, timeout=10)
            assert r.status_code == 200, r.text
            ev = ws.recv_type("model_liked", timeout=5)["data"]
            assert ev["action_url"] == f"/model/{m['id']}" and fan.username in ev["message"], ev
    finally:
        ws.close()
    # an upload streams through the proxy to an instance and into the bucket
    r = requests.post(px.url + "/api/upload/model", headers=creator.h, timeout=60,
                      files={"file": ("cube.obj", CUBE_OBJ, "application/octet-stream")})
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- clock skew

def test_clock_skew_between_instances_keeps_tokens_valid(cluster):
    """c's clock is SKEW_S seconds behind.  A password change on a ends
    every session (on every instance); a sign-in on c right after must give
    a token that a and b accept at once, as a sign-in on a does for c."""
    a, b, c = cluster.a, cluster.b, cluster.c
    r = requests.get(c.url + "/healthz", timeout=10)
    skew = time.time() - email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
    assert SKEW_S - 2 <= skew <= SKEW_S + 2, f"c's clock is not {SKEW_S}s behind: {skew:.1f}s"
    h = client()
    name = "sk_" + os.urandom(6).hex()
    mail = f"{name}@example.com"
    r = requests.post(a.url + "/api/auth/register", headers=h, timeout=30,
                      json={"email": mail, "username": name, "password": PASSWORD, "user_type": "buyer"})
    assert r.status_code == 201, r.text
    r = requests.post(c.url + "/api/auth/verify-email", headers=h, timeout=30,
                      json={"email": mail, "code": mailed_code((a, b, c), mail)})
    assert r.status_code == 200, r.text
    old = {"Authorization": "Bearer " + r.json()["access_token"]}
    for s in (a, b, c):  # issued by the slow clock, good on the others
        assert requests.get(s.url + "/api/users/me", headers=old, timeout=10).status_code == 200, s.label
    new_password = PASSWORD + "-2"
    r = requests.put(a.url + "/api/users/me/password", headers=old, timeout=30,
                     json={"current_password": PASSWORD, "new_password": new_password})
    assert r.status_code == 200, r.text
    for s in (a, b, c):  # every session ended, on every instance
        assert requests.get(s.url + "/api/users/me", headers=old, timeout=10).status_code == 401, s.label
    for signer in (c, a):
        r = requests.post(signer.url + "/api/auth/login", headers=h, timeout=30,
                          json={"email": mail, "password": new_password})
        assert r.status_code == 200, r.text
        fresh = {"Authorization": "Bearer " + r.json()["access_token"]}
        for s in (a, b, c):
            got = requests.get(s.url + "/api/users/me", headers=fresh, timeout=10)
            assert got.status_code == 200, f"signed in on {signer.label}, refused by {s.label}: {got.text}"
