#!/usr/bin/python3
"""Pairs for `make bench`'s checkout run (scripts/bench-checkout.lua): one
line per checkout, "<access token> <model id>", each a different seeded
buyer and priced public model, so every request is a real purchase.

Usage: bench-checkout.py DATABASE (sqlite path or postgresql:// URL) JWT_SECRET [PAIRS [SKIP]]

SKIP leaves out the first SKIP pairs of the same order, so runs on one
database can take disjoint pairs (0-SKIP, then SKIP-2*SKIP...).
"""
import sys
import time

from benchlib import rows, token


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
            print(token(secret, b, now=now), m)
            if n >= want + skip:
                return


main()
