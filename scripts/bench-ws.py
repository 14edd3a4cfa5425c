#!/usr/bin/python3
"""WebSocket load check (issue 12, point 8), run by `make bench`.

1. Holds WS_IDLE (10,000) idle /ws/notifications sockets on one release
   server and reports its resident memory before and with them.
2. Opens WS_FANOUT (1,000) sockets on one community's channel
   (/ws/community/{id}) and posts in the community WS_ROUNDS times,
   reporting the delivery delay of the new_post event from the moment the
   post request is sent to each socket's frame: median, p99 and max.

Stops by itself (every socket closed, the server stopped), whatever fails.
"""
import os
import resource
import selectors
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "api"))
os.environ.setdefault("HWC3D_TEST_BINARY", os.path.join(REPO, "build", "hwc3d"))

from conftest import finish_server, start_server  # noqa: E402
from test_models import make_buyer  # noqa: E402
from wsclient import WS  # noqa: E402

IDLE = int(os.environ.get("WS_IDLE", "10000"))
FANOUT = int(os.environ.get("WS_FANOUT", "1000"))
ROUNDS = int(os.environ.get("WS_ROUNDS", "20"))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = IDLE + FANOUT + 200
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    env = {"MAX_CONNECTIONS": str(IDLE + FANOUT + 500), "MAX_CONNECTIONS_PER_IP": str(IDLE + FANOUT + 500),
           "CONNECTION_MEMORY_LIMIT": "8192", "LOG_LEVEL": "warn", "ACCESS_LOG": "false"}
    s = start_server("sqlite", env=env, label="bench-ws")
    socks = []
    try:
        pid = s.proc.pid
        user = make_buyer(s)
        tok = user.h["Authorization"].split(" ", 1)[1]
        base = rss_mb(pid)
        t0 = time.time()
        for _ in range(IDLE):
            socks.append(WS(s.port, f"/ws/notifications?token={tok}", timeout=30))
        opened = time.time() - t0
        time.sleep(1)
        held = rss_mb(pid)
        t1 = time.time()
        for _ in range(20):
            assert s.get("/healthz").status_code == 200
        health_ms = (time.time() - t1) / 20 * 1000
        print(f"  {IDLE} idle WebSockets opened in {opened:.1f} s; server RSS {base:.0f} MB before, "
              f"{held:.0f} MB holding them ({(held - base) * 1024 / IDLE:.1f} KB each); /healthz "
              f"{health_ms:.1f} ms meanwhile")
        for w in socks:
            w.sock.close()
        socks = []
        time.sleep(1)

        member = make_buyer(s)
        r = s.post("/api/admin/communities", json={"name": f"Bench {time.time_ns()}"}, headers=s.admin_headers())
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert s.post(f"/api/communities/{cid}/join", headers=member.h).status_code == 200
        mtok = member.h["Authorization"].split(" ", 1)[1]
        subs = [WS(s.port, f"/ws/community/{cid}?token={mtok}", timeout=30) for _ in range(FANOUT)]
        socks = subs
        sel = selectors.DefaultSelector()
        for i, w in enumerate(subs):
            w.sock.setblocking(False)
            sel.register(w.sock, selectors.EVENT_READ, i)
        delays = []
        for n in range(ROUNDS):
            got = [False] * FANOUT
            left = FANOUT
            start = time.perf_counter()
            r = s.post(f"/api/communities/{cid}/posts", json={"content": f"Post number {n}"}, headers=member.h)
            assert r.status_code == 201, r.text
            deadline = time.time() + 10
            while left and time.time() < deadline:
                for key, _ in sel.select(timeout=1):
                    i = key.data
                    try:
                        data = subs[i].sock.recv(65536)
                    except BlockingIOError:
                        continue
                    if b"new_post" in data and not got[i]:
                        got[i] = True
                        left -= 1
                        delays.append((time.perf_counter() - start) * 1000)
            assert left == 0, f"{left} subscribers missed the event"
        print(f"  a community post to {FANOUT} subscribers, {ROUNDS} times (from sending the post request): "
              f"median {pct(delays, 50):.1f} ms, p99 {pct(delays, 99):.1f} ms, max {max(delays):.1f} ms")
        sel.close()
    finally:
        for w in socks:
            try:
                w.sock.close()
            except OSError:
                pass
        finish_server(s)


if __name__ == "__main__":
    main()
