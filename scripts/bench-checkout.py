#!/usr/bin/python3
"""Pairs for `make bench`'s checkout run (scripts/bench-checkout.lua): one
line per checkout, "<access token> <model id>", each a different seeded
buyer and priced public model, so every request is a real purchase.

Usage: bench-checkout.py DATABASE (sqlite path or postgresql:// URL) JWT_SECRET [PAIRS [SKIP]]

SKIP leaves out the first SKIP pairs of the same order, so runs on one
database can take disjoint pairs (0-SKIP, then SKIP-2*SKIP...).
"""
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time


def rows(db, sql):
    if db.startswith("postgres"):
        out = subprocess.run(["psql", db, "-AtF", " ", "-c", sql], check=True, capture_output=True, text=True)
        return [line.split(" ") for line in out.stdout.splitlines() if line]
    import sqlite3
    con = sqlite3.connect(db)
    try:
        return [[str(v) for v in r] for r in con.execute(sql)]
    finally:
        con.close()


def b64(x):
    return base64.urlsafe_b64encode(x).rstrip(b"=").decode()


def token(secret, uid, now):
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64(json.dumps({"sub": str(uid), "role": "user", "iat": now, "ims": now * 1000, "exp": now + 3600}).encode())
    sig = hmac.new(secret.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64(sig)


def main():
    db, secret = sys.argv[1], sys.argv[2]
    want = int(sys.argv[3]) if len(sys.argv) > 3 else 60000
    skip = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    buyers = [r[0] for r in rows(db, "SELECT id FROM users WHERE user_type = 'buyer' AND is_email_verified = TRUE"
                                      " AND role = 'user' AND deleted_at IS NULL ORDER BY id")]
    per = max(1, -(-(want + skip) // max(1, len(buyers))))
    models = [r[0] for r in rows(db, "SELECT id FROM models WHERE status = 'approved' AND is_published = TRUE"
                                     " AND deleted_at IS NULL AND is_free = FALSE AND price_cents >= 100"
                                     f" ORDER BY id LIMIT {per}")]
    now = int(time.time())
    n = 0
    for m in models:
        for b in buyers:
            n += 1
            if n <= skip:
                continue
            print(token(secret, b, now), m)
            if n >= want + skip:
                return


main()
