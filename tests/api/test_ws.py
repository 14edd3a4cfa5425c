"""The WebSocket hub (issue 12, point 6): tickets and tokens, close codes,
channels, frames the server must refuse, notifications pushed after their
commit, heartbeats, slow readers, many sockets at once, shutdown, and two
instances sharing PostgreSQL and Redis."""
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import Server, assert_error, finish_server, free_port, require_pg, start_server, IS_CI
from test_models import create_model, make_buyer, make_creator, make_users
from wsclient import WS, Closed, HandshakeError


def ticket(server, who):
    r = server.post("/api/ws/ticket", headers=who.h)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def token_of(who):
    return who.h["Authorization"].split(" ", 1)[1]


def open_ws(server, who, path="/ws/notifications", **kw):
    return WS(server.port, f"{path}?ticket={ticket(server, who)}", **kw)


def ping(ws):
    ws.send_json({"type": "ping"})
    assert ws.recv_type("pong") == {"type": "pong", "data": {}}


def ws_gauge(server):
    m = re.search(r"^hwc3d_websockets_open (\d+)$", server.metrics(), re.M)
    return int(m.group(1))


def wait_for(cond, timeout=5, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s")


# ---------------------------------------------------------------- tickets and credentials

def test_ticket_body_and_single_use(server):
    u = make_buyer(server)
    r = server.post("/api/ws/ticket", headers=u.h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"ticket", "expires_in", "expires_at"}
    assert body["expires_in"] == 30 and len(body["ticket"]) >= 40
    # the database keeps only its hash
    assert server.scalar(f"SELECT COUNT(*) FROM ws_tickets WHERE token_hash = '{body['ticket']}'") == "0"
    ws = WS(server.port, f"/ws/notifications?ticket={body['ticket']}")
    ping(ws)
    # a second use is a bad credential
    again = WS(server.port, f"/ws/notifications?ticket={body['ticket']}")
    assert again.expect_close() == 4401
    ping(ws)  # the first socket lives on
    ws.close()


def test_ticket_needs_a_signed_in_user(server):
    assert_error(server.post("/api/ws/ticket"), 401, "UNAUTHORIZED")
    assert_error(server.post("/api/ws/ticket", headers={"Authorization": "Bearer nope"}), 401, "UNAUTHORIZED")


def test_expired_ticket_is_4401(server):
    u = make_buyer(server)
    t = ticket(server, u)
    # 30 seconds later, as the database sees it
    server.sql(f"UPDATE ws_tickets SET expires_at = expires_at - 30001 WHERE user_id = {u.id}")
    assert WS(server.port, f"/ws/notifications?ticket={t}").expect_close() == 4401
    # a fresh one works, and creating it swept the expired row
    ws = open_ws(server, u)
    ping(ws)
    assert server.scalar(f"SELECT COUNT(*) FROM ws_tickets WHERE user_id = {u.id}") == "0"
    ws.close()


def test_bad_credentials_close_4401(server):
    u = make_buyer(server)
    for query in ["", "?ticket=", "?ticket=nope", "?ticket=" + "x" * 500, "?token=nope",
                  "?token=" + server.token(u.id, exp_delta=-60), "?token=" + server.token(u.id, key="k" * 40)]:
        ws = WS(server.port, "/ws/notifications" + query)
        assert ws.expect_close() == 4401, query
    ws = WS(server.port, f"/ws/notifications?token={token_of(u)}")
    ping(ws)
    ws.close()


def test_banned_user_is_4403_and_their_ticket_dies(server):
    u = make_buyer(server)
    t = ticket(server, u)
    server.sql(f"UPDATE users SET is_banned = TRUE WHERE id = {u.id}")
    assert WS(server.port, f"/ws/notifications?token={token_of(u)}").expect_close() == 4403
    assert WS(server.port, f"/ws/notifications?ticket={t}").expect_close() == 4401


def test_support_channel_is_the_tickets_owner_and_admins(server):
    """A ticket's events reach its owner (and admins); anyone else, and a
    ticket that does not exist, is 4403."""
    from test_support import admin_reply, open_ticket
    owner, other = make_users(server, 2)
    tid = open_ticket(server, owner)["id"]
    assert open_ws(server, other, f"/ws/support/{tid}").expect_close() == 4403
    assert open_ws(server, owner, "/ws/support/999999999").expect_close() == 4403
    ws = open_ws(server, owner, f"/ws/support/{tid}")
    try:
        ping(ws)
        admin_reply(server, tid, "Live from support")
        m = ws.recv_type("message_received")
        assert m["data"]["message"] == "Live from support" and m["data"]["is_staff"] is True
        r = server.put(f"/api/admin/support/tickets/{tid}/status", json={"status": "resolved"},
                       headers=server.admin_headers())
        assert r.status_code == 200, r.text
        # the staff reply moved it to pending, then the admin resolved it
        assert ws.recv_type("ticket_status_changed")["data"]["status"] == "pending"
        assert ws.recv_type("ticket_status_changed")["data"]["status"] == "resolved"
    finally:
        ws.close()


def test_community_channel_is_for_members_and_the_hub_chat_for_everyone(server):
    from test_communities import join, make_community, post
    owner, member, outsider = make_users(server, 3)
    cid = make_community(server, owner)["id"]
    join(server, member, cid)
    assert open_ws(server, outsider, f"/ws/community/{cid}").expect_close() == 4403
    assert open_ws(server, member, "/ws/community/999999999").expect_close() == 4403
    ws = open_ws(server, member, f"/ws/community/{cid}")
    hub = open_ws(server, outsider, "/ws/community/0")
    try:
        ping(ws)
        ping(hub)
        p = post(server, owner, cid, content="Fresh off the press")
        m = ws.recv_type("new_post")
        assert m["data"]["post"]["id"] == p["id"] and m["data"]["community_id"] == cid
        r = server.post("/api/communities/messages", json={"content": "hello hub"}, headers=outsider.h)
        assert r.status_code == 201, r.text
        assert hub.recv_type("message_received")["data"]["content"] == "hello hub"
    finally:
        ws.close()
        hub.close()


def test_query_strings_never_reach_the_log(server):
    u = make_buyer(server)
    tok = token_of(u)
    t = ticket(server, u)
    WS(server.port, f"/ws/notifications?token={tok}").close()
    WS(server.port, f"/ws/notifications?ticket={t}").close()
    WS(server.port, f"/ws/support/3?token={tok}").expect_close()
    time.sleep(0.3)
    log = server.log()
    assert "/ws/notifications" in log
    assert tok not in log and t not in log
    assert "ticket=" not in log and "token=" not in log


# ---------------------------------------------------------------- the handshake

def test_handshake_errors_are_http(server):
    u = make_buyer(server)
    tok = token_of(u)
    for path in ["/ws/nope", "/ws", "/ws/support", "/ws/support/abc", "/ws/support/0", "/ws/support/-1",
                 "/ws/support/1/x", "/ws/community/99999999999999999999999", "/ws/notifications/1"]:
        with pytest.raises(HandshakeError) as e:
            WS(server.port, f"{path}?token={tok}")
        assert e.value.status == 404, path
    with pytest.raises(HandshakeError) as e:
        WS(server.port, f"/ws/notifications?token={tok}", headers={"Sec-WebSocket-Version": "8"})
    assert e.value.status == 426 and "sec-websocket-version: 13" in e.value.head.lower()
    for hdrs in [{"Upgrade": None}, {"Upgrade": "h2c"}, {"Connection": "keep-alive"}, {"Sec-WebSocket-Key": "short"}]:
        with pytest.raises(HandshakeError) as e:
            WS(server.port, f"/ws/notifications?token={tok}", headers=hdrs)
        assert e.value.status == 400, hdrs
    r = requests.post(server.url + "/ws/notifications", timeout=5)
    assert r.status_code == 405
    # a plain GET (no upgrade) is no static page either
    assert requests.get(server.url + "/ws/notifications", timeout=5).status_code == 400


def test_origin_is_checked(server):
    u = make_buyer(server)
    with pytest.raises(HandshakeError) as e:
        WS(server.port, f"/ws/notifications?token={token_of(u)}", headers={"Origin": "https://evil.example"})
    assert e.value.status == 403
    # PUBLIC_URL (the default CORS_ORIGINS) is allowed; so is no Origin (no browser)
    ws = WS(server.port, f"/ws/notifications?token={token_of(u)}", headers={"Origin": "http://localhost:8000"})
    ping(ws)
    ws.close()


# ---------------------------------------------------------------- notifications

def test_like_and_comment_are_pushed_to_the_creator_only(server):
    creator, fan, other = make_creator(server), make_buyer(server), make_buyer(server)
    m = create_model(server, creator, approve=True)
    mine = open_ws(server, creator)
    theirs = open_ws(server, other)
    ping(mine)
    t0 = time.time()
    assert server.post(f"/api/models/{m['id']}/like", headers=fan.h).status_code == 200
    ev = mine.recv_type("model_liked", timeout=3)
    assert time.time() - t0 < 1
    d = ev["data"]
    assert d["type"] == "model_liked" and d["is_read"] is False
    assert fan.username in d["message"] and d["action_url"] == f"/model/{m['id']}"
    # it is the stored notification
    assert server.scalar(f"SELECT type FROM notifications WHERE id = {d['id']} AND user_id = {creator.id}") == \
        "model_liked"
    r = server.post(f"/api/models/{m['id']}/comments", json={"body": "Nice topology"}, headers=fan.h)
    assert r.status_code == 201
    ev = mine.recv_type("comment_received", timeout=3)
    assert ev["data"]["action_url"] == f"/model/{m['id']}"
    # a like again changes nothing: no second push
    assert server.post(f"/api/models/{m['id']}/like", headers=fan.h).status_code == 200
    # the creator's own like is no notification
    assert server.post(f"/api/models/{m['id']}/like", headers=creator.h).status_code == 200
    assert mine.nothing(0.5)
    # nobody else hears of it
    assert theirs.nothing(0.2)
    mine.close()
    theirs.close()


# ---------------------------------------------------------------- frames the server refuses

@pytest.fixture(scope="module")
def hub():
    """A private server of its own; its channel is the communities' hub chat
    (/ws/community/0), open to every signed-in user."""
    s = start_server("sqlite", label="ws-hub")
    yield s
    finish_server(s)


def test_oversize_message_is_1009(hub):
    u = make_buyer(hub)
    ws = open_ws(hub, u)
    # just under the limit is served
    ws.send_json({"type": "ping", "pad": "x" * (65536 - 40)})
    ws.recv_type("pong")
    ws.send_frame(0x1, b'{"type":"ping","pad":"' + b"x" * 65536 + b'"}')
    assert ws.expect_close() == 1009


def test_oversize_fragmented_message_is_1009(hub):
    u = make_buyer(hub)
    ws = open_ws(hub, u)
    ws.send_frame(0x1, b"x" * 40000, fin=False)
    ws.send_frame(0x0, b"x" * 40000, fin=True)
    assert ws.expect_close() == 1009


def test_unmasked_frame_is_1002(hub):
    u = make_buyer(hub)
    ws = open_ws(hub, u)
    ws.send_frame(0x1, b'{"type":"ping"}', mask=False)
    assert ws.expect_close() == 1002


def test_invalid_utf8_is_1007(hub):
    u = make_buyer(hub)
    for bad in [b'{"type":"ping","x":"\xff"}', b'{"type":"\xc3\x28"}', b"\xed\xa0\x80"]:
        ws = open_ws(hub, u)
        ws.send_frame(0x1, bad)
        assert ws.expect_close() == 1007, bad


def test_binary_frame_is_1003_and_junk_text_is_answered(hub):
    u = make_buyer(hub)
    ws = open_ws(hub, u)
    for junk in ["not json", "[1,2]", '{"type": 5}']:
        ws.send_frame(0x1, junk)
        assert ws.recv_type("error")["data"]["detail"]
    ws.send_frame(0x2, b"\x00\x01")
    assert ws.expect_close() == 1003


def test_frames_sent_with_the_handshake_are_read(hub):
    """Bytes the client sends right behind its request reach MHD's buffer
    (extra_in): the hub must read them before the socket."""
    u = make_buyer(hub)
    t = ticket(hub, u)
    s = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
    frame = b'{"type":"ping"}'
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(frame))
    s.sendall((f"GET /ws/notifications?ticket={t} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode() + bytes([0x81, 0x80 | len(frame)]) + key + masked)
    data = b""
    deadline = time.time() + 5
    while b"pong" not in data and time.time() < deadline:
        data += s.recv(4096)
    assert b"101 Switching Protocols" in data and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in data
    assert b'"type":"pong"' in data
    s.close()


# ---------------------------------------------------------------- channels and typing

def test_typing_indicator_goes_to_the_others_only(hub):
    a, b, c = make_users(hub, 3)
    wa, wb = open_ws(hub, a, "/ws/community/0"), open_ws(hub, b, "/ws/community/0")
    wn = open_ws(hub, c)  # someone's notifications: another channel
    ping(wa)
    ping(wb)
    wa.send_json({"type": "typing_indicator"})
    ev = wb.recv_type("typing_indicator", timeout=2)
    assert ev["data"] == {"user_id": a.id, "username": a.username, "is_typing": True}
    wa.send_json({"type": "typing_indicator", "data": {"is_typing": False}})
    assert wb.recv_type("typing_indicator", timeout=2)["data"]["is_typing"] is False
    assert wa.nothing(0.3)
    assert wn.nothing(0.1)
    # another community's id is not open
    assert open_ws(hub, a, "/ws/community/8").expect_close() == 4403
    for w in (wa, wb, wn):
        w.close()


def test_client_message_budget(hub):
    """A flood of client messages is cut to a burst (30) and a rate."""
    a, b = make_users(hub, 2)
    wa, wb = open_ws(hub, a, "/ws/community/0"), open_ws(hub, b, "/ws/community/0")
    ping(wb)
    for _ in range(100):
        wa.send_json({"type": "typing_indicator"})
    got = 0
    try:
        while True:
            wb.recv_type("typing_indicator", timeout=0.7)
            got += 1
    except (socket.timeout, TimeoutError):
        pass
    assert 25 <= got <= 40, got
    wa.close()
    wb.close()


# ---------------------------------------------------------------- load and abuse

def test_many_sockets_and_http_still_served():
    s = start_server("sqlite", label="ws-many", env={"MAX_CONNECTIONS_PER_IP": "2000", "MAX_CONNECTIONS": "4000"})
    socks = []
    try:
        u = make_buyer(s)
        tok = token_of(u)
        for _ in range(500):
            socks.append(WS(s.port, f"/ws/notifications?token={tok}"))
        wait_for(lambda: ws_gauge(s) == 500, timeout=5, what="the hub counts the sockets")  # it counts them after the handshake
        t0 = time.time()
        for _ in range(20):
            assert s.get("/api/categories").status_code == 200
        assert time.time() - t0 < 5
        # all 500 are subscribed: one event reaches each
        creator = make_creator(s)
        socks.append(WS(s.port, f"/ws/notifications?token={token_of(creator)}"))
        m = create_model(s, creator, approve=True)
        s.sql(f"UPDATE models SET creator_id = {u.id} WHERE id = {m['id']}")
        assert s.post(f"/api/models/{m['id']}/like", headers=creator.h).status_code == 200
        for w in socks[:500]:
            assert w.recv_type("model_liked", timeout=5)["data"]["action_url"] == f"/model/{m['id']}"
        for w in socks:
            w.close()
        socks = []
        wait_for(lambda: ws_gauge(s) == 0, what="every socket closed")
    finally:
        for w in socks:
            w.sock.close()
        finish_server(s)


def test_slow_reader_is_dropped_and_others_served():
    s = start_server("sqlite", label="ws-slow", env={"WS_SEND_QUEUE_KB": "8",
                                                     "MAX_CONNECTIONS_PER_IP": "500"})
    try:
        users = make_users(s, 3)
        slow = open_ws(s, users[0], "/ws/community/0", rcvbuf=2048)
        fast = open_ws(s, users[1], "/ws/community/0")
        ping(slow)
        ping(fast)
        got = [0]
        failed = []
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                try:
                    fast.recv_type("typing_indicator", timeout=0.5)
                    got[0] += 1
                except (socket.timeout, TimeoutError):
                    pass
                except Exception as e:  # noqa: BLE001 - reported below
                    failed.append(repr(e))
                    return

        th = threading.Thread(target=reader)
        th.start()
        tok = token_of(users[2])
        sent = 0
        # senders of 29 messages each (under the per-socket burst), until the
        # slow reader is cut
        for _ in range(400):
            w = WS(s.port, f"/ws/community/0?token={tok}")
            pad = "x" * 2000
            for _ in range(29):  # and a ping: the burst is 30
                w.send_json({"type": "typing_indicator", "data": {"is_typing": True, "pad": pad}})
            sent += 29
            ping(w)  # all 30 read before the close (closing with unread data resets)
            w.close()
            if "dropped a slow reader" in s.log():
                break
        assert "dropped a slow reader" in s.log(), "the slow reader was never dropped"
        drops = [l[-120:] for l in s.log().splitlines() if "dropped" in l or "warn" in l]
        wait_for(lambda: got[0] >= sent, timeout=10,
                 what=f"the fast reader's {sent} messages (got {got[0]}, {drops} dropped, {failed})")
        stop.set()
        th.join()
        wait_for(lambda: ws_gauge(s) == 1, timeout=5, what="only the fast one left")
        ping(fast)
        # the slow reader reads what was sent, then the end
        with pytest.raises(Closed):
            for _ in range(100000):
                slow.recv(timeout=5)
        fast.close()
    finally:
        finish_server(s)


def test_heartbeat_closes_dead_peers_and_keeps_live_ones():
    s = start_server("sqlite", label="ws-ping", env={"WS_PING_INTERVAL_S": "1", "CONNECTION_TIMEOUT": "2"})
    try:
        u = make_buyer(s)
        live = open_ws(s, u)
        dead = open_ws(s, u)
        wait_for(lambda: ws_gauge(s) == 2, timeout=5, what="the hub counts the sockets")  # it counts them after the handshake
        end = time.time() + 4.5
        pings = 0
        while time.time() < end:
            try:
                live.recv(timeout=0.2)  # answers the server's pings
            except (socket.timeout, TimeoutError):
                pass
        wait_for(lambda: ws_gauge(s) == 1, timeout=3, what="the dead peer closed")
        ping(live)  # past CONNECTION_TIMEOUT, the live one is still served
        # the dead one got pings, then its socket was closed
        with pytest.raises(Closed):
            for _ in range(100):
                op, _data = dead.recv_frame()
                if op == 0x9:
                    pings += 1
        assert pings >= 1
        live.close()
    finally:
        finish_server(s)


def test_shutdown_closes_sockets_with_1001():
    s = start_server("sqlite", label="ws-stop")
    try:
        u = make_buyer(s)
        socks = [open_ws(s, u) for _ in range(3)]
        for w in socks:
            ping(w)
        t0 = time.time()
        s.signal()
        for w in socks:
            assert w.expect_close() == 1001
        assert s.wait() == 0
        assert time.time() - t0 < 5
    finally:
        finish_server(s)


# ---------------------------------------------------------------- two instances

@pytest.fixture(scope="module")
def redis_port():
    exe = shutil.which("redis-server")
    if not exe:
        if IS_CI:
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = free_port()
    d = tempfile.mkdtemp(prefix="hwc3d-redis-")
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        p.kill()
        pytest.fail("redis-server did not start")
    yield port
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
    shutil.rmtree(d, ignore_errors=True)


def test_two_instances_share_tickets_and_events(redis_port):
    require_pg()
    env = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}"}
    a = start_server("postgres", env=env, label="ws-a")
    b = None
    try:
        b = Server("postgres", env=dict(env, DATABASE_URL=a.pg.url, JWT_SECRET_KEY=a.secret), admins=(), seed=False,
                   label="ws-b")
        b.pg = None  # a's database: a drops it
        b.start()
        assert "through Redis" in a.log() and "through Redis" in b.log()
        creator, fan, other = make_creator(a), make_buyer(a), make_buyer(a)
        m = create_model(a, creator, approve=True)
        # a ticket made on a opens a socket on b
        on_b = WS(b.port, f"/ws/notifications?ticket={ticket(a, creator)}")
        ping(on_b)
        # a like on a reaches the creator's socket on b
        t0 = time.time()
        assert a.post(f"/api/models/{m['id']}/like", headers=fan.h).status_code == 200
        ev = on_b.recv_type("model_liked", timeout=3)
        assert time.time() - t0 < 1 and ev["data"]["action_url"] == f"/model/{m['id']}"
        # typing on a reaches b's subscriber, not the sender
        ca = WS(a.port, f"/ws/community/0?token={token_of(fan)}")
        cb = WS(b.port, f"/ws/community/0?token={token_of(other)}")
        ping(ca)
        ping(cb)
        ca.send_json({"type": "typing_indicator"})
        assert cb.recv_type("typing_indicator", timeout=3)["data"]["user_id"] == fan.id
        assert ca.nothing(0.3)
        for w in (on_b, ca, cb):
            w.close()
    finally:
        if b is not None:
            finish_server(b)
        finish_server(a)
