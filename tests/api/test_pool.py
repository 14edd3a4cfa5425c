"""Slow work runs on the worker pool, never on a poll thread (http/pool.h).

While large model analyses and argon2 sign-ins run, an uncached read keeps
answering fast; a kind whose queue is full answers 503 with Retry-After; a
SIGTERM with work in flight still exits 0 without leaks."""
import json
import multiprocessing as mp
import os
import re
import signal
import threading
import time

import pytest
import requests

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, assert_error, finish_server, require_pg, start_seeded_server, start_server


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request):
    if request.param == "postgres":
        require_pg()
    return request.param


@pytest.fixture(scope="module")
def big_obj(tmp_path_factory):
    """A 300 x 300 grid of quads: ~180k triangles, 4 MB, about a second of
    analysis in the (ASan) child."""
    path = tmp_path_factory.mktemp("pool") / "big.obj"
    n = 300
    lines = [f"v {i * 0.01:.4f} {j * 0.01:.4f} {((i * j) % 7) * 0.001:.4f}" for i in range(n) for j in range(n)]
    for i in range(n - 1):
        for j in range(n - 1):
            a = i * n + j + 1
            lines.append(f"f {a} {a + 1} {a + n + 1} {a + n}")
    path.write_text("\n".join(lines) + "\n")
    return path


def upload(url, path, headers):
    with open(path, "rb") as f:
        return requests.post(url + "/api/upload/model", headers=headers,
                             files={"file": ("big.obj", f)}, timeout=120)


def login(url, password=ADMIN_PASSWORD):
    return requests.post(url + "/api/auth/login", json={"email": ADMIN_EMAIL, "password": password}, timeout=60)


class Load:
    """Keeps n_models analyses and n_logins sign-ins in flight until stopped."""

    def __init__(self, srv, big_obj, n_models=4, n_logins=20):
        self.stop = threading.Event()
        self.statuses = {"upload": [], "login": []}
        self.lock = threading.Lock()
        hdr = srv.user_headers(1)

        def loop(kind, fn):
            while not self.stop.is_set():
                r = fn()
                with self.lock:
                    self.statuses[kind].append((time.time(), r.status_code))

        self.threads = [threading.Thread(target=loop, args=("upload", lambda: upload(srv.url, big_obj, hdr)))
                        for _ in range(n_models)]
        self.threads += [threading.Thread(target=loop, args=("login", lambda: login(srv.url)))
                         for _ in range(n_logins)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=180)

    def done_between(self, kind, t0, t1):
        with self.lock:
            return [s for (t, s) in self.statuses[kind] if t0 <= t <= t1]


def categories_latencies(url, n=200, gap=0.0):
    """n uncached GET /api/categories, gap seconds apart: every (page,
    limit) pair is a new response-cache key, so each one runs its queries."""
    out = []
    with requests.Session() as s:
        for i in range(n):
            time.sleep(gap)
            t0 = time.perf_counter()
            r = s.get(f"{url}/api/categories?page={i + 2}&limit={1 + i % 7}", timeout=10)
            out.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
    return out


def server_durations(srv, path):
    """The server's own durations (ms, from its access log) of requests to path."""
    out = []
    for line in srv.log().splitlines():
        if line.startswith("{") and f'"path":"{path}"' in line:
            try:
                out.append(json.loads(line)["duration_ms"])
            except (ValueError, KeyError):
                pass
    return out or [0.0]


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def _load_process(srv, big_obj, stop, out):
    # The clients' own CPU (24 Python threads encoding 4 MB uploads) is an
    # artefact of running them on the server's machine: in the background,
    # like the server's own slow work, so the measurement is the server's.
    os.nice(10)
    with Load(srv, big_obj) as load:
        stop.wait()
    out.put(load.statuses)


