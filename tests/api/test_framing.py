"""HTTP framing is strict, over-limit requests get their answer before the
connection closes, and slow clients cannot hold the server (issue 8).

Everything here talks raw sockets: requests would normalise what we send.
"""
import socket
import threading
import time

import pytest

from conftest import finish_server, parse_raw_response, raw_request, start_server

# A request that must never run: it would be the smuggled one.
SMUGGLED = b"GET /api/nope-smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def statuses(data):
    """Every status line in what came back (responses may be glued)."""
    out = []
    i = 0
    while True:
        i = data.find(b"HTTP/1.1 ", i)
        if i < 0:
            return out
        out.append(int(data[i + 9:i + 12]))
        i += 12


def assert_refused_400(data, detail_words):
    st = statuses(data)
    assert st == [400], f"expected exactly one 400, got {st}: {data[:400]!r}"
    status, headers, body = parse_raw_response(data)
    assert headers.get("connection", "").lower() == "close", headers
    assert b'"error_code":"VALIDATION_ERROR"' in body, body
    assert detail_words.encode() in body, body
    assert b"nope-smuggled" not in data


SMUGGLING = {
    "cl-and-te": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
                  "together with Transfer-Encoding"),
    "te-and-cl": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Length: 5\r\n\r\n0\r\n\r\n" + SMUGGLED,
                  "together with Transfer-Encoding"),
    "two-content-lengths": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                            b"Content-Length: 46\r\n\r\n" + SMUGGLED, "More than one Content-Length"),
    "two-equal-content-lengths": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                  b"Content-Length: 0\r\n\r\n" + SMUGGLED, "More than one Content-Length"),
    "space-before-colon": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length : 46\r\n\r\n"
                           + SMUGGLED, "before the colon"),
    "tab-before-colon": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length\t: 46\r\n\r\n"
                         + SMUGGLED, "before the colon"),
    "folded-header": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: first\r\n  second part\r\n\r\n"
                      + SMUGGLED, "folded"),
    "folded-transfer-encoding": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n"
                                 b" chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, "folding"),
    "folded-content-length": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n"
                              b" 46\r\n\r\n" + SMUGGLED, "folding"),
    "unknown-coding": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
                       + SMUGGLED, "Transfer-Encoding"),
    "coding-list": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                    b"0\r\n\r\n" + SMUGGLED, "Transfer-Encoding"),
    "two-codings": (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, "More than one Transfer-Encoding"),
}


def test_signed_content_length_is_refused(server):
    # libmicrohttpd refuses this one itself, with its own 400 page, before
    # our handler sees it; what matters is that nothing after it runs.
    data = b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: +46\r\n\r\n" + SMUGGLED
    out = raw_request(server.port, data, timeout=5)
    st = statuses(out)
    assert st and set(st) == {400}, out[:300]
    assert b"nope-smuggled" not in out


@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_ambiguous_framing_is_refused_and_never_runs_what_follows(server, name):
    data, words = SMUGGLING[name]
    before = smuggled_count(server)
    out = raw_request(server.port, data, timeout=5)
    assert_refused_400(out, words)
    assert smuggled_count(server) == before, "the bytes after the refused request were executed"
    assert server.get("/healthz").status_code == 200


def smuggled_count(server):
    """How many 404s the server has answered so far (the smuggled request
    is a 404 path): read from the access log."""
    with open(server.log_path, "rb") as f:
        return f.read().count(b"/api/nope-smuggled")


def test_good_pipelining_still_works(server):
    data = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert statuses(raw_request(server.port, data)) == [200, 200]


def test_plain_chunked_body_is_accepted(server):
    body = b'{"email":"nobody@example.com","password":"x"}'
    data = (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    st = statuses(raw_request(server.port, data))
    assert len(st) == 1 and st[0] in (401, 422), st


def answer_despite_unread_bytes(port, head, trailer_bytes):
    """Sends head, then goes on sending junk (as a client uploading a big
    body does) before it reads the answer.  A server that closes with unread
    bytes makes its kernel reset the connection: the client's sends fail,
    and on a real network the reset destroys the answer still in flight.
    With a lingering close the server drains what still comes and the
    client reads its answer, then the end of the stream."""
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(head)
    sent = 0
    chunk = b"z" * 16384
    out = b""
    try:
        while sent < trailer_bytes:
            s.sendall(chunk)
            sent += len(chunk)
            time.sleep(0.001)
    except OSError as e:
        out += b"<SEND-RESET %s>" % type(e).__name__.encode()
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except ConnectionResetError:
        out += b"<RESET>"
    except socket.timeout:
        out += b"<TIMEOUT>"
    s.close()
    return out


@pytest.mark.parametrize("size", [17000, 20000, 30000, 60000])
def test_long_request_target_gets_414_not_a_reset(server, size):
    head = b"GET /api/models?search=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    out = answer_despite_unread_bytes(server.port, head, 2 * 1024 * 1024)
    assert statuses(out)[:1] == [414], out[:300]
    assert b"RESET" not in out, out[-200:]
    assert server.get("/healthz").status_code == 200


@pytest.mark.parametrize("size", [9000, 20000, 40000])
def test_huge_header_gets_431_not_a_reset(server, size):
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    out = answer_despite_unread_bytes(server.port, head, 2 * 1024 * 1024)
    assert statuses(out)[:1] == [431], out[:300]
    assert b"RESET" not in out, out[-200:]


def test_too_many_header_fields_get_431(server):
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(150)) + b"\r\n"
    out = raw_request(server.port, head, timeout=5)
    status, headers, body = parse_raw_response(out)
    assert status == 431, out[:300]
    assert b"VALIDATION_ERROR" in body


