#!/usr/bin/python3
"""Benchmarks of issue 13's safety scan (numbers for the report):

  1. the analysis child on a 100k-triangle GLB (import + counts + the
     geometry fingerprint), and the fingerprint alone (tests/unit bench);
  2. POST /api/models/safety-scan with 0 and with 50,000 stored model
     fingerprints: spread over the coarse keys (what a platform looks like)
     and all in the query's own key band (the worst case: every one decoded
     and compared).

    HWC3D_TEST_BINARY=build/hwc3d /usr/bin/python3 scripts/bench_safety.py

SQLite, release build by default.  Standard library + requests."""
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("HWC3D_TEST_BINARY", os.path.join(REPO, "build", "hwc3d"))
sys.path.insert(0, os.path.join(REPO, "tests", "api"))
sys.path.insert(0, os.path.join(REPO, "tests", "media"))
import shapes  # noqa: E402
from conftest import finish_server, start_server  # noqa: E402
from test_models import make_creator, upload_model  # noqa: E402

N = 50000


def child_time(data):
    best = None
    for _ in range(5):
        t = time.perf_counter()
        p = subprocess.run([os.environ["HWC3D_TEST_BINARY"], "analyze-model", "GLB"], input=data,
                           capture_output=True, timeout=120)
        dt = time.perf_counter() - t
        assert p.returncode == 0 and b"fingerprint" in p.stdout, p.stdout[:300] + p.stderr[-300:]
        best = dt if best is None else min(best, dt)
    return best


def scan_ms(s, h, uid, n=7):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = s.post("/api/models/safety-scan", json={"upload_id": uid}, headers=h, timeout=120)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(times), r.json()


def fill(db, creator, key_of, vec):
    con = sqlite3.connect(db, timeout=60)
    now = int(time.time() * 1000)
    cur = con.cursor()
    cur.execute("SELECT COALESCE(MAX(id), 0) FROM models")
    base = cur.fetchone()[0]
    cur.executemany("INSERT INTO models (creator_id, title, upload_id, created_at, updated_at) VALUES (?, ?, NULL, ?, ?)",
                    [(creator, f"bench {i}", now, now) for i in range(N)])
    cur.executemany("INSERT INTO model_fingerprints (model_id, fp_key, vec, created_at) VALUES (?, ?, ?, ?)",
                    [(base + 1 + i, key_of(i), vec(i), now) for i in range(N)])
    con.commit()
    con.close()


def random_vec(rng, tris):
    def hist():
        h = [rng.random() ** 3 for _ in range(32)]
        s = sum(h)
        return [x / s for x in h]
    ext = sorted([rng.random() for _ in range(3)], reverse=True)
    return f"{tris}:" + "".join(f"{round(x * 65535):04x}" for x in hist() + hist() + hist() + ext)


def main():
    # 1. 100k triangles: a 224 x 224 grid sphere
    pos, tris = shapes.uv_sphere(225, 224)
    glb = shapes.to_glb(pos, tris)
    print(f"analysis child, {len(tris)} triangles ({len(glb) // 1024} KB GLB), best of 5: "
          f"{child_time(glb) * 1000:.0f} ms (import, counts and fingerprint)")
    # 2. the lookup
    s = start_server("sqlite", label="bench-safety")
    try:
        c = make_creator(s)
        u = upload_model(s, c.h, shapes.to_glb(*shapes.uv_sphere(17, 23)), "q.glb")
        uid = u["upload_id"]
        empty, _ = scan_ms(s, c.h, uid)
        print(f"safety scan, 0 stored fingerprints: median {empty:.1f} ms")
        db = os.path.join(s.data_dir, "hwc3d.db")
        rng = random.Random(1)
        qkey = 38  # floor(log2(736) * 4)
        fill(db, c.id, lambda i: 8 + (i % 100), lambda i: random_vec(rng, 1000))
        spread, body = scan_ms(s, c.h, uid)
        print(f"safety scan, {N} fingerprints over 100 keys: median {spread:.1f} ms "
              f"({[f['message'] for f in body['findings'] if f['check'] == 'duplicate']})")
        fill(db, c.id, lambda i: qkey, lambda i: random_vec(rng, 736))
        worst, body = scan_ms(s, c.h, uid)
        print(f"safety scan, +{N} fingerprints all in the query's key: median {worst:.1f} ms "
              f"({[f['message'] for f in body['findings'] if f['check'] == 'duplicate']})")
    finally:
        finish_server(s)


if __name__ == "__main__":
    main()
