"""Durable background jobs (src/svc/jobs.h) and GET /api/jobs/{id}.

Jobs are queued the ways a feature or an operator would: `hwc3d
job-enqueue` (the built-in "echo" kind), or rows written straight into the
table the way a crash leaves them.  No HTTP route enqueues work.
"""
import datetime
import json
import os
import re
import signal
import time

import pytest

from conftest import (ISO_RE, Server, assert_error, bearer, finish_server, run_binary,
                      start_server)

ENGINES = ["sqlite", "postgres"]
STARTED_RE = re.compile(r"^job (\d+) \(echo\) attempt (\d+)/(\d+) started by (\S+)$")


def enqueue(srv, payload, owner=None, kind="echo", env=None):
    args = ["job-enqueue", kind, json.dumps(payload)]
    if owner is not None:
        args += ["--owner", str(owner)]
    p = run_binary(args, env or srv.env, srv.tmp)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)["id"]


def job_row(srv, job_id):
    rows = srv.sql(f"SELECT status, attempts, locked_until, locked_by, run_at, error, result"
                   f" FROM jobs WHERE id = {job_id}")
    assert rows, f"no job {job_id}"
    st, att, lu, lb, run_at, err, res = rows[0]
    return {"status": st, "attempts": int(att), "locked_until": int(lu) if lu else None,
            "locked_by": lb or None, "run_at": int(run_at), "error": err or None, "result": res or None}


def wait_status(srv, job_id, statuses, timeout=30):
    deadline = time.time() + timeout
    row = None
    while time.time() < deadline:
        row = job_row(srv, job_id)
        if row["status"] in statuses:
            return row
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {statuses}: {row}\n{srv.log_tail()}")