def test_oversized_body_gets_413_while_the_client_still_sends(server):
    head = (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n")
    out = answer_despite_unread_bytes(server.port, head, 2 * 1024 * 1024)
    assert statuses(out)[:1] == [413], out[:300]
    assert b"RESET" not in out, out[-200:]


# ---------------------------------------------------------------- slow clients

@pytest.fixture(scope="module")
def slow_server():
    s = start_server("sqlite", seed=False, label="slow",
                     env={"HEADER_TIMEOUT": "2", "BODY_MIN_RATE": "4096", "CONNECTION_TIMEOUT": "60"})
    yield s
    finish_server(s)


def get_from(port, src, path):
    c = socket.socket()
    c.bind((src, 0))
    c.settimeout(5)
    c.connect(("127.0.0.1", port))
    c.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
    out = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        out += b
    c.close()
    return out


def closed_within(sock, seconds):
    """Seconds until the server closed sock (None if it did not)."""
    sock.settimeout(seconds)
    t0 = time.time()
    try:
        while True:
            b = sock.recv(4096)
            if not b:
                return time.time() - t0
    except ConnectionResetError:
        return time.time() - t0
    except socket.timeout:
        return None


def trickle_until_closed(sock, data, pause, limit=8.0):
    """Sends data one byte at a time, pause seconds apart, until the server
    closes the connection: the seconds that took, or None when it never
    did within limit."""
    t0 = time.time()
    for i in range(len(data)):
        try:
            sock.sendall(data[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            return time.time() - t0
        sock.settimeout(pause)
        try:
            if sock.recv(100) == b"":
                return time.time() - t0
        except socket.timeout:
            pass
        except ConnectionResetError:
            return time.time() - t0
        if time.time() - t0 > limit:
            return None
    return None


def test_headers_trickled_byte_by_byte_are_cut_off(slow_server):
    s = socket.create_connection(("127.0.0.1", slow_server.port))
    took = trickle_until_closed(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100, 0.3)
    s.close()
    assert took is not None, "a client trickling its headers kept the connection for 8 s"
    assert 1.5 <= took <= 4.5, took


def test_idle_keepalive_connection_is_closed_after_the_header_timeout(slow_server):
    s = socket.create_connection(("127.0.0.1", slow_server.port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(3)
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    took = closed_within(s, 6)
    s.close()
    assert took is not None and took < 4, took


def test_a_body_below_the_minimum_rate_is_cut_off(slow_server):
    s = socket.create_connection(("127.0.0.1", slow_server.port))
    s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100000\r\n\r\n{")
    took = trickle_until_closed(s, b" " * 100, 0.5)
    s.close()
    assert took is not None and took < 5, took


def test_a_steady_body_is_not_cut_off(slow_server):
    body = b'{"email":"nobody@example.com","password":"' + b"p" * 20000 + b'"}'
    s = socket.create_connection(("127.0.0.1", slow_server.port))
    s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
    # 20 KB over ~3 s: above 4096 B/s once the 2 s grace is counted
    for i in range(0, len(body), 2000):
        s.sendall(body[i:i + 2000])
        time.sleep(0.3)
    s.settimeout(10)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    assert statuses(out) and statuses(out)[0] in (401, 422), out[:200]


def test_300_slow_connections_do_not_starve_another_client(slow_server):
    port = slow_server.port
    socks = []
    stop = threading.Event()

    def hold():
        # 300 connections from 127.0.0.1, each trickling its headers and
        # reconnecting when cut off.
        for _ in range(300):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                pass
        while not stop.is_set():
            for s in list(socks):
                try:
                    s.send(b"X")
                except OSError:
                    socks.remove(s)
                    s.close()
            time.sleep(0.2)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    try:
        time.sleep(1.0)
        worst = 0.0
        for _ in range(10):
            # another client (another address on loopback)
            c = socket.socket()
            c.bind(("127.0.0.2", 0))
            c.settimeout(5)
            t0 = time.time()
            c.connect(("127.0.0.1", port))
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            out = b""
            while True:
                b = c.recv(4096)
                if not b:
                    break
                out += b
            c.close()
            worst = max(worst, time.time() - t0)
            assert out.startswith(b"HTTP/1.1 200"), out[:100]
            time.sleep(0.2)
        assert worst < 1.0, worst
        # the per-address cap held: at most 32 of the 300 are open
        text = get_from(port, "127.0.0.2", "/metrics").decode()
        open_now = [ln for ln in text.splitlines() if ln.startswith("hwc3d_connections_open ")]
        assert open_now and int(open_now[0].split()[1]) <= 40, open_now
    finally:
        stop.set()
        t.join(10)
        for s in socks:
            s.close()
    assert slow_server.get("/healthz").status_code == 200
