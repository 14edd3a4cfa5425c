"""Odd requests over raw sockets (requests would normalise them), path
traversal through the static handler; after each the server must still
answer."""
import json
import socket
import threading
import time

import pytest
import requests

from conftest import parse_raw_response, raw_request


def alive(server):
    r = requests.get(server.url + "/healthz", timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def get_raw(server, target, extra=b""):
    if isinstance(target, str):
        target = target.encode("latin-1")
    req = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra + b"\r\n"
    return raw_request(server.port, req)


def assert_no_file_content(data):
    assert b"root:" not in data and b"/bin/sh" not in data and b"/bin/bash" not in data


@pytest.mark.parametrize("target", [
    "/api/../etc/passwd", "/api/../../../../etc/passwd", "/api/%2e%2e/%2e%2e/etc/passwd",
    "/api/categories/../../etc/passwd",
])
def test_api_traversal_is_404(server, target):
    data = get_raw(server, target)
    status, headers, body = parse_raw_response(data)
    assert status == 404, data[:300]
    assert json.loads(body)["error_code"] == "NOT_FOUND"
    assert_no_file_content(data)
    alive(server)


@pytest.mark.parametrize("target", [
    "/etc/passwd", "/../../etc/passwd", "/../../../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/docs/../../../etc/passwd", "/vendor/swagger-ui/../../../../../etc/passwd",
    "/vendor/swagger-ui/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
    "/./etc/passwd", "//etc/passwd", "/docs/..", "/docs/./index.html", "/..\\..\\etc\\passwd",
    "/%5c..%5c..%5cetc%5cpasswd", "/docs%00/index.html", "/vendor/swagger-ui/..",
    "/proc/self/environ", "/vendor/swagger-ui/../package.json",
])
def test_static_traversal_is_404(server, target):
    data = get_raw(server, target)
    status, headers, body = parse_raw_response(data)
    assert status in (400, 404), data[:300]
    assert_no_file_content(data)
    assert b"JWT_SECRET_KEY" not in data
    alive(server)


def test_static_does_not_serve_outside_web_dir_by_absolute_path(server):
    r = requests.get(server.url + "/" + server.log_path.lstrip("/"), timeout=10)
    assert r.status_code == 404
    alive(server)


def test_quote_in_api_path_is_an_error_json(server):
    """/api/models/{id} exists: "1'" is not an id, a 422 naming the
    parameter (an unknown path would be 404)."""
    data = get_raw(server, "/api/models/1%27")
    status, headers, body = parse_raw_response(data)
    assert status == 422
    assert json.loads(body)["field_errors"] == {"id": ["Must be a positive integer"]}
    data = get_raw(server, "/api/nosuchthing/1%27")
    status, _, body = parse_raw_response(data)
    assert status == 404 and json.loads(body)["error_code"] == "NOT_FOUND"
    assert headers.get("content-type", "").startswith("application/json")
    assert headers.get("x-request-id")
    alive(server)


@pytest.mark.parametrize("prefix", ["/api/", "/"])
def test_very_long_path(server, prefix):
    data = get_raw(server, prefix + "a" * 10240)
    status, _, _ = parse_raw_response(data)
    assert status in (404, 414, 431), data[:200]
    alive(server)


def test_very_long_path_many_segments(server):
    data = get_raw(server, "/api" + "/a" * 5000)
    status, _, _ = parse_raw_response(data)
    assert status in (404, 414, 431), data[:200]
    alive(server)


def test_header_flood(server):
    extra = b"".join(b"X-Flood-%d: %s\r\n" % (i, b"v" * 20) for i in range(1000))
    data = get_raw(server, "/healthz", extra)
    status, _, _ = parse_raw_response(data)
    assert status in (400, 413, 431) or data == b"", data[:200]
    alive(server)


def test_one_huge_header(server):
    data = get_raw(server, "/api/categories", b"X-Big: " + b"a" * 100000 + b"\r\n")
    status, _, _ = parse_raw_response(data)
    assert status in (400, 413, 431) or data == b"", data[:200]
    alive(server)


@pytest.mark.parametrize("target", [
    b"/a\x00b", b"/api/categories\x00", b"/%00", b"/api/%00", b"/api/admin/categories/%00",
    b"/\xff\xfe\xfd", b"/api/\xc3\x28", b"/api/categories?search=%00", b"/api/categories?search=%ff",
    b"/api/categories?page=%00", b"/\x01\x02\x7f", b"/api/categories#frag", b"*", b"http://evil.example/",
])
def test_odd_bytes_in_target(server, target):
    data = get_raw(server, target)
    status, headers, body = parse_raw_response(data)
    assert status is None or 200 <= status < 500, data[:300]
    if status is not None and status >= 400 and body and headers.get("content-type", "").startswith("application/json"):
        assert "error_code" in json.loads(body)
    alive(server)


@pytest.mark.parametrize("n", [100, 500, 2000])
def test_many_query_parameters_get_an_answer(server, n):
    """Unknown parameters are ignored or refused (414/431), but the client
    always gets an answer and the connection is not left hanging."""
    target = b"/api/categories?" + b"&".join(b"p%d=1" % i for i in range(n))
    req = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    t0 = time.time()
    data = raw_request(server.port, req, timeout=3)
    status, _, _ = parse_raw_response(data)
    assert status in (200, 400, 414, 431), f"no answer after {time.time() - t0:.1f}s: {data[:100]!r}"
    alive(server)


def test_search_with_nul_and_invalid_utf8(server):
    for q in ("%00", "%ff", "a%00b", "%c3%28"):
        r = requests.get(server.url + "/api/categories?search=" + q, timeout=10)
        assert r.status_code in (200, 422), (q, r.text)
    alive(server)


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",  # no Host on HTTP/1.1
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /api/admin/categories HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
    b"\r\n\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 10,  # never finished
])
def test_malformed_requests_do_not_hurt(server, request_bytes):
    # Incomplete requests get no answer (the server waits for the rest):
    # only a short wait, then the server must still serve others.
    s = socket.create_connection(("127.0.0.1", server.port), timeout=1)
    try:
        s.sendall(request_bytes)
        try:
            data = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            data = b""
    finally:
        s.close()
    status, _, _ = parse_raw_response(data)
    assert status is None or status < 500 or status == 505, data[:200]
    alive(server)