def started_lines(*servers):
    """(job id, attempt, worker, unix seconds) of every run in the servers' logs."""
    out = []
    for srv in servers:
        for line in srv.log().splitlines():
            if not line.startswith('{"ts":'):
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            m = STARTED_RE.match(rec.get("msg", ""))
            if m:
                ts = datetime.datetime.strptime(rec["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
                ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
                out.append((int(m.group(1)), int(m.group(2)), m.group(4), ts))
    return out


def now_ms():
    return int(time.time() * 1000)


# ------------------------------------------------------------ the shared server

def test_job_runs_to_done_with_its_result(server):
    uid = server.make_user()
    job_id = enqueue(server, {"hello": "world", "n": [1, 2]}, owner=uid)
    wait_status(server, job_id, ("done",))
    r = server.get(f"/api/jobs/{job_id}", headers=bearer(server.token(uid)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == job_id and body["kind"] == "echo" and body["status"] == "done"
    assert body["attempts"] == 1 and body["max_attempts"] == 3
    assert body["result"] == {"echo": {"hello": "world", "n": [1, 2]}, "attempt": 1}
    assert body["error"] is None
    assert ISO_RE.match(body["created_at"]) and ISO_RE.match(body["updated_at"])
    row = job_row(server, job_id)
    assert row["locked_by"] is None and row["locked_until"] is None  # the lease is released


def test_job_status_idor(server):
    owner, other = server.make_user(), server.make_user()
    job_id = enqueue(server, {"secret": "owner only"}, owner=owner)
    path = f"/api/jobs/{job_id}"
    r = server.get(path, headers=bearer(server.token(owner)))
    assert r.status_code == 200 and r.json()["id"] == job_id
    # Another user cannot tell it from a missing job.
    missing = assert_error(server.get(path, headers=bearer(server.token(other))), 404, "NOT_FOUND")
    assert "owner only" not in json.dumps(missing)
    r = server.get(path, headers=server.admin_headers())
    assert r.status_code == 200 and r.json()["id"] == job_id
    assert_error(server.get(path), 401, "UNAUTHORIZED")
    # An ownerless job (an operator's) is for admins only.
    orphan = enqueue(server, {})
    assert_error(server.get(f"/api/jobs/{orphan}", headers=bearer(server.token(owner))), 404, "NOT_FOUND")
    assert server.get(f"/api/jobs/{orphan}", headers=server.admin_headers()).status_code == 200


def test_job_unknown_id_and_bad_id(server):
    uid = server.make_user()
    h = bearer(server.token(uid))
    assert_error(server.get("/api/jobs/999999999", headers=h), 404, "NOT_FOUND")
    assert_error(server.get("/api/jobs/999999999", headers=server.admin_headers()), 404, "NOT_FOUND")
    assert_error(server.get("/api/jobs/abc", headers=h), 422, "VALIDATION_ERROR", field="id")


def test_no_route_enqueues_jobs(server):
    assert server.post("/api/jobs", json={"kind": "echo"}, headers=server.admin_headers()).status_code in (404, 405)


def test_job_enqueue_cli_refuses_bad_input(server):
    for args in (["job-enqueue", "no_such_kind", "{}"], ["job-enqueue", "echo", "{not json"],
                 ["job-enqueue", "echo"], ["job-enqueue", "echo", "{}", "--owner", "x"]):
        p = run_binary(args, server.env, server.tmp)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
    p = run_binary(["job-enqueue", "echo", "{}", "--owner", "999999999"], server.env, server.tmp)
    assert p.returncode == 1, (p.stdout, p.stderr)


# ------------------------------------------------------------ private servers

@pytest.mark.parametrize("engine", ENGINES)
def test_failing_job_retries_with_backoff_then_fails(engine):
    backoff = 400
    s = start_server(engine, env={"JOB_BACKOFF_MS": backoff}, admins=(), seed=False, label="jobs-retry")
    try:
        uid = s.make_user()
        doomed = enqueue(s, {"fail_times": 99}, owner=uid)
        flaky = enqueue(s, {"fail_times": 1}, owner=uid)
        row = wait_status(s, doomed, ("failed",))
        assert row["attempts"] == 3 and "failing as asked" in row["error"] and row["result"] is None
        row = wait_status(s, flaky, ("done",))
        assert row["attempts"] == 2
        h = bearer(s.token(uid))
        body = s.get(f"/api/jobs/{doomed}", headers=h).json()
        assert body["status"] == "failed" and body["attempts"] == 3 and body["result"] is None
        assert "failing as asked" in body["error"]
        body = s.get(f"/api/jobs/{flaky}", headers=h).json()
        assert body["status"] == "done" and body["result"]["attempt"] == 2
        assert body["error"] is None  # success clears the last failure
        runs = sorted((a, ts) for j, a, _, ts in started_lines(s) if j == doomed)
        assert [a for a, _ in runs] == [1, 2, 3], runs
        # Exponential: 400 ms after the first failure, 800 ms after the second.
        assert runs[1][1] - runs[0][1] >= backoff / 1000 - 0.01, runs
        assert runs[2][1] - runs[1][1] >= 2 * backoff / 1000 - 0.01, runs
        log = s.log()
        assert f"job {doomed} (echo) attempt 1/3 failed, retry in {backoff} ms" in log
        assert f"job {doomed} (echo) attempt 2/3 failed, retry in {2 * backoff} ms" in log
        assert f"job {doomed} (echo) attempt 3/3 failed, giving up" in log
    finally:
        finish_server(s)


def restart(s):
    """Starts the same server (same database) again after it stopped."""
    import requests
    s.http = requests.Session()
    s.stopped = False
    s.returncode = None
    s.start()


@pytest.mark.parametrize("engine", ENGINES)
def test_jobs_survive_sigterm_and_crash(engine):
    s = start_server(engine, admins=(), seed=False, label="jobs-restart")
    try:
        uid = s.make_user()
        # SIGTERM during a run: a clean exit (0, no leaks) that hands the
        # job back without spending an attempt.
        job = enqueue(s, {"sleep_ms": 10000}, owner=uid)
        wait_status(s, job, ("running",))
        t0 = time.time()
        s.stop()
        assert time.time() - t0 < 8
        row = job_row(s, job)
        assert row["status"] == "queued" and row["attempts"] == 0 and row["locked_by"] is None, row
        restart(s)
        row = wait_status(s, job, ("done",), timeout=40)
        assert row["attempts"] == 1

        # A crash (SIGKILL) mid-run leaves the row running under a lease.
        job = enqueue(s, {"sleep_ms": 10000, "n": 2}, owner=uid)
        row = wait_status(s, job, ("running",))
        s.signal(signal.SIGKILL)
        s.wait()
        s.logf.close()
        row = job_row(s, job)
        assert row["status"] == "running" and row["attempts"] == 1
        assert row["locked_until"] > now_ms() + 30000, row  # the lease outlives the crash
        # Time passes: the lease expires (as an hour later would).  Another
        # row is mid-lease on a live instance: that one must not be touched.
        s.sql(f"UPDATE jobs SET locked_until = {now_ms() - 1000} WHERE id = {job}")
        t = now_ms()
        live = int(s.scalar(
            "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, locked_until, locked_by,"
            f" owner_id, created_at, updated_at) VALUES ('echo', '{{}}', 'running', 1, 3, {t}, {t + 3600000},"
            f" 'elsewhere:1:w1:abc', {uid}, {t}, {t}) RETURNING id"))
        restart(s)
        row = wait_status(s, job, ("done",), timeout=40)
        assert row["attempts"] == 2
        body = s.get(f"/api/jobs/{job}", headers=bearer(s.token(uid))).json()
        assert body["status"] == "done" and body["result"] == {"echo": {"sleep_ms": 10000, "n": 2}, "attempt": 2}
        time.sleep(1.2)  # two poll rounds
        row = job_row(s, live)
        assert row["status"] == "running" and row["attempts"] == 1 and row["locked_by"] == "elsewhere:1:w1:abc"
        assert s.get(f"/api/jobs/{live}", headers=bearer(s.token(uid))).json()["status"] == "running"
    finally:
        finish_server(s)


@pytest.mark.parametrize("engine", ENGINES)
def test_two_servers_never_run_a_job_twice(engine):
    env = {"JOB_WORKERS": 4}
    a = start_server(engine, env=env, admins=(), seed=False, label="jobs-a")
    b = None
    try:
        shared = dict(env, DATA_DIR=a.data_dir, JWT_SECRET_KEY=a.secret)
        if engine == "postgres":
            shared["DATABASE_URL"] = a.pg.url
        b = start_server("sqlite", env=shared, admins=(), seed=False, label="jobs-b")
        n = 60
        t = now_ms()
        values = ", ".join(f"('echo', '{{\"sleep_ms\": 60, \"i\": {i}}}', 'queued', 0, 3, {t}, {t}, {t})"
                           for i in range(n))
        ids = [int(r[0]) for r in a.sql(
            "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at)"
            f" VALUES {values} RETURNING id")]
        assert len(ids) == n
        deadline = time.time() + 60
        while time.time() < deadline:
            left = int(a.scalar("SELECT COUNT(*) FROM jobs WHERE status <> 'done' AND id IN (%s)"
                                % ",".join(map(str, ids))))
            if left == 0:
                break
            time.sleep(0.2)
        assert left == 0, a.log_tail() + b.log_tail()
        rows = a.sql("SELECT id, attempts FROM jobs WHERE id IN (%s)" % ",".join(map(str, ids)))
        assert all(int(att) == 1 for _, att in rows), rows
        runs = [(j, w) for j, _, w, _ in started_lines(a, b) if j in set(ids)]
        counts = {}
        for j, _ in runs:
            counts[j] = counts.get(j, 0) + 1
        assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}, counts
        # Both instances and several workers took part, or nothing was tested.
        procs = {w.split(":")[1] for _, w in runs}
        workers = {":".join(w.split(":")[:3]) for _, w in runs}
        assert len(procs) == 2 and len(workers) >= 4, (procs, workers)
    finally:
        if b:
            finish_server(b)
        finish_server(a)
