"""Request bodies: JSON parsing, limits, content types, odd strings."""
import json
import socket

import pytest
import requests

from conftest import assert_error, parse_raw_response, uniq

PATH = "/api/admin/categories"
ONE_MB = 1 << 20


def post_raw(server, data, content_type="application/json", path=PATH, method="POST"):
    h = dict(server.admin_headers())
    if content_type is not None:
        h["Content-Type"] = content_type
    return server.request(method, path, data=data, headers=h)


def count(server):
    return int(server.scalar("SELECT COUNT(*) FROM categories"))


def test_valid_raw_json_body(server):
    r = post_raw(server, json.dumps({"name": uniq("Raw")}).encode())
    assert r.status_code == 201


def test_content_type_with_charset(server):
    r = post_raw(server, json.dumps({"name": uniq("Cs")}), "application/json; charset=utf-8")
    assert r.status_code == 201
    r = post_raw(server, json.dumps({"name": uniq("Cs")}), "Application/JSON")
    assert r.status_code == 201


@pytest.mark.parametrize("data", [
    b'{"name": ', b'{"name": "x",}', b"{name: 'x'}", b'{"name": "x"} trailing', b"\xff\xfe{}",
    b'{"name": "\\ud800"}', b'{"name": "x"}{"name": "y"}', b"nul", b'{"name": NaN}', b"{'a':1}",
    b'{"name": "\xc3\x28"}',
])
def test_malformed_json_is_400(server, data):
    before = count(server)
    r = post_raw(server, data)
    assert_error(r, 400, "VALIDATION_ERROR")
    assert count(server) == before


def test_malformed_json_on_put_is_400(server):
    r = post_raw(server, b"{", path="/api/admin/categories/1", method="PUT")
    assert_error(r, 400, "VALIDATION_ERROR")


def test_duplicate_keys_are_400(server):
    before = count(server)
    r = post_raw(server, ('{"name": "%s", "name": "%s"}' % (uniq("A"), uniq("B"))).encode())
    assert_error(r, 400, "VALIDATION_ERROR")
    assert count(server) == before


def test_deep_nesting_is_400(server):
    data = '{"name": "%s", "x": %s%s}' % (uniq("Deep"), "[" * 100, "]" * 100)
    r = post_raw(server, data)
    assert_error(r, 400, "VALIDATION_ERROR")


def test_very_deep_nesting_is_400_not_a_crash(server):
    data = "[" * 200000 + "]" * 200000
    r = post_raw(server, data)
    assert_error(r, 400, "VALIDATION_ERROR")
    assert server.get("/healthz").status_code == 200


def test_nesting_at_limit_is_fine(server):
    """32 levels in all (the object itself is one) is allowed."""
    data = '{"name": "%s", "x": %s1%s}' % (uniq("Nest"), "[" * 31, "]" * 31)
    r = post_raw(server, data)
    assert r.status_code == 201, r.text
    data = '{"name": "%s", "x": %s1%s}' % (uniq("Nest"), "[" * 32, "]" * 32)
    assert_error(post_raw(server, data), 400, "VALIDATION_ERROR")


def test_brackets_inside_strings_do_not_count_as_nesting(server):
    name = ("[" * 20 + "{" * 20 + uniq("S"))[:50]
    r = post_raw(server, json.dumps({"name": name, "description": "[" * 400}))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name


@pytest.mark.parametrize("data", [b"[]", b'[{"name": "x"}]', b'"just a string"', b"42", b"null", b"true"])
def test_non_object_body_is_422(server, data):
    r = post_raw(server, data)
    err = assert_error(r, 422, "VALIDATION_ERROR", "body")
    assert set(err["field_errors"]) == {"body"}


def test_empty_body_is_422_name_required(server):
    for data in (b"", None):
        r = post_raw(server, data)
        err = assert_error(r, 422, "VALIDATION_ERROR", "name")
        assert err["field_errors"]["name"] == ["This field is required"]


def test_empty_body_without_content_type_is_422(server):
    r = server.post(PATH, headers=server.admin_headers())
    err = assert_error(r, 422, "VALIDATION_ERROR", "name")
    assert err["field_errors"]["name"] == ["This field is required"]


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                   "application/jsonp", "application/json-patch+json", "text/json", None])
def test_wrong_content_type_is_415(server, ctype):
    before = count(server)
    r = post_raw(server, json.dumps({"name": uniq("Ct")}), ctype)
    assert_error(r, 415, "VALIDATION_ERROR")
    assert count(server) == before


def test_form_encoded_body_is_415(server):
    r = server.post(PATH, data={"name": uniq("Form")}, headers=server.admin_headers())
    assert_error(r, 415, "VALIDATION_ERROR")


@pytest.mark.parametrize("field,value", [
    ("name", "a\u0000b"), ("name", "\u0000"), ("name", "tab\there"), ("name", "new\nline"),
    ("name", "bell\u0007"), ("name", "esc\u001b[31m"), ("name", "del\u007f"), ("icon", "i\u0000"),
    ("slug", "a\u0000b"), ("description", "nul\u0000inside"), ("description", "bell\u0007"),
])
def test_nul_and_control_characters_are_422(server, field, value):
    body = {"name": uniq("Ctl")}
    body[field] = value
    before = count(server)
    r = server.post(PATH, json=body, headers=server.admin_headers())
    err = assert_error(r, 422, "VALIDATION_ERROR", field)
    assert set(err["field_errors"]) == {field}
    assert count(server) == before