def test_slow_client_does_not_block_others(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        s.sendall(b"GET /api/categories HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        t = time.time()
        for _ in range(5):
            alive(server)
        assert time.time() - t < 5
    finally:
        s.close()


def test_many_parallel_connections(server):
    errors = []

    def worker():
        try:
            with requests.Session() as sess:
                for _ in range(10):
                    r = sess.get(server.url + "/api/categories", timeout=20)
                    if r.status_code != 200:
                        errors.append(r.status_code)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]
    alive(server)


def test_pipelined_requests(server):
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 3
    req += b"GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = raw_request(server.port, req)
    assert data.count(b"HTTP/1.1 200") == 4, data[:500]
    alive(server)


@pytest.mark.parametrize("target", ["/api/categories%00/whatever", "/api/categories%00", "/docs%00.txt",
                                    "/api/admin/categories/1%00abc", "/healthz%00.json"])
def test_encoded_nul_does_not_truncate_the_path(server, target):
    """%00 decodes to a NUL: the path must not be cut there and served as
    the shorter one (a path parameter holding it is simply invalid)."""
    tok = server.admin_headers()["Authorization"]
    data = get_raw(server, target, f"Authorization: {tok}\r\n".encode())
    status, _, body = parse_raw_response(data)
    assert status in (400, 404, 422), data[:200]
    if status == 422:
        assert "id" in json.loads(body)["field_errors"]
    alive(server)