def test_uncached_reads_stay_fast_during_analyses_and_logins(engine, big_obj):
    # RESPONSE_CACHE=off: every read runs its queries (the distinct page
    # and limit of each request would miss the cache anyway).
    srv = start_server(engine, label="pool-latency", env={"RESPONSE_CACHE": "off"})
    try:
        idle = categories_latencies(srv.url, 100, gap=0.015)
        # The load runs in its own process: its 24 client threads must not
        # take this one's interpreter lock while it measures.
        ctx = mp.get_context("fork")
        stop, out = ctx.Event(), ctx.Queue()
        proc = ctx.Process(target=_load_process, args=(srv, big_obj, stop, out))
        proc.start()
        try:
            time.sleep(1.5)  # every worker busy, queues filling
            t0 = time.time()
            busy = categories_latencies(srv.url, 200, gap=0.015)
            t1 = time.time()
        finally:
            stop.set()
            statuses = out.get(timeout=300)
            proc.join(timeout=60)
        logins = [s for (t, s) in statuses["login"] if t0 <= t <= t1]
        served = server_durations(srv, "/api/categories")
        uploads = [s for (t, s) in statuses["upload"]]
        print(f"\n[{engine}] GET /api/categories uncached: idle p99 {p99(idle) * 1000:.1f} ms; under load "
              f"p50 {sorted(busy)[100] * 1000:.1f} ms, p99 {p99(busy) * 1000:.1f} ms, max {max(busy) * 1000:.1f} ms "
              f"p90 {sorted(busy)[180] * 1000:.1f} ms over {t1 - t0:.2f} s (in the server: p99 {p99(served[-200:]):.1f} ms), meanwhile {len(logins)} logins done; {len(uploads)} analysed uploads")
        # The load was real: sign-ins (each an argon2 verify) completed
        # while the reads were measured, and every analysis succeeded.
        assert len(logins) >= 5, logins
        assert all(s == 200 for s in logins), logins
        assert len(uploads) >= 4 and all(s == 201 for s in uploads), uploads
        # The target, p99 under 50 ms, is measured by `make bench`
        # on the release build (this scenario, HWC3D_TEST_BINARY): the
        # sanitizer build on 2 cores shared with the load measures 40-150
        # ms here (the server's own p99 147.8 ms in one full run on
        # SQLite, with p50 2.4 ms).  These bounds are the regression check:
        # a poll thread blocked by argon2 (75-150 ms a sign-in, 20 queued)
        # delays most reads behind it, far above the p50 bound, and one
        # blocked by an analysis (seconds) puts the p99 far above its bound.
        msg = f"p50 {sorted(busy)[100] * 1000:.1f} ms, p99 {p99(busy) * 1000:.1f} ms under load" \
              f" (idle p99 {p99(idle) * 1000:.1f} ms)"
        assert sorted(busy)[100] < 0.030, msg
        assert p99(busy) < 0.300, msg
    finally:
        finish_server(srv)


def test_full_queue_answers_503_with_retry_after(engine):
    # No waiting room: only as many sign-ins as there are argon2 workers.
    srv = start_server(engine, label="pool-full", env={"POOL_QUEUE_LIMIT": "0"})
    try:
        n = 16
        barrier = threading.Barrier(n)
        results = [None] * n

        def one(i):
            barrier.wait()
            results[i] = login(srv.url)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert set(codes) <= {200, 503}, codes
        assert 200 in codes and 503 in codes, codes
        for r in results:
            if r.status_code == 503:
                assert_error(r, 503, "SERVICE_UNAVAILABLE")
                assert int(r.headers["Retry-After"]) >= 1
        # Nothing is left behind: the server still signs in.
        time.sleep(0.5)
        assert login(srv.url).status_code == 200
        # /metrics counts them per kind: every 503 a rejection, every
        # sign-in a completed job; nothing waits or runs now.
        m = pool_metrics(srv)
        assert m[("hwc3d_pool_rejected_total", "password")] == codes.count(503), m
        assert m[("hwc3d_pool_completed_total", "password")] == codes.count(200) + 1, m
        assert m[("hwc3d_pool_queue_depth", "password")] == 0 and m[("hwc3d_pool_running", "password")] == 0, m
        assert m[("hwc3d_pool_workers", "password")] == 2, m
        assert m[("hwc3d_pool_rejected_total", "analyze")] == 0, m
    finally:
        finish_server(srv)


def pool_metrics(srv):
    """(metric, kind) -> value of the hwc3d_pool_* lines of /metrics."""
    out = {}
    for line in srv.metrics().splitlines():
        m = re.match(r'^(hwc3d_pool_\w+)\{kind="(\w+)"\} (\d+)$', line)
        if m:
            out[(m.group(1), m.group(2))] = int(m.group(3))
    return out