def test_multiline_description_keeps_newlines_and_tabs(server):
    desc = "line 1\nline 2\r\n\tindented"
    r = server.post(PATH, json={"name": uniq("Ml"), "description": desc}, headers=server.admin_headers())
    assert r.status_code == 201
    assert r.json()["description"] == desc


def test_unicode_round_trips(server):
    name = "Ünïcødé 🚀 " + uniq("U")
    r = server.post(PATH, json={"name": name, "description": "日本語のテキスト"}, headers=server.admin_headers())
    assert r.status_code == 201
    got = server.get(f"{PATH}/{r.json()['id']}", headers=server.admin_headers()).json()
    assert got["name"] == name and got["description"] == "日本語のテキスト"
    r = server.post(PATH, data=json.dumps({"name": "esc \u00e9 " + uniq("E")}, ensure_ascii=True),
                    headers=dict(server.admin_headers(), **{"Content-Type": "application/json"}))
    assert r.status_code == 201 and "\u00e9" in r.json()["name"]


def test_body_just_under_limit_is_parsed(server):
    body = json.dumps({"name": uniq("Big"), "pad": "x" * (ONE_MB - 200)})
    assert len(body) < ONE_MB
    r = post_raw(server, body)
    assert r.status_code == 201, r.text[:200]


def _send_headers_and_some_body(server, length, first_chunk):
    tok = server.admin_headers()["Authorization"]
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall((f"POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: {tok}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode() + first_chunk)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                st, hdrs, body = parse_raw_response(data)
                if len(body) >= int(hdrs.get("content-length", "0")):
                    break
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    return data


def test_content_length_over_limit_is_413_before_the_body(server):
    before = count(server)
    data = _send_headers_and_some_body(server, ONE_MB + 1, b'{"name": "x", "pad": "')
    status, headers, body = parse_raw_response(data)
    assert status == 413, data[:300]
    b = json.loads(body)
    assert b["error_code"] == "FILE_TOO_LARGE" and b["detail"]
    assert headers.get("x-request-id")
    assert count(server) == before
    assert server.get("/healthz").status_code == 200


def test_content_length_huge_is_413(server):
    data = _send_headers_and_some_body(server, 10 ** 15, b"{")
    status, _, body = parse_raw_response(data)
    assert status == 413
    assert json.loads(body)["error_code"] == "FILE_TOO_LARGE"


def test_oversized_body_with_requests_is_413(server):
    """The whole 1.5 MB sent with a Content-Length, as a normal client does."""
    data = json.dumps({"name": uniq("Huge"), "pad": "x" * (ONE_MB + ONE_MB // 2)})
    try:
        r = post_raw(server, data)
    except requests.ConnectionError:
        r = None  # the server may close before the client finished sending
    if r is not None:
        assert_error(r, 413, "FILE_TOO_LARGE")
    assert server.get("/healthz").status_code == 200


def test_oversized_chunked_body_is_413_or_closed(server):
    before = count(server)

    def gen():
        yield b'{"name": "%s", "pad": "' % uniq("Chunk").encode()
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    try:
        r = server.post(PATH, data=gen(), headers=dict(server.admin_headers(),
                                                       **{"Content-Type": "application/json"}))
    except requests.ConnectionError:
        r = None
    if r is not None:
        assert_error(r, 413, "FILE_TOO_LARGE")
    assert count(server) == before
    for _ in range(3):
        assert server.get("/healthz").status_code == 200
    assert server.get("/api/categories").status_code == 200


def test_small_chunked_body_is_accepted(server):
    name = uniq("SmallChunk")

    def gen():
        yield b'{"name": '
        yield json.dumps(name).encode()
        yield b"}"

    r = server.post(PATH, data=gen(), headers=dict(server.admin_headers(), **{"Content-Type": "application/json"}))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name


def test_invalid_content_length_is_400(server):
    tok = server.admin_headers()["Authorization"]
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall((f"POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: {tok}\r\nConnection: close\r\n"
                   f"Content-Type: application/json\r\nContent-Length: -5\r\n\r\n").encode())
        data = b""
        while True:
            try:
                c = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not c:
                break
            data += c
    finally:
        s.close()
    status, _, _ = parse_raw_response(data)
    assert status == 400 or data == b""
    assert server.get("/healthz").status_code == 200


def test_body_on_get_route_is_ignored(server):
    r = server.request("GET", "/api/categories", data=b'{"x": 1}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 200


def test_large_body_on_bodiless_route_is_413(server):
    r = None
    try:
        r = server.request("GET", "/api/categories", data=b"x" * (200 * 1024))
    except requests.ConnectionError:
        pass
    if r is not None:
        assert_error(r, 413, "FILE_TOO_LARGE")
    assert server.get("/healthz").status_code == 200


def test_auth_is_checked_before_the_body(server):
    """Without a token, even a malformed or oversized body gets 401."""
    r = server.post(PATH, data=b"{", headers={"Content-Type": "application/json"})
    assert_error(r, 401, "UNAUTHORIZED")
    r = server.post(PATH, data=b"{}", headers={"Content-Type": "text/plain"})
    assert_error(r, 401, "UNAUTHORIZED")
