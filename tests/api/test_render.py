"""Server-side rendering (issue 13, points 1 and 3): screenshots of real
models of each format (not blank, the asked size, the model centred),
stored previews, automatic thumbnails, turntable videos with job progress
and the owner's notification, and the permission and validation rules."""
import io
import json
import os
import shutil
import subprocess
import time

import pytest
import requests
from PIL import Image

from conftest import REPO, assert_error, finish_server, require_pg, run_binary, start_server
from test_models import (approve_model, create_model, make_buyer, make_creator,
                         upload_image, upload_model)

MODELS = os.path.join(REPO, "tests", "media", "make_models.py")


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("render-models")
    subprocess.run(["/usr/bin/python3", MODELS, str(d)], check=True, capture_output=True, timeout=120)
    return d


def flag_glb():
    """A 2x2 quad facing +z whose embedded PNG texture is red above and
    blue below (glTF's uv origin is the image's top left)."""
    import base64
    import struct
    import sys
    import zlib
    sys.path.insert(0, os.path.join(REPO, "tests", "media"))
    from make_models import GltfBuilder

    def chunk(k, d):
        return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xffffffff)
    rows = [[(255, 0, 0)] * 8] * 4 + [[(0, 0, 255)] * 8] * 4
    raw = b"".join(b"\x00" + b"".join(bytes(p) for p in r) for r in rows)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    g = GltfBuilder()
    prim = {"attributes": {"POSITION": g.vec([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)], "VEC3", True),
                           "TEXCOORD_0": g.vec([(0, 1), (1, 1), (1, 0), (0, 0)], "VEC2")},
            "indices": g.scalars([0, 1, 2, 0, 2, 3]), "material": 0}
    g.doc.update({"images": [{"uri": "data:image/png;base64," + base64.b64encode(png).decode()}],
                  "textures": [{"source": 0}],
                  "materials": [{"name": "Flag", "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
                  "meshes": [{"primitives": [prim]}], "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0})
    return g.glb()


def model_of(server, who, models, name, **fields):
    data = (models / name).read_bytes()
    return create_model(server, who, upload=upload_model(server, who.h, data=data, name=name), **fields)


def shot(server, mid, h, timeout=120, **body):
    return requests.post(f"{server.url}/api/models/{mid}/screenshot", json=body, headers=h, timeout=timeout)


def foreground(img, bg):
    """(count, centroid x, centroid y, distinct colours) of the pixels that
    differ from the background colour bg."""
    px = img.convert("RGB").load()
    w, h = img.size
    n = sx = sy = 0
    x0, y0, x1, y1 = w, h, -1, -1
    colours = {}
    for y in range(0, h):
        for x in range(0, w):
            p = px[x, y]
            if max(abs(p[i] - bg[i]) for i in range(3)) > 12:
                n += 1
                sx += x
                sy += y
                colours[p] = colours.get(p, 0) + 1
                x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    foreground.box = (x0, y0, x1, y1)
    # shades that cover at least 2% of the model: its lit faces
    shades = sum(1 for k in colours.values() if k >= n * 0.02)
    return n, (sx / n if n else -1), (sy / n if n else -1), shades


@pytest.mark.parametrize("name", ["cube.glb", "two_meshes.gltf", "cube.obj", "cube_binary.fbx", "cube_ascii.fbx",
                                  "rigged.glb"])
def test_screenshot_of_each_format_is_centred_and_not_blank(server, models, name):
    c = make_creator(server)
    m = model_of(server, c, models, name)
    w, h = 320, 240
    r = shot(server, m["id"], c.h, width=w, height=h, background="#ffffff", yaw=35, pitch=25)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/png"
    img = Image.open(io.BytesIO(r.content))
    assert img.size == (w, h) and img.mode == "RGB"
    n, cx, cy, colours = foreground(img, (255, 255, 255))
    # the model covers a good part of the frame, shaded (faces differ)
    assert n > w * h * 0.08, n
    assert colours >= 2, colours
    # the model is centred: the middle of its pixels' box is near the
    # image centre (perspective moves it a little), and for the models
    # that are one box, so is their centroid
    x0, y0, x1, y1 = foreground.box
    assert abs((x0 + x1) / 2 - w / 2) < w * 0.06 and abs((y0 + y1) / 2 - h / 2) < h * 0.08, foreground.box
    if name != "two_meshes.gltf":
        assert abs(cx - w / 2) < w * 0.08 and abs(cy - h / 2) < h * 0.1, (cx, cy)
    # and it stays inside the frame: the border rows are background
    px = img.load()
    assert all(px[x, 0] == (255, 255, 255) and px[x, h - 1] == (255, 255, 255) for x in range(w))


def test_screenshot_orbit_lighting_and_transparency(server, models):
    c = make_creator(server)
    m = model_of(server, c, models, "cube_ascii.fbx")
    a = shot(server, m["id"], c.h, width=64, height=64, yaw=0, pitch=0)
    b = shot(server, m["id"], c.h, width=64, height=64, yaw=90, pitch=0)
    d = shot(server, m["id"], c.h, width=64, height=64, yaw=0, pitch=0, lighting="dark")
    assert a.status_code == b.status_code == d.status_code == 200
    # the 2x4x6 box seen from the front and from the side differs; so does the light
    assert a.content != b.content and a.content != d.content
    # farther away: fewer model pixels
    far = shot(server, m["id"], c.h, width=64, height=64, distance=3, background="#000000")
    near = shot(server, m["id"], c.h, width=64, height=64, distance=1, background="#000000")
    nf = foreground(Image.open(io.BytesIO(far.content)), (0, 0, 0))[0]
    nn = foreground(Image.open(io.BytesIO(near.content)), (0, 0, 0))[0]
    assert 0 < nf < nn / 3, (nf, nn)
    t = shot(server, m["id"], c.h, width=100, height=80, background="transparent")
    img = Image.open(io.BytesIO(t.content))
    assert img.mode == "RGBA" and img.size == (100, 80)
    assert img.getpixel((0, 0))[3] == 0 and img.getpixel((50, 40))[3] == 255


def test_screenshot_uses_the_embedded_texture(server):
    c = make_creator(server)
    m = create_model(server, c, upload=upload_model(server, c.h, data=flag_glb(), name="flag.glb"))
    r = shot(server, m["id"], c.h, width=120, height=90, yaw=0, pitch=0, background="#ffffff")
    assert r.status_code == 200, r.text
    img = Image.open(io.BytesIO(r.content)).convert("RGB")
    top, bottom = img.getpixel((60, 30)), img.getpixel((60, 60))
    assert top[0] > 150 and top[2] < 80, top
    assert bottom[2] > 150 and bottom[0] < 80, bottom


@pytest.mark.parametrize("body,field", [
    ({"width": 8}, "width"), ({"width": 4096}, "width"), ({"height": 0}, "height"), ({"height": "big"}, "height"),
    ({"pitch": 95}, "pitch"), ({"yaw": "x"}, "yaw"), ({"distance": 0.1}, "distance"), ({"distance": 50}, "distance"),
    ({"background": "red"}, "background"), ({"background": "#12345"}, "background"),
    ({"lighting": "neon"}, "lighting"), ({"store": "yes"}, "store"), ({"upload_id": -1}, "upload_id"),
])
def test_screenshot_bad_params(server, body, field):
    c = make_creator(server)
    m = create_model(server, c)
    assert_error(shot(server, m["id"], c.h, **body), 422, "VALIDATION_ERROR", field)


def test_screenshot_permissions(server):
    c = make_creator(server)
    other = make_buyer(server)
    m = create_model(server, c)
    # a pending model is its owner's alone
    assert_error(shot(server, m["id"], other.h, width=32, height=32), 404, "NOT_FOUND")
    assert_error(shot(server, m["id"], {}, width=32, height=32), 401, "UNAUTHORIZED")
    assert_error(shot(server, 999999999, c.h), 404, "NOT_FOUND")
    approve_model(server, m["id"])
    # a public one: anyone signed in may render it, only the owner store it
    r = shot(server, m["id"], other.h, width=32, height=32)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert_error(shot(server, m["id"], other.h, width=32, height=32, store=True), 403, "FORBIDDEN")
    img = upload_image(server, other.h)
    up = server.scalar(f"SELECT id FROM uploads WHERE storage_key = '{img.split('/files/')[1]}'")
    assert_error(shot(server, m["id"], other.h, upload_id=int(up)), 403, "FORBIDDEN")
    # an admin may store
    r = shot(server, m["id"], server.admin_headers(), width=32, height=32, store=True)
    assert r.status_code == 201, r.text


def test_screenshot_store_and_client_image(server):
    c = make_creator(server)
    m = create_model(server, c)
    r = shot(server, m["id"], c.h, width=200, height=150, store=True)
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["preview_images"] == [b["url"]] and "/files/images/" in b["url"]
    path = "/files/" + b["url"].split("/files/")[1]
    f = server.get(path)
    assert f.status_code == 200 and f.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(f.content)).size == (200, 150)
    # the model document shows it
    assert server.get(f"/api/models/{m['id']}", headers=c.h).json()["preview_images"] == [b["url"]]
    # an image the client uploaded
    img = upload_image(server, c.h)
    up = int(server.scalar(f"SELECT id FROM uploads WHERE storage_key = '{img.split('/files/')[1]}'"))
    r = shot(server, m["id"], c.h, upload_id=up)
    assert r.status_code == 201, r.text
    assert r.json()["preview_images"] == [b["url"], img]
    # someone else's upload is not the caller's to use
    other = make_creator(server)
    theirs = upload_image(server, other.h)
    tid = int(server.scalar(f"SELECT id FROM uploads WHERE storage_key = '{theirs.split('/files/')[1]}'"))
    assert_error(shot(server, m["id"], c.h, upload_id=tid), 422, "VALIDATION_ERROR", "upload_id")


def wait_job(server, job_id, h, timeout=240):
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = server.get(f"/api/jobs/{job_id}", headers=h)
        assert r.status_code == 200, r.text
        j = r.json()
        if not seen or seen[-1] != j["progress"]:
            seen.append(j["progress"])
        if j["status"] in ("done", "failed"):
            return j, seen
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {seen}")


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height:format=duration",
                          "-of", "json", path], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("fmt,codec", [("webm", "vp9"), ("mp4", "h264")])
def test_record_video(server, models, fmt, codec, tmp_path):
    if not shutil.which("ffprobe"):
        pytest.fail("ffmpeg is not installed (scripts/install-deps.sh runtime)")
    c = make_creator(server)
    m = model_of(server, c, models, "cube.glb")
    r = server.post(f"/api/models/{m['id']}/record-video", headers=c.h,
                    json={"duration_s": 2, "width": 320, "height": 240, "fps": 12, "format": fmt,
                          "background": "#203040", "lighting": "outdoor", "yaw": 10, "pitch": 15})
    assert r.status_code == 202, r.text
    b = r.json()
    assert b["status"] == "queued" and isinstance(b["job_id"], int)
    # one at a time
    assert_error(server.post(f"/api/models/{m['id']}/record-video", headers=c.h, json={}), 409, "CONFLICT")
    # someone else cannot read the job
    assert_error(server.get(f"/api/jobs/{b['job_id']}", headers=make_buyer(server).h), 404, "NOT_FOUND")
    j, seen = wait_job(server, b["job_id"], c.h)
    assert j["status"] == "done", j
    assert j["progress"] == 100 and len([p for p in seen if 0 < p < 100]) >= 2, seen
    assert seen == sorted(seen), seen
    res = j["result"]
    assert res["content_type"] == f"video/{fmt}" and res["seconds"] == 2 and res["fps"] == 12
    doc = server.get(f"/api/models/{m['id']}", headers=c.h).json()
    assert doc["video_url"] == res["video_url"]
    f = server.get("/files/" + res["video_url"].split("/files/")[1])
    assert f.status_code == 200 and f.headers["Content-Type"] == f"video/{fmt}"
    out = tmp_path / f"v.{fmt}"
    out.write_bytes(f.content)
    info = probe(str(out))
    st = info["streams"][0]
    assert st["codec_name"] == codec and st["width"] == 320 and st["height"] == 240
    assert abs(float(info["format"]["duration"]) - 2) < 0.3, info
    # the owner is told
    n = server.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {c.id} AND type = 'job_done'")
    assert int(n) == 1


@pytest.mark.parametrize("body,field", [
    ({"duration_s": 0}, "duration_s"), ({"duration_s": 21}, "duration_s"), ({"width": 4000}, "width"),
    ({"height": 2000}, "height"), ({"fps": 31}, "fps"), ({"fps": 1}, "fps"), ({"format": "gif"}, "format"),
    ({"background": "transparent"}, "background"), ({"lighting": "x"}, "lighting"), ({"pitch": -90}, "pitch"),
])
def test_record_video_bad_params(server, body, field):
    c = make_creator(server)
    m = create_model(server, c)
    assert_error(server.post(f"/api/models/{m['id']}/record-video", headers=c.h, json=body), 422,
                 "VALIDATION_ERROR", field)


def test_record_video_is_the_owners(server):
    c = make_creator(server)
    m = create_model(server, c, approve=True)
    other = make_buyer(server)
    assert_error(server.post(f"/api/models/{m['id']}/record-video", headers=other.h, json={}), 404, "NOT_FOUND")
    assert_error(server.post(f"/api/models/{m['id']}/record-video", json={}), 401, "UNAUTHORIZED")
    before = int(server.scalar(f"SELECT COUNT(*) FROM jobs WHERE kind = 'model_video' AND payload LIKE '%\"model_id\":{m['id']},%'"))
    assert before == 0


def test_failed_render_job_fails_and_notifies(server):
    """A model file that no longer renders: the job fails (not retried
    forever) and its owner gets a job_failed notification."""
    c = make_creator(server)
    m = create_model(server, c)
    key = server.scalar(f"SELECT file_key FROM models WHERE id = {m['id']}")
    with open(os.path.join(server.data_dir, "files", key), "wb") as f:
        f.write(b"v 0 0 0\nthis is not a model\n")
    r = server.post(f"/api/models/{m['id']}/record-video", headers=c.h, json={"duration_s": 1, "width": 64,
                                                                            "height": 64})
    assert r.status_code == 202
    j, _ = wait_job(server, r.json()["job_id"], c.h)
    assert j["status"] == "failed" and j["error"], j
    rows = server.sql(f"SELECT title, action_url FROM notifications WHERE user_id = {c.id} AND type = 'job_failed'")
    assert len(rows) == 1 and rows[0][1] == f"/model/{m['id']}", rows
    # a screenshot of it is refused as the file's fault, not a crash
    assert_error(shot(server, m["id"], c.h, width=32, height=32), 422, "VALIDATION_ERROR")


def test_sweep_keeps_a_models_video_and_removes_a_replaced_one(server):
    c = make_creator(server)
    m = create_model(server, c)
    r = server.post(f"/api/models/{m['id']}/record-video", headers=c.h, json={"duration_s": 1, "width": 64,
                                                                            "height": 64, "fps": 10})
    assert r.status_code == 202, r.text
    j, _ = wait_job(server, r.json()["job_id"], c.h)
    assert j["status"] == "done", j
    key = j["result"]["video_url"].split("/files/")[1]
    path = os.path.join(server.data_dir, "files", key)
    server.sql(f"UPDATE uploads SET created_at = 0 WHERE storage_key = '{key}'")
    sweep = lambda: run_binary(["sweep"], server.env, server.tmp)  # noqa: E731
    assert sweep().returncode == 0
    assert os.path.exists(path) and int(server.scalar(f"SELECT COUNT(*) FROM uploads WHERE storage_key = '{key}'")) == 1
    server.sql(f"UPDATE models SET video_url = NULL WHERE id = {m['id']}")
    assert sweep().returncode == 0
    assert not os.path.exists(path) and int(server.scalar(f"SELECT COUNT(*) FROM uploads WHERE storage_key = '{key}'")) == 0


# ---- a server of their own, with automatic thumbnails on (conftest turns
# them off for the shared one); last, so the shared server's tests run
# together before it.

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def thumb_server(request):
    if request.param == "postgres":
        require_pg()
    # JOB_BACKOFF_MS: a .blend's thumbnail retries until its GLB is made
    s = start_server(request.param, env={"RENDER_THUMBNAILS": "on", "JOB_BACKOFF_MS": "2000"},
                     label="render-thumbs")
    yield s
    finish_server(s)


def test_thumbnail_job_sets_thumbnail_url(thumb_server, models):
    s = thumb_server
    c = make_creator(s)
    m = model_of(s, c, models, "cube_binary.fbx")
    assert m["thumbnail_url"] is None
    deadline = time.time() + 120
    while time.time() < deadline:
        doc = s.get(f"/api/models/{m['id']}", headers=c.h).json()
        if doc["thumbnail_url"]:
            break
        time.sleep(0.2)
    assert doc["thumbnail_url"], "no thumbnail after 120 s"
    f = s.get("/files/" + doc["thumbnail_url"].split("/files/")[1])
    assert f.status_code == 200 and f.headers["Content-Type"] == "image/png"
    img = Image.open(io.BytesIO(f.content))
    assert img.size == (800, 600)
    n, cx, cy, colours = foreground(img.resize((200, 150)), img.getpixel((0, 0)))
    assert n > 2000 and colours >= 2 and abs(cx - 100) < 16 and abs(cy - 75) < 15, (n, cx, cy, colours)
    job = s.sql(f"SELECT status, progress FROM jobs WHERE kind = 'model_thumbnail' AND payload LIKE '%\"model_id\":{m['id']},%'")
    assert job == [("done", "100")], job
    # a thumbnail job succeeds quietly: no notification
    assert int(s.scalar(f"SELECT COUNT(*) FROM notifications WHERE user_id = {c.id}")) == 0
    # a model created with its own thumbnail gets no job
    img_url = upload_image(s, c.h)
    m2 = create_model(s, c, thumbnail_url=img_url)
    n = s.scalar(f"SELECT COUNT(*) FROM jobs WHERE kind = 'model_thumbnail' AND payload LIKE '%\"model_id\":{m2['id']},%'")
    assert int(n) == 0
    assert s.get(f"/api/models/{m2['id']}", headers=c.h).json()["thumbnail_url"] == img_url


def test_blend_thumbnail_renders_its_converted_glb(thumb_server, tmp_path):
    """assimp cannot read a Blender 2.8+ file: its thumbnail waits for the
    GLB the conversion job makes (svc/model_convert.h), then renders that."""
    blender = shutil.which("blender")
    if not blender:
        pytest.skip("blender is not installed")
    s = thumb_server
    out = tmp_path / "cube.blend"
    subprocess.run([blender, "-b", "--factory-startup", "--python-expr",
                    f"import bpy; bpy.ops.wm.save_as_mainfile(filepath={str(out)!r})"],
                   check=True, capture_output=True, timeout=180)
    c = make_creator(s)
    r = s.post("/api/upload/model", headers=c.h, files={"file": ("cube.blend", out.read_bytes(),
                                                                 "application/octet-stream")})
    assert r.status_code == 201, r.text
    m = create_model(s, c, upload=r.json())
    deadline = time.time() + 300
    doc = {}
    while time.time() < deadline:
        doc = s.get(f"/api/models/{m['id']}", headers=c.h).json()
        if doc["thumbnail_url"]:
            break
        time.sleep(0.5)
    assert doc["conversion_status"] == "done" and doc["thumbnail_url"], doc
    f = s.get("/files/" + doc["thumbnail_url"].split("/files/")[1])
    img = Image.open(io.BytesIO(f.content))
    n, cx, cy, colours = foreground(img.resize((200, 150)), img.getpixel((0, 0)))
    assert n > 2000 and abs(cx - 100) < 16 and abs(cy - 75) < 15, (n, cx, cy)


def test_render_thumbnails_backfills(thumb_server):
    """`hwc3d render-thumbnails` queues a thumbnail for a model without one
    (made before thumbnails were automatic), once."""
    s = thumb_server
    c = make_creator(s)
    m = create_model(s, c, thumbnail_url=upload_image(s, c.h))
    s.sql(f"UPDATE models SET thumbnail_url = NULL WHERE id = {m['id']}")
    p = run_binary(["render-thumbnails"], s.env, s.tmp)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["queued"] >= 1
    deadline = time.time() + 120
    while time.time() < deadline and not s.get(f"/api/models/{m['id']}", headers=c.h).json()["thumbnail_url"]:
        time.sleep(0.2)
    assert s.get(f"/api/models/{m['id']}", headers=c.h).json()["thumbnail_url"]
    like = f"%\"model_id\":{m['id']},%"
    assert int(s.scalar(f"SELECT COUNT(*) FROM jobs WHERE kind = 'model_thumbnail' AND payload LIKE '{like}'")) == 1
    assert run_binary(["render-thumbnails", "extra"], s.env, s.tmp).returncode == 2