def test_pool_metrics_per_kind(engine):
    """Every kind is listed; ANALYZE_CONCURRENCY sets the analysis and image
    workers (one setting for the pool and the children)."""
    srv = start_server(engine, label="pool-metrics", env={"ANALYZE_CONCURRENCY": "3"})
    try:
        m = pool_metrics(srv)
        for kind in ("password", "analyze", "image", "blend", "net", "db", "lookup"):
            for name in ("workers", "queue_depth", "running", "completed_total", "rejected_total", "runs_total"):
                assert (f"hwc3d_pool_{name}", kind) in m, (name, kind, m)
        assert m[("hwc3d_pool_workers", "analyze")] == 3 and m[("hwc3d_pool_workers", "image")] == 3, m
        assert m[("hwc3d_pool_completed_total", "password")] == 0, m
        assert login(srv.url).status_code == 200
        assert pool_metrics(srv)[("hwc3d_pool_completed_total", "password")] == 1
        text = srv.metrics()
        assert "# TYPE hwc3d_pool_rejected_total counter" in text and "# TYPE hwc3d_pool_queue_depth gauge" in text
    finally:
        finish_server(srv)


def test_model_pages_are_looked_up_in_batches(engine):
    """Anonymous model pages the cache lacks: on PostgreSQL a lookup worker
    answers every one waiting with one query (pool_defer_batch); on SQLite
    they stay on the poll thread.  Each request gets its own model's
    document, a duplicate id in a batch too, and a missing or unpublished
    model answers 404 beside them."""
    srv = start_seeded_server(engine, ["--scale", "3", "--models", "60"], seed_timeout=120, label="pool-lookup",
                              env={"RESPONSE_CACHE": "off"})
    try:
        items = srv.get("/api/models", params={"limit": 40, "sort": "newest"}).json()["items"]
        ids = [m["id"] for m in items]
        assert len(ids) >= 20, ids
        hidden = ids.pop()
        srv.sql(f"UPDATE models SET is_published = FALSE WHERE id = {hidden}")
        missing = int(srv.scalar("SELECT MAX(id) FROM models")) + 1000
        expected = {}
        for i in ids:
            r = srv.get(f"/api/models/{i}")
            assert r.status_code == 200 and r.json()["id"] == i, r.text
            expected[i] = r.json()
        asks = ids * 2 + [missing, hidden] * 8
        batched = False
        for _ in range(5):
            before = pool_metrics(srv)
            barrier = threading.Barrier(16)
            got = []
            lock = threading.Lock()

            def one(k):
                s = requests.Session()
                barrier.wait()
                for i in asks[k::16]:
                    r = s.get(f"{srv.url}/api/models/{i}", timeout=30)
                    with lock:
                        got.append((i, r))

            threads = [threading.Thread(target=one, args=(k,)) for k in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(got) == len(asks)
            for i, r in got:
                if i in (missing, hidden):
                    assert_error(r, 404, "NOT_FOUND")
                else:
                    assert r.status_code == 200 and r.json() == expected[i], (i, r.text[:200])
            after = pool_metrics(srv)
            done = after[("hwc3d_pool_completed_total", "lookup")] - before[("hwc3d_pool_completed_total", "lookup")]
            runs = after[("hwc3d_pool_runs_total", "lookup")] - before[("hwc3d_pool_runs_total", "lookup")]
            if engine == "sqlite":
                assert done == 0 and runs == 0, (done, runs)
                batched = True
                break
            assert done == len(asks) and 1 <= runs <= done, (done, runs)
            if runs < done:
                batched = True
                break
        assert batched, "16 clients at once never shared a lookup"
        assert after[("hwc3d_pool_queue_depth", "lookup")] == 0 and after[("hwc3d_pool_running", "lookup")] == 0
    finally:
        finish_server(srv)


def test_sigterm_with_work_in_flight_exits_cleanly(big_obj):
    # A short shutdown wait: the queued work is cancelled, the running
    # work finishes, every suspended connection is resumed before MHD
    # stops (it aborts otherwise); exit 0 and no leak (finish_server).
    srv = start_server("sqlite", label="pool-stop", env={"SHUTDOWN_TIMEOUT": "0"})
    try:
        hdr = srv.user_headers(1)
        results = []
        lock = threading.Lock()

        def run(fn):
            try:
                r = fn()
                with lock:
                    results.append(r.status_code)
            except requests.RequestException:
                with lock:
                    results.append(None)  # the connection was closed

        threads = [threading.Thread(target=run, args=(lambda: upload(srv.url, big_obj, hdr),)) for _ in range(6)]
        threads += [threading.Thread(target=run, args=(lambda: login(srv.url),)) for _ in range(20)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        srv.signal(signal.SIGTERM)
        assert srv.wait(60) == 0
        for t in threads:
            t.join(timeout=60)
        assert all(s in (200, 201, 503, None) for s in results), results
        # The waiting sign-ins were cancelled and still got their answer.
        assert 503 in results, results
        assert "waiting jobs cancelled" in srv.log()
    finally:
        finish_server(srv)
