#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (committed).

Run from the repository root when a target's input format changes:
    /usr/bin/python3 tests/fuzz/make_corpus.py
Seeds are small, hand-written requests, bodies and model files; libFuzzer
grows its own corpus from them (build/fuzz/corpus/, not committed).  Files
named crash-* are regression inputs and are never touched here.
"""
import hashlib
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    name = name or "seed-" + hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def reset(target):
    d = os.path.join(ROOT, target)
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.unlink(os.path.join(d, f))


LIST_TARGETS = [
    "/api/models",
    "/api/models?page=2&limit=5",
    "/api/models?search=robot+dragon&sort=relevance",
    "/api/models?q=castle&category=fantasy&tags=lowpoly,%20Robot&min_price=1.50&max_price=99",
    "/api/models?min_poly_count=10&max_poly_count=5000&is_free=true&has_animations=false&has_rigging=0",
    "/api/models?sort=price_high&limit=100&page=3",
    "/api/models?sort=rating&category=3",
    "/api/models?search=%22a%22*%20OR%20NEAR(b)&sort=popular",
    "/api/models?tags=%C3%89t%C3%A9,caf%C3%A9&limit=1000",
    "/api/models/featured?page=1&limit=3",
    "/api/models/1/related",
    "/api/models/2",
    "/api/models/3/public",
    "/api/models/4/creator",
    "/api/models/1/comments?page=1&limit=2",
    "/api/models/5/analytics?days=30",
    "/api/users/me/models?status=pending",
    "/api/search?q=robot",
    "/api/search?type=models&search=ship&sort=downloads",
    "/api/search?type=users&q=aria",
    "/api/search?type=users&q=%25_\\&user_type=creator&country=France&is_verified=true",
    "/api/search?type=users&skills=blender,maya,%20zbrush",
    "/api/categories",
    "/api/categories?search=sci",
    "/api/admin/categories?page=1&limit=50",
    "/api/admin/categories/2",
    "/api/admin/models?status=approved&search=robot",
    "/api/admin/models/3",
    "/api/leaderboard?period=week&metric=sales",
    "/api/leaderboard?period=month&metric=rating&limit=10",
    "/api/leaderboard?period=all_time&metric=downloads",
    "/api/stats/platform",
    "/api/creators/top?limit=4",
    "/api/testimonials?page=1",
    "/api/admin/testimonials?is_approved=false",
    "/api/slider",
    "/api/admin/slider",
    "/api/newsletter/confirm?token=abc",
    "/api/users/me",
    "/api/users/2",
    "/api/users/by-username/aria_nova",
    "/api/users/by-username/%C3%A9",
    "/api/auth/oauth/github/authorize-url?redirect_uri=http://localhost:3000/cb",
    "/files/images/none.png",
]


def corpus_router():
    reset("fuzz_router")
    for t in LIST_TARGETS:
        write("fuzz_router", "GET " + t)
    for t in ["POST /api/models", "DELETE /api/models/12", "PUT /api/models/1/like",
              "PATCH /api/users/me", "GET /api/models/0", "GET /api/models/99999999999999999999",
              "GET /api//models", "GET /api/models/", "GET /api/../etc/passwd",
              "GET /api/models?page=0&limit=-1", "GET /api/models?page=1e3&limit=%2B5",
              "GET /api/models?limit=9223372036854775808", "GET /a?x&y=&=z&%00=%ff",
              "GET /api/models?search=%F0%9F%98%80%ED%A0%80", "OPTIONS /api/models",
              "GET /api/auth/oauth/%2e%2e/authorize-url", "GET /x/" + "a/" * 30]:
        write("fuzz_router", t)


def corpus_lists():
    reset("fuzz_lists")
    for i, t in enumerate(LIST_TARGETS):
        who = "0"
        if "/admin/" in t:
            who = "3"
        elif "/users/me" in t or "analytics" in t:
            who = "2"
        elif i % 3 == 1:
            who = "1"
        write("fuzz_lists", who + t)


def corpus_json():
    reset("fuzz_json")
    bodies = [
        {"email": "a@example.com", "password": "correct horse battery", "username": "Aria_Nova",
         "full_name": "Aria", "user_type": "creator"},
        {"title": "  Robot  ", "description": "line\nline", "price": 9.99, "tags": ["a", "b"],
         "category_id": 3, "license": "standard", "is_free": False},
        {"price": "12.30", "sort_order": -5, "is_active": True, "slug": "sci-fi", "name": "Sci-Fi"},
        {"price": 1e300, "rating": 6, "code": "123456", "email": None},
        {"name": "\u00e9\u00e9", "slug": "a--b", "price": -1, "title": "", "bio": "x" * 600},
        {"upload_id": 9223372036854775807, "model_id": "1", "is_featured": "true"},
        {"reason": "\u0000nul", "content": "\t tab", "author_name": 5},
    ]
    for b in bodies:
        write("fuzz_json", json.dumps(b))
    for raw in ["{}", "[]", "null", "\"s\"", "{\"a\":" * 40 + "1" + "}" * 40,
                "[" * 40, "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0000\"}", "{\"a\":\"[[[[\\\"\"}",
                "{\"price\":0.005}", "{\"a\":1} trailing", "\xef\xbb\xbf{}"]:
        write("fuzz_json", raw)


def multipart(boundary, parts, ctype=None):
    out = b""
    for headers, body in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + body + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    ct = ctype or b"multipart/form-data; boundary=" + boundary
    return ct + b"\n" + out


def corpus_multipart():
    reset("fuzz_multipart")
    b = b"XyZ123"
    write("fuzz_multipart", multipart(b, [
        (b'Content-Disposition: form-data; name="file"; filename="cube.obj"\r\nContent-Type: model/obj',
         b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")]))
    write("fuzz_multipart", multipart(b, [
        (b'Content-Disposition: form-data; name="title"', b"My model"),
        (b'Content-Disposition: form-data; name="file"; filename="C:\\fakepath\\a\x01\"b.glb"',
         b"glTF" + b"\0" * 40),
        (b'Content-Disposition: form-data; name="file"; filename="second.png"', b"ignored")]))
    write("fuzz_multipart", multipart(b"--boundary--", [
        (b'Content-Disposition: form-data; name="file"; filename="big.bin"', b"A" * 3000)]))
    write("fuzz_multipart", multipart(b"b", [
        (b'Content-Disposition: form-data; name="a"', b"1"),
        (b'Content-Disposition: form-data; name="a"', b"2"),
        (b'Content-Disposition: form-data; name="file"', b"no filename")]))
    write("fuzz_multipart", multipart(b"q", [], b'multipart/form-data; boundary="q"'))
    write("fuzz_multipart", b"multipart/form-data\n--x\r\n\r\n")
    write("fuzz_multipart", b"multipart/form-data; boundary=x\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t\"\r\n\r\npartial")


def corpus_auth():
    reset("fuzz_auth")
    seeds = [
        "0Authorization: Bearer $ACCESS\nCookie: refresh_token=$REFRESH",
        "0Cookie: refresh_token=$REFRESH; other=1\nOrigin: http://localhost:3000",
        "0Cookie: refresh_token=$REFRESH\nOrigin: http://evil.example",
        "1Cookie: a=b; refresh_token=$REFRESH",
        "1Cookie: refresh_token=\"quoted\"; refresh_token=second",
        "2Authorization: Bearer $ACCESS",
        "2Authorization: Bearer $ADMIN",
        "2Authorization: bearer    $ACCESS",
        "2Authorization: Basic YTpi",
        "2Authorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIiwiZXhwIjo5OTk5OTk5OTk5fQ.",
        "2Authorization: Bearer eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiIxIn0.c2ln",
        "2Authorization: Bearer a.b.c",
        "2Authorization: Bearer ...",
        "0Cookie: ;;;=;refresh_token=;",
        "0Cookie: refresh_token=" + "A" * 200,
    ]
    for s in seeds:
        write("fuzz_auth", s)


def glb(doc, bin_chunk=b""):
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    body = struct.pack("<II", len(js), 0x4E4F534A) + js
    if bin_chunk:
        bin_chunk += b"\0" * (-len(bin_chunk) % 4)
        body += struct.pack("<II", len(bin_chunk), 0x004E4942) + bin_chunk
    return b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body


def triangle_gltf(uri=None):
    pos = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    idx = struct.pack("<3H", 0, 1, 2) + b"\0\0"
    buf = pos + idx
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "translation": [1, 2, 3]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        "materials": [{"name": "mat", "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
        "textures": [{"source": 0}],
        "images": [{"uri": "../../etc/passwd"}],
        "buffers": [{"byteLength": len(buf)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 36},
                        {"buffer": 0, "byteOffset": 36, "byteLength": 6}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                       "min": [0, 0, 0], "max": [1, 1, 0]},
                      {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}],
    }
    return doc, buf


def corpus_model():
    reset("fuzz_model")
    doc, buf = triangle_gltf()
    write("fuzz_model", glb(doc, buf))
    import base64
    d2 = json.loads(json.dumps(doc))
    d2["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(buf).decode()
    write("fuzz_model", json.dumps(d2))
    d3 = json.loads(json.dumps(d2))
    d3["buffers"][0]["uri"] = "http://169.254.169.254/latest/meta-data"
    write("fuzz_model", json.dumps(d3))
    d4 = json.loads(json.dumps(d2))
    d4["nodes"] = [{"mesh": 0, "children": [1], "scale": [2, 2, 2]}, {"mesh": 0, "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 5, 5, 1]}]
    d4["skins"] = [{"joints": [1]}]
    write("fuzz_model", json.dumps(d4))
    write("fuzz_model", json.dumps({"asset": {"version": "1.0"}}))
    write("fuzz_model", b"glTF" + struct.pack("<III", 2, 20, 0))
    write("fuzz_model", "mtllib cube.mtl\no cube\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\n"
          "vt 0 0\nvn 0 0 1\nusemtl red\nf 1/1/1 2/1/1 3/1/1 4/1/1\nl 1 2\np 3\n")
    write("fuzz_model", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\ng a\nf 1 2 3\ng b\nf -1 -2 -3\nf 1 2 4\n")
    write("fuzz_model", "v 1e308 -1e308 0\nv nan inf 0\nv 0 0 0\nf 1 2 3\n")
    write("fuzz_model", "; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n FBXHeaderVersion: 1003\n}\n")


def blend_file(blocks, ptr8=True, big=False):
    """A minimal .blend: header, blocks (code, sdna index, data), then an
    SDNA whose structs 0.. are the given types, then ENDB."""
    e = ">" if big else "<"
    ptr = 8 if ptr8 else 4
    types = ["char", "int", "Text", "ChannelDriver", "bPythonCont", "TextLine"]
    def sdna():
        out = b"SDNANAME" + struct.pack(e + "i", 2) + b"*next\0name[66]\0"
        out += b"\0" * (-len(out) % 4)
        out += b"TYPE" + struct.pack(e + "i", len(types)) + b"".join(t.encode() + b"\0" for t in types)
        out += b"\0" * (-len(out) % 4)
        out += b"TLEN" + b"".join(struct.pack(e + "h", 8) for _ in types)
        out += b"\0" * (-len(out) % 4)
        structs = [(2, [(0, 0)]), (3, [(1, 1)]), (4, [(0, 1)]), (5, [(0, 0)])]
        out += b"STRC" + struct.pack(e + "i", len(structs))
        for t, fields in structs:
            out += struct.pack(e + "hh", t, len(fields)) + b"".join(struct.pack(e + "hh", a, b) for a, b in fields)
        return out
    def block(code, sdna_nr, data):
        return code + struct.pack(e + "i", len(data)) + b"\0" * ptr + struct.pack(e + "ii", sdna_nr, 1) + data
    head = b"BLENDER" + (b"-" if ptr8 else b"_") + (b"V" if big else b"v") + b"300"
    body = b"".join(block(c, n, d) for c, n, d in blocks)
    return head + body + block(b"DNA1", 0, sdna()) + block(b"ENDB", 0, b"")


def corpus_safety():
    reset("fuzz_safety")
    text = b"\0" * 40 + b"TXautorun.py\0" + b"\0" * 20
    write("fuzz_safety", blend_file([(b"TX\0\0", 0, text), (b"DATA", 3, b"import os\n")]))
    write("fuzz_safety", blend_file([(b"DATA", 1, b"\0" * 16), (b"DATA", 2, b"\0" * 8)], ptr8=False, big=True))
    write("fuzz_safety", blend_file([(b"TX\0\0", 0, b"\0" * 8)])[:-10])
    doc, buf = triangle_gltf()
    write("fuzz_safety", glb(doc, buf) + b"PK\3\4\x14\0\0\0\x08\0" + b"\0" * 16 + b"\x05\0\0\0a.exe")
    d = json.loads(json.dumps(doc))
    d["buffers"][0]["byteLength"] = 4000000000
    d["accessors"][0]["count"] = 333333333
    write("fuzz_safety", glb(d, buf))
    d["buffers"][0]["uri"] = "../../etc/passwd"
    write("fuzz_safety", json.dumps(d))
    write("fuzz_safety", "v 0 0 0\n# <html><script>alert(1)</script>\n%PDF-1.7\n")
    write("fuzz_safety", b"MZ" + b"\0" * 58 + struct.pack("<I", 64) + b"PE\0\0" + b"\0" * 20 + b"\x7fELF\x02\x01\x01" + b"\0" * 20)


def corpus_commerce():
    reset("fuzz_commerce")
    # ids of seed-demo's models the fuzz buyer has not bought (1-20 mostly are)
    card = {"card_token": "tok_visa"}
    for route, body in [
        ("0", {"model_ids": [30, 40], "payment_method": "card", "payment_details": card}),
        ("0", {"model_ids": [33], "payment_method": "paypal", "payment_details": {"paypal_order_id": "ORDER-1"}}),
        ("1", {"payment_method": "card", "payment_details": {"card_token": "tok_chargeDeclined"}}),
        ("1", {"model_ids": [41, 41, -5, 2 ** 63], "payment_method": "card", "payment_details": card}),
        ("1", {"model_ids": "1,2", "payment_method": ["card"], "payment_details": None}),
        ("2", {"model_id": 60}),
        ("2", {"model_id": 1}),
        ("2", {"model_id": "61"}),
        ("1", {"payment_method": "card", "payment_details": card}),
        ("3", {"id": "evt_1", "type": "charge.refunded",
               "data": {"object": {"refunded": True, "payment_intent": "pi_demo_1"}}}),
        ("3", {"id": "evt_2", "type": "charge.dispute.created", "data": {"object": {"payment_intent": "pi_x"}}}),
        ("3", {"id": "evt_3", "type": "charge.refunded", "data": {"object": {"refunded": False}}}),
        ("3", {"type": "payment_intent.succeeded", "data": []}),
    ]:
        write("fuzz_commerce", route + json.dumps(body))
    write("fuzz_commerce", "1")
    write("fuzz_commerce", "3[1,2]")


def corpus_s3list():
    reset("fuzz_s3list")
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Name>hwc3d</Name><Prefix>models/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>")

    def item(key, when="2026-12-07T12:00:00.000Z"):
        return (f"<Contents><Key>{key}</Key><LastModified>{when}</LastModified>"
                '<ETag>&quot;9dd4e461268c8034f5c8564e155c67a6&quot;</ETag><Size>12</Size>'
                "<StorageClass>STANDARD</StorageClass></Contents>")
    # a first page, as S3 and s3rver send it (the time line first: the
    # target also reads the first line as a LastModified)
    write("fuzz_s3list", "2026-12-07T12:00:00.123Z\n" + head + "<IsTruncated>true</IsTruncated>"
          + item("models/3f2a9c.glb") + item("models/b&amp;c.obj", "1970-01-01T00:00:01Z")
          + "<NextContinuationToken>1Dt2C9gdwJ+z6G1zDXqENJwVHaOnbTcZxKtxXjLUbwEK</NextContinuationToken>"
          + "</ListBucketResult>")
    write("fuzz_s3list", head + "<IsTruncated>false</IsTruncated>" + item("derived/x.glb", "2024-02-29T23:59:60+00:00")
          + item("a" * 201) + item("images/<![CDATA[y]]>.png") + "</ListBucketResult>")
    write("fuzz_s3list", "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
    write("fuzz_s3list", '<?xml version="1.0"?><Error><Code>NoSuchBucket</Code></Error>')
    write("fuzz_s3list", '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
          "<ListBucketResult><Contents><Key>&b;</Key></Contents></ListBucketResult>")
    write("fuzz_s3list", "1999-12-31T23:59:59Z")


if __name__ == "__main__":
    corpus_router()
    corpus_lists()
    corpus_json()
    corpus_multipart()
    corpus_auth()
    corpus_model()
    corpus_safety()
    corpus_commerce()
    corpus_s3list()
