"""What the bench helpers (bench-prep.py, bench-checkout.py) share: rows
from either engine's database, and an access token minted with the
bench's JWT secret (the server's HS256 claims)."""
import base64
import hashlib
import hmac
import json
import subprocess
import time


def rows(db, sql):
    """Rows of sql as lists of strings; db is a postgresql:// URL or an
    SQLite file."""
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


def token(secret, uid, role="user", ttl=3600, now=None):
    now = int(time.time()) if now is None else now
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64(json.dumps({"sub": str(uid), "role": role, "iat": now, "ims": now * 1000, "exp": now + ttl}).encode())
    sig = hmac.new(secret.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64(sig)
