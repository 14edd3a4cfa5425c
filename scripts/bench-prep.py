#!/usr/bin/python3
"""Data and request lists for `make bench` (scripts/bench.sh) that
seed-demo does not make.

  bench-prep.py communities URL DATABASE SECRET N POSTS
      N communities created through the API by the bench admin
      (bench-admin@example.com, made by `hwc3d create-admin`), each with
      POSTS posts; then waits (up to 5 minutes) for the server's jobs
      queue to be empty, so a cached database starts with no pending work.
  bench-prep.py lines dashboard DATABASE SECRET OUT [N]
      "<token> <path>" lines for scripts/bench-lines.lua: N creators that
      have models (default 2,000), each with a freshly minted token, times
      the two dashboard endpoints and their four ranges.
  bench-prep.py lines community DATABASE OUT
      "- <path>" lines: every active community, and its posts (recent and
      popular).
  bench-prep.py check DATABASE
      Prints the counts and exits 1 when a count users read disagrees with
      the rows it counts (likes_count, the likes of the rollups).

DATABASE: a sqlite path or a postgresql:// URL.
"""
import sys
import time

from benchlib import rows, token

ADMIN_EMAIL = "bench-admin@example.com"
WORDS = ["lowpoly", "texturing", "rigging", "sculpting", "retopology", "baking", "lighting", "unwrap",
         "animation", "shaders", "photogrammetry", "kitbash"]


def scalar(db, sql):
    return int(rows(db, sql)[0][0])


def communities(url, db, secret, n, posts):
    import requests
    admin = scalar(db, f"SELECT id FROM users WHERE email_normalized = '{ADMIN_EMAIL}'")
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + token(secret, admin, "admin")
    for i in range(n):
        a, b = WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]
        r = http.post(url + "/api/admin/communities", timeout=30,
                      json={"name": f"{a.title()} and {b} circle {i}",
                            "description": f"Artists sharing {a} and {b} work, tips and critique (group {i})."})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        r = http.post(f"{url}/api/communities/{cid}/join", timeout=30)
        assert r.status_code == 200, r.text
        for k in range(posts):
            r = http.post(f"{url}/api/communities/{cid}/posts", timeout=30,
                          json={"content": f"Work in progress {k} of group {i}: {a} pass on a {b} study, "
                                           f"feedback welcome on the silhouette and the {WORDS[k % len(WORDS)]}."})
            assert r.status_code == 201, r.text
    deadline = time.time() + 300
    while time.time() < deadline:
        left = scalar(db, "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')")
        if not left:
            break
        time.sleep(1)
    print(f"{n} communities, {n * posts} posts; jobs left pending: {left}")


def lines_dashboard(db, secret, out, n):
    creators = [r[0] for r in rows(db, "SELECT creator_id FROM models WHERE deleted_at IS NULL"
                                        f" GROUP BY creator_id ORDER BY creator_id LIMIT {n}")]
    with open(out, "w") as f:
        for c in creators:
            t = token(secret, c)
            for rg in ("7d", "30d", "90d", "1y"):
                f.write(f"{t} /api/users/me/dashboard?range={rg}\n")
                f.write(f"{t} /api/users/me/analytics?range={rg}\n")
    print(f"{len(creators)} creators")


def lines_community(db, out):
    ids = [r[0] for r in rows(db, "SELECT id FROM communities WHERE status = 'active' ORDER BY id")]
    with open(out, "w") as f:
        for c in ids:
            f.write(f"- /api/communities/{c}\n")
            f.write(f"- /api/communities/{c}/posts\n")
            f.write(f"- /api/communities/{c}/posts?filter=popular\n")
    print(f"{len(ids)} communities")


def check(db):
    counts = {
        "users": scalar(db, "SELECT COUNT(*) FROM users"),
        "models": scalar(db, "SELECT COUNT(*) FROM models"),
        "likes": scalar(db, "SELECT COUNT(*) FROM model_likes"),
        "sum likes_count": scalar(db, "SELECT COALESCE(SUM(likes_count), 0) FROM models"),
        "model_daily likes": scalar(db, "SELECT COALESCE(SUM(likes), 0) FROM model_daily"),
        "creator_daily likes": scalar(db, "SELECT COALESCE(SUM(likes), 0) FROM creator_daily"),
        "models whose likes_count is off": scalar(db, "SELECT COUNT(*) FROM models m WHERE likes_count <>"
                                                      " (SELECT COUNT(*) FROM model_likes l WHERE l.model_id = m.id)"),
        "communities": scalar(db, "SELECT COUNT(*) FROM communities"),
    }
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    ok = (counts["likes"] == counts["sum likes_count"] == counts["model_daily likes"] == counts["creator_daily likes"]
          and counts["models whose likes_count is off"] == 0)
    if not ok:
        print("bench-prep: the like counts disagree with the rows", file=sys.stderr)
    return 0 if ok else 1


def main():
    a = sys.argv[1:]
    if a[:1] == ["communities"] and len(a) == 6:
        communities(a[1], a[2], a[3], int(a[4]), int(a[5]))
    elif a[:2] == ["lines", "dashboard"] and len(a) in (5, 6):
        lines_dashboard(a[2], a[3], a[4], int(a[5]) if len(a) == 6 else 2000)
    elif a[:2] == ["lines", "community"] and len(a) == 4:
        lines_community(a[2], a[3])
    elif a[:1] == ["check"] and len(a) == 2:
        sys.exit(check(a[1]))
    else:
        sys.exit(__doc__)


main()
